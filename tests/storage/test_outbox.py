"""The outbox (storage.outbox): what a chat is owed, the send log, copies without ids, and the
album a bare rating belongs to."""

from __future__ import annotations

import pathlib
from collections.abc import AsyncIterator

import aiosqlite
import numpy as np
import pytest

import storage as st

CHAT, GROUP = 7001, -7002


def faces(n: int = 4, seed: int = 0) -> list[st.NewFace]:
    rng = np.random.default_rng(seed)
    return [st.NewFace(rng.random(2), rng.random(3), "ei", i + 1) for i in range(n)]


@pytest.fixture
async def conn(tmp_path: pathlib.Path) -> AsyncIterator[aiosqlite.Connection]:
    c = await st.connect(tmp_path / "db.sqlite3")
    await st.upsert_chat(c, CHAT, "private")
    await st.upsert_user(c, CHAT, first_name="Ann", language="ru")
    await st.upsert_chat(c, GROUP, "group", "G")
    yield c
    await c.close()


async def test_a_search_owes_an_album_until_it_is_delivered_with_its_prompt(
    conn: aiosqlite.Connection,
) -> None:
    assert await st.owed_album(conn, CHAT) is None  # no search: nothing owed
    session = await st.start_session(conn, CHAT, "m", {}, dim=2, latent_dim=3)
    owed = await st.owed_album(conn, CHAT)
    assert owed is not None and owed.round is None and owed.needs_photos
    assert owed.session_id == session.id and owed.language == "ru"  # the person's language
    planned = await st.record_album(conn, session.id, faces(), [None] * 4)
    owed = await st.owed_album(conn, CHAT)
    assert owed is not None and owed.round is not None and owed.round.id == planned.id
    assert owed.needs_photos  # stored, not sent
    send = await st.begin_album_send(conn, planned.id)
    sent = await st.album_sent(conn, send, [11, 12, 13, 14])
    assert sent.message_ids == [11, 12, 13, 14]
    owed = await st.owed_album(conn, CHAT)
    assert owed is not None and not owed.needs_photos  # the prompt is still owed
    await st.set_prompt_message(conn, planned.id, 15)
    assert await st.owed_album(conn, CHAT) is None
    # Closing the round owes the next album, in that very transaction.
    assert await st.close_round(conn, planned.id)
    owed = await st.owed_album(conn, CHAT)
    assert owed is not None and owed.round is None


async def test_inactive_chats_are_owed_nothing_and_restart_lists_every_owed_chat(
    conn: aiosqlite.Connection,
) -> None:
    await st.start_session(conn, CHAT, "m", {}, dim=2, latent_dim=3)
    await st.start_session(conn, GROUP, "m", {}, dim=2, latent_dim=3)
    assert [o.chat_id for o in await st.owed_albums(conn)] == [GROUP, CHAT]
    await st.set_chat_active(conn, CHAT, False)  # blocked the bot
    assert await st.owed_album(conn, CHAT) is None
    assert [o.chat_id for o in await st.owed_albums(conn)] == [GROUP]
    await st.set_chat_language(conn, GROUP, "ru")
    (group,) = await st.owed_albums(conn)
    assert group.language == "ru"


async def test_the_send_log_and_copies_we_have_no_ids_for(conn: aiosqlite.Connection) -> None:
    session = await st.start_session(conn, CHAT, "m", {}, dim=2, latent_dim=3)
    rnd = await st.record_album(conn, session.id, faces(), [None] * 4)
    lost = await st.begin_album_send(conn, rnd.id)
    await st.album_send_failed(conn, lost, uncertain=True)  # timed out: may have arrived
    refused = await st.begin_album_send(conn, rnd.id)
    await st.album_send_failed(conn, refused, uncertain=False)
    crashed = await st.begin_album_send(conn, rnd.id)  # the process died mid-send
    assert await st.settle_interrupted_sends(conn) == 1
    async with conn.execute("SELECT started_at, outcome FROM album_sends ORDER BY id") as cur:
        log = [tuple(r) for r in await cur.fetchall()]
    assert [o for _, o in log] == ["uncertain", "failed", "uncertain"]
    assert crashed > refused > lost
    t0 = log[0][0]
    found = await st.round_of_lost_copy(conn, CHAT, float(int(t0)))  # Telegram's whole seconds
    assert found is not None and found.id == rnd.id
    assert await st.round_of_lost_copy(conn, CHAT, t0 - 3600) is None
    assert await st.round_of_lost_copy(conn, GROUP, t0) is None
    with pytest.raises(st.NotFound):
        await st.begin_album_send(conn, 999)
    send = await st.begin_album_send(conn, rnd.id)
    with pytest.raises(st.BadValue):
        await st.album_sent(conn, send, [1, 2])


async def test_a_bare_rating_belongs_to_the_album_sent_before_it(
    conn: aiosqlite.Connection,
) -> None:
    session = await st.start_session(conn, CHAT, "m", {}, dim=2, latent_dim=3)
    first = await st.record_album(conn, session.id, faces(), [2, 3, 4, 5])
    await st.set_prompt_message(conn, first.id, 6)
    second = await st.record_album(conn, session.id, faces(seed=1), [9, 10, 11, 12])
    assert await st.round_before_message(conn, CHAT, 1) is None  # before any album
    before = await st.round_before_message(conn, CHAT, 8)  # typed before album 2 arrived
    assert before is not None and before.id == first.id and not before.is_open
    after = await st.round_before_message(conn, CHAT, 13)
    assert after is not None and after.id == second.id
    # A planned album not sent yet is nobody's "album before"...
    third = await st.record_album(conn, session.id, faces(seed=2), [None] * 4)
    now_ = await st.round_before_message(conn, CHAT, 20, 4e9)
    assert now_ is not None and now_.id == second.id
    # ...until a send of it may have arrived: then a message written after that send began
    # rates it (the person may be looking at it), one written before does not.
    send = await st.begin_album_send(conn, third.id)
    await st.album_send_failed(conn, send, uncertain=True)
    async with conn.execute("SELECT started_at FROM album_sends WHERE id = ?", (send,)) as cur:
        row = await cur.fetchone()
    assert row is not None
    started = float(row[0])
    later = await st.round_before_message(conn, CHAT, 20, started + 1)
    assert later is not None and later.id == third.id
    earlier = await st.round_before_message(conn, CHAT, 20, started - 1)
    assert earlier is not None and earlier.id == second.id
