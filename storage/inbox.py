"""The inbox: every update Telegram sent, stored before Telegram is told it arrived.

An update is written here on receipt (one transaction per batch) and only then confirmed to
Telegram (the next getUpdates offset, or a webhook's 200 answer), so a process killed at any
instant loses none: a restart processes what is still `pending`. Processing is idempotent by
`update_id`: a batch fetched twice is stored once, and an update whose one non-repeatable
effect (a new search, an undo) is already stored is marked `applied` in that effect's own
transaction (`mark_applied`), so a replay after a crash never applies it twice.

States: pending (stored, not finished) -> done (handled) | skipped (unparseable, or failed too
often; `error` says why). Finished rows lose their payload (message texts are not kept) and
are pruned after a few days: Telegram restarts update ids at random after a week without
updates, and an old row must never shadow a new update.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import aiosqlite

from storage.db import fetch_all, fetch_one, now, read_tx, write_tx
from storage.errors import BadValue

FinishState = Literal["done", "skipped"]
# Finished rows older than this are deleted by prune_inbox (well under Telegram's one week).
KEEP_FINISHED_S = 3 * 24 * 3600.0
MAX_ERROR_CHARS = 500


@dataclass(frozen=True)
class ReceivedUpdate:
    """One update as it came from Telegram: its id, its chat (if any) and the raw JSON text."""

    update_id: int
    chat_id: int | None
    payload: str


@dataclass(frozen=True)
class InboxUpdate:
    """A stored update still to be processed."""

    update_id: int
    chat_id: int | None
    payload: str
    attempts: int  # processing attempts started so far (a crash mid-update counts one)
    applied: bool  # its non-repeatable effect is already stored
    received_at: float


async def receive_updates(
    conn: aiosqlite.Connection, updates: Sequence[ReceivedUpdate]
) -> list[int]:
    """Store a batch in one transaction; returns the ids that were new (the rest were known)."""
    if not updates:
        return []
    t = now()
    fresh: list[int] = []
    async with write_tx(conn):
        for u in updates:
            if isinstance(u.update_id, bool) or not isinstance(u.update_id, int):
                raise BadValue(f"update_id must be an integer, got {u.update_id!r}")
            cur = await conn.execute(
                """INSERT INTO inbox (update_id, chat_id, payload, received_at)
                   VALUES (?, ?, ?, ?) ON CONFLICT (update_id) DO NOTHING""",
                (u.update_id, u.chat_id, u.payload, t),
            )
            if cur.rowcount == 1:
                fresh.append(u.update_id)
    return fresh


async def pending_updates(conn: aiosqlite.Connection, limit: int = 10_000) -> list[InboxUpdate]:
    """Stored updates not yet finished, oldest first (a restart's backlog)."""
    async with read_tx(conn):
        rows = await fetch_all(
            conn,
            """SELECT * FROM inbox WHERE state = 'pending' ORDER BY update_id LIMIT ?""",
            (int(limit),),
        )
    return [
        InboxUpdate(
            update_id=r["update_id"],
            chat_id=r["chat_id"],
            payload=r["payload"] or "{}",
            attempts=r["attempts"],
            applied=bool(r["applied"]),
            received_at=r["received_at"],
        )
        for r in rows
    ]


async def start_attempt(conn: aiosqlite.Connection, update_id: int) -> int | None:
    """Count one processing attempt before it runs: the attempts so far (1 the first time),
    0 if the update is already finished, None if the inbox never had it.

    Counted before the work, so an update that kills the process every time is seen as such
    after the restart and skipped instead of crashing the bot forever.
    """
    async with write_tx(conn):
        await conn.execute(
            "UPDATE inbox SET attempts = attempts + 1 WHERE update_id = ? AND state = 'pending'",
            (update_id,),
        )
        row = await fetch_one(
            conn, "SELECT state, attempts FROM inbox WHERE update_id = ?", (update_id,)
        )
    if row is None:
        return None
    return int(row["attempts"]) if row["state"] == "pending" else 0


async def finish_update(
    conn: aiosqlite.Connection,
    update_id: int,
    state: FinishState = "done",
    error: str | None = None,
) -> bool:
    """Mark a pending update finished (its payload is dropped); False if it was not pending."""
    if state not in ("done", "skipped"):
        raise BadValue(f"an update finishes as 'done' or 'skipped', not {state!r}")
    reason = None if error is None else error[:MAX_ERROR_CHARS]
    async with write_tx(conn):
        cur = await conn.execute(
            """UPDATE inbox SET state = ?, error = ?, payload = NULL, finished_at = ?
               WHERE update_id = ? AND state = 'pending'""",
            (state, reason, now(), update_id),
        )
        return cur.rowcount == 1


async def mark_applied(conn: aiosqlite.Connection, update_id: int | None) -> bool:
    """Inside the caller's write transaction: note that this update's effect is being stored.

    True the first time (go on), False when a replay finds it already applied (store nothing).
    An update that is not in the inbox (None, or a caller without one) is always applied.
    """
    if update_id is None:
        return True
    cur = await conn.execute(
        "UPDATE inbox SET applied = 1 WHERE update_id = ? AND applied = 0", (update_id,)
    )
    if cur.rowcount == 1:
        return True
    row = await fetch_one(conn, "SELECT applied FROM inbox WHERE update_id = ?", (update_id,))
    return row is None


async def inbox_counts(conn: aiosqlite.Connection) -> dict[str, int]:
    """How many updates are pending, done and skipped (for status lines and tests)."""
    async with read_tx(conn):
        rows = await fetch_all(conn, "SELECT state, COUNT(*) AS n FROM inbox GROUP BY state")
    counts = {"pending": 0, "done": 0, "skipped": 0}
    counts.update({r["state"]: int(r["n"]) for r in rows})
    return counts


async def prune_inbox(conn: aiosqlite.Connection, keep_s: float = KEEP_FINISHED_S) -> int:
    """Delete finished updates older than `keep_s` seconds; the number deleted."""
    async with write_tx(conn):
        cur = await conn.execute(
            "DELETE FROM inbox WHERE state != 'pending' AND finished_at < ?", (now() - keep_s,)
        )
        return int(cur.rowcount)
