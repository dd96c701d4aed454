"""Search settings: a frozen, JSON-able dataclass stored with each chat's session."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np

SURROGATES = ("numeric", "preference", "auto")
AXES = ("variance", "identity")


@dataclass(frozen=True)
class SearchSettings:
    """Everything that defines how one search proposes albums (saved with the session)."""

    dim: int = 16  # search dimension: the unit cube [0, 1]^dim
    album_size: int = 4  # faces per round (2..10)
    seed: int = 0  # makes every proposal reproducible
    best_slot: bool = False  # one slot of each album shows the posterior-mean argmax
    min_distance: float = 0.08  # no two faces of one album closer than this (cube, L2/sqrt(dim))
    noise_floor: float = 0.05  # lower bound of the noise variance (standardised scores)
    gp_max_iters: int = 30  # L-BFGS iterations of the hyperparameter fit per round (warm)
    n_candidates: int = 512  # Sobol candidates scored before the L-BFGS-B starts
    n_starts: int = 6  # L-BFGS-B starts for the acquisition
    acq_max_iters: int = 30  # L-BFGS-B iterations per acquisition maximisation
    min_observations: int = 2  # fewer rated faces than this: keep showing Sobol points
    typical_quantile: float = 0.8  # proposals stay in this chi-square ball of the prior (1: off)
    # Which axes the cube's coordinates walk (the caller's LatentSpace; stored so a session
    # keeps its space): "variance" = the checkpoint's principal axes, "identity" = the
    # model's identity axes (model.identity_axes).
    axes: str = "variance"
    # "numeric": GP regression on per-rater standardised ratings; "preference": a probit
    # preference GP on within-album comparisons and "closest" picks (optimization.preference);
    # "auto": the preference GP once a "closest" pick is among the answers, else numeric.
    surrogate: str = "numeric"
    pref_lengthscale: float = 0.5  # preference GP's base lengthscale / sqrt(dim) (cube units)
    pref_weighted: bool = True  # a within-album pair counts its rating gap (1..3) times
    # Numeric GP's log-normal lengthscale prior: median (cube units; 0 = dimension-scaled
    # default, optimization.surrogate.lengthscale_prior) and sigma of its log.
    ls_prior: float = 0.0
    ls_prior_sigma: float = 0.5
    # Coarse to fine: until `coarse_faces` faces were shown, only the first `coarse_dims`
    # axes move (the others stay at the best guess's values); 0 = off.
    coarse_dims: int = 0
    coarse_faces: int = 0
    # Trust region (optimization.trust_region): albums stay in a box around the best guess.
    trust_region: bool = False
    tr_length: float = 0.4  # initial side (cube units)
    tr_min: float = 0.05
    tr_max: float = 1.0
    tr_succ: int = 2  # improving rounds in a row that double the side
    tr_fail: int = 2  # non-improving rounds in a row that halve it

    def __post_init__(self) -> None:
        if not 1 <= self.dim <= 64:
            raise ValueError(f"dim must be in 1..64, got {self.dim}")
        if not 1 <= self.album_size <= 10:
            raise ValueError(f"album_size must be in 1..10, got {self.album_size}")
        if not 0.0 <= self.min_distance < 1.0:
            raise ValueError(f"min_distance must be in [0, 1), got {self.min_distance}")
        if not 0.0 < self.typical_quantile <= 1.0:
            raise ValueError(f"typical_quantile must be in (0, 1], got {self.typical_quantile}")
        if self.axes not in AXES:
            raise ValueError(f"axes must be one of {AXES}, got {self.axes!r}")
        if self.surrogate not in SURROGATES:
            raise ValueError(f"surrogate must be one of {SURROGATES}, got {self.surrogate!r}")
        if self.pref_lengthscale <= 0:
            raise ValueError(f"pref_lengthscale must be positive, got {self.pref_lengthscale}")
        if self.noise_floor <= 0:
            raise ValueError(f"noise_floor must be positive, got {self.noise_floor}")

    @property
    def radius(self) -> float:
        """Radius of the typical-set ball in t = Phi^-1(u) (inf when switched off)."""
        from optimization.batch import typical_radius

        return (
            np.inf
            if self.typical_quantile >= 1.0
            else typical_radius(self.dim, self.typical_quantile)
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for JSON storage."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SearchSettings:
        """Inverse of to_dict; unknown keys (from newer versions) are ignored."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


# What a search over a real-face model's identity axes changes from the defaults
# (docs/search.md, "Real photos", has the measurements behind each value).
# gp_max_iters / acq_max_iters: 5 warm-started hyperparameter iterations and 15 L-BFGS-B
# iterations per EI maximisation keep a round near 70 ms at 60 faces on the loaded 2-core
# machine (30 / 30: ~140 ms) and measured the same (dev targets: 0.565 / 0.555 / 0.535 best
# distance after 20 / 40 / 80 against 0.565 / 0.551 / 0.538).
IDENTITY_OVERRIDES: dict[str, Any] = {
    "axes": "identity",
    "surrogate": "auto",
    "gp_max_iters": 5,
    "acq_max_iters": 15,
}


def identity_search(dim: int, album_size: int = 4, seed: int = 0) -> SearchSettings:
    """Settings of a new search over a real-face model's identity axes."""
    return SearchSettings(dim=dim, album_size=album_size, seed=seed, **IDENTITY_OVERRIDES)
