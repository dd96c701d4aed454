"""Recovering a checkpoint's held-out faces from its recorded data source and split."""

from __future__ import annotations

from typing import Any

import numpy as np

from model.data import load_data, parse_synthetic
from model.synthetic import synthetic_face
from model.train import split_indices


def heldout_faces(
    ckpt: dict[str, Any], limit: int | None = None, data: str | None = None
) -> np.ndarray | None:
    """Held-out faces (n, S, S, 3) of the run that wrote ckpt; None when its data is gone."""
    cfg, tc = ckpt["config"], ckpt.get("train", {})
    spec = data or tc.get("data") or cfg.get("dataset", "")
    size = int(cfg["image_size"])
    seed, holdout = int(tc.get("seed", 0)), float(tc.get("holdout", 0.05))
    try:
        synth = parse_synthetic(spec)
    except ValueError:
        return None
    if synth is not None:
        n, base = synth
        _, hold = split_indices(n, holdout, seed)
        hold = hold[:limit] if limit else hold
        # Only the held-out seeds are drawn; faces do not depend on their neighbours.
        return np.stack([synthetic_face(base + int(i), size=size)[0] for i in hold])
    try:
        images = load_data(spec, size).images
    except (ValueError, OSError):
        return None
    _, hold = split_indices(len(images), holdout, seed)
    return images[hold[:limit] if limit else hold]
