"""Storage behaviour through the public API: albums, votes, history, undo, export, forget."""

from __future__ import annotations

import json
import pathlib
from collections.abc import AsyncIterator

import aiosqlite
import numpy as np
import pytest

import storage as st
from tests.imports import loaded_after_importing

DIM, LATENT = 16, 32
CHAT, OTHER_CHAT = -1001, -2002


def new_faces(rng: np.random.Generator, n: int = 4, source: str = "ei") -> list[st.NewFace]:
    return [
        st.NewFace(
            point=rng.random(DIM),
            latent=rng.standard_normal(LATENT).astype(np.float32),
            source=source,
            position=i + 1,
        )
        for i in range(n)
    ]


@pytest.fixture
async def conn(tmp_path: pathlib.Path) -> AsyncIterator[aiosqlite.Connection]:
    c = await st.connect(tmp_path / "db.sqlite3")
    await st.upsert_chat(c, CHAT, "group", "Group", "en")
    await st.upsert_chat(c, OTHER_CHAT, "private", None, "ru")
    yield c
    await c.close()


async def scalar(conn: aiosqlite.Connection, sql: str, params: tuple[object, ...] = ()) -> object:
    async with conn.execute(sql, params) as cur:
        row = await cur.fetchone()
    assert row is not None
    return row[0]


async def test_connect_sets_pragmas(conn: aiosqlite.Connection) -> None:
    assert await scalar(conn, "PRAGMA journal_mode") == "wal"
    assert await scalar(conn, "PRAGMA foreign_keys") == 1
    assert await scalar(conn, "PRAGMA synchronous") == 2  # FULL
    assert await st.schema_version(conn) == st.SCHEMA_VERSION


async def test_chat_upsert_keeps_chosen_language(conn: aiosqlite.Connection) -> None:
    await st.set_chat_language(conn, CHAT, "ru")
    chat = await st.upsert_chat(conn, CHAT, "group", None, "en")
    assert chat.language == "ru" and chat.title == "Group" and chat.active
    await st.set_chat_active(conn, CHAT, False)
    await st.set_chat_settings(conn, CHAT, {"album_size": 6})
    chat2 = await st.get_chat(conn, CHAT)
    assert chat2 is not None and not chat2.active and chat2.settings == {"album_size": 6}
    with pytest.raises(st.NotFound):
        await st.set_chat_active(conn, 12345, True)
    assert await st.get_chat(conn, 12345) is None


async def test_album_round_trip_and_lookups(conn: aiosqlite.Connection) -> None:
    rng = np.random.default_rng(0)
    session = await st.start_session(conn, CHAT, "m1", {"dim": DIM}, latent_dim=LATENT)
    faces = new_faces(rng)
    rnd = await st.record_album(
        conn, session.id, faces, [101, 102, 103, 104], 105, state={"search": {"n": 4}}
    )
    current = await st.open_session(conn, CHAT)
    assert current is not None and current.state == {"search": {"n": 4}}
    assert rnd.number == 1 and rnd.is_open and rnd.message_ids == [101, 102, 103, 104]
    for stored, given in zip(rnd.faces, faces, strict=True):
        assert stored.point.dtype == np.float32 and stored.point.shape == (DIM,)
        np.testing.assert_array_equal(stored.point, given.point.astype(np.float32))
        np.testing.assert_array_equal(stored.latent, given.latent)
        assert stored.model_version == "m1" and stored.source == "ei"
    face = await st.face_by_message(conn, CHAT, 103)
    assert face is not None and face.id == rnd.faces[2].id and face.position == 3
    assert await st.face_by_message(conn, OTHER_CHAT, 103) is None  # ids are per chat
    assert await st.face_by_message(conn, CHAT, 105) is None  # the prompt is no face
    by_prompt = await st.round_by_message(conn, CHAT, 105)
    by_photo = await st.round_by_message(conn, CHAT, 101)
    assert by_prompt is not None and by_photo is not None and by_prompt.id == by_photo.id == rnd.id
    opened = await st.open_round(conn, CHAT)
    assert opened is not None and opened.id == rnd.id and len(opened.faces) == 4
    await st.set_round_poll(conn, rnd.id, "poll-7")
    polled = await st.round_by_poll(conn, "poll-7")
    assert polled is not None and polled.id == rnd.id and polled.poll_id == "poll-7"


