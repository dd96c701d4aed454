"""Ratings from one or many raters -> one score and a vote count per face."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable

import numpy as np


def checked_vote(face: int, value: float, n_faces: int) -> tuple[int, float]:
    """(face index, value) of one vote; ValueError for a face outside 0..n_faces-1 or a value
    that is not a finite number."""
    f = int(face)
    if not 0 <= f < n_faces:
        raise ValueError(f"vote for face {f} outside 0..{n_faces - 1}")
    v = float(value)
    if not np.isfinite(v):
        raise ValueError(f"vote value must be a finite number, got {value!r}")
    return f, v


def aggregate_votes(
    n_faces: int, votes: Iterable[tuple[int, Hashable, float]]
) -> tuple[np.ndarray, np.ndarray]:
    """Per-rater standardised votes averaged per face: (scores (n,), counts (n,)).

    Each rater's values are centred on that rater's mean and divided by that rater's standard
    deviation, so a harsh and a generous voter weigh the same; a rater with one vote or with
    all-equal votes is only centred. Any scale works (1-10, 1-5, thumbs as 0/1). Faces without
    votes get score 0 and count 0. When only one rater voted at all, scores keep that rater's
    scale shifted by the mean (the GP standardises again anyway).
    """
    if n_faces < 0:
        raise ValueError(f"n_faces must be >= 0, got {n_faces}")
    by_rater: dict[Hashable, list[tuple[int, float]]] = defaultdict(list)
    for face, rater, value in votes:
        by_rater[rater].append(checked_vote(face, value, n_faces))
    sums = np.zeros(n_faces)
    counts = np.zeros(n_faces, dtype=np.int64)
    for items in by_rater.values():
        vals = np.array([v for _, v in items])
        centred = vals - vals.mean()
        sd = vals.std()
        if len(vals) > 1 and sd > 1e-12:
            centred = centred / sd
        for (face_i, _), s in zip(items, centred, strict=True):
            sums[face_i] += s
            counts[face_i] += 1
    scores = np.where(counts > 0, sums / np.maximum(counts, 1), 0.0)
    return scores, counts
