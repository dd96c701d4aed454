"""Receiving updates durably: stored in the inbox before Telegram is told they arrived.

PTB's own Updater confirms a batch (the next getUpdates offset) as soon as it has queued it in
memory, so a process killed a moment later loses those updates for good; a webhook handler
answers 200 before anything is stored. `DurableUpdater` replaces both paths:

- polling: getUpdates -> every update written to the inbox in one transaction -> only then
  the next getUpdates, whose offset confirms them. An update python-telegram-bot cannot parse
  is stored and skipped with one rate-limited log line (it never blocks the queue);
- webhook (bot.webhook): the 200 answer is sent after the inbox write; a failed write answers
  500 and Telegram sends the update again.

On start it queues the inbox's backlog (updates stored but not finished when the last process
stopped) and has the outbox deliver every owed album. On stop it stops receiving, lets the
updates in progress finish for SHUTDOWN_GRACE_S and cancels the rest (they stay pending and run
after the restart), so a stop never outlasts the deploy files' grace period.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from telegram import Update
from telegram.error import InvalidToken, TelegramError
from telegram.ext import Updater

import storage
from bot.loglimit import LogLimiter
from bot.ordering import ChatOrderedUpdateProcessor

if TYPE_CHECKING:
    from socket import socket

    from bot.context import BotApplication
    from bot.webhook import WebhookServer

log = logging.getLogger(__name__)

# Updates in progress get this long to finish when the bot stops; the whole stop then takes a
# second or two more (closing the database and the CPU workers). The deploy files allow 15 s.
SHUTDOWN_GRACE_S = 5.0
POLL_TIMEOUT_S = 10.0
MAX_FETCH_BACKOFF_S = 30.0


class DurableUpdater(Updater):
    """An Updater that stores every update before confirming it (see the module docstring)."""

    def __init__(self, app: BotApplication, *, grace_s: float = SHUTDOWN_GRACE_S) -> None:
        super().__init__(app.bot, app.update_queue)
        self.app = app
        self.grace_s = grace_s
        self._poll_task: asyncio.Task[None] | None = None
        self._webhook: WebhookServer | None = None
        self._offset: int | None = None  # the next getUpdates offset (confirms what we stored)
        self._log = LogLimiter(log)

    # ---- starting ------------------------------------------------------------------------

    async def start_polling(
        self,
        poll_interval: float = 0.0,
        timeout: Any = POLL_TIMEOUT_S,
        bootstrap_retries: int = 0,
        allowed_updates: Sequence[str] | None = None,
        drop_pending_updates: bool | None = None,
        error_callback: Any = None,
    ) -> asyncio.Queue[object]:
        """Long-poll getUpdates, storing each batch before the next call confirms it."""
        self._check_can_start()
        await self._bootstrap(
            bootstrap_retries,
            webhook_url="",
            allowed_updates=None,
            drop_pending_updates=drop_pending_updates,
        )
        self._running = True
        await self._resume()
        seconds = timeout.total_seconds() if hasattr(timeout, "total_seconds") else timeout
        self._poll_task = asyncio.create_task(
            self._poll(float(seconds), allowed_updates, poll_interval),
            name="DurableUpdater:poll",
        )
        return self.update_queue

    async def start_webhook(
        self,
        listen: Any = "127.0.0.1",
        port: Any = 80,
        url_path: str = "",
        cert: str | Path | None = None,
        key: str | Path | None = None,
        bootstrap_retries: int = 0,
        webhook_url: str | None = None,
        allowed_updates: Sequence[str] | None = None,
        drop_pending_updates: bool | None = None,
        ip_address: str | None = None,
        max_connections: int = 40,
        secret_token: str | None = None,
        unix: str | Path | socket | None = None,
    ) -> asyncio.Queue[object]:
        """Serve a webhook that answers 200 only once the update is in the inbox."""
        from bot.webhook import WebhookServer

        self._check_can_start()
        if unix is not None:
            raise ValueError("fotorobot's webhook listens on a TCP port, not a unix socket")
        server = WebhookServer(self.accept, url_path, secret_token, cert=cert, key=key)
        bound = server.listen(str(listen), int(port))
        self._webhook = server
        self._running = True
        try:
            await self._bootstrap(
                bootstrap_retries,
                webhook_url=webhook_url or f"http://{listen}:{bound}/{url_path.strip('/')}",
                allowed_updates=allowed_updates,
                drop_pending_updates=drop_pending_updates,
                cert=Path(cert).read_bytes() if cert else None,
                ip_address=ip_address,
                max_connections=max_connections,
                secret_token=secret_token,
            )
            await self._resume()
        except BaseException:
            self._running = False
            await server.stop()
            self._webhook = None
            raise
        return self.update_queue

    @property
    def webhook_port(self) -> int | None:
        """The port the webhook server listens on (None when polling)."""
        return None if self._webhook is None else self._webhook.port

    def _check_can_start(self) -> None:
        if self.running:
            raise RuntimeError("This Updater is already running!")
        if not self._initialized:
            raise RuntimeError("This Updater was not initialized via `Updater.initialize`!")

    async def _resume(self) -> None:
        """Queue the inbox's backlog, then have the outbox deliver every owed album."""
        deps = self.app.bot_data.require()
        conn = deps.engine.conn
        await storage.prune_inbox(conn)
        backlog = await storage.pending_updates(conn)
        for stored in backlog:
            try:
                payload = json.loads(stored.payload)
            except ValueError:
                payload = None
            await self._enqueue(stored.update_id, payload)
        if backlog:
            log.info("resuming %d update(s) received before the restart", len(backlog))
        await deps.outbox.recover()

    # ---- receiving -----------------------------------------------------------------------

    async def _poll(
        self, timeout: float, allowed_updates: Sequence[str] | None, interval: float
    ) -> None:
        failures = 0
        while self._running:
            try:
                batch = await self._fetch(self._offset, timeout, allowed_updates)
            except InvalidToken:
                self._log.log(logging.ERROR, "token", "the Bot API refused the token")
                await asyncio.sleep(MAX_FETCH_BACKOFF_S)
                continue
            except TelegramError as exc:
                failures += 1
                self._log.log(logging.WARNING, "fetch", "getUpdates failed: %s", exc)
                await asyncio.sleep(min(MAX_FETCH_BACKOFF_S, 0.5 * 2**failures))
                continue
            failures = 0
            try:
                next_offset = await self.accept(batch)
            except Exception as exc:  # not stored: the offset stays, Telegram sends them again
                self._log.log(logging.ERROR, "store", "could not store updates: %r", exc)
                await asyncio.sleep(1.0)
                continue
            if next_offset is not None:
                self._offset = next_offset
            if interval > 0:
                await asyncio.sleep(interval)

    async def _fetch(
        self, offset: int | None, timeout: float, allowed_updates: Sequence[str] | None
    ) -> list[Any]:
        """One getUpdates call, returning the raw JSON list.

        Bot.get_updates parses the whole batch and raises if any one update does not parse, so
        a single update the library cannot read would come back forever; the raw list lets
        each update be stored, and skipped alone if it cannot be parsed.
        """
        data: dict[str, Any] = {
            "offset": offset,
            "timeout": timeout,
            "allowed_updates": list(allowed_updates) if allowed_updates is not None else None,
        }
        bot: Any = self.bot  # Bot._post / _request: python-telegram-bot 22.8 (pinned)
        read_timeout = (bot._request[0].read_timeout or 5.0) + timeout
        result = await bot._post("getUpdates", data, read_timeout=read_timeout)
        return list(result) if isinstance(result, list) else []

    async def accept(self, batch: Sequence[Any]) -> int | None:
        """Store a batch of raw updates in the inbox (one transaction), then queue the new
        ones; returns the offset that confirms them (None for an empty batch). Raises if the
        inbox write fails: then nothing may be confirmed."""
        parsed: list[tuple[int, Any, Update | None]] = []
        for item in batch:
            update_id = item.get("update_id") if isinstance(item, dict) else None
            if isinstance(update_id, int) and not isinstance(update_id, bool):
                parsed.append((update_id, item, _parse(item, self.bot)))
        if not parsed:
            return None
        received = [
            storage.ReceivedUpdate(
                update_id,
                update.effective_chat.id if update and update.effective_chat else None,
                json.dumps(item, ensure_ascii=False),
            )
            for update_id, item, update in parsed
        ]
        conn = self.app.bot_data.require().engine.conn
        fresh = set(await storage.receive_updates(conn, received))
        for update_id, item, update in parsed:
            if update_id in fresh:
                await self._enqueue(update_id, item, update)
        return max(update_id for update_id, _, _ in parsed) + 1

    async def _enqueue(self, update_id: int, payload: Any, update: Update | None = None) -> None:
        """Hand a stored update to the application, or skip it if it cannot be parsed."""
        if update is None:
            update = _parse(payload, self.bot)
        if update is None:
            conn = self.app.bot_data.require().engine.conn
            await storage.finish_update(conn, update_id, "skipped", "unparseable")
            self._log.log(
                logging.WARNING,
                "unparseable",
                "skipped update %s: python-telegram-bot cannot read it",
                update_id,
            )
            return
        await self.update_queue.put(update)

    # ---- stopping ------------------------------------------------------------------------

    async def stop(self) -> None:
        """Stop receiving, finish or cancel the updates in progress within the grace period."""
        if not self.running:
            raise RuntimeError("This Updater is not running!")
        self._running = False
        if self._poll_task is not None:
            self._poll_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poll_task
            self._poll_task = None
            await self._confirm()
        if self._webhook is not None:
            await self._webhook.stop()
            self._webhook = None
        processor = self.app.update_processor
        if isinstance(processor, ChatOrderedUpdateProcessor):
            cancelled = await processor.drain(self.grace_s)
            if cancelled:
                log.info("%d update(s) left for the next start", cancelled)
        deps = self.app.bot_data.deps
        if deps is not None:
            await deps.outbox.close()

    async def _confirm(self) -> None:
        """Tell Telegram what is stored (so it is not sent again), in a second at most."""
        if self._offset is None:
            return
        bot: Any = self.bot
        data = {"offset": self._offset, "timeout": 0, "limit": 1}
        with contextlib.suppress(TelegramError, TimeoutError):
            await asyncio.wait_for(bot._post("getUpdates", data, read_timeout=1.0), 1.5)


def _parse(payload: Any, bot: Any) -> Update | None:
    """The Update, or None if python-telegram-bot cannot read this payload."""
    if not isinstance(payload, dict):
        return None
    try:
        return cast("Update | None", Update.de_json(payload, bot))
    except Exception:  # any failure inside the library's parser: the update is unreadable
        return None
