"""Schema migrations: every older version upgrades to the latest and keeps its data."""

from __future__ import annotations

import pathlib

import aiosqlite
import numpy as np
import pytest

import storage as st
from storage import schema

DIM, LATENT = 3, 5
CHAT = -42


async def raw_db(path: pathlib.Path, version: int) -> aiosqlite.Connection:
    """A database migrated only up to `version`, opened without storage.connect."""
    conn = await aiosqlite.connect(path, isolation_level=None)
    await conn.execute("PRAGMA foreign_keys = ON")
    await schema.migrate(conn, target=version)
    return conn


def blob(values: list[float]) -> bytes:
    return np.asarray(values, dtype="<f4").tobytes()


async def fill_v1(conn: aiosqlite.Connection) -> None:
    """Rows as the v1 code wrote them: one chat, a session, a round of 2 faces, 3 votes."""
    t = 1_700_000_000.0
    await conn.execute(
        "INSERT INTO chats (chat_id, type, title, language, active, settings, created_at,"
        " updated_at) VALUES (?, 'group', 'Old', 'ru', 1, '{\"x\": 1}', ?, ?)",
        (CHAT, t, t),
    )
    for uid in (1, 2):
        await conn.execute(
            "INSERT INTO users (user_id, username, created_at, updated_at) VALUES (?, ?, ?, ?)",
            (uid, f"u{uid}", t, t),
        )
    await conn.execute(
        "INSERT INTO sessions (id, chat_id, model_version, settings, state, dim, latent_dim,"
        " opened_at) VALUES (1, ?, 'old-model', '{}', '{\"gp\": 1}', ?, ?, ?)",
        (CHAT, DIM, LATENT, t),
    )
    await conn.execute(
        "INSERT INTO rounds (id, session_id, chat_id, number, prompt_message_id, opened_at)"
        " VALUES (1, 1, ?, 1, 30, ?)",
        (CHAT, t),
    )
    for fid, pos in ((1, 1), (2, 2)):
        await conn.execute(
            "INSERT INTO faces (id, round_id, session_id, chat_id, position, source, point,"
            " latent, model_version, message_id, created_at)"
            " VALUES (?, 1, 1, ?, ?, 'initial', ?, ?, 'old-model', ?, ?)",
            (fid, CHAT, pos, blob([0.1 * fid] * DIM), blob([float(fid)] * LATENT), 10 + fid, t),
        )
    for vid, fid, uid, value in ((1, 1, 1, 3.0), (2, 2, 1, 9.0), (3, 2, 2, 7.0)):
        await conn.execute(
            "INSERT INTO votes (id, face_id, user_id, chat_id, round_id, value, raw_text,"
            " message_id, created_at) VALUES (?, ?, ?, ?, 1, ?, 'r', 40, ?)",
            (vid, fid, uid, CHAT, value, t),
        )


async def fill_v2(conn: aiosqlite.Connection) -> None:
    await fill_v1(conn)
    await conn.execute(
        "INSERT INTO model_versions (version, path, config, metrics, active, created_at)"
        " VALUES ('old-model', '/w/old.pt', '{\"latent_dim\": 5}', '{}', 1, 1.0)"
    )
    await conn.execute(
        "INSERT INTO training_runs (requested_by, state, progress, log_tail, created_at,"
        " updated_at) VALUES (1, 'done', 1.0, 'ok', 1.0, 1.0)"
    )
    await conn.execute(
        "INSERT INTO audit_log (admin_user_id, action, chat_id, created_at)"
        " VALUES (1, 'train', ?, 1.0)",
        (CHAT,),
    )


FILLERS = {1: fill_v1, 2: fill_v2}


async def schema_shape(conn: aiosqlite.Connection) -> dict[str, list[tuple[str, str]]]:
    """Tables -> (column, type) and index names: what the code relies on."""
    shape: dict[str, list[tuple[str, str]]] = {}
    async with conn.execute("SELECT name, type FROM sqlite_master ORDER BY name") as cur:
        objects = list(await cur.fetchall())
    for name, kind in objects:
        if kind == "table" and not name.startswith("sqlite_"):
            async with conn.execute(f"PRAGMA table_info({name})") as cur:
                shape[name] = [(r[1], r[2]) for r in await cur.fetchall()]
        elif kind == "index":
            shape.setdefault("#indexes", []).append((name, ""))
    return shape


