"""Many coroutines on one connection: no vote lost or doubled, no nested transactions."""

from __future__ import annotations

import asyncio
import pathlib
from collections.abc import AsyncIterator

import aiosqlite
import numpy as np
import pytest

import storage as st

CHAT = -500


def album(rng: np.random.Generator, n: int = 4) -> list[st.NewFace]:
    return [st.NewFace(rng.random(8), rng.standard_normal(12), "ei", i + 1) for i in range(n)]


@pytest.fixture
async def conn(tmp_path: pathlib.Path) -> AsyncIterator[aiosqlite.Connection]:
    c = await st.connect(tmp_path / "db.sqlite3")
    await st.upsert_chat(c, CHAT, "supergroup", "Crowd")
    yield c
    await c.close()


async def test_200_concurrent_voters(conn: aiosqlite.Connection) -> None:
    session = await st.start_session(conn, CHAT, "m", {})
    rnd = await st.record_album(conn, session.id, album(np.random.default_rng(0)), [1, 2, 3, 4])
    ids = [f.id for f in rnd.faces]

    def ballot(user: int) -> list[tuple[int, float]]:
        return [(fid, float((user * 7 + k) % 10)) for k, fid in enumerate(ids)]

    users = range(1000, 1200)
    results = await asyncio.gather(
        *(st.cast_votes(conn, CHAT, u, ballot(u), "ballot", 10_000 + u) for u in users)
    )
    assert all(len(r) == 4 for r in results)
    stored = await st.round_votes(conn, rnd.id)
    assert len(stored) == 800
    got = {(v.user_id, v.face_id): v.value for v in stored}
    want = {(u, fid): value for u in users for fid, value in ballot(u)}
    assert got == want  # none lost, none doubled, each with its own value
    async with conn.execute("SELECT n_votes FROM faces WHERE round_id = ?", (rnd.id,)) as cur:
        assert [r[0] for r in await cur.fetchall()] == [200] * 4
    assert len((await st.session_history(conn, session.id)).votes) == 800
    assert not conn.in_transaction


async def test_concurrent_revotes_by_one_user(conn: aiosqlite.Connection) -> None:
    session = await st.start_session(conn, CHAT, "m", {})
    rnd = await st.record_album(conn, session.id, album(np.random.default_rng(1)), [1, 2, 3, 4])
    face = rnd.faces[0].id
    results = await asyncio.gather(
        *(st.cast_votes(conn, CHAT, 7, [(face, float(v))], str(v), 200 + v) for v in range(50)),
        *(st.cast_votes(conn, CHAT, 8, [(face, float(v))], str(v), 300) for v in range(50)),
    )
    stored = await st.round_votes(conn, rnd.id)
    assert sorted(v.user_id for v in stored) == [7, 8]  # one vote per user per face
    for user in (7, 8):
        mine = [v for r in results for v in r if v.user_id == user]
        latest = max(mine, key=lambda v: v.id)  # the last write to commit wins
        (kept,) = [v for v in stored if v.user_id == user]
        assert kept.value == latest.value and kept.id == latest.id


async def test_votes_racing_the_next_album(conn: aiosqlite.Connection) -> None:
    """Votes either land in the round before it closes or are refused; never silently lost."""
    rng = np.random.default_rng(2)
    session = await st.start_session(conn, CHAT, "m", {})
    rnd = await st.record_album(conn, session.id, album(rng), [1, 2, 3, 4])
    face = rnd.faces[1].id

    async def vote(user: int) -> list[st.Vote] | None:
        await asyncio.sleep(0.0005 * (user % 20))
        try:
            return await st.cast_votes(conn, CHAT, user, [(face, 5.0)], "5", 900 + user)
        except st.RoundClosed:
            return None

    async def next_album() -> st.Round:
        await asyncio.sleep(0.004)
        return await st.record_album(conn, session.id, album(rng), [5, 6, 7, 8])

    outcome = await asyncio.gather(*(vote(u) for u in range(60)), next_album())
    accepted = {u for u, r in enumerate(outcome[:60]) if r is not None}
    stored = {v.user_id for v in await st.round_votes(conn, rnd.id)}
    assert stored == accepted
    nxt = outcome[60]
    assert isinstance(nxt, st.Round) and nxt.number == 2


async def test_cancelled_calls_leave_no_open_transaction(conn: aiosqlite.Connection) -> None:
    """A handler cancelled at any await (BEGIN, INSERT, COMMIT, lock) never wedges the conn."""
    session = await st.start_session(conn, CHAT, "m", {})
    rnd = await st.record_album(conn, session.id, album(np.random.default_rng(3)), [1, 2, 3, 4])
    face = rnd.faces[0].id
    ok: set[int] = set()
    # Sweep the moment of cancellation across the whole call, loop iteration by iteration.
    for user in range(80):
        task = asyncio.create_task(st.cast_votes(conn, CHAT, user, [(face, 1.0)]))
        rival = asyncio.create_task(st.cast_votes(conn, CHAT, 1000 + user, [(face, 2.0)]))
        for _ in range(user // 2):
            await asyncio.sleep(0)
        if user % 2:
            await asyncio.sleep(0.0001 * (user % 7))
        task.cancel()
        done = await asyncio.gather(task, rival, return_exceptions=True)
        assert isinstance(done[1], list)  # the next caller always gets a clean transaction
        if isinstance(done[0], list):
            ok.add(user)
        assert not conn.in_transaction
    stored = {v.user_id for v in await st.round_votes(conn, rnd.id)}
    # A call cancelled while its COMMIT is in flight may still have committed; one that
    # returned must have.
    assert ok | {1000 + u for u in range(80)} <= stored
    assert stored <= set(range(80)) | {1000 + u for u in range(80)}


async def test_backup_waits_for_a_transaction_in_flight(
    conn: aiosqlite.Connection, tmp_path: pathlib.Path
) -> None:
    """A backup started while another call holds a write transaction waits for its COMMIT.

    SQLite's backup of a connection that is inside a write transaction spins forever on
    SQLITE_LOCKED, and on aiosqlite's single thread that COMMIT could then never run.
    """
    from storage.db import write_tx

    began = asyncio.Event()

    async def writer() -> None:
        async with write_tx(conn):
            await conn.execute("UPDATE chats SET title = ? WHERE chat_id = ?", ("Renamed", CHAT))
            began.set()
            await asyncio.sleep(0.05)

    async def backup() -> None:
        await began.wait()
        await st.backup_to(conn, tmp_path / "copy.sqlite3")

    await asyncio.wait_for(asyncio.gather(writer(), backup()), timeout=10)
    copy = await st.connect(tmp_path / "copy.sqlite3")
    try:
        chat = await st.get_chat(copy, CHAT)
    finally:
        await copy.close()
    assert chat is not None and chat.title == "Renamed"
