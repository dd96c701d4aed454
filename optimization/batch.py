"""Acquisition maximisation and album assembly (Kriging believer, de-duplication)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.optimize import minimize
from scipy.special import ndtr, ndtri
from scipy.stats import chi2, qmc

from optimization.acquisition import expected_improvement, expected_improvement_grad
from optimization.gp import PosteriorLike


def sobol_points(dim: int, start: int, k: int, seed: int) -> np.ndarray:
    """Points start..start+k-1 of one scrambled Sobol sequence (balanced: a power-of-2 draw)."""
    total = max(2, int(2 ** np.ceil(np.log2(start + k))))
    pts = qmc.Sobol(dim, scramble=True, seed=seed).random_base2(int(np.log2(total)))
    return pts[start : start + k]


def typical_radius(dim: int, quantile: float) -> float:
    """Radius of the ball holding `quantile` of N(0, I_dim): the prior's typical set."""
    return float(np.sqrt(chi2.ppf(quantile, dim)))


def project_typical(u: np.ndarray, radius: float) -> np.ndarray:
    """Pull cube points whose t = Phi^-1(u) lies outside the ball |t| <= radius onto it.

    Uniform u is the N(0, I) prior, but an optimiser likes the cube's faces and corners, whose
    latents (|t| ~ 4.75 on every axis) no face of the training set resembles; so proposals are
    kept in the prior's typical set.
    """
    if not np.isfinite(radius):
        return u
    t = ndtri(np.clip(u, 1e-6, 1 - 1e-6))  # (n, d)
    norm = np.linalg.norm(t, axis=1, keepdims=True)
    t = t * np.minimum(1.0, radius / np.maximum(norm, 1e-12))
    return np.clip(ndtr(t), 0.0, 1.0)


