"""Per-chat serialisation (bot.ordering): one lock per chat, waiters served in arrival order."""

from __future__ import annotations

import asyncio
import gc

from bot.ordering import ChatLocks


async def test_chat_locks_are_shared_while_held_and_dropped_after() -> None:
    locks = ChatLocks()
    lock = locks.get(7)
    assert locks.get(7) is lock and locks.get(8) is not lock
    async with lock:
        assert locks.get(7).locked()
    del lock
    gc.collect()
    assert len(locks) == 0  # no lock kept for chats nobody is waiting on


async def test_chat_lock_serves_waiters_in_arrival_order() -> None:
    locks = ChatLocks()
    order: list[int] = []
    inside: list[int] = []  # who holds the chat's lock right now

    async def job(i: int) -> None:
        async with locks.get(1):
            inside.append(i)
            assert inside == [i], f"job {i} ran while {inside[:-1]} held the chat's lock"
            # The first to arrive works longest: without one shared lock the later, shorter
            # jobs would finish first and the order below would come out reversed.
            await asyncio.sleep(0.01 * (5 - i))
            order.append(i)
            inside.remove(i)

    await asyncio.gather(*(job(i) for i in range(5)))
    assert order == [0, 1, 2, 3, 4]
