"""A search as plain data, and the pure functions that advance it: observe, propose, best_index."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike
from threadpoolctl import threadpool_limits

from optimization.batch import (
    Box,
    candidate_set,
    kriging_believer,
    maximise_mean,
    project_typical,
    rms_distance,
    sobol_points,
)
from optimization.gp import Hyper, PosteriorLike, build_posterior, default_hyper
from optimization.settings import SearchSettings
from optimization.trust_region import TrustRegion, trust_box

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
    # (m, 2) [winner, loser] indices into points: within-album comparisons (the preference
    # surrogate's data; optimization.preference.preferences_from_votes builds them).
    pairs: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), dtype=np.int64))


# Where a proposed point came from: the first album (Sobol or an opener), EI, the
# posterior-mean maximum, or space-filling points when there is no usable GP.
Source = Literal["initial", "ei", "best", "random"]
# How the surrogate was obtained: the numeric GP fitted, its warm start kept, its defaults, or
# the preference GP (Laplace, fitted to within-album comparisons).
FitStatus = Literal["ok", "fixed", "default", "preference"]


@dataclass(frozen=True)
class Proposal:
    """The next album: points (k, dim), a source per point, and state for the next round."""

    points: np.ndarray  # (k, dim)
    sources: list[Source]
    state: dict[str, Any]


@dataclass(frozen=True)
class FittedGP:
    """The GP surrogate (numeric or preference) fitted to the usable observations of a search."""

    posterior: PosteriorLike
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


def observe(
    search: Search,
    points: ArrayLike,
    scores: ArrayLike,
    counts: ArrayLike,
    pairs: ArrayLike | None = None,
) -> Search:
    """A new Search with these rated faces appended; inputs are copied, never mutated.

    pairs (m, 2): [winner, loser] comparisons among the faces of this call (indices into
    `points` as given here; they are shifted past the faces already in the search).
    """
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
    new_pairs = np.zeros((0, 2), dtype=np.int64)
    if pairs is not None and np.size(pairs):
        new_pairs = np.array(pairs, dtype=np.int64, copy=True).reshape(-1, 2)
        if new_pairs.min() < 0 or new_pairs.max() >= len(p):
            raise ValueError(f"pairs must index the {len(p)} faces given")
        if np.any(new_pairs[:, 0] == new_pairs[:, 1]):
            raise ValueError("a face cannot be compared with itself")
    return Search(
        search.settings,
        np.vstack([search.points, np.clip(p, 0.0, 1.0)]),
        np.concatenate([search.scores, s]),
        np.concatenate([search.counts, c]),
        dict(search.state),
        np.vstack([search.pairs, new_pairs + len(search.points)]),
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
    if uses_preference(search):
        pref = _fit_preference(search)
        if pref is not None or len(search.pairs):
            return pref
        # No comparisons yet (e.g. a search rated before the setting changed): numeric GP.
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
            prior = (float(np.log(s.ls_prior)), s.ls_prior_sigma) if s.ls_prior > 0 else None
            fit = fit_hyperparameters(
                x, y, counts, start, s.noise_floor, s.gp_max_iters, cold, prior
            )
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
            post = build_posterior(x, y, noise, h).as_linear()
            return FittedGP(post, idx, st, y_mean, y_std)
        except (np.linalg.LinAlgError, ValueError) as exc:
            log.warning("GP posterior failed (%s); trying default hyperparameters", exc)
    return None


def uses_preference(search: Search) -> bool:
    """Whether the preference GP models this search: always for surrogate="preference";
    for "auto", when some compared face has no rating (a "closest" pick), which only the
    preference GP can use. Ratings alone go to the numeric GP, which reads their values
    (measured better per rated face: docs/search.md)."""
    s = search.settings.surrogate
    if s != "auto":
        return s == "preference"
    if not len(search.pairs):
        return False
    return bool(np.any(search.counts[np.unique(search.pairs)] == 0))


def _fit_preference(search: Search) -> FittedGP | None:
    """Laplace preference GP over the faces that take part in a comparison."""
    from optimization.preference import fit_preference_grid

    s = search.settings
    pairs = search.pairs
    if len(pairs) == 0:
        return None
    idx = np.unique(pairs)  # (m,) faces in some comparison
    local = np.searchsorted(idx, pairs)  # pairs re-indexed into idx
    base = np.full(s.dim, s.pref_lengthscale * np.sqrt(s.dim))
    try:
        fit = fit_preference_grid(search.points[idx], local, base)
    except (np.linalg.LinAlgError, ValueError, FloatingPointError) as exc:
        log.warning("preference fit failed (%s)", exc)
        return None
    return FittedGP(fit.posterior, idx, "preference", 0.0, 1.0)


def best_index(search: Search) -> int | None:
    """Index of the best rated face: posterior-mean argmax over rated faces (noisy incumbent)."""
    with _one_blas_thread():
        return _best_index(search)


def _best_index(search: Search) -> int | None:
    if uses_preference(search) and len(search.pairs):
        pref = _fit_preference(search)
        if pref is not None:
            mean, _ = pref.posterior.predict(pref.posterior.x)
            return int(pref.index[int(np.argmax(mean))])
    warm = Hyper.from_dict(search.state.get("gp"), search.settings.dim)
    gp = _fit_gp(search, refit=warm is None)
    if gp is None:
        idx = _usable(search)
        return int(idx[np.argmax(search.scores[idx])]) if len(idx) else None
    mean, _ = gp.posterior.predict(gp.posterior.x)
    return int(gp.index[int(np.argmax(mean))])


def propose(search: Search, k: int | None = None, openers: ArrayLike | None = None) -> Proposal:
    """The next album of k faces (default settings.album_size); never raises on bad data.

    openers (m, dim): cube points shown first, in order, before the search's own choices
    (faces spread over who people look like, model.openers); an album that runs past them
    is completed by the search.
    """
    with _one_blas_thread():
        return _propose(search, k, openers)


def _propose(search: Search, k: int | None, openers: ArrayLike | None = None) -> Proposal:
    s = search.settings
    k = s.album_size if k is None else int(k)
    if not 1 <= k <= 10:
        raise ValueError(f"album size must be in 1..10, got {k}")
    n_shown = len(search.points)
    rng = np.random.default_rng([s.seed, n_shown, k])
    state = dict(search.state)
    opening = np.zeros((0, s.dim))
    if openers is not None and np.size(openers):
        opening = np.clip(np.asarray(openers, dtype=np.float64).reshape(-1, s.dim), 0.0, 1.0)
        opening = opening[n_shown : n_shown + k]
    if len(opening) == k:
        return Proposal(opening.copy(), ["initial"] * k, state)
    gp = _fit_gp(search, True)
    if gp is None:
        unanswered = len(_usable(search)) == 0 and not len(search.pairs)
        source: Source = "initial" if unanswered else "random"
        pts = project_typical(sobol_points(s.dim, n_shown, k - len(opening), s.seed), s.radius)
        state["fit"] = "none"
        srcs: list[Source] = ["initial" for _ in opening]
        srcs += [source] * len(pts)
        return Proposal(np.vstack([opening, pts]), srcs, state)
    post = gp.posterior
    if gp.status != "preference":  # the numeric GP's warm start only
        state["gp"] = post.hyper.to_dict()
    state["fit"] = gp.status
    try:
        mean_obs, _ = post.predict(post.x)
        best = float(mean_obs.max())
        incumbent = post.x[int(np.argmax(mean_obs))]
        box, min_distance = None, s.min_distance
        if s.trust_region:
            newest = int(gp.index[int(np.argmax(mean_obs))])
            box, length = _trust_region(search, state, incumbent, newest, post.hyper.lengthscale)
            # near-twins are judged relative to the region: a small region needs close faces
            min_distance = min(s.min_distance, 0.25 * length)
        if 0 < s.coarse_dims < s.dim and n_shown < s.coarse_faces:
            box = _coarse_box(box, incumbent, s.coarse_dims)
        cands = candidate_set(s.dim, s.n_candidates, incumbent, rng, s.radius, box)
        chosen: list[np.ndarray] = list(opening)
        sources: list[Source] = ["initial" for _ in opening]
        if s.best_slot and k - len(chosen) >= 2:
            chosen.append(maximise_mean(post, cands, s.radius))
            sources.append("best")
        fantasy_noise = max(post.hyper.noise, s.noise_floor)
        ei_pts = kriging_believer(
            post,
            best,
            k - len(chosen),
            cands,
            s.n_starts,
            min_distance,
            fantasy_noise,
            np.array(chosen) if chosen else None,
            s.radius,
            s.acq_max_iters,
            box,
        )
        pts = np.vstack([*chosen, ei_pts]) if chosen else ei_pts
        sources += ["ei"] * len(ei_pts)
        if not np.all(np.isfinite(pts)):
            raise FloatingPointError("non-finite proposal")
        return Proposal(np.clip(pts, 0.0, 1.0), sources, state)
    except (np.linalg.LinAlgError, ValueError, FloatingPointError) as exc:
        log.warning("acquisition failed (%s); proposing space-filling points", exc)
        state["fit"] = "failed"
        pts = _space_filling(search.points, s.dim, k - len(opening), s.seed, n_shown, s.radius)
        fallback: list[Source] = ["initial" for _ in opening]
        fallback += ["random" for _ in pts]
        return Proposal(np.vstack([opening, pts]), fallback, state)


def _coarse_box(box: Box | None, incumbent: np.ndarray, active: int) -> Box:
    """The box with every axis past the first `active` pinned at the incumbent's value."""
    lo, hi = (np.zeros_like(incumbent), np.ones_like(incumbent)) if box is None else box
    lo, hi = lo.copy(), hi.copy()
    lo[active:] = hi[active:] = incumbent[active:]
    return lo, hi


def _trust_region(
    search: Search,
    state: dict[str, Any],
    incumbent: np.ndarray,
    incumbent_index: int,
    lengthscale: np.ndarray,
) -> tuple[Box, float]:
    """Update the stored trust region with the round just rated; its box and side."""
    s = search.settings
    n = len(search.points)
    tr = TrustRegion.from_dict(state.get("tr"), s.tr_length)
    if 0 < tr.seen < n:  # faces were rated since the last proposal
        improved = incumbent_index >= tr.seen  # the best guess is one of them
        tr = tr.update(improved, n, s.tr_succ, s.tr_fail, s.tr_min, s.tr_max)
    elif tr.seen == 0:
        tr = replace(tr, seen=n)
    state["tr"] = tr.to_dict()
    return trust_box(incumbent, tr.length, lengthscale), tr.length


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
