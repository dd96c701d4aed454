"""The inbox (storage.inbox): updates stored once, counted, finished once, applied once."""

from __future__ import annotations

import pathlib
from collections.abc import AsyncIterator

import aiosqlite
import numpy as np
import pytest

import storage as st

CHAT = 5001


def received(*ids: int, chat: int | None = CHAT) -> list[st.ReceivedUpdate]:
    return [st.ReceivedUpdate(i, chat, f'{{"update_id": {i}}}') for i in ids]


@pytest.fixture
async def conn(tmp_path: pathlib.Path) -> AsyncIterator[aiosqlite.Connection]:
    c = await st.connect(tmp_path / "db.sqlite3")
    await st.upsert_chat(c, CHAT, "private")
    yield c
    await c.close()


async def test_a_batch_is_stored_once_and_comes_back_in_order_until_finished(
    conn: aiosqlite.Connection,
) -> None:
    assert await st.receive_updates(conn, received(12, 10, 11)) == [12, 10, 11]
    # The same batch again (Telegram resends what was not confirmed): nothing new.
    assert await st.receive_updates(conn, received(10, 11, 12, 13)) == [13]
    pending = await st.pending_updates(conn)
    assert [u.update_id for u in pending] == [10, 11, 12, 13]
    assert pending[0].payload == '{"update_id": 10}' and pending[0].chat_id == CHAT
    assert await st.finish_update(conn, 11, "done")
    assert not await st.finish_update(conn, 11, "done")  # finished exactly once
    assert await st.finish_update(conn, 12, "skipped", "unparseable")
    assert [u.update_id for u in await st.pending_updates(conn)] == [10, 13]
    assert await st.inbox_counts(conn) == {"pending": 2, "done": 1, "skipped": 1}
    async with conn.execute("SELECT payload, error FROM inbox WHERE update_id = 12") as cur:
        row = await cur.fetchone()
    assert row is not None and row[0] is None and row[1] == "unparseable"  # no text kept


async def test_attempts_are_counted_before_the_work(conn: aiosqlite.Connection) -> None:
    await st.receive_updates(conn, received(1))
    assert await st.start_attempt(conn, 1) == 1
    assert await st.start_attempt(conn, 1) == 2  # a crash mid-update counts
    assert (await st.pending_updates(conn))[0].attempts == 2
    await st.finish_update(conn, 1)
    assert await st.start_attempt(conn, 1) == 0  # finished: never run again
    assert await st.start_attempt(conn, 99) is None  # never received


async def test_a_bad_update_id_or_state_is_refused(conn: aiosqlite.Connection) -> None:
    with pytest.raises(st.BadValue):
        await st.receive_updates(conn, [st.ReceivedUpdate("7", None, "{}")])  # type: ignore[arg-type]
    await st.receive_updates(conn, received(1))
    with pytest.raises(st.BadValue):
        await st.finish_update(conn, 1, "pending")  # type: ignore[arg-type]
    assert await st.inbox_counts(conn) == {"pending": 1, "done": 0, "skipped": 0}


async def test_prune_forgets_only_old_finished_updates(conn: aiosqlite.Connection) -> None:
    await st.receive_updates(conn, received(1, 2, 3))
    await st.finish_update(conn, 1)
    await st.finish_update(conn, 2)
    await conn.execute(
        "UPDATE inbox SET finished_at = finished_at - 10 * 86400 WHERE update_id = 1"
    )
    assert await st.prune_inbox(conn) == 1
    assert await st.inbox_counts(conn) == {"pending": 1, "done": 1, "skipped": 0}
    assert await st.receive_updates(conn, received(1)) == [1]  # a reused id is new again


async def test_a_replayed_start_keeps_the_search_the_first_run_started(
    conn: aiosqlite.Connection,
) -> None:
    await st.receive_updates(conn, received(40))
    first = await st.start_session(conn, CHAT, "m", {}, dim=2, update_id=40)
    with pytest.raises(st.AlreadyApplied):
        await st.start_session(conn, CHAT, "m", {}, dim=2, update_id=40)
    still = await st.open_session(conn, CHAT)
    assert still is not None and still.id == first.id
    # Without an update id (or one never stored) nothing is claimed: always applied.
    other = await st.start_session(conn, CHAT, "m", {}, dim=2, update_id=None)
    assert other.id != first.id
    assert (await st.start_session(conn, CHAT, "m", {}, dim=2, update_id=777)).id > other.id


async def test_a_replayed_undo_takes_back_one_vote_only(conn: aiosqlite.Connection) -> None:
    rng = np.random.default_rng(0)
    session = await st.start_session(conn, CHAT, "m", {}, dim=2, latent_dim=3)
    faces = [st.NewFace(rng.random(2), rng.random(3), "ei", i + 1) for i in range(2)]
    rnd = await st.record_album(conn, session.id, faces, [1, 2])
    await st.cast_votes(conn, CHAT, 7, [(rnd.faces[0].id, 3.0)], "#1 3", 10)
    await st.cast_votes(conn, CHAT, 7, [(rnd.faces[1].id, 4.0)], "#2 4", 11)
    await st.receive_updates(conn, received(50))
    undone = await st.undo_last_vote(conn, CHAT, 7, update_id=50)
    assert undone is not None and undone.value == 4.0
    with pytest.raises(st.AlreadyApplied):
        await st.undo_last_vote(conn, CHAT, 7, update_id=50)  # the replay after a crash
    assert [v.value for v in await st.round_votes(conn, rnd.id)] == [3.0]


async def test_mark_applied_only_inside_the_callers_transaction(
    conn: aiosqlite.Connection,
) -> None:
    await st.receive_updates(conn, received(60))
    assert await st.mark_applied(conn, None)
    assert await st.mark_applied(conn, 60)
    assert not await st.mark_applied(conn, 60)
    assert (await st.pending_updates(conn))[0].applied
