"""`fotorobot bench search`: search quality with simulated raters, and per-round latency.

A thin command line: the model side (targets, descriptors, the search space, presets) is in
fotorobot.bench_setup (identity axes and openers: model.search_assets), the benchmark in
optimization.benchmark, the figures in optimization.bench_report.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from pathlib import Path
from typing import Any


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of `fotorobot bench search`."""
    from optimization.benchmark import STRATEGIES

    parser.add_argument(
        "--targets",
        default=None,
        help="photos:DIR (aligned as for training), encoded or prior; default: the evaluation "
        "split a photo-trained model recorded, else encoded (a plain number is --n-targets)",
    )
    parser.add_argument(
        "--eval-from",
        default=None,
        metavar="NAME",
        help="with photos:DIR, only files named from NAME on (the evaluation split, as "
        "`fotorobot train --eval-from`); default: the split the checkpoint recorded when DIR "
        "is its training folder, else every photo",
    )
    parser.add_argument("--n-targets", type=int, default=30, help="target faces (default 30)")
    parser.add_argument(
        "--rater",
        default=None,
        help="comma-separated from pixel, identity, mixed (default: identity,mixed for photo "
        "targets, pixel otherwise)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of targets and raters")
    parser.add_argument("--budget", type=int, default=80, help="faces shown per search (80)")
    parser.add_argument(
        "--answers", type=int, default=0, help="also run until this many answers (effort)"
    )
    parser.add_argument("--json", type=Path, default=None, help="write all figures as JSON")
    parser.add_argument(
        "--plot", type=Path, default=None, help="PNG prefix: PREFIX-RATER-faces.png, ...-answers"
    )
    parser.add_argument(
        "--model", default=None, help="checkpoint path or bundled model name (default: bundled)"
    )
    parser.add_argument(
        "--strategies",
        default=None,
        help="comma-separated specs NAME[+key=value...], NAME from: " + ", ".join(STRATEGIES),
    )
    parser.add_argument(
        "--ours", default=None, help="the strategy compared with the others (default: first ours)"
    )
    parser.add_argument("--relative", action="store_true", help="raters judge within the album")
    parser.add_argument(
        "--detect",
        action="store_true",
        help="also count the faces shown in which dlib's face detector finds a face "
        "(~10 ms a face)",
    )
    parser.add_argument("--noise", type=float, default=0.75, help="rating noise sd (points)")
    parser.add_argument("--no-ceiling", action="store_true", help="skip the subspace ceiling")
    parser.add_argument("--latency-reps", type=int, default=40, help="rounds timed per size")
    parser.add_argument(
        "--latency-sizes", default="20,60,120", help="observation counts timed (comma-separated)"
    )
    parser.add_argument("--no-quality", action="store_true", help="latency only")
    parser.add_argument("--no-latency", action="store_true", help="quality only")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")


def _fail(msg: str, code: int = 2) -> int:
    print(msg, file=sys.stderr)
    return code


def missing_extras(strategies: tuple[str, ...], plot: bool) -> list[str]:
    """Packages of the [bench] extra this run needs and this installation lacks."""
    cma = any(s.split("+")[0].startswith("cma") for s in strategies)
    needed = (["cma"] if cma else []) + (["matplotlib"] if plot else [])
    return [name for name in needed if importlib.util.find_spec(name) is None]


