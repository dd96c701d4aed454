"""Dataclasses saved inside every checkpoint: the network's shape and the training recipe."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

import numpy as np


@dataclass
class VAEConfig:
    """Everything needed to rebuild the VAE from a checkpoint, plus where it came from."""

    image_size: int = 64
    latent_dim: int = 32
    enc_channels: tuple[int, ...] = (32, 64, 128, 256)
    dec_channels: tuple[int, ...] = (128, 64, 32, 32)
    dec_extra: int = 0  # extra 3x3 conv layers per decoder stage (depth at the same width)
    beta: float = 1.0
    recon: str = "mse"  # "mse" or "ssim-l1"
    identity_weight: float = 0.0  # weight of the identity loss (model.identity_loss); 0: off
    dataset: str = ""  # e.g. "synthetic:20000" or a folder path
    aligned: bool = False  # trained on aligned photos: photos are aligned (model.align) to encode
    epoch: int = 0
    metrics: dict[str, float] = field(default_factory=dict)
    version: str = ""  # filled in on load: sha256[:12] of the checkpoint file

    def __post_init__(self) -> None:
        self.enc_channels = tuple(int(c) for c in self.enc_channels)
        self.dec_channels = tuple(int(c) for c in self.dec_channels)
        n_down = len(self.enc_channels)
        if len(self.dec_channels) != n_down:
            raise ValueError("encoder and decoder need the same number of stages")
        if self.image_size % (2**n_down) != 0 or self.image_size < 2**n_down:
            raise ValueError(f"image_size must be a multiple of {2**n_down}, got {self.image_size}")
        if self.latent_dim < 1:
            raise ValueError("latent_dim must be positive")
        if self.dec_extra < 0:
            raise ValueError("dec_extra must be >= 0")
        if self.recon not in ("mse", "ssim-l1"):
            raise ValueError(f"unknown reconstruction loss {self.recon!r}")
        if self.identity_weight < 0:
            raise ValueError("identity_weight must be >= 0")

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form stored in the checkpoint."""
        d = asdict(self)
        d["enc_channels"] = list(self.enc_channels)
        d["dec_channels"] = list(self.dec_channels)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> VAEConfig:
        """Rebuild from a checkpoint, ignoring keys a newer version may have added."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})


@dataclass
class TrainConfig:
    """The training recipe; saved with the checkpoint so a run can be resumed and reproduced."""

    data: str = "synthetic:20000"
    out: str = "runs/vae.pt"
    epochs: int = 10
    batch_size: int = 64
    lr: float = 2e-3
    lr_decay: float = 0.85  # multiplied into the learning rate after every epoch
    grad_clip: float = 100.0  # max global gradient norm (losses are per-image sums)
    holdout: float = 0.05  # fraction of the data kept out of training for metrics
    seed: int = 0
    workers: int = 0  # processes aligning a photo folder (0 = one per CPU)
    align: bool = True  # photo folders: detect, landmark and warp each face (model.align)
    eval_from: str = ""  # photo folders: files from this name on are never trained on
    flip: bool = False  # mirror a random half of each batch (faces are left-right symmetric)
    identity_batch: int = 16  # faces per batch that also get the identity loss

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form stored in the checkpoint."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainConfig:
        """Rebuild from a checkpoint, ignoring unknown keys."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})


@dataclass(frozen=True)
class LatentBasis:
    """Principal axes of the encoded training set (posterior means)."""

    mean: np.ndarray  # (d,) float32
    axes: np.ndarray  # (d, d) float32, column k = k-th axis, sorted by variance
    stds: np.ndarray  # (d,) float32, standard deviation along each axis

    def to_dict(self) -> dict[str, list[float] | list[list[float]]]:
        """Plain lists, so the checkpoint loads with weights_only=True."""
        return {"mean": self.mean.tolist(), "axes": self.axes.tolist(), "stds": self.stds.tolist()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> LatentBasis:
        """Rebuild from the checkpoint's plain lists."""
        return cls(
            mean=np.asarray(d["mean"], dtype=np.float32),
            axes=np.asarray(d["axes"], dtype=np.float32),
            stds=np.asarray(d["stds"], dtype=np.float32),
        )

    @classmethod
    def fit(cls, latents: np.ndarray) -> LatentBasis:
        """PCA of (n, d) posterior means."""
        z = np.asarray(latents, dtype=np.float64)
        mean = z.mean(axis=0)
        cov = np.cov(z - mean, rowvar=False).reshape(z.shape[1], z.shape[1])
        evals, evecs = np.linalg.eigh(cov)
        order = np.argsort(evals)[::-1]
        evals = np.clip(evals[order], 0.0, None)
        evecs = evecs[:, order]
        # A deterministic sign: the largest loading of each axis is positive.
        signs = np.sign(evecs[np.abs(evecs).argmax(axis=0), np.arange(evecs.shape[1])])
        evecs = evecs * np.where(signs == 0, 1.0, signs)
        return cls(
            mean=mean.astype(np.float32),
            axes=evecs.astype(np.float32),
            stds=np.sqrt(evals).astype(np.float32),
        )
