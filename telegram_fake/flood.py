"""Optional flood control like Telegram's: token buckets per bot, per group and per chat."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from telegram_fake.errors import ApiError, too_many_requests

# Methods that post messages, and how many messages one call posts.
SENDING = frozenset(
    {
        "sendmessage",
        "sendphoto",
        "sendmediagroup",
        "sendanimation",
        "senddocument",
        "sendvideo",
        "sendsticker",
        "sendpoll",
        "copymessage",
        "forwardmessage",
    }
)
# In a group, edits and stopPoll count against the group's messages per minute too (Telegram
# publishes no separate figure for edits; bots that edit a busy group's message get 429s).
GROUP_EDITS = frozenset(
    {
        "editmessagetext",
        "editmessagecaption",
        "editmessagemedia",
        "editmessagereplymarkup",
        "stoppoll",
    }
)


@dataclass
class Bucket:
    """`capacity` messages at once, refilled at `rate` messages per second."""

    capacity: float
    rate: float
    tokens: float = -1.0
    stamp: float = 0.0

    def take(self, n: int, now: float) -> float:
        """Take n tokens; 0.0 when allowed, else the seconds until they would be there."""
        if self.tokens < 0:
            self.tokens, self.stamp = self.capacity, now
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= n:
            self.tokens -= n
            return 0.0
        return (n - self.tokens) / self.rate


@dataclass
class FloodControl:
    """Telegram's published limits: ~30 msg/s per bot, 20 msg/min per group, ~1 msg/s per chat.

    Private chats get a burst (`chat_burst`) because Telegram tolerates short bursts there;
    a refused call costs nothing, as on Telegram.
    """

    per_bot_per_s: float = 30.0
    per_group_per_min: float = 20.0
    per_chat_per_s: float = 1.0
    chat_burst: float = 10.0
    clock: Callable[[], float] = time.monotonic
    _buckets: dict[object, Bucket] = field(default_factory=dict)

    def _bucket(self, key: object, capacity: float, rate: float) -> Bucket:
        if key not in self._buckets:
            self._buckets[key] = Bucket(capacity, rate)
        return self._buckets[key]

    def check(self, method: str, chat_id: int | None, is_group: bool, count: int = 1) -> None:
        """Raise 429 with retry_after when this call would break a limit."""
        counted = method in SENDING or (is_group and method in GROUP_EDITS)
        if not counted or chat_id is None:
            return
        now = self.clock()
        buckets = [self._bucket("bot", self.per_bot_per_s, self.per_bot_per_s)]
        if is_group:
            buckets.append(
                self._bucket(chat_id, self.per_group_per_min, self.per_group_per_min / 60)
            )
        else:
            buckets.append(self._bucket(chat_id, self.chat_burst, self.per_chat_per_s))
        for bucket in buckets:  # peek all first so a refusal takes nothing
            wait = _peek(bucket, count, now)
            if wait > 0:
                raise_after(wait)
        for bucket in buckets:
            bucket.take(count, now)


def _peek(bucket: Bucket, n: int, now: float) -> float:
    probe = Bucket(bucket.capacity, bucket.rate, bucket.tokens, bucket.stamp)
    return probe.take(n, now)


def raise_after(wait: float) -> None:
    """Raise Telegram's 429 for a wait of `wait` seconds (rounded up, at least 1)."""
    error: ApiError = too_many_requests(max(1, math.ceil(wait)))
    raise error
