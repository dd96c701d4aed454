"""`fotorobot tune`: Bayesian optimisation of the face VAE's training hyperparameters.

As in the seed study that tuned a VAE's hidden and latent sizes: short training runs scored on
held-out faces, `--random` random points first (10 by default), then one Expected Improvement
step at a time from the project's own GP (optimization.propose over the unit cube), a table and
a plot of the trials, and the best configuration trained in full.

Four hyperparameters, each one axis of the unit cube, on a log scale: latent size (8-64),
decoder width (x0.5-x2 the decoder's channels), KL weight beta (0.1-4) and learning rate
(3e-4-1e-2). A trial's score is its held-out negative ELBO at beta = 1 (reconstruction + KL,
per face; lower is better), whatever beta it trained with: scored by its own loss, a trial could
"win" by shrinking the KL weight and give a model whose prior samples are not faces.

This module joins the model (training) and optimization (GP + EI); optimization itself never
sees torch. `--resume` picks up the trials already done (kept in --json) and the full run.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np

# (name, low, high) of each axis, log-uniform between low and high.
AXES: tuple[tuple[str, float, float], ...] = (
    ("latent_dim", 8.0, 64.0),
    ("dec_width", 0.5, 2.0),
    ("beta", 0.1, 4.0),
    ("lr", 3e-4, 1e-2),
)
TrialSource = Literal["random", "ei"]


@dataclass(frozen=True)
class Hyper:
    """One point of the search: what a trial trains with."""

    latent_dim: int
    dec_width: float  # multiplies the base decoder channels
    beta: float
    lr: float


def decode_point(u: np.ndarray) -> Hyper:
    """A unit-cube point (4,) as hyperparameters (log scale along every axis)."""
    values = [
        math.exp(math.log(lo) + float(np.clip(x, 0.0, 1.0)) * (math.log(hi) - math.log(lo)))
        for x, (_name, lo, hi) in zip(u, AXES, strict=True)
    ]
    return Hyper(
        latent_dim=round(values[0]),
        dec_width=round(values[1], 3),
        beta=round(values[2], 4),
        lr=float(f"{values[3]:.3g}"),
    )


def scaled_channels(base: tuple[int, ...], width: float) -> tuple[int, ...]:
    """Decoder channels times `width`, in multiples of 8 (at least 8)."""
    return tuple(max(8, round(c * width / 8) * 8) for c in base)


@dataclass
class Trial:
    """One short training run and its held-out figures."""

    index: int  # 1-based
    source: TrialSource
    point: list[float]
    hyper: Hyper
    loss: float  # held-out recon + KL (beta = 1), per face: the score (lower is better)
    recon: float
    kl: float
    psnr: float
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        """Plain data for --json."""
        return {**asdict(self), "hyper": asdict(self.hyper)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Trial:
        """Inverse of to_dict (for --resume)."""
        return cls(**{**d, "hyper": Hyper(**d["hyper"])})


@dataclass(frozen=True)
class TuneResult:
    """Every trial, the best one, and the checkpoint trained in full with it."""

    trials: list[Trial]
    best: Trial
    out: str
    metrics: dict[str, float]


def best_trial(trials: list[Trial]) -> Trial:
    """The trial with the lowest held-out loss (the first of equals)."""
    return min(trials, key=lambda t: (t.loss, t.index))


def next_point(
    trials: list[Trial], n_random: int, rng: np.random.Generator, seed: int
) -> tuple[np.ndarray, TrialSource]:
    """The next point to try: uniform random for the first n_random, then EI on the GP."""
    if len(trials) < n_random:
        return rng.random(len(AXES)), "random"
    from optimization import SearchSettings, new_search, observe, propose

    # The hyperparameter box is a plain box: no prior ball (typical_quantile=1), one point per
    # step, no spacing rule; the score is maximised, so it is the negative loss.
    settings = SearchSettings(
        dim=len(AXES), album_size=1, seed=seed, typical_quantile=1.0, min_distance=0.0
    )
    points = np.array([t.point for t in trials])
    scores = -np.array([t.loss for t in trials])
    search = observe(new_search(settings), points, scores, np.ones(len(trials)))
    proposal = propose(search, 1)
    source: TrialSource = "ei" if proposal.sources[0] == "ei" else "random"
    return np.asarray(proposal.points[0], dtype=np.float64), source


def configs_for(hyper: Hyper, base_tc: Any, base_vc: Any, out: str, epochs: int) -> tuple[Any, Any]:
    """(TrainConfig, VAEConfig) of a run with these hyperparameters."""
    vc = replace(
        base_vc,
        latent_dim=hyper.latent_dim,
        beta=hyper.beta,
        dec_channels=scaled_channels(tuple(base_vc.dec_channels), hyper.dec_width),
        metrics={},
    )
    return replace(base_tc, out=out, epochs=epochs, lr=hyper.lr), vc


def run_trial(
    index: int, point: np.ndarray, source: TrialSource, base_tc: Any, base_vc: Any, folder: Path
) -> Trial:
    """Train one short run, score it on the held-out faces, delete its checkpoint."""
    from model.train import state_path, train

    hyper = decode_point(point)
    out = folder / f"trial{index}.pt"
    tc, vc = configs_for(hyper, base_tc, base_vc, str(out), base_tc.epochs)
    t0 = time.perf_counter()
    try:
        m = train(tc, vc, progress=False)["metrics"]
        loss = float(m["recon"] + m["kl"])
        recon, kl, psnr = float(m["recon"]), float(m["kl"]), float(m["psnr"])
    except FloatingPointError:  # this learning rate diverged: the worst score, not a crash
        loss, recon, kl, psnr = math.inf, math.inf, math.inf, 0.0
    finally:
        out.unlink(missing_ok=True)
        state_path(out).unlink(missing_ok=True)
    return Trial(
        index,
        source,
        [float(x) for x in point],
        hyper,
        loss,
        recon,
        kl,
        psnr,
        time.perf_counter() - t0,
    )


def tune(
    base_tc: Any,
    base_vc: Any,
    *,
    trials: int,
    n_random: int,
    trial_epochs: int,
    workdir: Path,
    on_progress: Any = None,
    resume: bool = False,
    progress: bool = False,
) -> TuneResult:
    """Search, then train the best configuration for base_tc.epochs into base_tc.out."""
    from fotorobot.tune_report import trials_plot, trials_table
    from model.train import train

    workdir.mkdir(parents=True, exist_ok=True)
    record = workdir / "trials.json"
    done: list[Trial] = []
    if resume and record.exists():
        done = [Trial.from_dict(d) for d in json.loads(record.read_text())["trials"]]
    rng = np.random.default_rng(base_tc.seed)
    for _ in range(min(len(done), n_random)):
        rng.random(len(AXES))  # the random points already tried, so the sequence goes on
    short_tc = replace(base_tc, epochs=trial_epochs)
    while len(done) < trials:
        point, source = next_point(done, n_random, rng, base_tc.seed)
        trial = run_trial(len(done) + 1, point, source, short_tc, base_vc, workdir)
        done.append(trial)
        record.write_text(json.dumps({"trials": [t.to_dict() for t in done]}, indent=1))
        best = best_trial(done)
        _say(f"trial {trial.index}/{trials} ({source}): {_describe(trial)}; best #{best.index}")
        if on_progress is not None:
            on_progress(
                {
                    "event": "trial",
                    "trial": trial.index,
                    "trials": trials,
                    "source": source,
                    "loss": trial.loss,
                    "best_trial": best.index,
                    "best_loss": best.loss,
                    "hyper": asdict(trial.hyper),
                }
            )
    best = best_trial(done)
    table, plot = workdir / "trials.md", workdir / "trials.png"
    table.write_text(trials_table(done, best))
    trials_plot(done, best).save(plot)
    _say(f"best: trial #{best.index}: {_describe(best)}; training it for {base_tc.epochs} epochs")
    if on_progress is not None:
        on_progress(
            {
                "event": "tuned",
                "best_trial": best.index,
                "hyper": asdict(best.hyper),
                "table": str(table),
                "plot": str(plot),
            }
        )
    tc, vc = configs_for(best.hyper, base_tc, base_vc, base_tc.out, base_tc.epochs)
    result = train(tc, vc, resume=resume, progress=progress, on_progress=on_progress)
    return TuneResult(done, best, str(tc.out), dict(result["metrics"]))


def _describe(t: Trial) -> str:
    h = t.hyper
    return (
        f"latent {h.latent_dim}, decoder x{h.dec_width:g}, beta {h.beta:g}, lr {h.lr:g} -> "
        f"held-out loss {t.loss:.1f} (PSNR {t.psnr:.2f} dB) in {t.seconds:.0f} s"
    )


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of `fotorobot tune` (the data and recipe flags are `fotorobot train`'s)."""
    from model import cli_train

    cli_train.add_arguments(parser)
    parser.add_argument(
        "--trials", type=int, default=20, help="short runs in all (default %(default)s)"
    )
    parser.add_argument(
        "--random",
        type=int,
        default=10,
        help="random points before Expected Improvement (default %(default)s)",
    )
    parser.add_argument(
        "--trial-epochs", type=int, default=2, help="epochs of each short run (default %(default)s)"
    )
    parser.add_argument(
        "--workdir",
        default=None,
        help="trials, table (trials.md) and plot (trials.png) go here (default: beside --out)",
    )


