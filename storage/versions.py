"""Model versions as the admin commands see them: lookups, rollback, who searches with which."""

from __future__ import annotations

import aiosqlite

from storage.admin import model_from_row, set_active
from storage.db import fetch_all, fetch_one, now, read_tx, write_tx
from storage.errors import BadValue, NotFound
from storage.rows import ModelVersion


async def get_model_version(conn: aiosqlite.Connection, version: str) -> ModelVersion | None:
    """One registered version, or None."""
    async with read_tx(conn):
        row = await fetch_one(conn, "SELECT * FROM model_versions WHERE version = ?", (version,))
    return model_from_row(row) if row else None


async def find_model_versions(conn: aiosqlite.Connection, prefix: str) -> list[ModelVersion]:
    """Versions whose id starts with `prefix` (people type a few characters of a digest)."""
    if not prefix or not prefix.isalnum():
        return []
    async with read_tx(conn):
        rows = await fetch_all(
            conn,
            "SELECT * FROM model_versions WHERE substr(version, 1, ?) = ? ORDER BY created_at",
            (len(prefix), prefix),
        )
    return [model_from_row(r) for r in rows]


async def open_sessions_by_model(conn: aiosqlite.Connection) -> dict[str, int]:
    """How many open searches decode with each model version."""
    async with read_tx(conn):
        rows = await fetch_all(
            conn,
            "SELECT model_version, COUNT(*) AS n FROM sessions WHERE closed_at IS NULL"
            " GROUP BY model_version",
        )
    return {r["model_version"]: int(r["n"]) for r in rows}


async def rollback_model_version(
    conn: aiosqlite.Connection, by: int | None = None
) -> ModelVersion | None:
    """Go back to the version active before the current one (a stack: each rollback goes one
    activation further back; a later /use starts a new top). None when there is nothing to go
    back to. The version to return to must still be registered."""
    del by  # the audit log records who; the activation being undone keeps its author
    async with write_tx(conn):
        rows = await fetch_all(
            conn, "SELECT * FROM model_activations WHERE undone = 0 ORDER BY id DESC"
        )
        active = await fetch_one(conn, "SELECT version FROM model_versions WHERE active = 1")
        if active is None or len(rows) < 2 or rows[0]["version"] != active["version"]:
            return None
        previous = next((r for r in rows[1:] if r["version"] != active["version"]), None)
        if previous is None:
            return None
        # Everything above the version we go back to is undone; that activation stays current.
        for r in rows:
            if r["id"] == previous["id"]:
                break
            await conn.execute("UPDATE model_activations SET undone = 1 WHERE id = ?", (r["id"],))
        await conn.execute("UPDATE model_versions SET active = 0 WHERE active = 1")
        await conn.execute(
            "UPDATE model_versions SET active = 1 WHERE version = ?", (previous["version"],)
        )
        row = await fetch_one(
            conn, "SELECT * FROM model_versions WHERE version = ?", (previous["version"],)
        )
    assert row is not None
    return model_from_row(row)


async def use_model_version(
    conn: aiosqlite.Connection, version: str, by: int | None
) -> ModelVersion:
    """Activate a version (recorded for /rollback); NotFound if it is not registered."""
    async with write_tx(conn):
        row = await fetch_one(conn, "SELECT * FROM model_versions WHERE version = ?", (version,))
        if row is None:
            raise NotFound(f"model version {version!r} is not registered")
        if not row["active"]:
            await set_active(conn, version, by)
        row = await fetch_one(conn, "SELECT * FROM model_versions WHERE version = ?", (version,))
    assert row is not None
    return model_from_row(row)


async def forget_model_version(conn: aiosqlite.Connection, version: str) -> None:
    """Unregister a version whose file is gone (never the active one: BadValue)."""
    async with write_tx(conn):
        row = await fetch_one(
            conn, "SELECT active FROM model_versions WHERE version = ?", (version,)
        )
        if row is None:
            return
        if row["active"]:
            raise BadValue(f"model version {version!r} is active")
        await conn.execute("DELETE FROM model_versions WHERE version = ?", (version,))
        await conn.execute(
            "UPDATE training_runs SET model_version = NULL, updated_at = ? WHERE model_version = ?",
            (now(), version),
        )