def run(args: argparse.Namespace) -> int:
    """Run the benchmark and print the tables."""
    from optimization.bench_report import build_report, format_report
    from optimization.benchmark import (
        PRESET_NAMES,
        STRATEGIES,
        BenchConfig,
        parse_spec,
        run_bench,
    )
    from optimization.raters import RATER_KINDS, RaterConfig

    if args.targets is not None and str(args.targets).isdigit():
        args.n_targets, args.targets = int(args.targets), None  # the old --targets N
    try:
        sizes = tuple(int(v) for v in args.latency_sizes.split(",") if v.strip())
    except ValueError:
        return _fail("--latency-sizes must be comma-separated integers")
    if any(n < 6 for n in sizes) or args.latency_reps < 1:
        return _fail("--latency-sizes must be >= 6 and --latency-reps >= 1")
    if args.n_targets < 1 or args.budget < 1 or args.answers < 0:
        return _fail("--n-targets and --budget must be positive, --answers >= 0")
    asked = tuple(s.strip() for s in (args.strategies or "").split(",") if s.strip())
    try:  # user-given specs are checked before the (slow) model loads
        for s in asked:
            if s not in PRESET_NAMES:
                parse_spec(s)
    except ValueError as exc:
        return _fail(str(exc))
    # (the default set includes cma)
    missing = missing_extras(asked or ("cma",), plot=args.plot is not None)
    if missing:
        needs = " and ".join(missing)
        return _fail(f"fotorobot bench search needs {needs}: pip install 'fotorobot[bench]'")
    import torch

    torch.set_num_threads(max(1, args.threads))
    from fotorobot.bench_setup import SearchSetup, TargetError, resolve_targets
    from model import FaceModel, resolve_model
    from model.checkpoint import CheckpointError

    path = resolve_model(args.model)
    if not Path(path).is_file():
        return _fail(f"no face model at {path}: train one (`fotorobot train`) or pass --model", 1)
    try:
        fm = FaceModel.load(path)
    except CheckpointError as exc:
        return _fail(f"cannot use the face model: {exc}", 1)
    try:
        targets = resolve_targets(args.targets, fm, path, args.n_targets, args.seed, args.eval_from)
    except TargetError as exc:
        return _fail(f"--targets: {exc}")
    photos = targets.kind == "photos"
    raters = tuple(
        r.strip() for r in (args.rater or ("identity,mixed" if photos else "pixel")).split(",")
    )
    if bad := [r for r in raters if r not in RATER_KINDS]:
        return _fail(f"unknown rater(s) {', '.join(bad)}; known: {', '.join(RATER_KINDS)}")
    # A photo model is searched along its identity axes by the bot: so here too, whatever
    # the targets (its photos may not be on this machine).
    identity = photos or raters != ("pixel",) or fm.config.aligned
    setup = SearchSetup.for_model(fm, path, identity=identity)
    specs = tuple(
        s.strip()
        for s in (args.strategies or ",".join(setup.default_strategies)).split(",")
        if s.strip()
    )
    ours = args.ours or next(
        (s for s in specs if s == "ours" or s.split("+")[0] in ("ours", "pref", "ours-picks")),
        specs[-1],
    )
    if ours not in specs:
        return _fail(f"--ours {ours!r} is not among the strategies")
    for s in specs:
        if s in PRESET_NAMES and s not in STRATEGIES and s not in setup.context.presets:
            return _fail(f"{s!r} needs a model with identity assets (a photo-trained model)")
    checkpoints = tuple(b for b in (8, 20, 40, 80) if b <= args.budget) or (args.budget,)
    print(
        f"model {path} (version {fm.version}, latent {fm.latent_dim}); targets: "
        f"{targets.description}; search space: {setup.description}"
    )
    report: dict[str, Any] = {
        "model": str(path),
        "model_version": fm.version,
        "latent_dim": fm.latent_dim,
        "targets": targets.description,
        "n_targets": len(targets.images),
        "seed": args.seed,
        "space": setup.description,
        "rater": {"noise": args.noise, "relative": args.relative},
        "ours": ours,
    }
    if not args.no_quality:
        if not args.no_ceiling and setup.describe is not None:
            report["ceiling"] = setup.ceiling(targets.images)
            print(f"identity ceiling on these targets: {json.dumps(report['ceiling'])}")
        report["raters"] = {}
        detect = None
        if args.detect:
            from model.identity_bench import faces_detected

            detect = faces_detected
        for kind in raters:
            cfg = BenchConfig(
                budget=args.budget,
                answers=args.answers,
                checkpoints=checkpoints,
                seed=args.seed,
                strategies=specs,
                rater=RaterConfig(noise=args.noise, relative=args.relative, kind=kind),
            )
            print(f"\nrater: {kind}")
            t0 = time.perf_counter()
            traces = run_bench(
                fm.decode,
                setup.context,
                targets.images,
                cfg,
                setup.describe,
                progress=lambda m: print("  " + m, flush=True),
                detect=detect,
            )
            rep = build_report(traces, cfg, ours)
            rep["seconds"] = round(time.perf_counter() - t0, 1)
            report["raters"][kind] = rep
            print(format_report(rep))
            if args.plot:
                from optimization.bench_report import best_similarity, plot_curves, plot_identity

                args.plot.parent.mkdir(parents=True, exist_ok=True)
                title = f"{len(targets.images)} {targets.kind} targets, {kind} rater"
                if rep["identity"]:
                    for by in ("faces", "answers"):
                        out = args.plot.parent / f"{args.plot.name}-{kind}-{by}.png"
                        plot_identity(traces, str(out), title, by=by)
                        print(f"curves written to {out}")
                else:  # no descriptors (a synthetic model): the rater's similarity
                    out = args.plot.parent / f"{args.plot.name}-{kind}-faces.png"
                    sims = {k: best_similarity(t)[:, : args.budget] for k, t in traces.items()}
                    plot_curves(sims, str(out), title)
                    print(f"curves written to {out}")
    if not args.no_latency:
        report["latency"] = _latency(args, fm, setup, sizes)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=1))
        print(f"\nfigures written to {args.json}")
    return 0


def _latency(
    args: argparse.Namespace, fm: Any, setup: Any, sizes: tuple[int, ...]
) -> dict[str, Any]:
    """Per-round latency of both surrogates at the default search settings."""
    from dataclasses import replace

    from optimization.latency import percentiles, round_latency

    out: dict[str, Any] = {}
    for surrogate in ("numeric", "preference"):
        settings = replace(setup.settings, surrogate=surrogate)
        lat = round_latency(
            settings,
            sizes=sizes,
            reps=args.latency_reps,
            seed=args.seed,
            space=setup.space,
            decode=fm.decode,
        )
        print(
            f"\nper-round latency, {surrogate} surrogate, search dim {settings.dim}, album "
            f"{settings.album_size} ({args.latency_reps} rounds each):\n"
        )
        print("| observations | fit p50 | round p50 | round p99 | +decode p50 | +decode p99 |")
        print("|---|---|---|---|---|---|")
        rows = {}
        for n, res in lat.items():
            f, r, d = (
                percentiles(res["fit"]),
                percentiles(res["round"]),
                percentiles(res["round+decode"]),
            )
            rows[n] = {"fit": f, "round": r, "round+decode": d}
            print(
                f"| {n} | {f['p50_ms']:.0f} ms | {r['p50_ms']:.0f} ms | {r['p99_ms']:.0f} ms "
                f"| {d['p50_ms']:.0f} ms | {d['p99_ms']:.0f} ms |"
            )
        out[surrogate] = rows
    return out
