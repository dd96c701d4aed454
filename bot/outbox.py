"""Delivering what the bot owes a chat: its next album, planned and stored before it is sent.

A chat is owed an album while it has an open search and no delivered open round
(storage.outbox): closing a round or starting a search makes the next album owed in the same
transaction. `AlbumOutbox.deliver` then

1. plans the album (GP + EI, decode, JPEG) and stores it as an open round with no message ids;
2. logs the send attempt, sends the photos, and attaches their message ids, retrying a few
   times on network errors and timeouts (a timed-out send may have arrived: that attempt is
   logged `uncertain`, and a copy delivered twice is rateable by reply to either, see
   Engine.resolve_target);
3. sends the prompt with its buttons and stores its id; in a group, the round's poll of the
   faces and its tally (which is the group's prompt) instead, through the hook the application
   gives (bot.handlers.groups.open_group_round): a poll already sent is not sent again.

What fails even so is retried later in the background (backing off to every five minutes), and
after a restart `recover` delivers every owed album. The "sending a photo..." chat action is a
nicety: its failure never holds the album back. A chat that blocked the bot is marked inactive
and owed nothing until it writes again. A search whose model is gone (bot.models) cannot go on:
it ends, and the chat is told so with a button for a new one.

Every delivery for a chat runs under that chat's lock (bot.ordering.ChatLocks), so it never
interleaves with the chat's own updates.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dtm
import logging
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import TYPE_CHECKING, Any, Literal

from telegram import InputMediaPhoto, Message
from telegram.constants import ChatAction
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
)

import storage
from bot.groups import is_group_chat
from bot.handlers.common import prompt_keyboard, search_model_gone
from bot.loglimit import LogLimiter
from bot.models import ModelGone
from bot.texts import pick_language, text

if TYPE_CHECKING:
    from telegram import Bot

    from bot.engine import Engine
    from bot.ordering import ChatLocks

log = logging.getLogger(__name__)

# nothing: nothing was owed; sent: the album and its prompt are delivered; later: a send
# failed and a background retry is scheduled; unreachable: the chat blocked or removed the bot;
# ended: the search's model is gone, so the search ended (and the chat was told).
DeliveryStatus = Literal["nothing", "sent", "later", "unreachable", "ended"]
# An album photo as a group's poll needs it: its message id and Telegram's file id (None when
# only the id is stored, e.g. after a restart: the poll then shows numbers, not faces).
PollFace = tuple[int, str | None]
# Opens a group round after its photos: (chat id, round id, faces, send the poll?, language).
GroupOpener = Callable[[int, int, Sequence[PollFace], bool, str], Awaitable[None]]

ATTEMPTS = 3  # sends per delivery (network errors and timeouts), then a background retry
BACKOFF_S = 1.0  # before the 2nd attempt; doubles after each
# An album of four JPEGs is a few hundred kB: give Telegram time before calling it lost (a
# late answer means a second copy).
ALBUM_READ_TIMEOUT_S = 20.0
CHAT_ACTION_TIMEOUT_S = 3.0
MAX_INLINE_WAIT_S = 10.0  # a 429 asking for longer is waited out in the background instead
RETRY_DELAYS_S = (5.0, 15.0, 60.0, 300.0)  # background retries of one chat, the last repeats


class _GiveUp(Exception):
    """Stop this delivery: `status` says what happens next, `delay` when to retry."""

    def __init__(self, status: DeliveryStatus, delay: float | None = None) -> None:
        super().__init__(status)
        self.status: DeliveryStatus = status
        self.delay = delay


class AlbumOutbox:
    """Sends owed albums for one bot and one engine; see the module docstring."""

    def __init__(
        self,
        bot: Bot,
        engine: Engine,
        locks: ChatLocks,
        *,
        attempts: int = ATTEMPTS,
        backoff_s: float = BACKOFF_S,
        read_timeout_s: float = ALBUM_READ_TIMEOUT_S,
        retry_delays_s: Sequence[float] = RETRY_DELAYS_S,
        open_group_round: GroupOpener | None = None,
    ) -> None:
        self.bot = bot
        # A group's round gets a poll and a tally instead of the private prompt (None: the
        # private prompt everywhere).
        self.open_group_round = open_group_round
        self.engine = engine
        self.locks = locks
        self.attempts = attempts
        self.backoff_s = backoff_s
        self.read_timeout_s = read_timeout_s
        self.retry_delays_s = tuple(retry_delays_s)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._scheduled: set[int] = set()  # chats with a background retry waiting
        self._failures: dict[int, int] = {}  # chat -> failed deliveries in a row
        self._closed = False
        self._log = LogLimiter(log)

    # ---- delivering ----------------------------------------------------------------------

    async def deliver(self, chat_id: int, language: str | None = None) -> DeliveryStatus:
        """Send what the chat is owed (nothing if nothing is). The caller holds the chat's
        lock: the update runner after each update, everything else through deliver_locked.

        The prompt speaks the chat's language (/lang), else its person's; `language` (a
        Telegram language code, e.g. of the user whose update this follows) comes next.
        """
        owed = await storage.owed_album(self.engine.conn, chat_id)
        if owed is None:
            return "nothing"
        default = self.engine.settings.default_language
        lang = pick_language(owed.language or language, default)
        try:
            await self._deliver(owed, lang)
        except _GiveUp as stop:
            if stop.status == "later":
                self._retry_later(chat_id, stop.delay)
            return stop.status
        except ModelGone:
            await search_model_gone(self.bot, self.engine, chat_id, lang)
            return "ended"
        self._failures.pop(chat_id, None)
        return "sent"

    async def deliver_locked(self, chat_id: int, language: str | None = None) -> DeliveryStatus:
        """deliver() under the chat's lock (start-up recovery, background retries)."""
        async with self.locks.get(chat_id):
            return await self.deliver(chat_id, language)

    async def _deliver(self, owed: storage.OwedAlbum, lang: str) -> None:
        chat_id, round_ = owed.chat_id, owed.round
        if owed.needs_photos:
            chat_id = await self._chat_action(chat_id)
            if round_ is None:
                plan = await self.engine.plan_album(chat_id)
                if plan is None:
                    raise _GiveUp("nothing")  # the search closed meanwhile
                round_ = await self.engine.store_album(plan)
                images = plan.images
            else:
                drawn = await self.engine.round_images(round_.id)
                if drawn is None:
                    raise _GiveUp("nothing")  # the round is gone meanwhile
                images = drawn
            chat_id, round_, messages = await self._send_photos(chat_id, round_, images)
            faces: list[PollFace] = [
                (m.message_id, m.photo[-1].file_id if m.photo else None) for m in messages
            ]
        else:
            assert round_ is not None
            faces = [(m, None) for m in round_.message_ids if m is not None]
        assert round_ is not None
        if round_.prompt_message_id is None:
            if self.open_group_round is not None and is_group_chat(chat_id):
                await self._open_group_round(chat_id, round_, faces, lang)
            else:
                await self._send_prompt(chat_id, round_, lang)

    async def _chat_action(self, chat_id: int) -> int:
        """Show "sending a photo..." in the chat's header; whatever happens, the album goes on
        (to the supergroup, if the answer says the group became one). The chat id to use."""
        try:
            await asyncio.wait_for(
                self.bot.send_chat_action(chat_id, ChatAction.UPLOAD_PHOTO),
                CHAT_ACTION_TIMEOUT_S,
            )
        except ChatMigrated as exc:
            log.info("chat %s migrated to %s", chat_id, exc.new_chat_id)
            await self.engine.migrate_chat(chat_id, int(exc.new_chat_id))
            return int(exc.new_chat_id)
        except (TelegramError, TimeoutError) as exc:
            log.debug("chat action in chat %s failed (the album goes on): %s", chat_id, exc)
        return chat_id

    async def _send_photos(
        self, chat_id: int, round_: storage.Round, images: list[bytes]
    ) -> tuple[int, storage.Round, list[Message]]:
        """Send the album's photos and store their ids; (chat id, round, the photos' messages)
        after any migration."""
        for attempt in range(self.attempts):
            media = [
                InputMediaPhoto(image, caption=f"#{i + 1}", filename=f"face{i + 1}.jpg")
                for i, image in enumerate(images)
            ]
            send_id = await storage.begin_album_send(self.engine.conn, round_.id)
            try:
                messages = await self.bot.send_media_group(
                    chat_id, media, read_timeout=self.read_timeout_s
                )
            except TelegramError as exc:
                uncertain = isinstance(exc, NetworkError) and not isinstance(exc, BadRequest)
                await storage.album_send_failed(self.engine.conn, send_id, uncertain=uncertain)
                chat_id = await self._after_failure(chat_id, exc, attempt, "album")
                continue
            ids = [m.message_id for m in messages]
            return chat_id, await storage.album_sent(self.engine.conn, send_id, ids), list(messages)
        raise _GiveUp("later")

    async def _send_prompt(self, chat_id: int, round_: storage.Round, lang: str) -> None:
        """The rating prompt with its buttons, after the album; its id makes replies count."""
        scale = await self.engine.chat_scale(chat_id)
        prompt = text(lang, "prompt", album_size=len(round_.faces), low=scale.low, high=scale.high)
        for attempt in range(self.attempts):
            try:
                message: Message = await self.bot.send_message(
                    chat_id, prompt, reply_markup=prompt_keyboard(lang)
                )
            except TelegramError as exc:
                chat_id = await self._after_failure(chat_id, exc, attempt, "prompt")
                continue
            await self.engine.set_prompt(round_.id, message.message_id)
            return
        raise _GiveUp("later")

    async def _open_group_round(
        self, chat_id: int, round_: storage.Round, faces: Sequence[PollFace], lang: str
    ) -> None:
        """A group's poll of the faces and its tally, after the album; a poll that got through
        on an earlier try (or before a restart) is not sent again."""
        assert self.open_group_round is not None
        for attempt in range(self.attempts):
            current = await storage.get_round(self.engine.conn, round_.id)
            if current is None or current.prompt_message_id is not None:
                return
            with_poll = current.poll_message_id is None
            try:
                await self.open_group_round(chat_id, round_.id, faces, with_poll, lang)
            except TelegramError as exc:
                chat_id = await self._after_failure(chat_id, exc, attempt, "poll and tally")
                continue
            return
        raise _GiveUp("later")

    async def _after_failure(
        self, chat_id: int, exc: TelegramError, attempt: int, what: str
    ) -> int:
        """Decide after a failed send: the chat id to try again with, or _GiveUp."""
        if isinstance(exc, Forbidden):
            log.info("chat %s is unreachable (%s): marked inactive", chat_id, exc)
            await self.engine.set_chat_active(chat_id, False)
            raise _GiveUp("unreachable")
        if isinstance(exc, ChatMigrated):
            new_id = int(exc.new_chat_id)
            log.info("chat %s migrated to %s", chat_id, new_id)
            await self.engine.migrate_chat(chat_id, new_id)
            return new_id
        self._log.log(
            logging.WARNING,
            f"{what}:{type(exc).__name__}",
            "sending the %s to chat %s failed (attempt %d of %d): %s",
            what,
            chat_id,
            attempt + 1,
            self.attempts,
            exc,
        )
        last = attempt + 1 >= self.attempts
        if isinstance(exc, RetryAfter):
            wait = _seconds(exc.retry_after)
            if wait > MAX_INLINE_WAIT_S:
                raise _GiveUp("later", delay=wait)
            if not last:
                await asyncio.sleep(wait)
        elif isinstance(exc, NetworkError) and not isinstance(exc, BadRequest):
            if not last:  # timeouts, dropped connections: try again soon
                await asyncio.sleep(self.backoff_s * 2**attempt)
        else:
            raise _GiveUp("later")  # refused as it is (a bad request): retrying now won't help
        return chat_id

    # ---- background work -----------------------------------------------------------------

    async def recover(self) -> int:
        """At start-up: settle sends a crash cut short, then deliver every owed album (in the
        background, each under its chat's lock); the number of chats owed one."""
        await storage.settle_interrupted_sends(self.engine.conn)
        owed = await storage.owed_albums(self.engine.conn)
        for item in owed:
            self._spawn(self._deliver_in_background(item.chat_id))
        if owed:
            log.info("delivering the albums %d chat(s) were owed", len(owed))
        return len(owed)

    def _retry_later(self, chat_id: int, delay: float | None = None) -> None:
        if self._closed or chat_id in self._scheduled:
            return
        failures = self._failures.get(chat_id, 0)
        self._failures[chat_id] = failures + 1
        if delay is None:
            delay = self.retry_delays_s[min(failures, len(self.retry_delays_s) - 1)]
        self._scheduled.add(chat_id)
        self._spawn(self._retry(chat_id, delay))

    async def _retry(self, chat_id: int, delay: float) -> None:
        try:
            await asyncio.sleep(delay)
        finally:
            self._scheduled.discard(chat_id)
        await self._deliver_in_background(chat_id)

    async def _deliver_in_background(self, chat_id: int) -> None:
        try:
            await self.deliver_locked(chat_id)
        except Exception:  # a bug must not kill the task silently: log it, try again later
            log.exception("delivering the album owed to chat %s failed", chat_id)
            self._retry_later(chat_id)

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        if self._closed:
            coroutine.close()
            return
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @property
    def busy(self) -> bool:
        """Whether background deliveries are running or scheduled."""
        return bool(self._tasks)

    async def close(self) -> None:
        """Stop background deliveries (what they owed stays owed: the next start sends it)."""
        self._closed = True
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*tasks, return_exceptions=True)


def _seconds(value: float | dtm.timedelta) -> float:
    """RetryAfter.retry_after in seconds (PTB may give a timedelta)."""
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)