def run(args: argparse.Namespace) -> int:
    """Tune, then train the best configuration; returns a process exit code."""
    from model import cli_train

    if args.trials < 1 or args.random < 0 or args.trial_epochs < 1:
        print("fotorobot tune: --trials, --trial-epochs >= 1 and --random >= 0", file=sys.stderr)
        return 2
    built = cli_train.configs_from_args(args)
    if isinstance(built, str):
        print(f"fotorobot tune: {built}", file=sys.stderr)
        return 2
    tc, vc = built
    import torch

    from model.data import DataError
    from model.progress import ProgressWriter

    torch.set_num_threads(args.threads or max(1, os.cpu_count() or 1))
    writer = None
    if args.progress_json:
        writer = ProgressWriter(args.progress_json, keep_epochs=args.keep_epochs)
    workdir = Path(args.workdir) if args.workdir else Path(args.out).with_suffix(".tune")
    try:
        result = tune(
            tc,
            vc,
            trials=args.trials,
            n_random=args.random,
            trial_epochs=args.trial_epochs,
            workdir=workdir,
            on_progress=writer,
            resume=args.resume,
            progress=not args.no_progress,
        )
    except DataError as err:
        print(f"fotorobot tune: {err}", file=sys.stderr)
        return 2
    if writer is not None:
        writer.write({"event": "done", "metrics": result.metrics})
    print((workdir / "trials.md").read_text())
    print(f"best trial #{result.best.index}; trained in full: {result.out}", file=sys.stderr)
    return 0
