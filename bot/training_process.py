"""The training process the bot starts, follows and stops, kept apart from the bot's own CPUs.

`fotorobot train` (or `fotorobot tune`) runs as a separate process in its own process group,
at the lowest CPU priority (nice 19) and with one thread (--threads 1 and OMP/MKL/OpenBLAS
capped), so the rounds of people using the bot keep their latency. It writes JSON-lines
progress (model.progress) that the bot polls, and its log to a file; it never sees the bot's
token. Nothing here imports Telegram or storage.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.train_options import TrainOptions

NICE = 19  # the lowest priority: training only gets CPU the bot leaves idle
THREAD_CAPS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
SECRET_VARIABLES = ("TELEGRAM_BOT_TOKEN",)
TUNE_TRIAL_EPOCHS = 2
# The model bench at a run's end: fewer repetitions than the default, same figures.
BENCH_FLAGS = ("--faces", "100", "--train-steps", "2", "--decode-calls", "50", "--heldout", "500")


@dataclass(frozen=True)
class RunFiles:
    """Where one run keeps its files (all under its own folder)."""

    workdir: Path

    @property
    def out(self) -> Path:
        return self.workdir / "model.pt"

    @property
    def progress(self) -> Path:
        return self.workdir / "progress.jsonl"

    @property
    def log(self) -> Path:
        return self.workdir / "train.log"

    @property
    def bench(self) -> Path:
        return self.workdir / "bench.json"

    @property
    def tune(self) -> Path:
        return self.workdir / "tune"

    def epoch_checkpoints(self) -> list[tuple[int, Path]]:
        """(epoch, file) of every kept epoch checkpoint, in epoch order."""
        found = []
        for path in self.workdir.glob("model.epoch*.pt"):
            number = path.name[len("model.epoch") : -len(".pt")]
            if number.isdigit():
                found.append((int(number), path))
        return sorted(found)


def python_command() -> list[str]:
    """`python -m fotorobot`, under nice when the system has it."""
    nice = shutil.which("nice")
    prefix = [nice, "-n", str(NICE)] if nice else []
    return [*prefix, sys.executable, "-m", "fotorobot"]


def train_command(data: str, options: TrainOptions, files: RunFiles, *, resume: bool) -> list[str]:
    """The command line of a run (`fotorobot tune` when options.tune is set)."""
    cmd = python_command()
    cmd += ["tune"] if options.tune else ["train"]
    cmd += ["--data", data, "--out", str(files.out), "--epochs", str(options.epochs)]
    if options.latent_dim is not None and not options.tune:
        cmd += ["--latent-dim", str(options.latent_dim)]  # tuning chooses the latent size
    if options.image_size is not None:
        cmd += ["--image-size", str(options.image_size)]
    if options.recon is not None:
        cmd += ["--recon", options.recon]
    if not options.align:
        cmd += ["--no-align"]
    if options.tune:
        cmd += ["--trials", str(options.tune), "--random", str(min(10, options.tune))]
        cmd += ["--trial-epochs", str(TUNE_TRIAL_EPOCHS), "--workdir", str(files.tune)]
    cmd += ["--threads", "1", "--workers", "1", "--no-progress"]
    cmd += ["--progress-json", str(files.progress), "--keep-epochs"]
    if resume:
        cmd += ["--resume"]
    return cmd


def bench_command(
    checkpoint: Path, files: RunFiles, flags: tuple[str, ...] = BENCH_FLAGS
) -> list[str]:
    """`fotorobot bench model` of a finished run's checkpoint (figures to bench.json)."""
    return [
        *python_command(),
        "bench",
        "model",
        "--model",
        str(checkpoint),
        "--json",
        str(files.bench),
        "--threads",
        "1",
        *flags,
    ]


def search_assets_command(checkpoint: Path) -> list[str]:
    """`fotorobot search-assets` of a finished run's checkpoint: its identity axes and opening
    faces beside it (CHECKPOINT.search.npz), so the bot never computes them while serving."""
    return [*python_command(), "search-assets", str(checkpoint), "--threads", "1"]


