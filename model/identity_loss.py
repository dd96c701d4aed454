"""The identity loss: decoded faces should keep dlib's descriptor of the face they encode.

Pixel losses spend the decoder's capacity on what varies most between pixels (light,
background, hair outline) and leave the few pixels that tell one person from another blurred.
This term measures the squared distance between dlib's descriptor of the reconstruction and
that of the original: what the identity benchmark counts, made differentiable (model.identity).
The originals' descriptors are computed once per run (and cached by content), so each step
pays for one network pass on part of the batch.
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from model.identity import IdentityMetric

# Descriptor cache format; bump when the network or the chip changes.
TARGETS_VERSION = 1


def _digest(images: np.ndarray) -> str:
    h = hashlib.sha256(f"v{TARGETS_VERSION}|{images.shape}".encode())
    h.update(np.ascontiguousarray(images).data)
    return h.hexdigest()[:20]


def identity_targets(
    metric: IdentityMetric, images: np.ndarray, cache_dir: Path | None, progress: bool = True
) -> np.ndarray:
    """dlib descriptors (n, 2, 128) of (n, S, S, 3) uint8 faces as they are [:, 0] and
    mirrored [:, 1] (training flips faces), cached in cache_dir by the images' content."""
    cache = cache_dir / f"identity-{_digest(images)}.npy" if cache_dir else None
    if cache is not None and cache.is_file():
        try:
            out = np.load(cache, allow_pickle=False)
            if out.shape == (len(images), 2, 128):
                return out
        except (OSError, ValueError):
            pass  # recomputed below
    out = np.empty((len(images), 2, 128), dtype=np.float32)
    step = 256
    with tqdm(
        total=len(images),
        desc="identity targets",
        unit="face",
        disable=not progress,
        file=sys.stderr,
        dynamic_ncols=True,
    ) as bar:
        for i in range(0, len(images), step):
            chunk = images[i : i + step]
            out[i : i + step, 0] = metric.descriptors(chunk)
            out[i : i + step, 1] = metric.descriptors(chunk[:, :, ::-1])
            bar.update(len(chunk))
    if cache is not None:
        try:
            cache.parent.mkdir(parents=True, exist_ok=True)
            tmp = cache.with_suffix(".tmp.npy")
            np.save(tmp, out)
            os.replace(tmp, cache)
        except OSError as err:
            print(f"note: could not cache identity targets ({err})", file=sys.stderr)
    return out


def identity_loss(
    metric: IdentityMetric, recon: torch.Tensor, targets: torch.Tensor
) -> torch.Tensor:
    """Squared descriptor distance per face: recon (k, 3, S, S) in [0, 1], targets (k, 128)
    -> (k,). Gradients flow into recon only (the network's weights are frozen)."""
    emb = metric.embed(recon)  # (k, 128)
    return (emb - targets).pow(2).sum(dim=1)  # (k,)
