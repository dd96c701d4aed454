"""Per-round latency of the search (GP fit + batch EI, and with decoding the album)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace

import numpy as np

from optimization.preference import pairs_from_album
from optimization.search import Search, fit_gp, new_search, observe, propose
from optimization.settings import SearchSettings
from optimization.space import LatentSpace


def _random_history(dim: int, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """n rated points of a smooth random preference (a bump), ratings 1..10 with noise."""
    centre = rng.uniform(0.2, 0.8, size=dim)
    x = rng.uniform(size=(n, dim))
    sim = np.exp(-((x - centre) ** 2).sum(1) / (0.15 * dim))
    y = np.clip(np.rint(1 + 9 * sim + rng.normal(0, 0.75, n)), 1, 10)
    return x, y


def _search(settings: SearchSettings, x: np.ndarray, y: np.ndarray, state: dict) -> Search:
    """A search that saw x, y album by album (scores and within-album comparisons)."""
    s = new_search(settings)
    k = settings.album_size
    for i in range(0, len(y), k):
        yy = y[i : i + k]
        s = observe(s, x[i : i + k], yy, np.ones(len(yy), dtype=np.int64), pairs_from_album(yy))
    return replace(s, state=state)


def round_latency(
    settings: SearchSettings | int,
    sizes: tuple[int, ...] = (20, 60, 120),
    reps: int = 30,
    seed: int = 0,
    space: LatentSpace | None = None,
    decode: Callable[[np.ndarray], np.ndarray] | None = None,
    album: int = 4,
) -> dict[int, dict[str, list[float]]]:
    """Seconds per round {n_obs: {"fit": [...], "round": [...], "round+decode": [...]}}.

    Each repetition is a bot round: the previous round (n - album observations) left its
    fitted hyperparameters in the state, and this round refits warm and proposes an album.
    settings: the search's settings (an int: the default settings of that dimension).
    """
    if isinstance(settings, int):
        settings = SearchSettings(dim=settings, album_size=album, seed=seed)
    dim, album = settings.dim, settings.album_size
    out: dict[int, dict[str, list[float]]] = {}
    for n in sizes:
        res: dict[str, list[float]] = {"fit": [], "round": [], "round+decode": []}
        for r in range(reps):
            rng = np.random.default_rng([seed, n, r])
            x, y = _random_history(dim, n, rng)
            prev = propose(_search(settings, x[:-album], y[:-album], {}))
            s = _search(settings, x, y, prev.state)
            t0 = time.perf_counter()
            fit_gp(s)
            t1 = time.perf_counter()
            p = propose(s)
            t2 = time.perf_counter()
            if decode is not None and space is not None:
                decode(space.to_latent(p.points))
            t3 = time.perf_counter()
            res["fit"].append(t1 - t0)
            res["round"].append(t2 - t1)
            if decode is not None:
                res["round+decode"].append(t3 - t1)
        out[n] = res
    return out


def percentiles(values: list[float]) -> dict[str, float]:
    """p50 and p99 in milliseconds."""
    if not values:
        return {}
    v = np.asarray(values) * 1000.0
    return {"p50_ms": float(np.percentile(v, 50)), "p99_ms": float(np.percentile(v, 99))}
