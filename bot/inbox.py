"""Running one update from the inbox: counted, retried on transient failures, finished once.

The update processor (bot.ordering) hands every update to `UpdateRunner.run` inside the chat's
turn. The runner

- counts the attempt in the inbox *before* the handlers run, so an update that crashes the
  bot every time is skipped after CRASH_LIMIT starts instead of crash-looping it forever;
- runs the handlers (PTB's `process_update`) and collects what they raised, through an error
  handler that only records (`record_error`);
- runs the update again, with a short back-off, when it failed on the network or a busy
  database (MAX_TRIES in all; a timeout is not retried: that send may well have arrived);
- marks it done (or skipped, with one rate-limited log line) in the inbox, and only then
- delivers whatever the chat is owed (bot.outbox): an album a crash or a failed send left
  behind comes with the chat's next update, whatever that update was.

Handlers are safe to run twice: ratings are stored per message (a replay casts the same
votes), and the effects that are not repeatable (a new search, an undo) are claimed in the
inbox in their own transaction (storage.inbox.mark_applied).
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Awaitable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from telegram import Update
from telegram.error import BadRequest, NetworkError, RetryAfter, TimedOut

import storage
from bot.loglimit import LogLimiter

if TYPE_CHECKING:
    from bot.context import BotApplication, BotContext
    from bot.engine import Engine
    from bot.outbox import AlbumOutbox

log = logging.getLogger(__name__)

MAX_TRIES = 3  # runs of one update in one process while it fails transiently
CRASH_LIMIT = 20  # attempts started (across restarts) before an update is given up
RETRY_BACKOFF_S = 0.5  # before the 2nd run; doubles after each


@dataclass
class _Attempt:
    """What the handlers of one run raised (filled by UpdateRunner.record_error)."""

    errors: list[BaseException] = field(default_factory=list)


_CURRENT: ContextVar[_Attempt | None] = ContextVar("fotorobot_update_attempt", default=None)


def is_transient(error: BaseException) -> bool:
    """A failure worth running the update again for: a dropped connection, a 429 the rate
    limiter gave up on, a locked database. Not a timeout (the send may have arrived) nor a
    bad request (it would fail the same way)."""
    if isinstance(error, RetryAfter):
        return True
    if isinstance(error, TimedOut | BadRequest):
        return False
    if isinstance(error, NetworkError):
        return True
    return isinstance(error, sqlite3.OperationalError) and (
        "locked" in str(error) or "busy" in str(error)
    )


class UpdateRunner:
    """Runs updates from the inbox for one application (see the module docstring)."""

    def __init__(
        self,
        app: BotApplication,
        engine: Engine,
        outbox: AlbumOutbox,
        *,
        max_tries: int = MAX_TRIES,
        crash_limit: int = CRASH_LIMIT,
        backoff_s: float = RETRY_BACKOFF_S,
    ) -> None:
        self.app = app
        self.engine = engine
        self.outbox = outbox
        self.max_tries = max_tries
        self.crash_limit = crash_limit
        self.backoff_s = backoff_s
        self.stopping = False  # set at shutdown: no new run starts, what is left stays pending
        self._log = LogLimiter(log)

    async def record_error(self, update: object, context: BotContext) -> None:
        """An error handler that only notes the error for the run in progress."""
        attempt = _CURRENT.get()
        if attempt is not None and context.error is not None:
            attempt.errors.append(context.error)

    async def run(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Run one update (the chat's turn is already taken): see the module docstring."""
        if not isinstance(update, Update):
            await coroutine
            return
        conn = self.engine.conn
        attempts = await storage.start_attempt(conn, update.update_id)
        if attempts is None:  # never stored (nothing reaches the bot that way): just run it
            await coroutine
            await self._deliver_owed(update)
            return
        if attempts == 0 or attempts > self.crash_limit:
            _close(coroutine)
            if attempts:
                await self._skip(update, f"the bot stopped while handling it {attempts - 1} times")
            return
        errors = await self._run_once(coroutine)
        tries = 1
        while any(is_transient(e) for e in errors):
            if self.stopping:
                return  # stays pending: the next start runs it again
            if tries >= self.max_tries:
                kinds = ", ".join(sorted({type(e).__name__ for e in errors}))
                await self._skip(update, f"failed {tries} times ({kinds})")
                await self._deliver_owed(update)
                return
            await asyncio.sleep(self.backoff_s * 2 ** (tries - 1))
            errors = await self._run_once(self.app.process_update(update))
            tries += 1
        # Handled (a handler bug was already logged and answered by the error handler).
        failure = type(errors[-1]).__name__ if errors else None
        await storage.finish_update(conn, update.update_id, "done", failure)
        await self._deliver_owed(update)

    async def _run_once(self, coroutine: Awaitable[Any]) -> list[BaseException]:
        attempt = _Attempt()
        token = _CURRENT.set(attempt)
        try:
            await coroutine
        finally:
            _CURRENT.reset(token)
        return attempt.errors

    async def _skip(self, update: Update, reason: str) -> None:
        await storage.finish_update(self.engine.conn, update.update_id, "skipped", reason)
        chat = update.effective_chat
        self._log.log(
            logging.WARNING,
            "skipped",
            "skipped update %s (chat %s): %s",
            update.update_id,
            chat.id if chat is not None else None,
            reason,
        )

    async def _deliver_owed(self, update: Update) -> None:
        """Nobody left waiting: send the album this chat is owed, if it is owed one (a poll
        answer's chat is the poll's: the update processor's resolver finds it)."""
        if self.stopping:
            return
        chat, user = update.effective_chat, update.effective_user
        chat_id = chat.id if chat is not None else None
        resolver = getattr(self.app.update_processor, "chat_resolver", None)
        if chat_id is None and resolver is not None:
            chat_id = await resolver(update)
        if chat_id is None:
            return
        try:
            await self.outbox.deliver(chat_id, user.language_code if user is not None else None)
        except Exception:  # the update is finished; the outbox retries on the next occasion
            log.exception("delivering the album owed to chat %s failed", chat_id)


def _close(coroutine: Awaitable[Any]) -> None:
    """Drop a handler coroutine that will not run (no "never awaited" warning)."""
    close = getattr(coroutine, "close", None)
    if close is not None:
        close()
