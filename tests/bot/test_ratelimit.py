"""The bot's rate limiter: group messages counted as Telegram counts them (albums per photo,
edits too), FIFO per group, never over the window; 429s retried; figures for the tally."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from telegram.error import RetryAfter

from bot.ratelimit import GroupRateLimiter, SlidingWindow, message_cost

GROUP, OTHER_GROUP, PRIVATE = -4001, -4002, 42


def test_message_cost_counts_album_items_and_edits() -> None:
    album = {"chat_id": GROUP, "media": [object()] * 4}
    assert message_cost("sendMediaGroup", album) == 4
    assert message_cost("sendMessage", {}) == 1
    assert message_cost("editMessageText", {}) == 1
    assert message_cost("stopPoll", {}) == 1
    assert message_cost("sendChatAction", {}) == 0
    assert message_cost("getChatMemberCount", {}) == 0


def test_a_sliding_window_never_holds_more_than_its_limit() -> None:
    now = [100.0]
    window = SlidingWindow(5, 60.0, lambda: now[0])
    window.take(4)
    assert window.spare() == 1 and window.wait(1) == 0
    now[0] += 10
    window.take(1)
    assert window.wait(1) == pytest.approx(50.0)  # the first four leave at t=160
    assert window.wait(5) == pytest.approx(60.0)  # all five: the last leaves at t=170
    now[0] += 50
    assert window.spare() == 4
    window.block(7)
    assert window.spare() == 0 and window.wait(1) == pytest.approx(7.0)


class Recorder:
    """A fake Bot API call: records when each message-producing call happened."""

    def __init__(self) -> None:
        self.calls: list[tuple[float, str, int]] = []
        self.fail_with: list[Exception] = []

    async def __call__(self, endpoint: str, data: dict[str, Any]) -> bool:
        if self.fail_with:
            raise self.fail_with.pop(0)
        self.calls.append((time.monotonic(), endpoint, message_cost(endpoint, data)))
        return True


async def send(
    limiter: GroupRateLimiter, recorder: Recorder, endpoint: str, data: dict[str, Any]
) -> Any:
    return await limiter.process_request(
        recorder, (endpoint, data), {}, endpoint, data, rate_limit_args=None
    )


async def test_a_group_never_gets_more_than_its_window_allows() -> None:
    limiter = GroupRateLimiter(group_messages=6, group_period=0.6)
    recorder = Recorder()
    album = {"chat_id": GROUP, "media": [1, 2, 3, 4]}
    jobs = [send(limiter, recorder, "sendMediaGroup", album) for _ in range(3)]
    jobs += [send(limiter, recorder, "editMessageText", {"chat_id": GROUP}) for _ in range(5)]
    # 28 requests in all: under the bot's 30 a second, so only the group's window holds any.
    jobs += [send(limiter, recorder, "sendMessage", {"chat_id": PRIVATE}) for _ in range(10)]
    jobs += [send(limiter, recorder, "getChatMember", {"chat_id": GROUP}) for _ in range(10)]
    started = time.monotonic()
    await asyncio.gather(*jobs)
    # Only the group's messages count: 3 albums of 4 and 5 edits, at most 6 in any 0.6 s.
    group_units = sorted(
        t for t, endpoint, cost in recorder.calls if endpoint != "sendMessage" for _ in range(cost)
    )
    assert len(group_units) == 17
    for i, t in enumerate(group_units):
        inside = [u for u in group_units[i:] if u < t + 0.6 - 0.02]
        assert len(inside) <= 6
    assert time.monotonic() - started >= 1.1  # 17 units need at least two full windows
    # Private chats and reads were never held back by the group.
    private = [t for t, endpoint, _ in recorder.calls if endpoint == "sendMessage"]
    assert max(private) - started < 0.5


async def test_groups_are_paced_apart_and_report_their_room() -> None:
    limiter = GroupRateLimiter(group_messages=4, group_period=30.0)
    recorder = Recorder()
    await send(limiter, recorder, "sendMediaGroup", {"chat_id": GROUP, "media": [1, 2, 3]})
    assert limiter.spare(GROUP) == 1 and limiter.spare(OTHER_GROUP) == 4
    assert limiter.wait_for(GROUP, 1) == 0
    assert 29 < limiter.wait_for(GROUP, 2) <= 30
    assert limiter.wait_for(PRIVATE, 100) == 0
    await send(limiter, recorder, "sendMessage", {"chat_id": OTHER_GROUP})  # not held
    assert limiter.spare(OTHER_GROUP) == 3


async def test_a_429_blocks_the_group_and_the_call_is_retried() -> None:
    limiter = GroupRateLimiter(max_retries=2)
    recorder = Recorder()
    recorder.fail_with = [RetryAfter(1)]
    started = time.monotonic()
    assert await send(limiter, recorder, "sendMessage", {"chat_id": GROUP}) is True
    assert time.monotonic() - started >= 1.0 and limiter.retry_afters == 1
    recorder.fail_with = [RetryAfter(0), RetryAfter(0), RetryAfter(0)]
    with pytest.raises(RetryAfter):
        await send(limiter, recorder, "sendMessage", {"chat_id": GROUP})
    assert limiter.retry_afters == 4