async def test_next_album_closes_previous_round(conn: aiosqlite.Connection) -> None:
    rng = np.random.default_rng(1)
    session = await st.start_session(conn, CHAT, "m1", {})
    r1 = await st.record_album(conn, session.id, new_faces(rng), [1, 2, 3, 4])
    r2 = await st.record_album(conn, session.id, new_faces(rng), [5, 6, 7, 8])
    assert r2.number == 2
    old = await st.get_round(conn, r1.id)
    assert old is not None and not old.is_open
    opened = await st.open_round(conn, CHAT)
    assert opened is not None and opened.id == r2.id
    other = await st.start_session(conn, OTHER_CHAT, "m1", {})
    r3 = await st.record_album(conn, other.id, new_faces(rng), [1, 2, 3, 4], deadline=123.0)
    everywhere = await st.open_rounds(conn)
    assert [(r.id, r.deadline) for r in everywhere] == [(r2.id, None), (r3.id, 123.0)]


async def test_close_round_is_idempotent(conn: aiosqlite.Connection) -> None:
    session = await st.start_session(conn, CHAT, "m1", {})
    rnd = await st.record_album(conn, session.id, new_faces(np.random.default_rng(2)), [1, 2, 3, 4])
    assert await st.close_round(conn, rnd.id) is True
    assert await st.close_round(conn, rnd.id) is False
    assert await st.close_round(conn, 999_999) is False
    assert await st.open_round(conn, CHAT) is None


async def test_votes_revote_edit_and_history(conn: aiosqlite.Connection) -> None:
    rng = np.random.default_rng(3)
    session = await st.start_session(conn, CHAT, "m1", {"dim": DIM})
    rnd = await st.record_album(conn, session.id, new_faces(rng), [1, 2, 3, 4])
    ids = [f.id for f in rnd.faces]
    await st.cast_votes(conn, CHAT, 7, [(ids[0], 8), (ids[1], 3), (ids[2], 5)], "8 3 5", 50)
    await st.cast_votes(conn, CHAT, 8, [(ids[3], 9)], "#4 9", 51)
    # user 7 re-votes face 1 in a new message: replaced, not added
    await st.cast_votes(conn, CHAT, 7, [(ids[0], 6)], "#1 6", 52)
    # user 7 edits message 50 to "8 4": face 2 becomes 4, face 3's vote is dropped
    await st.cast_votes(conn, CHAT, 7, [(ids[1], 4)], "x 4", 50)
    votes = await st.round_votes(conn, rnd.id)
    got = sorted((v.user_id, v.face_id, v.value) for v in votes)
    assert got == [(7, ids[0], 6.0), (7, ids[1], 4.0), (8, ids[3], 9.0)]
    assert [v.value for v in await st.votes_by_message(conn, CHAT, 50)] == [4.0]
    # an edit that no longer parses as a rating clears that message's votes
    await st.cast_votes(conn, CHAT, 9, [(ids[2], 1)], "#3 1", 53)
    assert await st.cast_votes(conn, CHAT, 9, [], "hello", 53) == []
    assert await st.votes_by_message(conn, CHAT, 53) == []
    hist = await st.session_history(conn, session.id)
    assert len(hist) == 4 and hist.points.shape == (4, DIM) and hist.latents.shape == (4, LATENT)
    assert hist.points.dtype == np.float32 and list(hist.face_ids) == ids
    assert list(hist.positions) == [1, 2, 3, 4] and list(hist.rounds) == [1, 1, 1, 1]
    assert sorted(hist.votes) == [(0, 7, 6.0), (1, 7, 4.0), (3, 8, 9.0)]
    np.testing.assert_array_equal(hist.points[2], rnd.faces[2].point)


async def test_empty_history_has_session_dims(conn: aiosqlite.Connection) -> None:
    session = await st.start_session(conn, CHAT, "m1", {"dim": DIM}, latent_dim=LATENT)
    hist = await st.session_history(conn, session.id)
    assert len(hist) == 0 and hist.points.shape == (0, DIM) and hist.latents.shape == (0, LATENT)
    with pytest.raises(st.NotFound):
        await st.session_history(conn, 424242)