def child_environment(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The process environment: no token, one thread for every math library."""
    env = {k: v for k, v in (os.environ if base is None else base).items()}
    for name in SECRET_VARIABLES:
        env.pop(name, None)
    for name in THREAD_CAPS:
        env[name] = "1"
    env["PYTHONUNBUFFERED"] = "1"
    return env


def process_alive(pid: int, marker: str) -> bool:
    """Whether pid is a live process whose command line names `marker` (the run's folder), so
    a reused pid of some other program is never mistaken for our run."""
    try:
        cmdline = Path(f"/proc/{int(pid)}/cmdline").read_bytes()
        stat = Path(f"/proc/{int(pid)}/stat").read_text(errors="replace")
    except OSError:
        return False
    state = stat.rsplit(")", 1)[-1].split()
    if state and state[0] == "Z":  # a zombie has exited
        return False
    return marker.encode() in cmdline


def stop_group(pid: int, marker: str, grace_s: float = 10.0) -> bool:
    """SIGTERM the run's process group, SIGKILL what is left after `grace_s`; True if it was
    running. (A process we did not start is waited for by polling.)"""
    if not process_alive(pid, marker):
        return False
    _signal_group(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline:
        if not process_alive(pid, marker):
            return True
        time.sleep(0.1)
    _signal_group(pid, signal.SIGKILL)
    return True


def _signal_group(pid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pid, sig)  # the child leads its own group (start_new_session)
    except ProcessLookupError:
        pass
    except PermissionError:  # not a group leader we own: the process alone
        os.kill(pid, sig)


class ProgressReader:
    """New complete lines of a JSON-lines progress file since the last read."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0

    def read(self) -> list[dict[str, Any]]:
        """Events appended since the last call (a half-written last line waits)."""
        try:
            with self.path.open("rb") as f:
                f.seek(self.offset)
                data = f.read()
        except FileNotFoundError:
            return []
        end = data.rfind(b"\n") + 1
        self.offset += end
        events = []
        for line in data[:end].splitlines():
            try:
                event = json.loads(line)
            except ValueError:
                continue  # never trust a line: a torn write must not stop the run
            if isinstance(event, dict):
                events.append(event)
        return events


def log_tail(path: Path, lines: int = 5, max_bytes: int = 8192) -> str:
    """The last lines of a log file (progress bars' carriage returns split lines too)."""
    try:
        with path.open("rb") as f:
            f.seek(max(0, path.stat().st_size - max_bytes))
            text = f.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
    parts = [p.strip() for p in text.replace("\r", "\n").splitlines() if p.strip()]
    return "\n".join(parts[-lines:])


def bench_summary(report: dict[str, Any]) -> dict[str, float]:
    """The figures a chat shows, from `fotorobot bench model --json`: PSNR, SSIM, KL, active
    dimensions, decode latency, and for photo models the identity figures."""
    out: dict[str, float] = {}
    quality = report.get("quality") or {}
    for key in ("psnr_db", "ssim", "kl", "active_dims"):
        if isinstance(quality.get(key), int | float):
            out[key] = float(quality[key])
    decode = (report.get("album_latency_1_thread") or report.get("album_latency") or {}).get(
        "decode"
    ) or {}
    if isinstance(decode.get("p50_ms"), int | float):
        out["decode_p50_ms"] = float(decode["p50_ms"])
    identity = quality.get("identity") or {}
    for variant, figures in identity.items():
        if isinstance(figures, dict):
            for key, value in figures.items():
                if isinstance(value, int | float):
                    out[f"{variant}_{key}"] = float(value)
    prior = quality.get("prior_detected") or {}
    for key, value in prior.items():
        if isinstance(value, int | float):
            out[f"prior_detected_{key}"] = float(value)
    return out


@dataclass(frozen=True)
class Checkpoint:
    """A kept epoch checkpoint as the registry records it, and a look at its prior."""

    version: str
    config: dict[str, Any]
    grid: bytes  # PNG: 16 prior samples (the same z every epoch, so epochs compare)


GRID_SAMPLES = 16


def read_checkpoint(path: Path) -> Checkpoint:
    """Load a checkpoint (CPU: run in the executor): its version, config and a prior grid."""
    import numpy as np

    from bot.render import history_grid
    from model import FaceModel

    model = FaceModel.load(path)
    z = np.random.default_rng(0).standard_normal((GRID_SAMPLES, model.latent_dim))
    faces = model.decode(z.astype(np.float32))
    grid = history_grid(faces, [f"#{i + 1}" for i in range(GRID_SAMPLES)], columns=8, cell=96)
    return Checkpoint(model.version, model.config.to_dict(), grid)
