"""`fotorobot bench search`: search quality with simulated raters, and per-round latency.

Loads the face model and hands decode/encode and the latent basis to the pure benchmark in
optimization.benchmark; this module only parses flags, picks the targets and prints.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from model import FaceModel


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of `fotorobot bench search`."""
    from optimization.benchmark import DEFAULT_STRATEGIES, STRATEGIES

    parser.add_argument("--targets", type=int, default=30, help="target faces (default 30)")
    parser.add_argument("--seed", type=int, default=0, help="seed of targets and raters")
    parser.add_argument("--budget", type=int, default=80, help="ratings per search (default 80)")
    parser.add_argument("--json", type=Path, default=None, help="write all figures as JSON")
    parser.add_argument("--plot", type=Path, default=None, help="write the curves as a PNG")
    parser.add_argument(
        "--model", default=None, help="checkpoint path or bundled model name (default: celeba)"
    )
    parser.add_argument(
        "--strategies",
        default=",".join(DEFAULT_STRATEGIES),
        help="comma-separated, from: " + ", ".join(STRATEGIES),
    )
    parser.add_argument(
        "--target-kind",
        choices=("encoded", "prior"),
        default="encoded",
        help="targets: encoded held-out synthetic faces (default) or prior samples",
    )
    parser.add_argument("--relative", action="store_true", help="raters judge within the album")
    parser.add_argument("--noise", type=float, default=0.75, help="rating noise sd (points)")
    parser.add_argument("--reach", type=float, default=None, help="similarity level to reach")
    parser.add_argument("--latency-reps", type=int, default=40, help="rounds timed per size")
    parser.add_argument(
        "--latency-sizes", default="20,60,120", help="observation counts timed (comma-separated)"
    )
    parser.add_argument("--no-quality", action="store_true", help="latency only")
    parser.add_argument("--no-latency", action="store_true", help="quality only")


def missing_extras(strategies: tuple[str, ...], plot: bool) -> list[str]:
    """Packages of the [bench] extra this run needs and this installation lacks."""
    needed = (["cma"] if "cma" in strategies else []) + (["matplotlib"] if plot else [])
    return [name for name in needed if importlib.util.find_spec(name) is None]


def _targets(model: FaceModel, kind: str, n: int, seed: int) -> np.ndarray:
    """Target latents: encoded held-out synthetic faces (seeds far from training's) or prior."""
    if kind == "prior":
        return np.random.default_rng([seed, 7]).normal(size=(n, model.latent_dim))
    from model.synthetic import synthetic_faces

    images, _ = synthetic_faces(n, seed=900_000 + 1000 * seed, size=model.image_size)
    return model.encode(images)


def run(args: argparse.Namespace) -> int:
    """Run the benchmark and print the tables."""
    from optimization.benchmark import (
        STRATEGIES,
        BenchConfig,
        format_table,
        plot_curves,
        run_quality,
        summarise,
    )
    from optimization.latency import percentiles, round_latency
    from optimization.raters import RaterConfig
    from optimization.space import LatentSpace

    names = tuple(s.strip() for s in args.strategies.split(",") if s.strip())
    unknown = [s for s in names if s not in STRATEGIES]
    if unknown:
        print(f"unknown strategies: {', '.join(unknown)}", file=sys.stderr)
        return 2
    try:
        sizes = tuple(int(v) for v in args.latency_sizes.split(",") if v.strip())
    except ValueError:
        print("--latency-sizes must be comma-separated integers", file=sys.stderr)
        return 2
    if any(n < 6 for n in sizes) or args.latency_reps < 1:
        print("--latency-sizes must be >= 6 and --latency-reps >= 1", file=sys.stderr)
        return 2
    if args.targets < 1 or args.budget < 1:
        print("--targets and --budget must be positive", file=sys.stderr)
        return 2
    missing = missing_extras(names, plot=args.plot is not None)
    if missing:
        print(
            f"fotorobot bench search needs {' and '.join(missing)}: pip install 'fotorobot[bench]'",
            file=sys.stderr,
        )
        return 2
    from model import FaceModel, resolve_model
    from model.checkpoint import CheckpointError

    path = resolve_model(args.model)
    if not Path(path).is_file():
        print(
            f"no face model at {path}: train one (`fotorobot train`) or pass --model",
            file=sys.stderr,
        )
        return 1
    try:
        model = FaceModel.load(path)
    except CheckpointError as exc:
        print(f"cannot use the face model: {exc}", file=sys.stderr)
        return 1
    basis = model.latent_basis
    checkpoints = tuple(b for b in (8, 20, 40, 80) if b <= args.budget) or (args.budget,)
    cfg = BenchConfig(
        budget=args.budget,
        checkpoints=checkpoints,
        seed=args.seed,
        strategies=names,
        rater=RaterConfig(noise=args.noise, relative=args.relative),
    )
    report: dict[str, object] = {
        "model": str(path),
        "model_version": model.version,
        "latent_dim": model.latent_dim,
        "has_basis": basis is not None,
        "targets": args.targets,
        "target_kind": args.target_kind,
        "seed": args.seed,
        "rater": {"noise": args.noise, "relative": args.relative},
    }
    print(
        f"model {path} (version {model.version}, latent {model.latent_dim}, "
        f"basis {'yes' if basis is not None else 'no'})"
    )
    if not args.no_quality:
        targets = _targets(model, args.target_kind, args.targets, args.seed)
        t0 = time.perf_counter()
        curves = run_quality(
            model.decode, model.latent_dim, basis, targets, cfg, progress=lambda m: print("  " + m)
        )
        level = args.reach
        if level is None:
            # the level random faces reach on average after the whole budget
            level = float(curves["random"][:, -1].mean()) if "random" in curves else 0.8
        rows = summarise(curves, checkpoints, level)
        print(
            f"\nbest-so-far similarity, mean [90% interval] over {args.targets} targets "
            f"({time.perf_counter() - t0:.0f} s):\n"
        )
        print(format_table(rows, checkpoints))
        report["quality"] = rows
        report["curves_mean"] = {k: v.mean(0).tolist() for k, v in curves.items()}
        report["curves"] = {k: np.round(v, 4).tolist() for k, v in curves.items()}
        if args.plot:
            args.plot.parent.mkdir(parents=True, exist_ok=True)
            plot_curves(curves, str(args.plot), f"{args.targets} targets, simulated raters")
            print(f"\ncurves written to {args.plot}")
    if not args.no_latency:
        dim = min(16, model.latent_dim)
        space = LatentSpace.from_basis(model.latent_dim, basis, dim)
        lat = round_latency(
            dim,
            sizes=sizes,
            reps=args.latency_reps,
            seed=args.seed,
            space=space,
            decode=model.decode,
        )
        print(
            f"\nper-round latency, search dim {dim}, album 4 ({args.latency_reps} rounds each):\n"
        )
        print("| observations | GP fit p50 | round p50 | round p99 | +decode p50 | +decode p99 |")
        print("|---|---|---|---|---|---|")
        lat_rows = {}
        for n, res in lat.items():
            f, r, d = (
                percentiles(res["fit"]),
                percentiles(res["round"]),
                percentiles(res["round+decode"]),
            )
            lat_rows[n] = {"fit": f, "round": r, "round+decode": d}
            print(
                f"| {n} | {f['p50_ms']:.0f} ms | {r['p50_ms']:.0f} ms | {r['p99_ms']:.0f} ms "
                f"| {d['p50_ms']:.0f} ms | {d['p99_ms']:.0f} ms |"
            )
        report["latency"] = lat_rows
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=1))
        print(f"\nfigures written to {args.json}")
    return 0
