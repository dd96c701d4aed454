"""The search benchmark: strategies side by side on the same targets and simulated raters.

Pure: the face model enters as callables, decode ((n, D) float -> (n, H, W, 3) uint8) and
optionally describe (faces -> (n, 128) dlib descriptors); targets are images (real photos,
or decoded latents). The command line (fotorobot/bench_search.py) loads the model and prints;
optimization.bench_report turns the traces into tables, intervals and plots.

A strategy is named by a spec: a base name, then "+key=value" overrides, e.g.
"ours+dim=8+surrogate=preference". Values are JSON (numbers, true/false, strings).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace

import numpy as np
from threadpoolctl import threadpool_limits

from optimization.raters import Describe, RaterConfig, SimulatedRater, TargetJudge
from optimization.settings import SearchSettings
from optimization.space import BasisLike, LatentSpace, subspace_dim
from optimization.strategies import (
    CMAStrategy,
    OursStrategy,
    RandomStrategy,
    Strategy,
    ThesisStrategy,
)

Decode = Callable[[np.ndarray], np.ndarray]
Detect = Callable[[np.ndarray], np.ndarray]  # (n, S, S, 3) uint8 -> (n,) bool: a face found

STRATEGIES = {
    "random": "random prior faces N(0, I), albums of 4",
    "thesis": "thesis: 5 random in [-4,4]^d of the search subspace, then 1 face/round by MPI",
    "cma": "CMA-ES in the whole latent from N(0, I), population 4",
    "cma-sub": "CMA-ES in the search subspace, population 4",
    "ours": "ours: EI albums of 4, numeric GP on ratings",
    "pref": "ours with the preference GP on within-album comparisons of the ratings",
    # A group poll's answer: the rater says which face of each album is closest (1 answer per
    # album), stored and turned into search data exactly as the bot does (optimization.picks
    # answer_data): the numeric GP on standardised picks, or with surrogate auto/preference
    # the preference GP on "picked > unpicked" comparisons.
    "ours-picks": "ours told only the closest face of each album (a group poll's pick)",
    "ours-full": "ours over the full latent (no subspace)",
}
DEFAULT_STRATEGIES = ("random", "thesis", "cma", "ours", "pref", "ours-picks")
# Names a model's SearchContext.presets may define (fotorobot.bench_search_model: its own
# search; "ours-picks" is a base strategy too, the preset puts it in the identity space).
PRESET_NAMES = ("ours", "ours-numeric", "ours-pref", "ours-picks", "ours-pca")
# Overrides that pick the space or the first faces rather than a SearchSettings field.
SPACE_KEYS = ("axes", "scale", "openers")


@dataclass(frozen=True)
class SearchContext:
    """What strategies may know of the face model: the latent size, named principal bases
    ("variance": the checkpoint's PCA; others order the axes differently) and opening faces
    (latents (k, D) spread in identity, shown first by strategies with openers=true)."""

    latent_dim: int
    bases: Mapping[str, BasisLike | None] = field(default_factory=dict)
    openers: np.ndarray | None = None
    # Short names for this model's searches, e.g. "ours" -> "ours+axes=identity+dim=16+..."
    # (a name used exactly as given is replaced by its spec; tables keep the short name).
    presets: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class BenchConfig:
    """What the benchmark runs."""

    budget: int = 80  # faces shown per target and strategy
    answers: int = 0  # also keep going until this many answers were given (effort figures)
    checkpoints: tuple[int, ...] = (8, 20, 40, 80)
    album: int = 4
    dim: int = 16  # the largest search dimension
    seed: int = 0
    strategies: tuple[str, ...] = DEFAULT_STRATEGIES
    rater: RaterConfig = field(default_factory=RaterConfig)
    n_random_calibration: int = 64


@dataclass(frozen=True)
class Traces:
    """Every face one strategy showed, per target, in the order shown."""

    distance: np.ndarray  # (targets, faces) dlib distance to the target (nan: no descriptors)
    similarity: np.ndarray  # (targets, faces) the rater's noise-free similarity
    answers: np.ndarray  # (targets, faces) answers given once this face's album was answered
    # (targets, faces) whether a face detector finds a face in it (None: not asked)
    detected: np.ndarray | None = None


def parse_spec(spec: str) -> tuple[str, dict[str, object]]:
    """'ours+dim=8+surrogate="preference"' -> ("ours", {"dim": 8, "surrogate": "preference"}).
    A value that is not JSON is taken as a string (surrogate=preference works too)."""
    base, *parts = spec.strip().split("+")
    if base not in STRATEGIES:
        raise ValueError(f"unknown strategy {base!r}; known: {', '.join(STRATEGIES)}")
    overrides: dict[str, object] = {}
    known = {f.name for f in fields(SearchSettings)} | set(SPACE_KEYS)
    for part in parts:
        key, sep, raw = part.partition("=")
        if not sep or key not in known:
            raise ValueError(f"bad override {part!r} in {spec!r}; keys: {', '.join(sorted(known))}")
        try:
            overrides[key] = json.loads(raw)
        except json.JSONDecodeError:
            overrides[key] = raw
    if overrides and base not in ("ours", "pref", "ours-picks", "ours-full", "thesis", "cma-sub"):
        raise ValueError(f"{base!r} takes no overrides")
    return base, overrides


def make_strategy(spec: str, ctx: SearchContext, cfg: BenchConfig, seed: int) -> Strategy:
    """One fresh strategy instance for one target (override axes=NAME picks a basis)."""
    latent_dim, bases = ctx.latent_dim, ctx.bases
    if spec in PRESET_NAMES and spec not in ctx.presets and spec not in STRATEGIES:
        raise ValueError(f"{spec!r} needs a model with identity assets")
    base, over = parse_spec(ctx.presets.get(spec, spec))
    basis = bases.get(str(over.get("axes", "variance")))
    if "axes" in over and over["axes"] not in bases:
        raise ValueError(f"no basis named {over['axes']!r}; have {', '.join(bases)}")
    dim = int(over.get("dim", subspace_dim(basis, latent_dim, cfg.dim)))  # type: ignore[call-overload]
    scale = str(over.get("scale", "unit"))
    settings_over = {k: v for k, v in over.items() if k not in SPACE_KEYS}
    if base == "random":
        return RandomStrategy(latent_dim, cfg.album, seed)
    if base == "cma":
        return CMAStrategy(latent_dim, cfg.album, seed)
    if base == "ours-full":
        dim = latent_dim
        basis = None
    space = LatentSpace.from_basis(latent_dim, basis, dim, scale=scale)
    if base == "thesis":
        return ThesisStrategy(latent_dim, seed, space=space)
    if base == "cma-sub":
        return CMAStrategy(latent_dim, cfg.album, seed, space=space)
    settings = SearchSettings(dim=dim, album_size=cfg.album, seed=seed)
    if over.get("axes") in ("variance", "identity"):
        settings = replace(settings, axes=str(over["axes"]))
    if base == "pref":
        settings = replace(settings, surrogate="preference")
    settings = replace(settings, **settings_over)  # type: ignore[arg-type]
    n_open = int(over.get("openers", 0))  # type: ignore[call-overload]
    if n_open and (ctx.openers is None or len(ctx.openers) < n_open):
        raise ValueError(f"{spec!r} wants {n_open} openers and the context has fewer")
    openers = ctx.openers[:n_open] if n_open and ctx.openers is not None else None
    feedback = "pick" if base == "ours-picks" else "ratings"
    return OursStrategy(space, settings, feedback=feedback, openers=openers)


def run_one(
    strategy: Strategy,
    rater: SimulatedRater,
    judge: TargetJudge,
    decode: Decode,
    budget: int,
    answers: int = 0,
    detect: Detect | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """(distance, similarity, answers, detected or None) per face shown, until `budget` faces
    were shown and `answers` answers were given."""
    dist: list[float] = []
    sims: list[float] = []
    ans: list[int] = []
    found: list[bool] = []
    given = 0
    while len(sims) < budget or given < answers:
        z = strategy.ask()
        faces = decode(z)
        if detect is not None:
            found.extend(bool(v) for v in detect(faces))
        looks = judge.looks(faces)
        s = looks.similarity(rater.config.kind)
        if getattr(strategy, "feedback", "ratings") == "pick":
            strategy.tell_pick(rater.pick(s))  # type: ignore[attr-defined]
            given += 1
            ans.extend([given] * len(s))
        else:
            strategy.tell(rater.rate(s))
            ans.extend(range(given + 1, given + len(s) + 1))
            given += len(s)
        sims.extend(float(v) for v in s)
        dist.extend(float(v) for v in looks.distance)
    detected = np.array(found, dtype=bool) if detect is not None else None
    return np.array(dist), np.array(sims), np.array(ans, dtype=np.int64), detected


def run_bench(
    decode: Decode,
    ctx: SearchContext,
    targets: np.ndarray,
    cfg: BenchConfig,
    describe: Describe | None = None,
    progress: Callable[[str], None] | None = None,
    detect: Detect | None = None,
) -> dict[str, Traces]:
    """Traces of every strategy on the same target images (n, H, W, 3) and the same raters;
    with detect (faces -> (n,) bool), also which faces shown a face detector finds.

    The raters are calibrated per target on the same random prior faces; target i's rater
    draws its noise from the same seed under every strategy (paired comparisons).
    """
    targets = np.asarray(targets)
    rng = np.random.default_rng(cfg.seed)
    calib = decode(rng.normal(size=(cfg.n_random_calibration, ctx.latent_dim)).astype(np.float32))
    calib_desc = describe(calib) if describe is not None else None
    target_desc = describe(targets) if describe is not None else None
    judges = [
        TargetJudge(t, describe, None if target_desc is None else target_desc[i])
        for i, t in enumerate(targets)
    ]
    randoms = [j.looks(calib, calib_desc).similarity(cfg.rater.kind) for j in judges]
    out: dict[str, Traces] = {}
    with threadpool_limits(limits=1, user_api="blas"):
        for spec in cfg.strategies:
            t0 = time.perf_counter()
            rows = []
            for i, judge in enumerate(judges):
                rseed = cfg.seed * 100_003 + i
                rater = SimulatedRater(
                    judge.target, randoms[i], cfg.rater, np.random.default_rng(rseed)
                )
                strat = make_strategy(spec, ctx, cfg, rseed)
                rows.append(run_one(strat, rater, judge, decode, cfg.budget, cfg.answers, detect))
            n = min(len(r[0]) for r in rows)  # albums may overshoot the budget by a few faces
            dist = np.array([r[0][:n] for r in rows])
            sims = np.array([r[1][:n] for r in rows])
            ans = np.array([r[2][:n] for r in rows])
            found = [r[3][:n] for r in rows if r[3] is not None]
            detected = np.array(found) if detect is not None else None
            out[spec] = Traces(dist, sims, ans, detected)
            if progress:
                dt = time.perf_counter() - t0
                progress(f"{spec}: {len(judges)} targets in {dt:.0f} s")
    return out
