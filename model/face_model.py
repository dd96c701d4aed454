"""FaceModel: a trained VAE loaded from one checkpoint file, for decoding and encoding faces."""

from __future__ import annotations

import copy
import os
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

from model.checkpoint import file_version, load_checkpoint
from model.config import LatentBasis, VAEConfig
from model.vae import VAE, channels_last


def fuse_for_inference(net: VAE) -> VAE:
    """An eval-mode copy with every BatchNorm folded into its convolution (fewer passes)."""
    fused = copy.deepcopy(net).eval()
    for seq in (*fused.encoder, *fused.decoder):
        for i in range(len(seq) - 1):
            if isinstance(seq[i], nn.Conv2d) and isinstance(seq[i + 1], nn.BatchNorm2d):
                seq[i] = fuse_conv_bn_eval(seq[i], seq[i + 1])
                seq[i + 1] = nn.Identity()
    channels_last(fused)
    return fused


def _own_copy(a: np.ndarray) -> np.ndarray:
    """A contiguous, writable copy: torch.from_numpy refuses negative strides (a flipped
    view) and warns on read-only arrays (storage hands latents out read-only)."""
    return np.array(a, order="C", copy=True)


# The checkpoints shipped inside the package, by name (FOTOROBOT_MODEL and --model take these
# names as well as paths).
BUNDLED_MODELS = {"synthetic": "synthetic.pt"}
DEFAULT_MODEL = "synthetic"


def bundled_model_path(name: str) -> Path:
    """The file of a bundled model."""
    if name not in BUNDLED_MODELS:
        raise ValueError(f"no bundled model {name!r} (bundled: {', '.join(BUNDLED_MODELS)})")
    return Path(__file__).resolve().parent / "weights" / BUNDLED_MODELS[name]


def default_model_path() -> Path:
    """The checkpoint the bot, the emulator and the benches use unless told otherwise."""
    return bundled_model_path(DEFAULT_MODEL)


def resolve_model(spec: str | os.PathLike[str] | None) -> Path:
    """A bundled model's name, a checkpoint's path, or None (the default model) -> its file."""
    if spec is None or str(spec) == "":
        return default_model_path()
    if str(spec) in BUNDLED_MODELS:
        return bundled_model_path(str(spec))
    return Path(spec).expanduser()


class FaceModel:
    """Inference wrapper: numpy in, numpy out, no gradients, one forward pass per batch."""

    def __init__(
        self,
        net: VAE,
        config: VAEConfig,
        basis: LatentBasis | None = None,
        version: str = "",
        device: str = "cpu",
    ) -> None:
        self.net = net.to(device).eval()  # the weights exactly as trained
        self._fast = fuse_for_inference(self.net)  # what decode/encode run
        self.config = config
        self.version = version or config.version
        self.device = torch.device(device)
        self._basis = basis

    @classmethod
    def load(cls, path: str | os.PathLike[str], device: str = "cpu") -> FaceModel:
        """Rebuild the model from the checkpoint file alone."""
        ckpt = load_checkpoint(path)
        config = VAEConfig.from_dict(ckpt["config"])
        config.version = file_version(path)
        net = VAE(config)
        state = {k: v.float() if v.is_floating_point() else v for k, v in ckpt["model"].items()}
        net.load_state_dict(state)
        basis = LatentBasis.from_dict(ckpt["latent_basis"]) if ckpt.get("latent_basis") else None
        return cls(net, config, basis=basis, version=config.version, device=device)

    @property
    def latent_dim(self) -> int:
        """Size of the latent vector z."""
        return self.config.latent_dim

    @property
    def image_size(self) -> int:
        """Side of the square RGB images, in pixels."""
        return self.config.image_size

    @property
    def latent_basis(self) -> LatentBasis | None:
        """Principal axes of the encoded training set, if the checkpoint has them."""
        return self._basis

    def face_from_photo(self, data: bytes) -> np.ndarray:
        """A photo file's bytes as this model's input face (S, S, 3) uint8: its largest face
        aligned to the canonical frame for a model trained on aligned photos, else the photo's
        centre square. Raises ImageError (kind "no_face" when a photo model finds no face)."""
        from model.images import aligned_face_from_bytes, face_array_from_bytes

        if self.config.aligned:
            return aligned_face_from_bytes(data, self.image_size)
        return face_array_from_bytes(data, self.image_size)

    def decode(self, z: np.ndarray, batch_size: int = 256) -> np.ndarray:
        """(n, d) latents -> (n, S, S, 3) uint8 faces."""
        z = np.asarray(z, dtype=np.float32)
        if z.ndim == 1:
            z = z[None, :]
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"expected latents of shape (n, {self.latent_dim}), got {z.shape}")
        if not np.all(np.isfinite(z)):
            raise ValueError("latents must be finite")
        out = np.empty((z.shape[0], self.image_size, self.image_size, 3), dtype=np.uint8)
        with torch.inference_mode():
            for i in range(0, z.shape[0], batch_size):
                zt = torch.from_numpy(_own_copy(z[i : i + batch_size])).to(self.device)  # (b, d)
                x = self._fast.decode(zt)  # (b, 3, S, S) in [0, 1]
                x = (x * 255.0).round_().clamp_(0, 255).to(torch.uint8)
                out[i : i + batch_size] = x.permute(0, 2, 3, 1).cpu().numpy()  # (b, S, S, 3)
        return out

    def encode(self, images: np.ndarray, batch_size: int = 256) -> np.ndarray:
        """(n, S, S, 3) uint8 faces -> (n, d) float32 posterior means."""
        images = np.asarray(images)
        if images.ndim == 3:
            images = images[None]
        s = self.image_size
        if images.ndim != 4 or images.shape[1:] != (s, s, 3):
            raise ValueError(f"expected images of shape (n, {s}, {s}, 3), got {images.shape}")
        if images.dtype != np.uint8:
            raise ValueError(f"expected uint8 images, got {images.dtype}")
        out = np.empty((images.shape[0], self.latent_dim), dtype=np.float32)
        with torch.inference_mode():
            for i in range(0, images.shape[0], batch_size):
                chunk = _own_copy(images[i : i + batch_size])
                x = torch.from_numpy(chunk).to(self.device)  # (b, S, S, 3)
                x = x.permute(0, 3, 1, 2).float().div_(255.0)  # (b, 3, S, S), channels-last
                mean, _ = self._fast.encode(x)  # (b, d)
                out[i : i + batch_size] = mean.cpu().numpy()
        return out
