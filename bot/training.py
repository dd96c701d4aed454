"""Background training runs: one at a time, started, followed, measured, stopped, recovered.

The `Trainer` starts `fotorobot train` (or `tune`) as a low-priority process of its own
(bot.training_process), polls the JSON-lines progress it writes, registers every epoch's
checkpoint as a model version (storage: in the same transaction that advances the run), runs
the model bench when the run ends, and tells a `TrainingReporter` (the Telegram side) what
happened. A restart finds the run it was following (its process stopped), registers any
epoch that finished unrecorded, marks the run interrupted and offers to resume it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

import storage
from bot.datasets import mask_paths
from bot.train_options import TrainOptions
from bot.training_process import (
    BENCH_FLAGS,
    Checkpoint,
    ProgressReader,
    RunFiles,
    bench_command,
    bench_summary,
    child_environment,
    log_tail,
    read_checkpoint,
    search_assets_command,
    stop_group,
    train_command,
)

if TYPE_CHECKING:
    import aiosqlite

    from fotorobot.settings import Settings

log = logging.getLogger(__name__)

POLL_S = 1.0  # how often the progress file is read
STORE_PROGRESS_EVERY_S = 15.0  # the run's progress column: a few writes a minute at most

# preparing: loading/aligning the data; training: epochs; tuning: short trial runs;
# measuring: the model bench after the last epoch.
Phase = Literal["preparing", "training", "tuning", "measuring"]
# How a run ended as the admin sees it (interrupted runs are reported by `interrupted`).
Outcome = Literal["done", "failed", "cancelled"]


@dataclass(frozen=True)
class Progress:
    """Where a live run is: what the progress message and /train_status show."""

    phase: Phase
    epoch: int = 0  # the epoch in progress, 1-based
    epochs: int = 0
    step: int = 0
    steps: int = 0
    loss: float | None = None
    images_per_s: float | None = None
    eta_s: float | None = None  # of the whole run, at the current pace
    trial: int = 0
    trials: int = 0
    best_loss: float | None = None


class TrainingReporter(Protocol):
    """What the Telegram side does with a run's news (bot.handlers.admin_reports)."""

    async def open_progress(self, run: storage.TrainingRun) -> int | None:
        """Post the progress message; its id (None when it could not be sent)."""

    async def progress(self, run: storage.TrainingRun, progress: Progress) -> None:
        """The run moved (the reporter decides how often the message is edited)."""

    async def epoch(
        self, run: storage.TrainingRun, epoch: int, metrics: dict[str, Any], grid: bytes
    ) -> None:
        """An epoch ended: its held-out figures and a grid of prior samples."""

    async def tuned(self, run: storage.TrainingRun, table: str, plot: bytes) -> None:
        """Tuning ended: the table and the plot of the trials."""

    async def finished(
        self,
        run: storage.TrainingRun,
        outcome: Outcome,
        version: storage.ModelVersion | None,
        reason: str,
    ) -> None:
        """The run ended; version is its last checkpoint (with the bench's figures)."""

    async def interrupted(self, run: storage.TrainingRun) -> None:
        """The bot restarted under this run: offer to resume it."""


