"""Where dlib's model files are: the `face_recognition_models` package's models folder.

Only public-domain files of it are used: the 5-point landmark model and the ResNet face
descriptor (never the 68-point model, whose training data forbids commercial use).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

LANDMARKS_FILE = "shape_predictor_5_face_landmarks.dat"
DESCRIPTOR_FILE = "dlib_face_recognition_resnet_model_v1.dat"


def locate_face_models() -> Path:
    """The `face_recognition_models/models` folder, found without importing the package.

    Importing `face_recognition_models` needs `pkg_resources`, which current setuptools no
    longer ships, so only its import spec is looked up.
    """
    spec = importlib.util.find_spec("face_recognition_models")
    for root in [] if spec is None else list(spec.submodule_search_locations or []):
        folder = Path(root) / "models"
        if (folder / DESCRIPTOR_FILE).is_file() and (folder / LANDMARKS_FILE).is_file():
            return folder
    raise FileNotFoundError(
        "dlib's face models were not found: install the face_recognition_models package "
        "(pip install face_recognition_models)"
    )