def test_versions_are_numbered_steps() -> None:
    assert st.SCHEMA_VERSION == len(schema.MIGRATIONS) >= 3
    assert all(step.__doc__ for step in schema.MIGRATIONS)


@pytest.mark.parametrize("start", range(st.SCHEMA_VERSION))
async def test_upgrade_from_every_older_version(tmp_path: pathlib.Path, start: int) -> None:
    path = tmp_path / f"v{start}.sqlite3"
    raw = await raw_db(path, start)
    assert await schema.schema_version(raw) == start
    filler = FILLERS.get(start)
    if filler is not None:
        await filler(raw)
    await raw.close()

    conn = await st.connect(path)
    try:
        assert await st.schema_version(conn) == st.SCHEMA_VERSION
        fresh = await st.connect(tmp_path / "fresh.sqlite3")
        assert await schema_shape(conn) == await schema_shape(fresh)
        await fresh.close()
        if filler is None:
            return
        chat = await st.get_chat(conn, CHAT)
        assert chat is not None and chat.language == "ru" and chat.settings == {"x": 1}
        hist = await st.session_history(conn, 1)
        assert hist.points.shape == (2, DIM) and hist.latents.shape == (2, LATENT)
        np.testing.assert_allclose(hist.points[1], [0.2] * DIM, rtol=1e-6)
        assert sorted(hist.votes) == [(0, 1, 3.0), (1, 1, 9.0), (1, 2, 7.0)]
        face = await st.face_by_message(conn, CHAT, 12)
        assert face is not None and face.id == 2 and face.score is None
        async with conn.execute("SELECT n_votes FROM faces ORDER BY id") as cur:
            assert [r[0] for r in await cur.fetchall()] == [1, 2]  # backfilled by step 3
        # The upgraded database keeps working through the API.
        await st.cast_votes(conn, CHAT, 2, [(1, 5.0)], "5", 41)
        assert len((await st.session_history(conn, 1)).votes) == 4
        if start >= 2:
            active = await st.active_model_version(conn)
            assert active is not None and active.config == {"latent_dim": 5}
            assert (await st.list_training_runs(conn))[0].state == "done"
            assert (await st.audit_log(conn))[0].chat_id == CHAT
    finally:
        await conn.close()


async def test_newer_database_is_refused(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "future.sqlite3"
    conn = await st.connect(path)
    await conn.execute(f"PRAGMA user_version = {st.SCHEMA_VERSION + 1}")
    await conn.close()
    with pytest.raises(st.SchemaTooNew, match="upgrade fotorobot"):
        await st.connect(path)


async def test_failed_step_rolls_back(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "half.sqlite3"
    raw = await raw_db(path, 2)
    real_step = schema.MIGRATIONS[2]

    async def broken(conn: aiosqlite.Connection) -> None:
        await real_step(conn)
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(schema, "MIGRATIONS", [*schema.MIGRATIONS[:2], broken])
    with pytest.raises(RuntimeError):
        await schema.migrate(raw)
    assert await schema.schema_version(raw) == 2
    async with raw.execute("PRAGMA table_info(faces)") as cur:
        assert "score" not in [r[1] for r in await cur.fetchall()]
    await raw.close()
    monkeypatch.undo()
    conn = await st.connect(path)  # the real step then applies cleanly
    assert await st.schema_version(conn) == st.SCHEMA_VERSION
    await conn.close()


async def test_a_process_that_migrated_first_wins_the_race(tmp_path: pathlib.Path) -> None:
    """Two processes opening a fresh file: the one that waited for the lock skips the steps
    the other one applied meanwhile (it read the old version before waiting)."""
    import asyncio

    path = tmp_path / "race.sqlite3"
    first = await aiosqlite.connect(path, isolation_level=None)
    second = await aiosqlite.connect(path, isolation_level=None)
    try:
        await second.execute("PRAGMA busy_timeout = 10000")
        await first.execute("BEGIN IMMEDIATE")
        waiting = asyncio.create_task(schema.migrate(second))
        await asyncio.sleep(0.2)  # `second` has read version 0 and waits on BEGIN IMMEDIATE
        for step in schema.MIGRATIONS:
            await step(first)
        await first.execute(f"PRAGMA user_version = {schema.SCHEMA_VERSION}")
        await first.execute("COMMIT")
        assert await asyncio.wait_for(waiting, 20) == schema.SCHEMA_VERSION
        assert await schema.schema_version(second) == schema.SCHEMA_VERSION
    finally:
        await first.close()
        await second.close()
