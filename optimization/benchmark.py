"""The search benchmark: strategies side by side on the same targets and simulated raters.

Pure: the face model enters as a decode callable ((n, D) float -> (n, H, W, 3) uint8) and the
target latents; fotorobot/bench_search.py loads the model and formats the command line.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
from threadpoolctl import threadpool_limits

from optimization.raters import RaterConfig, SimulatedRater, image_similarity
from optimization.settings import SearchSettings
from optimization.space import BasisLike, LatentSpace, subspace_dim
from optimization.strategies import (
    CMAStrategy,
    OursStrategy,
    PicksStrategy,
    RandomStrategy,
    Strategy,
    ThesisStrategy,
)

Decode = Callable[[np.ndarray], np.ndarray]

STRATEGIES = {
    "random": "random prior faces, albums of 4",
    "thesis": "thesis: 5 random in [-4,4]^d, then 1 face/round by MPI xi=0.3",
    "cma": "CMA-ES in the latent, population 4",
    "ours": "ours: EI albums of 4 over the principal axes explaining 99% (<= 16)",
    "ours-16": "ours over 16 principal axes",
    "ours-stds": "ours, principal axes scaled by the encoded stds",
    "ours-full": "ours over the full latent (no subspace)",
    "ours-best": "ours + a best-guess slot in each album",
    "ours-picks": "ours, told only the closest face of each album (a group poll's pick)",
}
DEFAULT_STRATEGIES = ("random", "thesis", "cma", "ours", "ours-16", "ours-full", "ours-best")


@dataclass(frozen=True)
class BenchConfig:
    """What the benchmark runs."""

    budget: int = 80  # ratings per target and strategy
    checkpoints: tuple[int, ...] = (8, 20, 40, 80)
    album: int = 4
    dim: int = 16  # the largest search dimension
    seed: int = 0
    strategies: tuple[str, ...] = DEFAULT_STRATEGIES
    rater: RaterConfig = field(default_factory=RaterConfig)
    n_random_calibration: int = 64


def make_strategy(
    name: str, latent_dim: int, basis: BasisLike | None, cfg: BenchConfig, seed: int
) -> Strategy:
    """One fresh strategy instance for one target."""
    dim = subspace_dim(basis, latent_dim, cfg.dim)
    settings = SearchSettings(dim=dim, album_size=cfg.album, seed=seed)
    if name == "random":
        return RandomStrategy(latent_dim, cfg.album, seed)
    if name == "thesis":
        return ThesisStrategy(latent_dim, seed)
    if name == "cma":
        return CMAStrategy(latent_dim, cfg.album, seed)
    if name == "ours":
        return OursStrategy(LatentSpace.from_basis(latent_dim, basis, dim), settings)
    if name == "ours-best":
        space = LatentSpace.from_basis(latent_dim, basis, dim)
        return OursStrategy(space, replace(settings, best_slot=True))
    if name == "ours-picks":
        return PicksStrategy(LatentSpace.from_basis(latent_dim, basis, dim), settings)
    if name == "ours-stds":
        return OursStrategy(LatentSpace.from_basis(latent_dim, basis, dim, scale="stds"), settings)
    if name == "ours-16":
        d16 = min(cfg.dim, latent_dim)
        space = LatentSpace.from_basis(latent_dim, basis, d16)
        return OursStrategy(space, replace(settings, dim=d16))
    if name == "ours-full":
        space = LatentSpace.from_basis(latent_dim, None, latent_dim)
        return OursStrategy(space, replace(settings, dim=latent_dim))
    raise ValueError(f"unknown strategy {name!r}; known: {', '.join(STRATEGIES)}")


def run_one(strategy: Strategy, rater: SimulatedRater, decode: Decode, budget: int) -> np.ndarray:
    """True similarity (budget,) of every face shown, in the order they were rated."""
    sims: list[float] = []
    while len(sims) < budget:
        z = strategy.ask()
        s = rater.similarity(decode(z))
        strategy.tell(rater.rate(s))
        sims.extend(float(v) for v in s)
    return np.array(sims[:budget])


def run_quality(
    decode: Decode,
    latent_dim: int,
    basis: BasisLike | None,
    targets: np.ndarray,
    cfg: BenchConfig,
    progress: Callable[[str], None] | None = None,
) -> dict[str, np.ndarray]:
    """Best-so-far similarity curves {strategy: (n_targets, budget)} on shared targets/raters."""
    rng = np.random.default_rng(cfg.seed)
    calib = decode(rng.normal(size=(cfg.n_random_calibration, latent_dim)).astype(np.float32))
    target_images = decode(np.asarray(targets, dtype=np.float32))
    curves: dict[str, np.ndarray] = {}
    with threadpool_limits(limits=1, user_api="blas"):
        for name in cfg.strategies:
            t0 = time.perf_counter()
            curves[name] = _run_strategy(name, decode, latent_dim, basis, target_images, calib, cfg)
            if progress:
                dt = time.perf_counter() - t0
                progress(f"{name}: {len(target_images)} targets in {dt:.0f} s")
    return curves


def _run_strategy(
    name: str,
    decode: Decode,
    latent_dim: int,
    basis: BasisLike | None,
    target_images: np.ndarray,
    calib: np.ndarray,
    cfg: BenchConfig,
) -> np.ndarray:
    """Best-so-far curves (n_targets, budget) of one strategy."""
    rows = []
    for i, timg in enumerate(target_images):
        rseed = cfg.seed * 100_003 + i
        rng = np.random.default_rng(rseed)
        rater = SimulatedRater(timg, image_similarity(calib, timg), cfg.rater, rng)
        strat = make_strategy(name, latent_dim, basis, cfg, rseed)
        rows.append(np.maximum.accumulate(run_one(strat, rater, decode, cfg.budget)))
    return np.array(rows)


def ratings_to_reach(curve: np.ndarray, level: float) -> np.ndarray:
    """Per target, the number of ratings until best-so-far >= level (inf if never)."""
    hit = curve >= level
    first = np.argmax(hit, axis=1).astype(np.float64) + 1.0
    first[~hit.any(axis=1)] = np.inf
    return first


def summarise(
    curves: dict[str, np.ndarray], checkpoints: tuple[int, ...], level: float
) -> list[dict[str, object]]:
    """One row per strategy: mean and 90% interval at each checkpoint, ratings to reach level."""
    rows = []
    for name, c in curves.items():
        row: dict[str, object] = {"strategy": name}
        for b in checkpoints:
            if b <= c.shape[1]:
                v = c[:, b - 1]
                row[f"@{b}"] = {
                    "mean": float(v.mean()),
                    "p5": float(np.quantile(v, 0.05)),
                    "p95": float(np.quantile(v, 0.95)),
                }
        need = ratings_to_reach(c, level)
        reached = np.isfinite(need)
        row["reach"] = {
            "level": level,
            "median": float(np.median(need)) if reached.mean() >= 0.5 else None,
            "reached": float(reached.mean()),
        }
        rows.append(row)
    return rows


def format_table(rows: list[dict[str, object]], checkpoints: tuple[int, ...]) -> str:
    """Markdown table of summarise() rows."""
    level = rows[0]["reach"]["level"] if rows else 0.0  # type: ignore[index]
    head = ["strategy", *[f"after {b}" for b in checkpoints], f"ratings to {level:.3f}"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = [str(r["strategy"])]
        for b in checkpoints:
            s = r.get(f"@{b}")
            cells.append(
                f"{s['mean']:.3f} [{s['p5']:.3f}, {s['p95']:.3f}]" if s else "-"  # type: ignore[index]
            )
        reach = r["reach"]
        med = reach["median"]  # type: ignore[index]
        frac = reach["reached"]  # type: ignore[index]
        cells.append(
            f"{med:.0f} ({frac:.0%} reach)" if med is not None else f"- ({frac:.0%} reach)"
        )
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot_curves(curves: dict[str, np.ndarray], path: str, title: str = "") -> None:
    """Mean best-so-far similarity vs ratings, with the 90% band, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.5, 4.6), dpi=120)
    for name, c in curves.items():
        x = np.arange(1, c.shape[1] + 1)
        mean = c.mean(0)
        (line,) = ax.plot(x, mean, label=f"{name}", lw=2 if name == "ours" else 1.3)
        if name in ("ours", "random"):  # two bands stay readable; the JSON has all of them
            lo, hi = np.quantile(c, 0.05, 0), np.quantile(c, 0.95, 0)
            ax.fill_between(x, lo, hi, color=line.get_color(), alpha=0.1)
    ax.set_xlabel("ratings")
    ax.set_ylabel("similarity of the best face so far")
    ax.set_xscale("log")
    ax.set_xticks([1, 4, 8, 20, 40, 80])
    ax.set_xticklabels(["1", "4", "8", "20", "40", "80"])
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