async def test_undo_last_vote(conn: aiosqlite.Connection) -> None:
    session = await st.start_session(conn, CHAT, "m1", {})
    rnd = await st.record_album(conn, session.id, new_faces(np.random.default_rng(4)), [1, 2, 3, 4])
    ids = [f.id for f in rnd.faces]
    assert await st.undo_last_vote(conn, CHAT, 7) is None
    await st.cast_votes(conn, CHAT, 7, [(ids[0], 1), (ids[1], 2)], "1 2", 60)
    await st.cast_votes(conn, CHAT, 7, [(ids[2], 3), (ids[3], 4)], "#3 3 #4 4", 61)
    await st.cast_votes(conn, CHAT, 9, [(ids[0], 10)], "10", 62)
    undone = await st.undo_last_vote(conn, CHAT, 7)
    assert undone is not None and undone.face_id == ids[3] and undone.user_id == 7
    undone = await st.undo_last_vote(conn, CHAT, 7)  # one vote at a time, latest first
    assert undone is not None and undone.face_id == ids[2]
    remaining = await st.round_votes(conn, rnd.id)
    assert [(v.user_id, v.value) for v in remaining] == [(7, 1.0), (7, 2.0), (9, 10.0)]
    await st.close_round(conn, rnd.id)
    with pytest.raises(st.RoundClosed):
        await st.undo_last_vote(conn, CHAT, 9)
    assert len(await st.round_votes(conn, rnd.id)) == 3  # a closed round keeps its votes


async def test_bad_data_is_refused_and_not_stored(conn: aiosqlite.Connection) -> None:
    rng = np.random.default_rng(6)
    session = await st.start_session(conn, CHAT, "m1", {"dim": DIM}, latent_dim=LATENT)
    short = new_faces(rng)
    short[2] = st.NewFace(rng.random(DIM - 1), short[2].latent, "ei", 3)
    with pytest.raises(st.BadBlob, match="15 values"):
        await st.record_album(conn, session.id, short, [1, 2, 3, 4])
    nan = new_faces(rng)
    nan[0] = st.NewFace(np.full(DIM, np.nan), nan[0].latent, "ei", 1)
    with pytest.raises(st.BadBlob):
        await st.record_album(conn, session.id, nan, [1, 2, 3, 4])
    with pytest.raises(st.BadValue):
        await st.record_album(conn, session.id, new_faces(rng, source="magic"), [1, 2, 3, 4])
    with pytest.raises(st.BadValue):
        await st.record_album(conn, session.id, new_faces(rng), [1, 2, 3])
    assert await st.open_round(conn, CHAT) is None  # nothing half-stored
    assert len(await st.session_history(conn, session.id)) == 0

    rnd = await st.record_album(conn, session.id, new_faces(rng), [1, 2, 3, 4])
    with pytest.raises(st.DuplicateMessage):
        await st.record_album(conn, session.id, new_faces(rng), [4, 5, 6, 7], state={"x": 1})
    unchanged = await st.get_session(conn, session.id)
    assert unchanged is not None and unchanged.state == {}  # the failed album's state is not kept
    opened = await st.open_round(conn, CHAT)
    assert opened is not None and opened.id == rnd.id  # the failed album closed nothing

    other = await st.start_session(conn, OTHER_CHAT, "m1", {})
    foreign = await st.record_album(conn, other.id, new_faces(rng), [1, 2, 3, 4])
    with pytest.raises(st.WrongChat):
        await st.cast_votes(conn, CHAT, 5, [(rnd.faces[0].id, 5), (foreign.faces[0].id, 9)])
    with pytest.raises(st.NotFound):
        await st.cast_votes(conn, CHAT, 5, [(987654, 5)])
    with pytest.raises(st.BadValue):
        await st.cast_votes(conn, CHAT, 5, [(rnd.faces[0].id, float("inf"))])
    await st.close_round(conn, rnd.id)
    with pytest.raises(st.RoundClosed):
        await st.cast_votes(conn, CHAT, 5, [(rnd.faces[0].id, 5)])
    assert await st.round_votes(conn, rnd.id) == []  # all-or-nothing: no partial vote stored
    await st.close_session(conn, session.id)
    with pytest.raises(st.SessionClosed):
        await st.record_album(conn, session.id, new_faces(rng), [20, 21, 22, 23])
    with pytest.raises(st.BadValue):
        await st.set_chat_settings(conn, CHAT, {"bad": object()})


