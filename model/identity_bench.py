"""Does the model keep who a person is? Identity figures of a face model on real photos.

Three questions, each answered on aligned photos the model never trained on:

- the decoder's ceiling: encode -> decode, is it still the same person (dlib distance < 0.6),
  and does the reconstruction pick its own original out of 100 people (rank-1)?
- the ceiling through the search subspace: the same after projecting the code onto the axes
  the search walks (what the bot can show at best);
- prior samples: in what share of the faces the search space draws (and of N(0, I) samples)
  does dlib's face detector find a face? Real photos set the reference.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PIL import Image

from model.config import LatentBasis
from model.dlib_resnet import SAME_PERSON_DISTANCE
from model.face_model import FaceModel
from model.identity import IdentityMetric, distances, rank1_accuracy

DETECT_SIDE = 256  # decoded faces are upscaled to this side before dlib's detector looks


def faces_detected(faces: np.ndarray) -> np.ndarray:
    """(n,) bool: whether dlib's HOG detector finds a face in each of (n, S, S, 3) uint8
    faces (upscaled to DETECT_SIDE, no upsampling inside the detector)."""
    from model.align import _models

    m = _models()
    found = np.zeros(len(faces), dtype=bool)
    for i, face in enumerate(faces):
        big = np.asarray(
            Image.fromarray(face).resize((DETECT_SIDE, DETECT_SIDE), Image.Resampling.BICUBIC)
        )
        with m.lock:
            found[i] = bool(len(m.detector(np.ascontiguousarray(big), 0)))
    return found


def detection_rate(faces: np.ndarray) -> float:
    """Share of (n, S, S, 3) uint8 faces in which dlib's HOG detector finds a face."""
    return float(faces_detected(faces).mean()) if len(faces) else 0.0


def project(z: np.ndarray, basis: LatentBasis | None, dim: int) -> np.ndarray:
    """Latents (n, d) projected onto a basis' top `dim` axes (through its mean)."""
    if basis is None or dim >= z.shape[1]:
        return z
    axes = basis.axes[:, :dim].astype(np.float64)  # (d, dim)
    centred = z.astype(np.float64) - basis.mean
    return (basis.mean + centred @ axes @ axes.T).astype(np.float32)


def identity_figures(
    fm: FaceModel,
    faces: np.ndarray,
    metric: IdentityMetric,
    search_dims: tuple[int, ...] = (16,),
    group: int = 100,
    identity_axes: LatentBasis | None = None,
) -> dict[str, Any]:
    """Same-person share, mean distance and rank-1 among `group` for reconstructions of
    `faces` (n, S, S, 3) uint8, in full and through each search dimension: the principal
    axes ("subspace16") and, when given, the identity axes the bot searches ("identity16")."""
    originals = metric.descriptors(faces)  # (n, 128)
    z = fm.encode(faces)  # (n, d)
    out: dict[str, Any] = {"faces": len(faces)}
    bases = {"subspace": fm.latent_basis}
    if identity_axes is not None:
        bases["identity"] = identity_axes
    variants = [("full", z)] + [
        (f"{name}{k}", project(z, basis, k)) for name, basis in bases.items() for k in search_dims
    ]
    for name, codes in variants:
        recon = metric.descriptors(fm.decode(codes))  # (n, 128)
        dist = distances(recon, originals)  # (n,)
        out[name] = {
            "same_person": round(float((dist < SAME_PERSON_DISTANCE).mean()), 4),
            "mean_distance": round(float(dist.mean()), 4),
            f"rank1_of_{group}": round(rank1_accuracy(recon, originals, group), 4),
        }
    return out


def prior_figures(
    fm: FaceModel,
    n: int = 500,
    seed: int = 0,
    dim: int = 16,
    identity_axes: LatentBasis | None = None,
) -> dict[str, float]:
    """Face-detection rate of n samples from N(0, I), from the search space at uniform cube
    points (the basis mean + principal axes, unit scale and encoded stds) and, when given,
    through the identity axes at unit scale (the space the bot searches for a photo model)."""
    rng = np.random.default_rng(seed)
    out = {"prior_normal": detection_rate(fm.decode(rng.standard_normal((n, fm.latent_dim))))}
    basis = fm.latent_basis
    if basis is not None:
        k = min(dim, fm.latent_dim)
        t = rng.standard_normal((n, k))  # (n, k)
        axes = basis.axes[:, :k]  # (d, k)
        out["search_space_unit"] = detection_rate(fm.decode(basis.mean + t @ axes.T))
        out["search_space_stds"] = detection_rate(
            fm.decode(basis.mean + (t * basis.stds[:k]) @ axes.T)
        )
    if identity_axes is not None:
        k = min(dim, fm.latent_dim)
        t = rng.standard_normal((n, k))  # (n, k)
        ident = identity_axes.axes[:, :k]  # (d, k)
        out["identity_space_unit"] = detection_rate(fm.decode(identity_axes.mean + t @ ident.T))
    return {k: round(v, 4) for k, v in out.items()}
