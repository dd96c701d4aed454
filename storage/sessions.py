"""Search sessions: one open per chat, holding the model version, settings and GP state."""

from __future__ import annotations

from typing import Any

import aiosqlite

from storage.db import dumps_json, fetch_one, loads_json, now, read_tx, write_tx
from storage.errors import BadValue, NotFound
from storage.rows import SearchSession


def session_from_row(row: aiosqlite.Row) -> SearchSession:
    """A SearchSession from a `sessions` row."""
    return SearchSession(
        id=row["id"],
        chat_id=row["chat_id"],
        model_version=row["model_version"],
        settings=loads_json(row["settings"]),
        state=loads_json(row["state"]),
        dim=row["dim"],
        latent_dim=row["latent_dim"],
        opened_at=row["opened_at"],
        closed_at=row["closed_at"],
        started_by=row["started_by"],
    )


def _positive_or_none(value: Any, what: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise BadValue(f"{what} must be a positive integer, got {value!r}")
    return value


async def start_session(
    conn: aiosqlite.Connection,
    chat_id: int,
    model_version: str,
    settings: dict[str, Any],
    *,
    dim: int | None = None,
    latent_dim: int | None = None,
    started_by: int | None = None,
) -> SearchSession:
    """Open a new search for the chat, closing its previous session and open round.

    `dim` defaults to settings["dim"]; dimensions left unknown are fixed by the first album,
    and every later face must match them. `started_by` is the user who asked for it.
    """
    if dim is None and isinstance(settings.get("dim"), int):
        dim = settings["dim"]
    dim = _positive_or_none(dim, "dim")
    latent_dim = _positive_or_none(latent_dim, "latent_dim")
    if not model_version:
        raise BadValue("model_version must be a non-empty string")
    settings_json = dumps_json(settings, "session settings")
    t = now()
    async with write_tx(conn):
        if await fetch_one(conn, "SELECT 1 FROM chats WHERE chat_id = ?", (chat_id,)) is None:
            raise NotFound(f"chat {chat_id} is not known; upsert_chat first")
        await conn.execute(
            "UPDATE rounds SET closed_at = ? WHERE chat_id = ? AND closed_at IS NULL", (t, chat_id)
        )
        await conn.execute(
            "UPDATE sessions SET closed_at = ? WHERE chat_id = ? AND closed_at IS NULL",
            (t, chat_id),
        )
        cur = await conn.execute(
            """INSERT INTO sessions (chat_id, model_version, settings, state, dim, latent_dim,
                                     opened_at, started_by) VALUES (?, ?, ?, '{}', ?, ?, ?, ?)""",
            (chat_id, model_version, settings_json, dim, latent_dim, t, started_by),
        )
        row = await fetch_one(conn, "SELECT * FROM sessions WHERE id = ?", (cur.lastrowid,))
    assert row is not None
    return session_from_row(row)


async def open_session(conn: aiosqlite.Connection, chat_id: int) -> SearchSession | None:
    """The chat's open search session, or None."""
    async with read_tx(conn):
        row = await fetch_one(
            conn, "SELECT * FROM sessions WHERE chat_id = ? AND closed_at IS NULL", (chat_id,)
        )
    return session_from_row(row) if row else None


async def get_session(conn: aiosqlite.Connection, session_id: int) -> SearchSession | None:
    """A session by id, open or closed."""
    async with read_tx(conn):
        row = await fetch_one(conn, "SELECT * FROM sessions WHERE id = ?", (session_id,))
    return session_from_row(row) if row else None


async def save_session_state(
    conn: aiosqlite.Connection, session_id: int, state: dict[str, Any]
) -> None:
    """Store the optimizer's JSON-able warm-start state for the next round."""
    state_json = dumps_json(state, "session state")
    async with write_tx(conn):
        cur = await conn.execute(
            "UPDATE sessions SET state = ? WHERE id = ?", (state_json, session_id)
        )
        if cur.rowcount != 1:
            raise NotFound(f"search session {session_id} does not exist")


async def close_session(conn: aiosqlite.Connection, session_id: int) -> bool:
    """Close a session and its open round; True only for the call that closed it."""
    t = now()
    async with write_tx(conn):
        cur = await conn.execute(
            "UPDATE sessions SET closed_at = ? WHERE id = ? AND closed_at IS NULL",
            (t, session_id),
        )
        await conn.execute(
            "UPDATE rounds SET closed_at = ? WHERE session_id = ? AND closed_at IS NULL",
            (t, session_id),
        )
        return cur.rowcount == 1
