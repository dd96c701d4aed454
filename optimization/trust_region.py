"""A trust region for the search (TuRBO-like, Eriksson et al. 2019), as plain JSON-able state.

In 16-32 dimensions a GP fitted to a few dozen noisy ratings cannot resolve the whole cube,
and global EI then keeps proposing far-apart faces that look nothing alike. A trust region
keeps each album in a box around the current best guess (the posterior-mean argmax among
rated faces): the box doubles after `succ` rounds in a row that moved the best guess to a
newly rated face and halves after `fail` rounds that did not. Its side per axis follows the
GP's lengthscales (longer along axes where the score changes slowly).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np

from optimization.batch import Box


@dataclass(frozen=True)
class TrustRegion:
    """Side length (cube units, before the lengthscale weighting) and its counters."""

    length: float
    succ: int = 0  # rounds in a row that improved the best guess
    fail: int = 0  # rounds in a row that did not
    seen: int = 0  # faces in the search when the region was last updated

    def to_dict(self) -> dict[str, Any]:
        """JSON-able state."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: object, length: float) -> TrustRegion:
        """State written by to_dict, or a fresh region of the given side."""
        if isinstance(data, dict):
            try:
                tr = cls(
                    float(data["length"]),
                    int(data["succ"]),
                    int(data["fail"]),
                    int(data["seen"]),
                )
                if np.isfinite(tr.length) and tr.length > 0:
                    return tr
            except (KeyError, TypeError, ValueError):
                pass
        return cls(length)

    def update(
        self, improved: bool, n_faces: int, succ: int, fail: int, lo: float, hi: float
    ) -> TrustRegion:
        """The region after one more round (improved: the best guess is a new face)."""
        s, f = (self.succ + 1, 0) if improved else (0, self.fail + 1)
        length = self.length
        if s >= succ:
            length, s = min(hi, 2.0 * length), 0
        elif f >= fail:
            length, f = max(lo, 0.5 * length), 0
        return replace(self, length=length, succ=s, fail=f, seen=n_faces)


def trust_box(centre: np.ndarray, length: float, lengthscale: np.ndarray) -> Box:
    """(lo, hi) of the box of side length * w around centre, w the lengthscales over their
    geometric mean (TuRBO's weighting), inside the unit cube."""
    ls = np.asarray(lengthscale, dtype=np.float64)
    w = ls / np.exp(np.mean(np.log(ls)))
    w = np.clip(w, 0.25, 4.0)  # one runaway lengthscale must not open or close an axis fully
    half = 0.5 * length * w
    return np.clip(centre - half, 0.0, 1.0), np.clip(centre + half, 0.0, 1.0)