async def test_first_album_fixes_dims(conn: aiosqlite.Connection) -> None:
    rng = np.random.default_rng(7)
    session = await st.start_session(conn, CHAT, "m1", {})
    await st.record_album(conn, session.id, new_faces(rng), [1, 2, 3, 4])
    fixed = await st.get_session(conn, session.id)
    assert fixed is not None and (fixed.dim, fixed.latent_dim) == (DIM, LATENT)
    wrong = [st.NewFace(rng.random(DIM), rng.random(LATENT + 1), "ei", 1)]
    with pytest.raises(st.BadBlob):
        await st.record_album(conn, session.id, wrong, [9])


async def test_start_session_closes_previous(conn: aiosqlite.Connection) -> None:
    s1 = await st.start_session(conn, CHAT, "m1", {"seed": 1})
    await st.record_album(conn, s1.id, new_faces(np.random.default_rng(8)), [1, 2, 3, 4])
    await st.save_session_state(conn, s1.id, {"lengthscale": [0.5, 0.2]})
    s2 = await st.start_session(conn, CHAT, "m2", {"seed": 2})
    current = await st.open_session(conn, CHAT)
    assert current is not None and current.id == s2.id and current.model_version == "m2"
    old = await st.get_session(conn, s1.id)
    assert old is not None and not old.is_open and old.state == {"lengthscale": [0.5, 0.2]}
    assert await st.open_round(conn, CHAT) is None


async def test_export_is_json(conn: aiosqlite.Connection) -> None:
    rng = np.random.default_rng(9)
    session = await st.start_session(conn, CHAT, "m1", {"dim": DIM})
    rnd = await st.record_album(conn, session.id, new_faces(rng), [1, 2, 3, 4], 5)
    await st.cast_votes(conn, CHAT, 7, [(rnd.faces[0].id, 8)], "8", 6)
    await st.upsert_user(conn, 7, "alice", "Alice")
    await st.log_admin_action(conn, 1, "reset", chat_id=CHAT, details={"why": "test"})
    other = await st.start_session(conn, OTHER_CHAT, "m1", {})
    ornd = await st.record_album(conn, other.id, new_faces(rng), [1, 2, 3, 4])
    await st.cast_votes(conn, OTHER_CHAT, 8, [(ornd.faces[1].id, 3)])

    data = await st.export_chat(conn, CHAT)
    assert data is not None
    text = json.dumps(data)  # JSON-able as is
    back = json.loads(text)
    face0 = back["sessions"][0]["rounds"][0]["faces"][0]
    assert face0["point"] == pytest.approx(rnd.faces[0].point.tolist())
    assert len(face0["latent"]) == LATENT
    assert [v["value"] for v in back["votes"]] == [8.0]
    assert back["users"][0]["username"] == "alice" and back["audit_log"][0]["action"] == "reset"
    assert await st.export_chat(conn, 5555) is None
    assert [v["user_id"] for v in back["votes"]] == [7]  # the other chat's votes stay out


