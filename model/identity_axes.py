"""Identity axes: the latent directions along which decoded faces change who they look like.

The principal axes of the encoded training set rank directions by how much the codes vary,
not by how much the face's identity changes: on the first CelebA checkpoint (latent 32) the
top 16 principal axes hold only 59 % of the identity change, so a search over them cannot
reach many people. Here the decoder's identity metric is pulled back into the latent,

    M = E_z [ J(z)^T J(z) ],   J(z) = d descriptor(decode(z)) / dz   (128 x D),

averaged over prior samples z ~ N(0, I) with forward differences, and its eigenvectors,
sorted by eigenvalue, are the axes (the same 16 axes then hold 88 %). The result is a basis
in the form of model.LatentBasis (mean 0 = the prior's centre, stds = sqrt(eigenvalue), so
"the axes explaining q of the variance" reads "of the identity change").
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from model.config import LatentBasis

Decode = Callable[[np.ndarray], np.ndarray]
Describe = Callable[[np.ndarray], np.ndarray]


def identity_metric(
    decode: Decode,
    describe: Describe,
    latent_dim: int,
    n: int = 40,
    step: float = 0.5,
    seed: int = 0,
) -> np.ndarray:
    """(D, D) average pulled-back identity metric E[J^T J] at n prior samples (forward
    differences of size `step`: large enough to step over the uint8 rounding of the decoder,
    small next to the prior's spread of 1)."""
    rng = np.random.default_rng([seed, 31])
    eye = np.eye(latent_dim)
    metric = np.zeros((latent_dim, latent_dim))
    for z in rng.normal(size=(n, latent_dim)):
        pts = np.vstack([z, z + step * eye]).astype(np.float32)  # (1 + D, D)
        desc = np.asarray(describe(decode(pts)), dtype=np.float64)  # (1 + D, 128)
        jac = (desc[1:] - desc[0]) / step  # (D, 128): row j = d descriptor / d z_j
        metric += jac @ jac.T
    return metric / n


def identity_basis(
    decode: Decode, describe: Describe, latent_dim: int, n: int = 40, seed: int = 0
) -> LatentBasis:
    """Eigenvectors of identity_metric as a LatentBasis (columns sorted by eigenvalue, each
    with its largest loading positive for a deterministic sign)."""
    metric = identity_metric(decode, describe, latent_dim, n=n, seed=seed)
    vals, vecs = np.linalg.eigh(0.5 * (metric + metric.T))
    order = np.argsort(vals)[::-1]
    vals, vecs = np.clip(vals[order], 0.0, None), vecs[:, order]
    signs = np.sign(vecs[np.argmax(np.abs(vecs), axis=0), np.arange(latent_dim)])
    vecs = vecs * np.where(signs == 0, 1.0, signs)
    return LatentBasis(
        mean=np.zeros(latent_dim, dtype=np.float32),
        axes=vecs.astype(np.float32),
        stds=np.sqrt(vals).astype(np.float32),
    )
