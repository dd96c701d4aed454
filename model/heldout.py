"""Recovering the faces a checkpoint is measured on from its recorded data source and split."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from model.data import load_data, load_folder, parse_synthetic
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
        images = load_data(
            spec,
            size,
            align=bool(tc.get("align", False)),
            eval_from=str(tc.get("eval_from", "")),
        ).images
    except (ValueError, OSError):
        return None
    _, hold = split_indices(len(images), holdout, seed)
    return images[hold[:limit] if limit else hold]


def evaluation_faces(
    ckpt: dict[str, Any], limit: int | None = None, data: str | None = None
) -> tuple[np.ndarray, str] | None:
    """The faces a model's figures are reported on, and which they are: a photo model's
    evaluation split (files from its `eval_from` on, never trained on) when it has one, else
    its held-out validation faces. `data` overrides the recorded folder. None when the data
    is gone."""
    cfg, tc = ckpt["config"], ckpt.get("train", {})
    spec = data or tc.get("data") or cfg.get("dataset", "")
    eval_from = str(tc.get("eval_from", ""))
    if eval_from and Path(spec).is_dir():
        try:
            faces = load_folder(
                Path(spec),
                int(cfg["image_size"]),
                align=bool(tc.get("align", False)),
                eval_from=eval_from,
                split="evaluation",
            ).images
        except (ValueError, OSError):
            return None
        return faces[:limit] if limit else faces, f"evaluation split ({spec}, from {eval_from})"
    held = heldout_faces(ckpt, limit, data)
    return None if held is None else (held, "held-out validation faces")