async def test_migrate_chat_moves_everything(conn: aiosqlite.Connection) -> None:
    rng = np.random.default_rng(10)
    session = await st.start_session(conn, CHAT, "m1", {})
    rnd = await st.record_album(conn, session.id, new_faces(rng), [1, 2, 3, 4])
    await st.cast_votes(conn, CHAT, 7, [(rnd.faces[0].id, 8)], "8", 6)
    run = await st.create_training_run(conn, 1, CHAT, {"data": "x"}, 3)
    await st.set_training_message(conn, run.id, CHAT, 9)
    new_id = -100_777
    assert await st.migrate_chat(conn, CHAT, new_id) is True
    moved = await st.get_training_run(conn, run.id)
    # A training run started in the group reports to the supergroup; its progress message
    # stays behind in the group (its id means nothing there).
    assert moved is not None and (moved.chat_id, moved.message_id) == (new_id, None)
    assert await st.get_chat(conn, CHAT) is None
    chat = await st.get_chat(conn, new_id)
    assert chat is not None and chat.type == "supergroup" and chat.language == "en"
    opened = await st.open_round(conn, new_id)
    assert opened is not None and opened.id == rnd.id
    assert [f.chat_id for f in opened.faces] == [new_id] * 4
    # The supergroup numbers its messages from 1 again: the group's ids must not answer there,
    # and the supergroup's own new album may reuse them.
    assert await st.face_by_message(conn, new_id, 2) is None
    assert await st.round_by_message(conn, new_id, 1) is None
    assert await st.votes_by_message(conn, new_id, 6) == []
    await st.cast_votes(conn, new_id, 8, [(rnd.faces[1].id, 4)])
    assert len((await st.session_history(conn, session.id)).votes) == 2
    assert await st.migrate_chat(conn, CHAT, new_id) is False


async def test_admin_tables(conn: aiosqlite.Connection) -> None:
    await st.register_model_version(conn, "aaa", "/m/a.pt", {"latent_dim": 32}, {"mse": 0.1})
    await st.register_model_version(conn, "bbb", "/m/b.pt", {}, {}, active=True)
    active = await st.active_model_version(conn)
    assert active is not None and active.version == "bbb"
    await st.activate_model_version(conn, "aaa")
    active = await st.active_model_version(conn)
    assert active is not None and active.version == "aaa" and active.config == {"latent_dim": 32}
    assert sum(m.active for m in await st.list_model_versions(conn)) == 1
    with pytest.raises(st.NotFound):
        await st.activate_model_version(conn, "zzz")
    run = await st.start_training_run(conn, 42, {"epochs": 3})
    assert run.state == "queued" and run.progress == 0
    run = await st.update_training_run(
        conn, run.id, state="running", progress=0.5, log_tail="x" * 10_000
    )
    assert run.state == "running" and run.progress == 0.5 and len(run.log_tail) == 4000
    with pytest.raises(st.BadValue):
        await st.update_training_run(conn, run.id, state="exploded")
    with pytest.raises(st.BadValue):
        await st.update_training_run(conn, run.id, progress=1.5)
    assert [r.id for r in await st.list_training_runs(conn)] == [run.id]
    entry = await st.log_admin_action(conn, 42, "train", details={"run": run.id})
    assert (await st.audit_log(conn))[0] == entry


def test_blob_checks() -> None:
    from storage.blobs import from_blob, to_blob

    vec = np.arange(4, dtype=np.float64)
    blob = to_blob(vec, 4, "point")
    assert len(blob) == 16 and vec.dtype == np.float64  # the caller's array is untouched
    back = from_blob(blob, 4, "point")
    assert back.dtype == np.float32 and not back.flags.writeable
    np.testing.assert_array_equal(back, vec)
    for bad in (np.zeros((2, 2)), np.zeros(3) + 1j, np.array(["a"] * 4), np.array([1e39] * 4)):
        with pytest.raises(st.BadBlob):
            to_blob(bad, 4, "point")
    with pytest.raises(st.BadBlob, match="expected 16"):
        from_blob(blob[:-1], 4, "point")


async def test_corrupt_stored_blob_is_reported(conn: aiosqlite.Connection) -> None:
    session = await st.start_session(conn, CHAT, "m1", {})
    rnd = await st.record_album(
        conn, session.id, new_faces(np.random.default_rng(11)), [1, 2, 3, 4]
    )
    await conn.execute("UPDATE faces SET point = ? WHERE id = ?", (b"\x00" * 7, rnd.faces[0].id))
    with pytest.raises(st.BadBlob, match="stored point"):
        await st.face_by_message(conn, CHAT, 1)
    assert not conn.in_transaction


def test_no_storage_module_imports_torch_gpy_or_telegram() -> None:
    """docs/INTERFACES.md: storage never imports torch, GPy, Telegram or the packages above it."""
    above = ["bot", "fotorobot", "telegram_fake"]
    assert loaded_after_importing("storage", ["torch", "GPy", "telegram", *above]) == []