class Trainer:
    """Supervises the one live training run."""

    def __init__(
        self,
        conn: aiosqlite.Connection,
        settings: Settings,
        run_cpu: Callable[..., Awaitable[Any]],
        reporter: TrainingReporter,
    ) -> None:
        self.conn = conn
        self.settings = settings
        self.run_cpu = run_cpu
        self.reporter = reporter
        self.run: storage.TrainingRun | None = None
        self.progress: Progress | None = None
        self._proc: asyncio.subprocess.Process | None = None
        self._task: asyncio.Task[None] | None = None
        self._cancelling = False
        self._closing = False
        self._stored_at = 0.0
        self.bench_flags = BENCH_FLAGS  # how thoroughly a finished run is measured

    def chat_migrated(self, old_chat_id: int, new_chat_id: int) -> None:
        """The live run's chat became a supergroup (storage moved its row): report there from
        now on; the progress message stays in the old group, where it can no longer be edited."""
        if self.run is not None and self.run.chat_id == old_chat_id:
            self.run = replace(self.run, chat_id=new_chat_id, message_id=None)

    def workdir(self, run_id: int) -> str:
        """A run's own folder under DATA_DIR/training."""
        return str((self.settings.data_dir / "training" / f"run-{run_id}").resolve())

    # --- starting ----------------------------------------------------------------------

    async def launch(self, run: storage.TrainingRun, *, resume: bool) -> storage.TrainingRun:
        """Start the run's process (queued -> running) and follow it in the background."""
        assert run.workdir is not None
        files = RunFiles(Path(run.workdir))
        files.workdir.mkdir(parents=True, exist_ok=True)
        reader = ProgressReader(files.progress)
        if resume:
            reader.read()  # what an earlier process wrote is history, not news
        options = TrainOptions.from_dict(run.config.get("options", {}))
        self.run, self._cancelling = run, False
        self.progress = Progress("preparing", epoch=run.epoch, epochs=options.epochs)
        message_id = await self.reporter.open_progress(run)
        if message_id is not None:
            await storage.set_training_message(self.conn, run.id, run.chat_id, message_id)
            run = replace(run, message_id=message_id)
        cmd = train_command(str(run.config["data"]), options, files, resume=resume)
        try:
            proc = await self._spawn(cmd, files)
        except OSError as exc:
            log.error("training run %s did not start: %s", run.id, exc)
            await self._end(run, "failed", "the training process did not start")
            return run
        self.run = run = await storage.mark_training_started(self.conn, run.id, proc.pid)
        log.info("training run %s started (pid %s)", run.id, proc.pid)
        self._task = asyncio.create_task(self._follow(proc, files, reader))
        return run

    async def _spawn(self, cmd: list[str], files: RunFiles) -> asyncio.subprocess.Process:
        with files.log.open("ab") as out:
            proc = await asyncio.create_subprocess_exec(
                *cmd,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=out,
                stderr=asyncio.subprocess.STDOUT,
                env=child_environment(),
                cwd=files.workdir,
                start_new_session=True,  # its own process group: cancel ends all of it
            )
        self._proc = proc
        return proc

    # --- following ---------------------------------------------------------------------

    async def _follow(
        self, proc: asyncio.subprocess.Process, files: RunFiles, reader: ProgressReader
    ) -> None:
        try:
            while True:
                for event in reader.read():
                    await self._on_event(event)
                try:
                    code = await asyncio.wait_for(asyncio.shield(proc.wait()), POLL_S)
                    break
                except TimeoutError:
                    continue
            for event in reader.read():
                await self._on_event(event)
            await self._ended(code, files)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("following training run %s failed", self.run.id if self.run else "?")
            if self.run is not None and not self._closing:
                await self._end(self.run, "failed", "the bot lost track of the run")

    async def _on_event(self, event: dict[str, Any]) -> None:
        run = self.run
        if run is None:
            return
        kind = event.get("event")
        if kind == "step":
            self.progress = Progress(
                "training",
                epoch=int(event.get("epoch", 0)),
                epochs=int(event.get("epochs", 0)),
                step=int(event.get("step", 0)),
                steps=int(event.get("steps", 0)),
                loss=_number(event.get("loss")),
                images_per_s=_number(event.get("images_per_s")),
                eta_s=_number(event.get("eta_s")),
            )
            await self._store_progress(run, self.progress)
            await self.reporter.progress(run, self.progress)
        elif kind == "trial":
            self.progress = Progress(
                "tuning",
                trial=int(event.get("trial", 0)),
                trials=int(event.get("trials", 0)),
                loss=_number(event.get("loss")),
                best_loss=_number(event.get("best_loss")),
            )
            await self.reporter.progress(run, self.progress)
        elif kind == "tuned":
            try:
                table = Path(str(event.get("table", ""))).read_text(encoding="utf-8")
                plot = Path(str(event.get("plot", ""))).read_bytes()
            except OSError as exc:  # the run goes on; only its report is missing
                log.warning("run %s: tuning report unreadable: %s", run.id, exc)
                return
            await self.reporter.tuned(run, table, plot)
        elif kind == "epoch":
            await self._register_epoch(
                run, int(event["epoch"]), Path(str(event["checkpoint"])), event.get("metrics")
            )

    async def _register_epoch(
        self, run: storage.TrainingRun, epoch: int, path: Path, metrics: Any, report: bool = True
    ) -> None:
        ckpt: Checkpoint = await self.run_cpu(read_checkpoint, path)
        figures = metrics if isinstance(metrics, dict) else ckpt.config.get("metrics", {})
        await storage.record_training_epoch(
            self.conn,
            run.id,
            epoch,
            ckpt.version,
            str(path),
            ckpt.config,
            dict(figures),
            run.config.get("label"),
        )
        fresh = await storage.get_training_run(self.conn, run.id)
        if fresh is not None and self.run is not None and self.run.id == run.id:
            self.run = fresh
        if report:
            await self.reporter.epoch(fresh or run, epoch, dict(figures), ckpt.grid)

    async def _store_progress(self, run: storage.TrainingRun, p: Progress) -> None:
        if time.monotonic() - self._stored_at < STORE_PROGRESS_EVERY_S or not p.epochs:
            return
        self._stored_at = time.monotonic()
        done = ((p.epoch - 1) + p.step / max(1, p.steps)) / p.epochs
        await storage.record_training_progress(self.conn, run.id, min(1.0, max(0.0, done)))

    async def _ended(self, code: int, files: RunFiles) -> None:
        run = self.run
        if run is None or self._closing:
            return  # the bot is stopping: the next start marks the run interrupted
        fresh = await storage.get_training_run(self.conn, run.id)
        if self._cancelling:
            await self._end(run, "cancelled", "")
        elif code == 0 and (fresh is None or fresh.model_version is None):
            await self._end(run, "failed", "no checkpoint was written")
        elif code == 0:
            await self._measure(run, files)
            await self._search_assets(run, files)
            await self._end(run, "cancelled" if self._cancelling else "done", "")
        else:
            reason = mask_paths(log_tail(files.log, lines=3), self.settings.datasets_root)
            await self._end(run, "failed", reason or f"exit code {code}")

    async def _measure(self, run: storage.TrainingRun, files: RunFiles) -> None:
        """The model bench of the run's last checkpoint; its figures join the version's."""
        fresh = await storage.get_training_run(self.conn, run.id)
        version = fresh.model_version if fresh is not None else None
        found = None if version is None else await storage.get_model_version(self.conn, version)
        if found is None:
            return
        self.progress = Progress("measuring", epoch=run.epoch, epochs=run.epochs or 0)
        await self.reporter.progress(run, self.progress)
        files.bench.unlink(missing_ok=True)
        command = bench_command(Path(found.path), files, self.bench_flags)
        proc = await self._spawn(command, files)
        if await proc.wait() != 0 or not files.bench.exists():
            log.warning("the model bench of run %s failed; see %s", run.id, files.log)
            return
        figures = bench_summary(json.loads(files.bench.read_text()))
        await storage.set_model_metrics(self.conn, found.version, {**found.metrics, **figures})

    async def _search_assets(self, run: storage.TrainingRun, files: RunFiles) -> None:
        """A model of aligned photos gets its search sidecar (identity axes and openers,
        ~1 min) here, in a low-priority process of the run, before it can be activated;
        without one (a failure, a synthetic model) the bot searches its principal axes."""
        fresh = await storage.get_training_run(self.conn, run.id)
        version = fresh.model_version if fresh is not None else None
        found = None if version is None else await storage.get_model_version(self.conn, version)
        if found is None or not found.config.get("aligned"):
            return
        proc = await self._spawn(search_assets_command(Path(found.path)), files)
        if await proc.wait() != 0:
            log.warning("the search assets of run %s failed; see %s", run.id, files.log)

    async def _end(self, run: storage.TrainingRun, outcome: Outcome, reason: str) -> None:
        ended = await storage.finish_training_run(self.conn, run.id, outcome, log_tail=reason)
        self.run, self._proc, self.progress = None, None, None
        version = None
        if ended.model_version is not None:
            version = await storage.get_model_version(self.conn, ended.model_version)
        log.info("training run %s ended: %s", run.id, outcome)
        await self.reporter.finished(ended, outcome, version, reason)

    # --- stopping and recovering -----------------------------------------------------

    async def cancel(self) -> storage.TrainingRun | None:
        """End the live run's process group (the last finished epoch stays registered); the
        run as it was, or None when nothing runs. Returns once the end is reported."""
        run, proc, task = self.run, self._proc, self._task
        if run is None or proc is None or task is None or task.done():
            return None
        self._cancelling = True
        await asyncio.to_thread(stop_group, proc.pid, str(run.workdir))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(task), 60.0)
        return run

    async def close(self) -> None:
        """The bot stops: stop the process too (an unsupervised run could be neither followed
        nor cancelled); the run stays 'running' in storage and the next start resumes the
        story (recover)."""
        self._closing = True
        run, proc, task = self.run, self._proc, self._task
        if run is not None and proc is not None:
            await asyncio.to_thread(stop_group, proc.pid, str(run.workdir))
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def recover(self) -> list[storage.TrainingRun]:
        """At start: runs left queued/running by an earlier process are stopped (if their
        process is still alive), their finished epochs registered, and marked interrupted."""
        found = []
        for run in await storage.runs_in_states(self.conn, ("queued", "running")):
            if run.pid is not None and run.workdir:
                await asyncio.to_thread(stop_group, run.pid, run.workdir)
            if run.workdir:
                await self._register_leftovers(run, RunFiles(Path(run.workdir)))
            ended = await storage.finish_training_run(self.conn, run.id, "interrupted")
            log.info("training run %s was interrupted by a restart", run.id)
            found.append(ended)
            await self.reporter.interrupted(ended)
        return found

    async def _register_leftovers(self, run: storage.TrainingRun, files: RunFiles) -> None:
        for stray in files.workdir.glob("*.tmp"):  # an atomic write cut short: never a model
            stray.unlink(missing_ok=True)
        for epoch, path in files.epoch_checkpoints():
            if epoch > run.epoch:
                try:
                    await self._register_epoch(run, epoch, path, None, report=False)
                except (OSError, ValueError) as exc:
                    log.warning("run %s: epoch %s checkpoint unreadable: %s", run.id, epoch, exc)


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) else None
