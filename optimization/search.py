"""A search as plain data, and the pure functions that advance it: observe, propose, best_index."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike
from threadpoolctl import threadpool_limits

from optimization.batch import (
    candidate_set,
    kriging_believer,
    maximise_mean,
    project_typical,
    rms_distance,
    sobol_points,
)
from optimization.gp import Hyper, Posterior, build_posterior, default_hyper
from optimization.settings import SearchSettings

log = logging.getLogger(__name__)


def _one_blas_thread() -> threadpool_limits:
    """One BLAS thread: on 60x60 matrices OpenBLAS threads only spin and contend (measured:
    a round took 2-10x longer with 2 threads on a busy 2-core machine)."""
    return threadpool_limits(limits=1, user_api="blas")


@dataclass(frozen=True)
class Search:
    """Settings plus every rated face so far (cube points, aggregated scores, vote counts)."""

    settings: SearchSettings
    points: np.ndarray  # (n, dim) in [0, 1]
    scores: np.ndarray  # (n,) aggregated (per-rater standardised) scores
    counts: np.ndarray  # (n,) votes per face; 0 = unrated, left out of the GP
    state: dict[str, Any] = field(default_factory=dict)  # JSON-able warm start


# Where a proposed point came from: the first Sobol album, EI, the posterior-mean maximum, or
# space-filling points when there is no usable GP.
Source = Literal["initial", "ei", "best", "random"]
# How the GP's hyperparameters were obtained: fitted, the warm start kept, or the defaults.
FitStatus = Literal["ok", "fixed", "default"]


@dataclass(frozen=True)
class Proposal:
    """The next album: points (k, dim), a source per point, and state for the next round."""

    points: np.ndarray  # (k, dim)
    sources: list[Source]
    state: dict[str, Any]


@dataclass(frozen=True)
class FittedGP:
    """The GP surrogate fitted to the usable observations of a search."""

    posterior: Posterior
    index: np.ndarray  # (m,) indices into search.points of the observations used
    status: FitStatus
    y_mean: float
    y_std: float


def new_search(settings: SearchSettings, state: dict[str, Any] | None = None) -> Search:
    """An empty search (optionally with stored warm-start state)."""
    d = settings.dim
    return Search(
        settings, np.zeros((0, d)), np.zeros(0), np.zeros(0, dtype=np.int64), dict(state or {})
    )


def observe(search: Search, points: ArrayLike, scores: ArrayLike, counts: ArrayLike) -> Search:
    """A new Search with these rated faces appended; inputs are copied, never mutated."""
    d = search.settings.dim
    if np.size(points) == 0:
        return search
    raw = np.array(points, dtype=np.float64, copy=True)
    s = np.array(scores, dtype=np.float64, copy=True).reshape(-1)
    c = np.array(counts, dtype=np.int64, copy=True).reshape(-1)
    # Checked before the reshape, which would otherwise fail with numpy's own message.
    p = raw.reshape(-1, d) if raw.ndim in (1, 2) and raw.shape[-1] == d else None
    if p is None or len(s) != len(p) or len(c) != len(p):
        raise ValueError(
            f"observe needs points (n, {d}), scores (n,) and counts (n,); got "
            f"{np.shape(points)}, {np.shape(scores)}, {np.shape(counts)}"
        )
    if not np.all(np.isfinite(p)) or p.min() < -1e-9 or p.max() > 1 + 1e-9:
        raise ValueError("points must be finite and inside the unit cube [0, 1]")
    if np.any(c < 0):
        raise ValueError("counts must be >= 0")
    return Search(
        search.settings,
        np.vstack([search.points, np.clip(p, 0.0, 1.0)]),
        np.concatenate([search.scores, s]),
        np.concatenate([search.counts, c]),
        dict(search.state),
    )


def _usable(search: Search) -> np.ndarray:
    return np.flatnonzero((search.counts > 0) & np.isfinite(search.scores))


def fit_gp(search: Search, refit: bool = True) -> FittedGP | None:
    """GP over the usable observations; falls back to fixed, then default hyperparameters.

    None when there are too few observations or even the default posterior fails.
    """
    with _one_blas_thread():
        return _fit_gp(search, refit)


def _fit_gp(search: Search, refit: bool) -> FittedGP | None:
    s = search.settings
    idx = _usable(search)
    if len(idx) < max(1, s.min_observations):
        return None
    x = search.points[idx]
    raw = search.scores[idx]
    counts = search.counts[idx].astype(np.float64)
    y_mean, y_std = float(raw.mean()), float(raw.std())
    y_std = y_std if y_std > 1e-9 else 1.0
    y = (raw - y_mean) / y_std
    warm = Hyper.from_dict(search.state.get("gp"), s.dim)
    start = warm or default_hyper(s.dim)
    hyper: Hyper = start
    status: FitStatus = "fixed"
    if refit:
        try:
            from optimization.surrogate import fit_hyperparameters

            cold = default_hyper(s.dim) if warm is not None else None
            fit = fit_hyperparameters(x, y, counts, start, s.noise_floor, s.gp_max_iters, cold)
            hyper = fit.hyper
            status = "ok"
        except Exception as exc:
            # Any GPy failure (linear algebra, paramz, NaN) must not crash a chat.
            log.warning("GP fit failed (%s: %s); fixed hyperparameters", type(exc).__name__, exc)
    attempts: tuple[tuple[Hyper, FitStatus], ...] = (
        (hyper, status),
        (default_hyper(s.dim), "default"),
    )
    for h, st in attempts:
        noise = max(h.noise, s.noise_floor) / counts
        try:
            return FittedGP(build_posterior(x, y, noise, h), idx, st, y_mean, y_std)
        except (np.linalg.LinAlgError, ValueError) as exc:
            log.warning("GP posterior failed (%s); trying default hyperparameters", exc)
    return None


def best_index(search: Search) -> int | None:
    """Index of the best rated face: posterior-mean argmax over rated faces (noisy incumbent)."""
    with _one_blas_thread():
        return _best_index(search)


def _best_index(search: Search) -> int | None:
    warm = Hyper.from_dict(search.state.get("gp"), search.settings.dim)
    gp = _fit_gp(search, refit=warm is None)
    if gp is None:
        idx = _usable(search)
        return int(idx[np.argmax(search.scores[idx])]) if len(idx) else None
    mean, _ = gp.posterior.predict(gp.posterior.x)
    return int(gp.index[int(np.argmax(mean))])


def propose(search: Search, k: int | None = None) -> Proposal:
    """The next album of k faces (default settings.album_size); never raises on bad data."""
    with _one_blas_thread():
        return _propose(search, k)


def _propose(search: Search, k: int | None) -> Proposal:
    s = search.settings
    k = s.album_size if k is None else int(k)
    if not 1 <= k <= 10:
        raise ValueError(f"album size must be in 1..10, got {k}")
    n_shown = len(search.points)
    rng = np.random.default_rng([s.seed, n_shown, k])
    state = dict(search.state)
    gp = _fit_gp(search, True)
    if gp is None:
        source: Source = "initial" if len(_usable(search)) == 0 else "random"
        pts = project_typical(sobol_points(s.dim, n_shown, k, s.seed), s.radius)
        state["fit"] = "none"
        return Proposal(pts, [source] * k, state)
    post = gp.posterior
    state["gp"] = post.hyper.to_dict()
    state["fit"] = gp.status
    try:
        mean_obs, _ = post.predict(post.x)
        best = float(mean_obs.max())
        incumbent = post.x[int(np.argmax(mean_obs))]
        cands = candidate_set(s.dim, s.n_candidates, incumbent, rng, s.radius)
        chosen: list[np.ndarray] = []
        sources: list[Source] = []
        if s.best_slot and k >= 2:
            chosen.append(maximise_mean(post, cands, s.radius))
            sources.append("best")
        fantasy_noise = max(post.hyper.noise, s.noise_floor)
        ei_pts = kriging_believer(
            post,
            best,
            k - len(chosen),
            cands,
            s.n_starts,
            s.min_distance,
            fantasy_noise,
            np.array(chosen) if chosen else None,
            s.radius,
            s.acq_max_iters,
        )
        pts = np.vstack([*chosen, ei_pts]) if chosen else ei_pts
        sources += ["ei"] * len(ei_pts)
        if not np.all(np.isfinite(pts)):
            raise FloatingPointError("non-finite proposal")
        return Proposal(np.clip(pts, 0.0, 1.0), sources, state)
    except (np.linalg.LinAlgError, ValueError, FloatingPointError) as exc:
        log.warning("acquisition failed (%s); proposing space-filling points", exc)
        state["fit"] = "failed"
        pts = _space_filling(search.points, s.dim, k, s.seed, n_shown, s.radius)
        return Proposal(pts, ["random"] * k, state)


def _space_filling(
    shown: np.ndarray, dim: int, k: int, seed: int, n_shown: int, radius: float
) -> np.ndarray:
    """The k Sobol points (of a larger pool) farthest from everything shown."""
    pool = project_typical(sobol_points(dim, n_shown, max(4 * k, 16), seed), radius)
    if len(shown) == 0:
        return pool[:k]
    out: list[np.ndarray] = []
    ref = shown
    for _ in range(k):
        j = int(np.argmax(rms_distance(pool, ref).min(1)))
        out.append(pool[j])
        ref = np.vstack([ref, pool[j][None, :]])
    return np.array(out)
