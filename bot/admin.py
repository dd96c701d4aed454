"""The admin service: owners (FOTOROBOT_ADMINS) train, choose and roll back face models.

Handlers (bot.handlers.admin) call it with a `Caller`; every call checks the caller first (a
command menu is not authorisation; someone posting as the group is never an owner) and writes
one audit entry, refused calls included: who, where, the command, its outcome. Nothing here
imports Telegram. Audit details never hold a path outside the datasets root, nor the token.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import storage
from bot.admin_outcomes import (
    ArchiveOutcome,
    AuditOutcome,
    Caller,
    CancelOutcome,
    DiscardOutcome,
    ModelRow,
    ModelsOutcome,
    ResumeOutcome,
    StatusOutcome,
    TrainOutcome,
    UseOutcome,
)
from bot.archives import ArchiveError, ArchiveLimits, dataset_folder_name, unpack_archive
from bot.datasets import SourceError, label_of, resolve_source
from bot.train_options import OptionError, TrainOptions, parse_options
from bot.training import Progress, Trainer, TrainingReporter

if TYPE_CHECKING:
    from bot.engine import Engine

log = logging.getLogger(__name__)

CLOUD_DOWNLOAD_LIMIT = 20 * 1024**2  # what the cloud Bot API lets a bot download
LOCAL_DOWNLOAD_LIMIT = 2000 * 1024**2  # a self-hosted Bot API server (--local)
AUDIT_SHOWN = 20
STOPPED_STATES = ("interrupted", "cancelled", "failed")


class AdminService:
    """Owners' commands: training runs, model versions, the audit log."""

    def __init__(self, engine: Engine, reporter: TrainingReporter) -> None:
        self.engine = engine
        self.settings = engine.settings
        self.conn = engine.conn
        self.models = engine.models
        self.trainer = Trainer(self.conn, self.settings, engine.run_cpu, reporter)
        engine.migration_listeners.append(self.trainer.chat_migrated)
        self.reporter = reporter
        self.archive_limits = ArchiveLimits()
        # Owners whose command menu is not set yet (Telegram refuses a chat never talked to).
        self.menu_pending: set[int] = set(self.settings.admin_ids)

    @classmethod
    async def open(cls, engine: Engine, reporter: TrainingReporter) -> AdminService:
        """The service, after finding runs an earlier process left behind (bot.training)."""
        service = cls(engine, reporter)
        await service.trainer.recover()
        return service

    async def close(self) -> None:
        """Stop the training process, if any (the next start offers to resume it)."""
        await self.trainer.close()

    # --- who may ----------------------------------------------------------------------

    def is_owner(self, caller: Caller) -> bool:
        """An owner: a listed user id, speaking as themself."""
        return not caller.anonymous and self.settings.is_admin(caller.user_id)

    async def audit(self, caller: Caller, action: str, outcome: str, **details: Any) -> None:
        """One audit entry; the chat is recorded when it is known."""
        entry = {"outcome": outcome, **details}
        if caller.anonymous:
            entry["anonymous"] = True
        try:
            await storage.log_admin_action(
                self.conn, caller.user_id, action, chat_id=caller.chat_id, details=entry
            )
        except storage.NotFound:  # a chat never recorded: keep the entry without it
            await storage.log_admin_action(self.conn, caller.user_id, action, details=entry)

    async def _allowed(self, caller: Caller, action: str) -> bool:
        if self.is_owner(caller):
            return True
        await self.audit(caller, action, "refused")
        log.warning("refused /%s from user %s in chat %s", action, caller.user_id, caller.chat_id)
        return False

    # --- training ---------------------------------------------------------------------

    async def train(self, caller: Caller, args: list[str]) -> TrainOutcome:
        """/train SOURCE [options]: start a run (one at a time)."""
        if not await self._allowed(caller, "train"):
            return TrainOutcome("refused")
        if not args:
            await self.audit(caller, "train", "usage")
            return TrainOutcome("usage")
        options = parse_options(args[1:])
        if isinstance(options, OptionError):
            await self.audit(caller, "train", "bad_options", option=options.token[:40])
            return TrainOutcome("bad_options", option_error=options)
        try:
            source = await asyncio.to_thread(resolve_source, args[0], self.settings.datasets_root)
        except SourceError as err:
            # The typed path is not recorded: it may name something outside the root.
            await self.audit(caller, "train", "bad_source", problem=err.code)
            return TrainOutcome("bad_source", source_problem=err.code)
        config = {
            "data": source.spec,
            "label": source.label,
            "photos": source.photos,
            "options": options.to_dict(),
        }
        return await self._start(caller, config, options)

    async def _start(
        self, caller: Caller, config: dict[str, Any], options: TrainOptions
    ) -> TrainOutcome:
        try:
            run = await storage.create_training_run(
                self.conn,
                caller.user_id,
                caller.chat_id,
                config,
                options.epochs,
                workdir_for=self.trainer.workdir,
            )
        except storage.TrainingBusy:
            live = await storage.live_training_run(self.conn)
            await self.audit(caller, "train", "busy", run=live.id if live else None)
            return TrainOutcome("busy", run=live)
        await self.audit(
            caller, "train", "started", run=run.id, source=config["label"], **options.to_dict()
        )
        run = await self.trainer.launch(run, resume=False)
        return TrainOutcome("started", run=run)

    def download_limit(self) -> int:
        """Bytes a bot may download: 20 MB from Telegram's cloud Bot API; a self-hosted Bot
        API server (TELEGRAM_API_BASE_URL) serves files up to 2000 MB."""
        cloud = "api.telegram.org" in self.settings.api_base_url
        return CLOUD_DOWNLOAD_LIMIT if cloud else LOCAL_DOWNLOAD_LIMIT

    async def accept_archive(
        self, caller: Caller, file_name: str, size: int | None
    ) -> tuple[ArchiveOutcome, Path | None]:
        """Before downloading an archive: may this caller send it, and may the bot fetch it?
        ("accepted", the temporary file to download it to)."""
        if not await self._allowed(caller, "archive"):
            return ArchiveOutcome("refused"), None
        limit = self.download_limit()
        if size is not None and size > limit:
            await self.audit(caller, "archive", "too_big", bytes=size)
            return ArchiveOutcome("too_big", limit_mb=limit // 2**20), None
        incoming = self.settings.datasets_root / ".incoming"
        incoming.mkdir(parents=True, exist_ok=True)
        suffix = "".join(Path(file_name).suffixes[-2:])[:20]
        return ArchiveOutcome("accepted"), incoming / f"{time.time_ns()}{suffix}"

    async def unpack(
        self, caller: Caller, downloaded: Path, file_name: str, caption: str | None
    ) -> ArchiveOutcome:
        """Unpack a downloaded archive into a new dataset folder (the temporary file goes);
        a caption "/train [options]" trains on it at once."""
        stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
        root = self.settings.datasets_root
        name = dataset_folder_name(file_name, stamp)
        dest, n = root / "uploads" / name, 1
        while dest.exists():  # the same archive twice within a second
            n += 1
            dest = root / "uploads" / f"{name}-{n}"
        try:
            unpacked = await asyncio.to_thread(
                unpack_archive, downloaded, dest, self.archive_limits
            )
        except ArchiveError as err:
            await self.audit(caller, "archive", "bad_archive", problem=err.code)
            return ArchiveOutcome("bad_archive", problem=err.code)
        finally:
            downloaded.unlink(missing_ok=True)
        label = label_of(dest, root)
        await self.audit(caller, "archive", "unpacked", dataset=label, images=unpacked.images)
        train = None
        words = (caption or "").split()
        if words and words[0].split("@")[0].lower() == "/train":
            train = await self.train(caller, [label, *words[1:]])
        return ArchiveOutcome("unpacked", unpacked=unpacked, label=label, train=train)

    async def status(self, caller: Caller) -> StatusOutcome:
        """/train_status: the live run and where it is, else the latest run."""
        if not await self._allowed(caller, "train_status"):
            return StatusOutcome("refused")
        await self.audit(caller, "train_status", "shown")
        run = self.trainer.run
        if run is not None:
            progress = self.trainer.progress or Progress("preparing", epochs=run.epochs or 0)
            return StatusOutcome("running", run, progress)
        latest = await storage.list_training_runs(self.conn, limit=1)
        return StatusOutcome("idle", latest[0] if latest else None)

    async def cancel(self, caller: Caller) -> CancelOutcome:
        """/train_cancel: end the run's process group; its last epoch stays registered."""
        if not await self._allowed(caller, "train_cancel"):
            return CancelOutcome("refused")
        run = await self.trainer.cancel()
        await self.audit(
            caller, "train_cancel", "cancelled" if run else "nothing", run=run.id if run else None
        )
        return CancelOutcome("cancelled", run) if run else CancelOutcome("nothing")

    async def resume(self, caller: Caller, args: list[str]) -> ResumeOutcome:
        """/train_resume [RUN]: continue a stopped run from its last epoch (default: the
        latest stopped one)."""
        if not await self._allowed(caller, "train_resume"):
            return ResumeOutcome("refused")
        stopped = await storage.runs_in_states(self.conn, STOPPED_STATES)
        if args and args[0].lstrip("#").isdigit():
            wanted = int(args[0].lstrip("#"))
            stopped = [r for r in stopped if r.id == wanted]
        if not stopped:
            await self.audit(caller, "train_resume", "nothing")
            return ResumeOutcome("nothing")
        run = stopped[-1]
        try:
            run = await storage.requeue_training_run(self.conn, run.id)
        except storage.TrainingBusy:
            await self.audit(caller, "train_resume", "busy", run=run.id)
            return ResumeOutcome("busy", await storage.live_training_run(self.conn))
        await self.audit(caller, "train_resume", "resumed", run=run.id)
        # Report where it was resumed: a new progress message there.
        run = replace(run, chat_id=caller.chat_id, message_id=None)
        run = await self.trainer.launch(run, resume=True)
        return ResumeOutcome("resumed", run)

    async def discard(self, caller: Caller, run_id: int) -> DiscardOutcome:
        """Throw a stopped run's checkpoints away (not the active one, not those that open
        searches still decode with)."""
        if not await self._allowed(caller, "discard"):
            return DiscardOutcome("refused")
        run = await storage.get_training_run(self.conn, run_id)
        if run is None or run.state == "discarded":
            await self.audit(caller, "discard", "missing", run=run_id)
            return DiscardOutcome("missing", run_id)
        if run.live:
            await self.audit(caller, "discard", "live", run=run_id)
            return DiscardOutcome("live", run_id)
        in_use = {v for v, n in (await storage.open_sessions_by_model(self.conn)).items() if n}
        gone = await storage.discard_training_run(self.conn, run_id, keep=frozenset(in_use))
        for version in gone:
            Path(version.path).unlink(missing_ok=True)
        left = [v for v in await storage.list_model_versions(self.conn) if v.run_id == run_id]
        if not left and run.workdir:
            await asyncio.to_thread(shutil.rmtree, run.workdir, True)
        await self.audit(caller, "discard", "discarded", run=run_id, removed=len(gone))
        return DiscardOutcome("discarded", run_id, removed=len(gone), kept=len(left))

    # --- model versions ---------------------------------------------------------------

    async def list_models(self, caller: Caller) -> ModelsOutcome:
        """/models: every version, the active one, metrics, open searches on each."""
        if not await self._allowed(caller, "models"):
            return ModelsOutcome("refused")
        rows = [ModelRow(*row) for row in await self.models.versions()]
        await self.audit(caller, "models", "listed")
        return ModelsOutcome("listed", rows)

    async def use(self, caller: Caller, args: list[str]) -> UseOutcome:
        """/use VERSION: new searches use it at once (running ones keep theirs)."""
        if not await self._allowed(caller, "use"):
            return UseOutcome("refused")
        if not args:
            await self.audit(caller, "use", "usage")
            return UseOutcome("usage")
        switch = await self.models.use(args[0], caller.user_id)
        await self.audit(caller, "use", switch.status, version=args[0][:16])
        return UseOutcome(switch.status, switch.version)

    async def activate_run(self, caller: Caller, run_id: int) -> UseOutcome:
        """The Activate button under a finished run: its last checkpoint becomes active."""
        if not await self._allowed(caller, "activate"):
            return UseOutcome("refused")
        run = await storage.get_training_run(self.conn, run_id)
        if run is None or run.model_version is None or run.state == "discarded":
            await self.audit(caller, "activate", "missing", run=run_id)
            return UseOutcome("missing")
        switch = await self.models.use(run.model_version, caller.user_id)
        await self.audit(caller, "activate", switch.status, run=run_id, version=run.model_version)
        return UseOutcome(switch.status, switch.version)

    async def rollback(self, caller: Caller) -> UseOutcome:
        """/rollback: back to the version active before this one."""
        if not await self._allowed(caller, "rollback"):
            return UseOutcome("refused")
        switch = await self.models.rollback(caller.user_id)
        version = switch.version.version if switch.version else None
        await self.audit(caller, "rollback", switch.status, version=version)
        return UseOutcome(switch.status, switch.version)

    async def audit_entries(self, caller: Caller) -> AuditOutcome:
        """/audit: the latest entries (this request's own entry first)."""
        if not await self._allowed(caller, "audit"):
            return AuditOutcome("refused")
        await self.audit(caller, "audit", "shown")
        return AuditOutcome("listed", await storage.audit_log(self.conn, limit=AUDIT_SHOWN))
