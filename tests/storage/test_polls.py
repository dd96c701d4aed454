"""Group rounds in storage: poll picks, quorum/deadline closing once, settings, migration."""

from __future__ import annotations

import asyncio
import pathlib
import time
from collections.abc import AsyncIterator

import aiosqlite
import numpy as np
import pytest

import storage as st
from storage import schema
from tests.storage.test_migrations import CHAT as OLD_GROUP
from tests.storage.test_migrations import fill_v1, raw_db

DIM, LATENT = 4, 8
GROUP, SUPERGROUP = -4001, -1005001


def faces(n: int = 4) -> list[st.NewFace]:
    rng = np.random.default_rng(n)
    return [
        st.NewFace(rng.random(DIM), rng.standard_normal(LATENT), "ei", position=i + 1)
        for i in range(n)
    ]


@pytest.fixture
async def conn(tmp_path: pathlib.Path) -> AsyncIterator[aiosqlite.Connection]:
    c = await st.connect(tmp_path / "db.sqlite3")
    await st.upsert_chat(c, GROUP, "group", "Friends")
    yield c
    await c.close()


async def open_round(conn: aiosqlite.Connection, poll_id: str = "p1") -> st.Round:
    session = await st.start_session(
        conn, GROUP, "m", {"dim": DIM}, latent_dim=LATENT, started_by=7
    )
    assert session.started_by == 7
    rnd = await st.record_album(conn, session.id, faces(), [11, 12, 13, 14], 15)
    await st.attach_poll(conn, rnd.id, poll_id, 16)
    return rnd


async def test_a_poll_answer_replaces_the_voters_picks_and_an_empty_one_retracts(
    conn: aiosqlite.Connection,
) -> None:
    rnd = await open_round(conn)
    assert await st.poll_chat(conn, "p1") == GROUP
    assert (await st.get_round(conn, rnd.id)).poll_message_id == 16  # type: ignore[union-attr]
    first = await st.cast_picks(conn, "p1", 1, [2, 3], quorum=3, deadline_s=120)
    assert first is not None and first.status == "recorded" and first.state.voters == 1
    assert first.state.deadline is not None  # armed by the first vote
    again = await st.cast_picks(conn, "p1", 1, [4], quorum=3, deadline_s=120)
    assert again is not None and again.state.deadline == first.state.deadline  # not re-armed
    tally = await st.round_tally(conn, rnd.id)
    assert tally is not None and tally.picks == [(4, 1)] and tally.voters == [1]
    gone = await st.cast_picks(conn, "p1", 1, [], quorum=3, deadline_s=120)
    assert gone is not None and gone.state.voters == 0
    assert (await st.round_tally(conn, rnd.id)).picks == []  # type: ignore[union-attr]
    assert await st.cast_picks(conn, "unknown poll", 1, [1], quorum=3, deadline_s=120) is None
    with pytest.raises(st.BadValue):
        await st.cast_picks(conn, "p1", 1, [9], quorum=3, deadline_s=120)


async def test_fifty_racing_voters_close_the_round_exactly_once(
    conn: aiosqlite.Connection,
) -> None:
    rnd = await open_round(conn)
    results = await asyncio.gather(
        *(
            st.cast_picks(conn, "p1", 100 + i, [1 + i % 4], quorum=3, deadline_s=120)
            for i in range(50)
        )
    )
    statuses = [r.status for r in results if r is not None]
    assert statuses.count("closed") == 1
    assert statuses.count("recorded") == 2 and statuses.count("late") == 47
    # Every answer Telegram accepted is kept: late picks are still that person's view.
    tally = await st.round_tally(conn, rnd.id)
    assert tally is not None and not tally.is_open and len(tally.voters) == 50
    assert not await st.close_round(conn, rnd.id)


async def test_ratings_settle_the_round_like_picks(conn: aiosqlite.Connection) -> None:
    rnd = await open_round(conn)
    ids = [f.id for f in rnd.faces]
    await st.cast_votes(conn, GROUP, 1, [(ids[0], 9.0)])
    state = await st.settle_round(conn, rnd.id, quorum=2, deadline_s=None)
    assert not state.closed_now and state.voters == 1 and state.deadline is None
    await st.cast_picks(conn, "p1", 1, [2], quorum=5, deadline_s=None)  # the same person
    assert (await st.settle_round(conn, rnd.id, quorum=2, deadline_s=None)).voters == 1
    await st.cast_votes(conn, GROUP, 2, [(ids[1], 3.0)])
    closing = await st.settle_round(conn, rnd.id, quorum=2, deadline_s=None)
    assert closing.closed_now and closing.voters == 2
    assert not (await st.settle_round(conn, rnd.id, quorum=2, deadline_s=None)).closed_now


async def test_the_deadline_closes_once_and_waits_while_nobody_voted(
    conn: aiosqlite.Connection,
) -> None:
    rnd = await open_round(conn)
    assert await st.expire_round(conn, rnd.id) == ("empty", None)  # nothing armed
    picked = await st.cast_picks(conn, "p1", 1, [1], quorum=3, deadline_s=60)
    assert picked is not None and picked.state.deadline is not None
    status, deadline = await st.expire_round(conn, rnd.id)
    assert status == "not_due" and deadline == pytest.approx(time.time() + 60, abs=5)
    await st.cast_picks(conn, "p1", 1, [], quorum=3, deadline_s=60)  # retracted
    await st.set_round_deadline(conn, rnd.id, time.time() - 1)
    assert (await st.expire_round(conn, rnd.id))[0] == "empty"
    assert (await st.get_round(conn, rnd.id)).deadline is None  # type: ignore[union-attr]
    await st.cast_picks(conn, "p1", 2, [3], quorum=3, deadline_s=60)  # a new first vote
    await st.set_round_deadline(conn, rnd.id, time.time() - 1)
    assert (await st.expire_round(conn, rnd.id))[0] == "closed"
    assert (await st.expire_round(conn, rnd.id))[0] == "gone"
    late = await st.cast_picks(conn, "p1", 3, [4], quorum=3, deadline_s=60)
    assert late is not None and late.status == "late"


