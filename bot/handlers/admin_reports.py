"""The Telegram side of background training: one progress message edited as the run goes, a
grid of prior samples per epoch, the tuning table and plot, the end with its buttons.

The progress message is edited at most once per `min_interval` seconds (Telegram tolerates
about one edit a second per chat; a run's chat should stay readable); a newer state waiting
for its turn replaces an older one, and a 429 (RetryAfter) pushes the next edit back by the
time Telegram asks for. The final state is always written.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import TYPE_CHECKING

from telegram.error import BadRequest, RetryAfter, TelegramError

from bot.handlers.admin_format import metrics_text, progress_text, run_keyboard, source_of
from bot.texts import text

if TYPE_CHECKING:
    from telegram import Bot

    import storage
    from bot.engine import Engine
    from bot.training import Outcome, Progress

log = logging.getLogger(__name__)

MIN_EDIT_INTERVAL_S = 10.0
FINAL_EDIT_WAIT_S = 60.0  # the longest a final edit waits out a RetryAfter


class TelegramReporter:
    """Implements bot.training.TrainingReporter with one bot."""

    def __init__(self, bot: Bot, engine: Engine, min_interval: float = MIN_EDIT_INTERVAL_S):
        self.bot = bot
        self.engine = engine
        self.min_interval = min_interval
        self._next_edit: dict[int, float] = {}  # run id -> monotonic time the next edit may go
        self._waiting: dict[int, tuple[storage.TrainingRun, str]] = {}
        self._flushers: dict[int, asyncio.Task[None]] = {}
        self._retry_until: dict[int, float] = {}  # run id -> when Telegram's RetryAfter ends
        self._shown: dict[int, str] = {}  # run id -> what the message says now

    async def _lang(self, run: storage.TrainingRun) -> str:
        return await self.engine.chat_language(run.chat_id, None)

    async def open_progress(self, run: storage.TrainingRun) -> int | None:
        if run.chat_id is None:
            return None
        lang = await self._lang(run)
        source = source_of(run)
        epochs = run.epochs or 0
        if run.epoch:
            body = text(
                lang, "train_resuming", run=run.id, source=source, epoch=run.epoch, epochs=epochs
            )
        else:
            body = text(lang, "train_preparing", run=run.id, source=source, epochs=epochs)
        try:
            message = await self.bot.send_message(run.chat_id, body)
        except TelegramError as exc:
            log.warning("run %s: progress message not sent: %s", run.id, exc)
            return None
        self._shown[run.id] = body
        self._next_edit[run.id] = time.monotonic() + self.min_interval
        return message.message_id

    async def progress(self, run: storage.TrainingRun, progress: Progress) -> None:
        if run.chat_id is None or run.message_id is None:
            return
        self._waiting[run.id] = (run, progress_text(await self._lang(run), run, progress))
        if run.id in self._flushers and not self._flushers[run.id].done():
            return  # an edit is already due: it will carry this state
        delay = self._next_edit.get(run.id, 0.0) - time.monotonic()
        if delay <= 0:
            await self._edit(run.id)
        else:
            self._flushers[run.id] = asyncio.create_task(self._edit_later(run.id, delay))

    async def _edit_later(self, run_id: int, delay: float) -> None:
        await asyncio.sleep(delay)
        await self._edit(run_id)

    async def _edit(self, run_id: int, *, retry_later: bool = True) -> bool:
        """Edit the progress message to the waiting state; False if Telegram said to wait (the
        state waits on, and with retry_later an edit is scheduled for when it may go)."""
        waiting = self._waiting.pop(run_id, None)
        if waiting is None:
            return True
        run, body = waiting
        if body == self._shown.get(run_id):
            return True
        assert run.chat_id is not None and run.message_id is not None
        try:
            await self.bot.edit_message_text(body, chat_id=run.chat_id, message_id=run.message_id)
        except RetryAfter as exc:
            wait = float(exc.retry_after if isinstance(exc.retry_after, int | float) else 1)
            log.info("run %s: Telegram asks to wait %.0f s before editing", run_id, wait)
            self._retry_until[run_id] = self._next_edit[run_id] = time.monotonic() + wait
            self._waiting.setdefault(run_id, waiting)
            if retry_later:
                self._flushers[run_id] = asyncio.create_task(self._edit_later(run_id, wait))
            return False
        except BadRequest as exc:
            if "not modified" not in str(exc).lower():
                log.warning("run %s: progress edit refused: %s", run_id, exc)
        except TelegramError as exc:
            log.warning("run %s: progress edit failed: %s", run_id, exc)
        self._shown[run_id] = body
        self._next_edit[run_id] = time.monotonic() + self.min_interval
        return True

    async def _final_edit(self, run: storage.TrainingRun, body: str) -> None:
        """The last state of the message: written whatever the interval (which spaces out
        intermediate states only), after any wait Telegram asked for (RetryAfter)."""
        flusher = self._flushers.pop(run.id, None)
        if flusher is not None:
            flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await flusher
        if run.chat_id is not None and run.message_id is not None:
            deadline = time.monotonic() + FINAL_EDIT_WAIT_S
            self._waiting[run.id] = (run, body)
            while True:
                wait = self._retry_until.get(run.id, 0.0) - time.monotonic()
                if wait > 0:
                    if time.monotonic() + wait > deadline:
                        break
                    await asyncio.sleep(wait)
                if await self._edit(run.id, retry_later=False):
                    break
        for table in (self._next_edit, self._retry_until, self._waiting, self._shown):
            table.pop(run.id, None)

    async def epoch(
        self, run: storage.TrainingRun, epoch: int, metrics: dict[str, object], grid: bytes
    ) -> None:
        if run.chat_id is None:
            return
        lang = await self._lang(run)
        psnr = metrics.get("psnr")
        caption = text(
            lang,
            "train_epoch_caption",
            run=run.id,
            epoch=epoch,
            epochs=run.epochs or "?",
            psnr=f"{psnr:.2f}" if isinstance(psnr, int | float) else "?",
        )
        try:
            await self.bot.send_photo(
                run.chat_id, grid, caption=caption, filename=f"run{run.id}-epoch{epoch}.png"
            )
        except TelegramError as exc:
            log.warning("run %s: epoch grid not sent: %s", run.id, exc)

    async def tuned(self, run: storage.TrainingRun, table: str, plot: bytes) -> None:
        if run.chat_id is None:
            return
        lang = await self._lang(run)
        best = next((line for line in table.splitlines() if "**best**" in line), "")
        best_index = best.split("|")[1].split()[0] if best.count("|") > 2 else "?"
        caption = text(lang, "train_tuned_caption", run=run.id, best=best_index)
        try:
            await self.bot.send_photo(
                run.chat_id, plot, caption=caption, filename=f"run{run.id}-trials.png"
            )
            await self.bot.send_document(
                run.chat_id, table.encode(), filename=f"run{run.id}-trials.md"
            )
        except TelegramError as exc:
            log.warning("run %s: tuning report not sent: %s", run.id, exc)

    async def finished(
        self,
        run: storage.TrainingRun,
        outcome: Outcome,
        version: storage.ModelVersion | None,
        reason: str,
    ) -> None:
        if run.chat_id is None:
            return
        lang = await self._lang(run)
        source = source_of(run)
        final = {
            "done": "train_final_done",
            "failed": "train_final_failed",
            "cancelled": "train_final_cancelled",
        }[outcome]
        await self._final_edit(run, text(lang, final, run=run.id, source=source))
        metrics = metrics_text(lang, version.metrics) if version is not None else ""
        markup = None
        if outcome == "done" and version is not None:
            body = text(lang, "train_done", run=run.id, version=version.version, metrics=metrics)
            markup = run_keyboard(lang, run.id)
        elif outcome == "cancelled" and version is not None:
            body = text(
                lang,
                "train_cancelled",
                run=run.id,
                epoch=run.epoch,
                epochs=run.epochs or "?",
                version=version.version,
                metrics=metrics,
            )
            markup = run_keyboard(lang, run.id)
        elif outcome == "cancelled":
            body = text(lang, "train_cancelled_empty", run=run.id)
        else:
            body = text(lang, "train_failed", run=run.id, reason=reason or "?")
        try:
            await self.bot.send_message(run.chat_id, body, reply_markup=markup)
        except TelegramError as exc:
            log.warning("run %s: end not reported: %s", run.id, exc)

    async def interrupted(self, run: storage.TrainingRun) -> None:
        if run.chat_id is None:
            return
        lang = await self._lang(run)
        source = source_of(run)
        if run.model_version is not None:
            body = text(
                lang,
                "train_interrupted",
                run=run.id,
                source=source,
                epoch=run.epoch,
                epochs=run.epochs or "?",
                version=run.model_version,
            )
        else:
            body = text(lang, "train_interrupted_empty", run=run.id, source=source)
        try:
            await self.bot.send_message(
                run.chat_id, body, reply_markup=run_keyboard(lang, run.id, resume=True)
            )
        except TelegramError as exc:
            log.warning("run %s: interruption not reported: %s", run.id, exc)