def rms_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distances (len(a), len(b)) as root-mean-square per coordinate (0..1 in the cube)."""
    d = a[:, None, :] - b[None, :, :]
    return np.sqrt((d * d).mean(-1))


def _ei_and_grad(post: PosteriorLike, x: np.ndarray, best: float) -> tuple[np.ndarray, np.ndarray]:
    mean, var, dmean, dvar = post.predict_grad(x)
    sigma = np.sqrt(var)
    ei, d_mean, d_sigma = expected_improvement_grad(mean, sigma, best)
    grad = d_mean[:, None] * dmean + (d_sigma / (2.0 * sigma))[:, None] * dvar
    return ei, grad


Box = tuple[np.ndarray, np.ndarray]  # (lo (d,), hi (d,)) inside the unit cube


def clip_box(x: np.ndarray, box: Box | None) -> np.ndarray:
    """x clipped into the box (the unit cube when None)."""
    if box is None:
        return np.clip(x, 0.0, 1.0)
    return np.clip(x, box[0], box[1])


def multistart_lbfgsb(
    fun_grad: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]],
    starts: np.ndarray,
    max_iters: int,
    box: Box | None = None,
) -> np.ndarray:
    """Maximise a per-point objective from all starts at once (their sum is separable)."""
    n, d = starts.shape
    lo, hi = (np.zeros(d), np.ones(d)) if box is None else box

    def neg(flat: np.ndarray) -> tuple[float, np.ndarray]:
        val, grad = fun_grad(flat.reshape(n, d))  # (n,), (n, d)
        return -float(val.sum()), -grad.reshape(-1)

    res = minimize(
        neg,
        starts.reshape(-1),
        jac=True,
        method="L-BFGS-B",
        bounds=list(zip(np.tile(lo, n), np.tile(hi, n), strict=True)),
        options={"maxiter": max_iters},
    )
    out = clip_box(res.x.reshape(n, d), box)
    return out if np.all(np.isfinite(out)) else starts


def candidate_set(
    dim: int,
    n_candidates: int,
    incumbent: np.ndarray,
    rng: np.random.Generator,
    radius: float = np.inf,
    box: Box | None = None,
) -> np.ndarray:
    """Scrambled Sobol candidates (in the box, when one is given) plus Gaussian
    perturbations of the incumbent, all inside the prior's typical set."""
    m = max(2, int(2 ** np.round(np.log2(max(n_candidates, 2)))))
    sob = qmc.Sobol(dim, scramble=True, seed=rng).random_base2(int(np.log2(m)))
    n_local = max(8, m // 8)
    if box is not None:
        sob = box[0] + sob * (box[1] - box[0])
        width = float(np.mean(box[1] - box[0]))
        scales = np.where(np.arange(n_local) % 2 == 0, 0.1, 0.3)[:, None] * width
    else:
        scales = np.where(np.arange(n_local) % 2 == 0, 0.03, 0.12)[:, None]
    local = clip_box(incumbent + rng.normal(size=(n_local, dim)) * scales, box)
    return clip_box(project_typical(np.vstack([sob, local]), radius), box)


def maximise_ei(
    post: PosteriorLike,
    best: float,
    candidates: np.ndarray,
    n_starts: int,
    radius: float = np.inf,
    max_iters: int = 20,
    box: Box | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Optimised points (n_starts, d) inside the typical set (and box) and their EI, best
    first."""
    mean, var = post.predict(candidates)
    ei = expected_improvement(mean, np.sqrt(var), best)
    order = np.argsort(-ei)[:n_starts]
    starts = candidates[order]
    xs = multistart_lbfgsb(lambda x: _ei_and_grad(post, x, best), starts, max_iters, box)
    xs = clip_box(project_typical(xs, radius), box)
    m2, v2 = post.predict(xs)
    vals = expected_improvement(m2, np.sqrt(v2), best)
    # L-BFGS-B on a sum may stop with one start worse than where it began: keep the better.
    worse = vals < ei[order]
    xs[worse], vals[worse] = starts[worse], ei[order][worse]
    rank = np.argsort(-vals)
    return xs[rank], vals[rank]


def maximise_mean(
    post: PosteriorLike, candidates: np.ndarray, radius: float = np.inf, max_iters: int = 40
) -> np.ndarray:
    """The posterior-mean argmax (the current best guess), from the best candidates."""
    mean, _ = post.predict(candidates)
    starts = candidates[np.argsort(-mean)[:3]]

    def fg(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        m, _v, dm, _dv = post.predict_grad(x)
        return m, dm

    xs = project_typical(multistart_lbfgsb(fg, starts, max_iters), radius)
    m2, _ = post.predict(xs)
    return xs[int(np.argmax(m2))]


def kriging_believer(
    post: PosteriorLike,
    best: float,
    k: int,
    candidates: np.ndarray,
    n_starts: int,
    min_distance: float,
    fantasy_noise: float,
    chosen: np.ndarray | None = None,
    radius: float = np.inf,
    max_iters: int = 20,
    box: Box | None = None,
) -> np.ndarray:
    """k points by EI, each next one after believing the posterior mean at the previous ones.

    A point closer than min_distance to one already in the album is replaced by the best
    optimised or candidate point that is far enough (the album never shows near-twins).
    """
    d = post.x.shape[1]
    album = np.zeros((0, d)) if chosen is None else np.asarray(chosen, dtype=np.float64)
    for a in album:
        mu, _ = post.predict(a[None, :])
        post = post.with_point(a, float(mu[0]), fantasy_noise)
    out: list[np.ndarray] = []
    for _ in range(k):
        xs, _vals = maximise_ei(post, best, candidates, n_starts, radius, max_iters, box)
        pool = np.vstack([xs, _rank_by_ei(post, best, candidates)])
        x = _first_far_enough(pool, album, min_distance)
        out.append(x)
        album = np.vstack([album, x[None, :]])
        mu, _ = post.predict(x[None, :])
        post = post.with_point(x, float(mu[0]), fantasy_noise)
    return np.array(out)


def _rank_by_ei(post: PosteriorLike, best: float, candidates: np.ndarray) -> np.ndarray:
    mean, var = post.predict(candidates)
    return candidates[np.argsort(-expected_improvement(mean, np.sqrt(var), best))]


def _first_far_enough(pool: np.ndarray, album: np.ndarray, min_distance: float) -> np.ndarray:
    if len(album) == 0 or min_distance <= 0:
        return pool[0]
    dist = rms_distance(pool, album).min(1)
    ok = np.flatnonzero(dist >= min_distance)
    # Candidates cover the cube, so one is nearly always far enough; else the farthest.
    return pool[ok[0]] if len(ok) else pool[int(np.argmax(dist))]
