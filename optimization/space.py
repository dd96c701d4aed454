"""The search space: the unit cube mapped to the VAE latent by z = Phi^-1(u) per axis."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
from scipy.special import ndtr, ndtri

EPS = 1e-6  # u is clipped to [EPS, 1 - EPS] so Phi^-1 stays finite (|z| <= 4.75)


class BasisLike(Protocol):
    """What LatentSpace needs of model.LatentBasis (no import of the model package)."""

    @property
    def mean(self) -> np.ndarray:
        """(D,) mean of the encoded training set."""
        ...

    @property
    def axes(self) -> np.ndarray:
        """(D, D) principal axes as columns, sorted by variance, descending."""
        ...

    @property
    def stds(self) -> np.ndarray:
        """(D,) standard deviation along each axis."""
        ...


def subspace_dim(
    basis: BasisLike | None, latent_dim: int, max_dim: int = 16, explained: float = 0.99
) -> int:
    """Search dimension: the fewest principal axes explaining `explained` of the encoded
    variance, at most max_dim (without a basis: min(latent_dim, max_dim)).

    A VAE leaves some latent axes unused; searching them only spends ratings (measured on the
    early checkpoint: 8 active axes beat 16 at every budget).
    """
    if basis is None:
        return min(latent_dim, max_dim)
    var = np.asarray(basis.stds, dtype=np.float64) ** 2
    total = var.sum()
    if not np.isfinite(total) or total <= 0:
        return min(latent_dim, max_dim)
    k = int(np.searchsorted(np.cumsum(var) / total, explained) + 1)
    return int(np.clip(k, min(2, max_dim), max_dim))


@dataclass(frozen=True)
class LatentSpace:
    """Maps cube points u (n, dim) to latents z (n, latent_dim) and back.

    Without a subspace (dim == latent_dim, no basis) z_j = Phi^-1(u_j): uniform u is exactly
    the VAE prior N(0, I). With a basis, z = origin + axes[:, :dim] @ (scale * Phi^-1(u)) and
    the other directions stay at the origin (the encoded mean). The scale is 1 by default
    (the prior's own spread along any unit direction); scale="stds" uses the encoded stds.
    """

    latent_dim: int
    dim: int
    origin: np.ndarray  # (latent_dim,)
    axes: np.ndarray  # (latent_dim, dim) orthonormal columns
    scale: np.ndarray  # (dim,)

    @classmethod
    def from_basis(
        cls,
        latent_dim: int,
        basis: BasisLike | None,
        dim: int,
        scale: str = "unit",
    ) -> LatentSpace:
        """Identity space when basis is None and dim == latent_dim, else top-dim principal axes."""
        if dim < 1 or latent_dim < 1:
            raise ValueError(f"dimensions must be positive, got dim={dim}, latent={latent_dim}")
        if dim > latent_dim:
            raise ValueError(f"search dim {dim} exceeds the latent dim {latent_dim}")
        if scale not in ("unit", "stds"):
            raise ValueError(f"scale must be 'unit' or 'stds', got {scale!r}")
        if basis is None:
            # No principal axes known: the first `dim` latent coordinates, rest at 0.
            axes = np.eye(latent_dim)[:, :dim]
            return cls(latent_dim, dim, np.zeros(latent_dim), axes, np.ones(dim))
        mean = np.asarray(basis.mean, dtype=np.float64).reshape(-1)
        all_axes = np.asarray(basis.axes, dtype=np.float64)
        stds = np.asarray(basis.stds, dtype=np.float64).reshape(-1)
        if mean.shape != (latent_dim,) or all_axes.shape[0] != latent_dim:
            raise ValueError("basis does not match the latent dimension")
        axes = all_axes[:, :dim]
        # Re-orthonormalise: float32 round trip through the checkpoint.
        q, r = np.linalg.qr(axes)
        axes = q * np.sign(np.diag(r))
        sc = np.maximum(stds[:dim], 1e-3) if scale == "stds" else np.ones(dim)
        return cls(latent_dim, dim, mean, axes, sc)

    def to_latent(self, u: np.ndarray) -> np.ndarray:
        """Cube points (n, dim) -> latents (n, latent_dim), float32."""
        u = np.asarray(u, dtype=np.float64)
        if u.ndim != 2 or u.shape[1] != self.dim:
            raise ValueError(f"points must have shape (n, {self.dim}), got {u.shape}")
        t = ndtri(np.clip(u, EPS, 1.0 - EPS)) * self.scale  # (n, dim)
        z = self.origin + t @ self.axes.T  # (n, latent_dim)
        return z.astype(np.float32)

    def from_latent(self, z: np.ndarray) -> np.ndarray:
        """Latents (n, latent_dim) -> cube points (n, dim): projection onto the axes."""
        z = np.asarray(z, dtype=np.float64)
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"latents must have shape (n, {self.latent_dim}), got {z.shape}")
        t = (z - self.origin) @ self.axes / self.scale  # (n, dim)
        return np.clip(ndtr(t), EPS, 1.0 - EPS)
