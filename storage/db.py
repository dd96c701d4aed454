"""Opening the database and running work on it: one connection, writes serialised by a lock.

aiosqlite runs every statement of a connection on one thread, so two coroutines sharing the
connection would interleave their statements inside one SQLite transaction. Every storage call
therefore holds the connection's asyncio.Lock from BEGIN to COMMIT (reads too, so a read never
sees another call's half-written transaction).
"""

from __future__ import annotations

import asyncio
import json
import os
import pathlib
import sqlite3
import time
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiosqlite

from storage.errors import BadValue
from storage.schema import migrate

_LOCKS: weakref.WeakKeyDictionary[aiosqlite.Connection, asyncio.Lock] = weakref.WeakKeyDictionary()

SYNCHRONOUS_MODES = ("FULL", "NORMAL")


async def connect(
    path: str | os.PathLike[str], *, synchronous: str = "FULL", busy_timeout_ms: int = 5000
) -> aiosqlite.Connection:
    """Open (creating if needed) and migrate the database: WAL, foreign keys on, FULL sync."""
    mode = synchronous.upper()
    if mode not in SYNCHRONOUS_MODES:
        raise ValueError(f"synchronous must be one of {SYNCHRONOUS_MODES}, got {synchronous!r}")
    target = pathlib.Path(path)
    if str(path) != ":memory:":
        target.parent.mkdir(parents=True, exist_ok=True)
    # isolation_level=None: the sqlite3 module never opens transactions behind our back.
    conn = await aiosqlite.connect(target, isolation_level=None)
    try:
        conn.row_factory = aiosqlite.Row
        await conn.execute("PRAGMA journal_mode = WAL")
        await conn.execute("PRAGMA foreign_keys = ON")
        # Pragmas take no parameters; `mode` was checked against a fixed list above.
        await conn.execute(f"PRAGMA synchronous = {mode}")
        await conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        async with _lock(conn):
            await migrate(conn)
    except BaseException:
        await conn.close()
        raise
    return conn


def _lock(conn: aiosqlite.Connection) -> asyncio.Lock:
    lock = _LOCKS.get(conn)
    if lock is None:
        lock = _LOCKS[conn] = asyncio.Lock()
    return lock


@asynccontextmanager
async def exclusive(conn: aiosqlite.Connection) -> AsyncIterator[aiosqlite.Connection]:
    """The connection's lock without a transaction (an online backup waits out the others)."""
    async with _lock(conn):
        yield conn


@asynccontextmanager
async def write_tx(conn: aiosqlite.Connection) -> AsyncIterator[aiosqlite.Connection]:
    """BEGIN IMMEDIATE ... COMMIT under the connection's lock; ROLLBACK on any error."""
    async with _lock(conn):
        try:
            await conn.execute("BEGIN IMMEDIATE")
            yield conn
            await conn.execute("COMMIT")
        except BaseException:
            await _rollback_uninterrupted(conn)
            raise


@asynccontextmanager
async def read_tx(conn: aiosqlite.Connection) -> AsyncIterator[aiosqlite.Connection]:
    """A consistent read: the lock plus a deferred transaction, so several SELECTs agree."""
    async with _lock(conn):
        try:
            await conn.execute("BEGIN")
            yield conn
        finally:
            await _rollback_uninterrupted(conn)


async def _rollback_uninterrupted(conn: aiosqlite.Connection) -> None:
    """Roll back before the lock is released, even if the caller is cancelled meanwhile.

    A cancelled await does not cancel its statement: aiosqlite has already queued it (a BEGIN,
    an INSERT, a COMMIT) and its thread runs it. The ROLLBACK is queued behind it (the queue is
    FIFO), and the lock stays held until it ran, so the next caller never finds a transaction
    left open. "No transaction is active" just means the BEGIN never ran or the COMMIT did.
    """
    task = asyncio.ensure_future(_rollback(conn))
    cancelled = False
    while not task.done():
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError:
            cancelled = True  # delivered once the rollback is done, never swallowed
    task.result()
    if cancelled:
        raise asyncio.CancelledError


async def _rollback(conn: aiosqlite.Connection) -> None:
    try:
        await conn.execute("ROLLBACK")
    except sqlite3.OperationalError as exc:
        if "no transaction is active" not in str(exc):
            raise


async def fetch_one(
    conn: aiosqlite.Connection, sql: str, params: tuple[object, ...] = ()
) -> aiosqlite.Row | None:
    """The first row of a parameterised query, or None."""
    async with conn.execute(sql, params) as cur:
        return await cur.fetchone()


async def fetch_all(
    conn: aiosqlite.Connection, sql: str, params: tuple[object, ...] = ()
) -> list[aiosqlite.Row]:
    """All rows of a parameterised query."""
    async with conn.execute(sql, params) as cur:
        return list(await cur.fetchall())


def now() -> float:
    """Wall-clock seconds since the epoch: the unit of every timestamp column."""
    return time.time()


def dumps_json(obj: object, what: str) -> str:
    """Serialise a JSON-able value for a TEXT column; BadValue names what was not JSON-able."""
    try:
        return json.dumps(obj, ensure_ascii=False, allow_nan=False, sort_keys=True)
    except (TypeError, ValueError) as exc:
        raise BadValue(f"{what} must be JSON-serialisable: {exc}") from exc


def loads_json(text: str | None) -> dict[str, Any]:
    """Parse a stored JSON object column ('{}' when empty)."""
    if not text:
        return {}
    value = json.loads(text)
    return value if isinstance(value, dict) else {"value": value}
