"""Outgoing requests paced under Telegram's limits, group messages counted as Telegram counts.

PTB's AIORateLimiter counts an album as one request, but Telegram counts each photo of it: a
group allows about 20 messages a minute, so four albums of 4 a minute already hit 429s. This
limiter counts what a group sees: every photo of an album, every sent message, and every edit
(message text, caption, keyboard) and stopPoll, which Telegram throttles alike in groups. At
most GROUP_MESSAGES units in any GROUP_PERIOD seconds per group (a sliding window: this also
never exceeds a token bucket of the same size and rate), FIFO per group; overall at most
OVERALL_PER_S requests with a chat per second, as AIORateLimiter does. Reading calls
(getChatMember...) and chat actions cost nothing. A 429 still answered by Telegram blocks that
chat's window for retry_after and the request is retried (max_retries times).

`spare(chat_id)` and `wait_for(chat_id, n)` let a caller with something optional to send (the
group's live tally) use only what the next album will not need.
"""

from __future__ import annotations

import asyncio
import datetime as dtm
import logging
import time
import warnings
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter
from telegram.warnings import PTBDeprecationWarning

log = logging.getLogger(__name__)

GROUP_MESSAGES = 20  # Telegram: about 20 messages a minute in one group
GROUP_PERIOD = 60.0
OVERALL_PER_S = 30  # Telegram: about 30 messages a second for the whole bot

# Methods whose call puts (or changes) one message in a chat.
_ONE_MESSAGE = frozenset(
    {
        "sendmessage",
        "sendphoto",
        "sendanimation",
        "senddocument",
        "sendvideo",
        "sendaudio",
        "sendvoice",
        "sendsticker",
        "sendpoll",
        "sendlocation",
        "sendcontact",
        "senddice",
        "copymessage",
        "forwardmessage",
        "editmessagetext",
        "editmessagecaption",
        "editmessagemedia",
        "editmessagereplymarkup",
        "stoppoll",
    }
)


def message_cost(endpoint: str, data: dict[str, Any]) -> int:
    """How many messages Telegram counts for one call (an album: one per item)."""
    method = endpoint.lower()
    if method == "sendmediagroup":
        media = data.get("media")
        return max(1, len(media)) if isinstance(media, list | tuple) else 1
    return 1 if method in _ONE_MESSAGE else 0


def retry_seconds(error: RetryAfter) -> float:
    """RetryAfter's wait in seconds (PTB warns that the int form becomes a timedelta)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = error.retry_after
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


class SlidingWindow:
    """At most `limit` units in any `period` seconds; the units' times are kept."""

    def __init__(self, limit: int, period: float, clock: Callable[[], float]) -> None:
        self.limit, self.period, self.clock = limit, period, clock
        self.stamps: deque[float] = deque()  # one entry per unit, oldest first
        self.blocked_until = 0.0
        self.lock = asyncio.Lock()  # FIFO: one reservation at a time

    def _expire(self, now: float) -> None:
        while self.stamps and self.stamps[0] <= now - self.period:
            self.stamps.popleft()

    def wait(self, n: int) -> float:
        """Seconds until n more units fit (0 when they fit now)."""
        now = self.clock()
        self._expire(now)
        n = min(n, self.limit)
        blocked = max(0.0, self.blocked_until - now)
        over = len(self.stamps) + n - self.limit
        if over <= 0:
            return blocked
        # The `over`-th oldest unit must leave the window first.
        return max(blocked, self.stamps[over - 1] + self.period - now)

    def take(self, n: int) -> None:
        """Record n units sent now."""
        now = self.clock()
        self.stamps.extend([now] * n)

    def spare(self) -> int:
        """Units that could go now."""
        now = self.clock()
        self._expire(now)
        if self.blocked_until > now:
            return 0
        return max(0, self.limit - len(self.stamps))

    def block(self, seconds: float) -> None:
        """Telegram said 429: nothing goes until `seconds` from now."""
        self.blocked_until = max(self.blocked_until, self.clock() + seconds)

    def idle(self) -> bool:
        """Nothing recorded in the window and nobody waiting: safe to forget."""
        self._expire(self.clock())
        return not self.stamps and not self.lock.locked() and self.blocked_until < self.clock()


class GroupRateLimiter(BaseRateLimiter[int]):
    """Paces requests per group (messages, albums counted per item) and overall."""

    def __init__(
        self,
        *,
        group_messages: int = GROUP_MESSAGES,
        group_period: float = GROUP_PERIOD,
        overall_per_s: int = OVERALL_PER_S,
        max_retries: int = 3,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.group_messages, self.group_period = group_messages, group_period
        self.clock = clock
        self.max_retries = max_retries
        self.overall = SlidingWindow(overall_per_s, 1.0, clock)
        self.groups: dict[int, SlidingWindow] = {}
        self.retry_afters = 0  # 429s Telegram still answered (the goal is none)

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""

    def _group(self, chat_id: int) -> SlidingWindow:
        window = self.groups.get(chat_id)
        if window is None:
            if len(self.groups) > 1024:  # forget groups quiet for a whole window
                for key in [k for k, w in self.groups.items() if w.idle()]:
                    del self.groups[key]
            window = SlidingWindow(self.group_messages, self.group_period, self.clock)
            self.groups[chat_id] = window
        return window

    def spare(self, chat_id: int) -> int:
        """Messages the group could get right now."""
        return self._group(chat_id).spare() if chat_id < 0 else self.group_messages

    def wait_for(self, chat_id: int, n: int) -> float:
        """Seconds until the group could get n messages (0 for a private chat)."""
        return self._group(chat_id).wait(n) if chat_id < 0 else 0.0

    @staticmethod
    async def _reserve(window: SlidingWindow, n: int) -> None:
        async with window.lock:
            while (wait := window.wait(n)) > 0:
                await asyncio.sleep(wait)
            window.take(n)

    async def _reserve_group(self, group: SlidingWindow, cost: int) -> None:
        """Room in the group's window and the bot's, recorded at the moment of the call: the
        group's units are stamped only once the overall wait is over, so a call held back by
        the overall limit never reaches Telegram later than the group's window believes."""
        async with group.lock:
            while True:
                while (wait := group.wait(cost)) > 0:
                    await asyncio.sleep(wait)
                await self._reserve(self.overall, 1)
                if group.wait(cost) == 0:  # a 429 may have blocked the group meanwhile
                    group.take(cost)
                    return

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        """Wait for room in the group's and the bot's windows, then call; retry after a 429."""
        chat_id = _chat_id(data.get("chat_id"))
        cost = message_cost(endpoint, data)
        group = self._group(chat_id) if chat_id is not None and chat_id < 0 and cost else None
        retries = self.max_retries if rate_limit_args is None else rate_limit_args
        for attempt in range(retries + 1):
            if group is not None:
                await self._reserve_group(group, cost)
            elif chat_id is not None:
                await self._reserve(self.overall, 1)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                self.retry_afters += 1
                wait = retry_seconds(exc) + 0.1
                (group or self.overall).block(wait)
                if attempt == retries:
                    raise
                log.info("Telegram asked to wait %.1f s (%s in %s)", wait, endpoint, chat_id)
        raise AssertionError("unreachable: the last attempt returns or raises")


def _chat_id(value: object) -> int | None:
    """The integer chat id of a call (the bot never addresses chats by @username)."""
    if isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value)
    return value if isinstance(value, int) and not isinstance(value, bool) else None
