"""The face model: a convolutional VAE, synthetic faces, datasets, training and checkpoints.

Names are resolved lazily, so `import model` stays cheap: torch is imported the first time
a torch-backed name (FaceModel, ...) is used, and nothing is loaded or trained at import.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from model.config import LatentBasis, TrainConfig, VAEConfig
    from model.face_model import FaceModel, default_model_path, resolve_model
    from model.images import ImageError, face_array_from_bytes
    from model.synthetic import ATTRIBUTE_NAMES, FaceAttributes, synthetic_face, synthetic_faces

_EXPORTS = {
    "FaceModel": "model.face_model",
    "default_model_path": "model.face_model",
    "resolve_model": "model.face_model",
    "VAEConfig": "model.config",
    "TrainConfig": "model.config",
    "LatentBasis": "model.config",
    "ImageError": "model.images",
    "face_array_from_bytes": "model.images",
    "FaceAttributes": "model.synthetic",
    "ATTRIBUTE_NAMES": "model.synthetic",
    "synthetic_face": "model.synthetic",
    "synthetic_faces": "model.synthetic",
}

__all__ = [
    "ATTRIBUTE_NAMES",
    "FaceAttributes",
    "FaceModel",
    "ImageError",
    "LatentBasis",
    "TrainConfig",
    "VAEConfig",
    "default_model_path",
    "face_array_from_bytes",
    "resolve_model",
    "synthetic_face",
    "synthetic_faces",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'model' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