async def test_history_carries_picks_for_the_search(conn: aiosqlite.Connection) -> None:
    rnd = await open_round(conn)
    await st.cast_picks(conn, "p1", 5, [2], quorum=9, deadline_s=None)
    await st.cast_votes(conn, GROUP, 6, [(rnd.faces[0].id, 7.0)])
    history = await st.session_history(conn, rnd.session_id)
    assert history.picks == [(1, 5)] and history.votes == [(0, 6, 7.0)]
    assert list(history.rounds) == [1, 1, 1, 1]


async def test_a_supergroup_migration_keeps_picks_settings_and_the_open_round(
    conn: aiosqlite.Connection,
) -> None:
    rnd = await open_round(conn)
    await st.update_chat_settings(conn, GROUP, {"quorum": 5, "show_names": True})
    await st.cast_picks(conn, "p1", 1, [2], quorum=5, deadline_s=None)
    await st.cast_votes(conn, GROUP, 2, [(rnd.faces[2].id, 8.0)], "8", 20)
    assert await st.request_restart(conn, GROUP, 1) == 1
    assert await st.migrate_chat(conn, GROUP, SUPERGROUP)
    assert await st.chat_settings(conn, SUPERGROUP) == {"quorum": 5, "show_names": True}
    moved = await st.open_round(conn, SUPERGROUP)
    assert moved is not None and moved.id == rnd.id and moved.poll_message_id is None
    assert moved.message_ids == [None] * 4  # the group's photos are not in the supergroup
    assert await st.poll_chat(conn, "p1") == SUPERGROUP
    tally = await st.round_tally(conn, rnd.id)
    assert tally is not None and tally.chat_id == SUPERGROUP and sorted(tally.voters) == [1, 2]
    await st.reattach_album(conn, rnd.id, [3, 4, 5, 6])
    face = await st.face_by_message(conn, SUPERGROUP, 4)
    assert face is not None and face.position == 2
    assert await st.request_restart(conn, SUPERGROUP, 2) == 2  # the request moved too
    exported = await st.export_chat(conn, SUPERGROUP)
    assert exported is not None and [p["user_id"] for p in exported["picks"]] == [1]


async def test_restart_requests_count_distinct_members_of_the_open_search(
    conn: aiosqlite.Connection,
) -> None:
    assert await st.request_restart(conn, GROUP, 1) is None  # no search
    await open_round(conn)
    assert await st.request_restart(conn, GROUP, 1) == 1
    assert await st.request_restart(conn, GROUP, 1) == 1
    assert await st.request_restart(conn, GROUP, 2) == 2
    await st.start_session(conn, GROUP, "m", {"dim": DIM})
    assert await st.request_restart(conn, GROUP, 2) == 1  # a new search starts afresh


async def test_chat_settings_merge_in_one_step(conn: aiosqlite.Connection) -> None:
    assert await st.chat_settings(conn, GROUP) == {}
    assert await st.update_chat_settings(conn, GROUP, {"quorum": 4, "album_size": 6}) == {
        "quorum": 4,
        "album_size": 6,
    }
    assert await st.update_chat_settings(conn, GROUP, {"quorum": None, "scale": "1-5"}) == {
        "album_size": 6,
        "scale": "1-5",
    }
    with pytest.raises(st.NotFound):
        await st.update_chat_settings(conn, 777, {"quorum": 2})


async def test_upgrade_from_the_step_before_keeps_the_open_round_and_its_votes(
    tmp_path: pathlib.Path,
) -> None:
    mine = schema.MIGRATIONS.index(schema._v5_group_votes)  # the lead may renumber steps
    path = tmp_path / "old.sqlite3"
    raw = await raw_db(path, mine)
    await fill_v1(raw)  # a group's open search: one round of 2 faces, 3 votes by 2 people
    await raw.close()
    conn = await st.connect(path)
    try:
        assert await st.schema_version(conn) == st.SCHEMA_VERSION
        session = await st.open_session(conn, OLD_GROUP)
        assert session is not None and session.id == 1 and session.started_by is None
        rnd = await st.open_round(conn, OLD_GROUP)
        assert rnd is not None and rnd.id == 1 and rnd.poll_message_id is None
        # The round opened before the upgrade takes a poll and its picks like a new one.
        await st.attach_poll(conn, rnd.id, "p-old", 16)
        picked = await st.cast_picks(conn, "p-old", 1, [2], quorum=5, deadline_s=None)
        assert picked is not None and picked.status == "recorded" and picked.state.voters == 2
        history = await st.session_history(conn, 1)
        assert sorted(history.votes) == [(0, 1, 3.0), (1, 1, 9.0), (1, 2, 7.0)]
        assert history.picks == [(1, 1)]
        assert await st.request_restart(conn, OLD_GROUP, 2) == 1
    finally:
        await conn.close()
