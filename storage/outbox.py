"""The outbox: the album the bot owes a chat, and the log of every attempt to send one.

What is owed is derived from the rounds, so it is stored in the very transaction that makes it
owed: a chat with an open search is owed an album while it has no open round (a round just
closed, a search just started) or while its open round is not fully delivered (a face without
its message id, or no prompt). The next album is planned and stored as an open round *before*
it is sent (`record_album` with no message ids); each send attempt is logged first
(`begin_album_send`) and settled after (`album_sent` attaches the message ids, or
`album_send_failed`). An attempt whose answer never came (a timeout, a dropped connection, a
crash mid-send) is `uncertain`: Telegram may have shown that copy, so a reply to it is matched
by its date (`round_of_lost_copy`), and a bare rating sent after it may rate it
(`round_before_message`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

import aiosqlite

from storage.db import fetch_all, fetch_one, now, read_tx, write_tx
from storage.errors import BadValue, DuplicateMessage, NotFound
from storage.rounds import load_round
from storage.rows import Round

# Telegram stamps messages in whole seconds, by a clock that may be a little off ours.
CLOCK_SLACK_S = 2.0


@dataclass(frozen=True)
class OwedAlbum:
    """A chat the bot owes an album (or the rest of one)."""

    chat_id: int
    session_id: int
    language: str | None  # the chat's chosen language, else its person's (private chats)
    round: Round | None  # the planned album if one is stored; None: plan one first

    @property
    def needs_photos(self) -> bool:
        """The album itself is not known to be delivered (no plan, or a face without an id)."""
        return self.round is None or any(m is None for m in self.round.message_ids)


# Active chats with an open search and no delivered open round. A round is delivered once
# every face has its message id and the prompt is set.
_OWED = """
SELECT s.chat_id, s.id AS session_id, r.id AS round_id,
       COALESCE(c.language, u.language) AS language
FROM sessions s
JOIN chats c ON c.chat_id = s.chat_id
LEFT JOIN users u ON u.user_id = s.chat_id
LEFT JOIN rounds r ON r.chat_id = s.chat_id AND r.closed_at IS NULL
WHERE s.closed_at IS NULL AND c.active = 1
  AND (r.id IS NULL OR r.prompt_message_id IS NULL
       OR EXISTS (SELECT 1 FROM faces f WHERE f.round_id = r.id AND f.message_id IS NULL))
"""


async def owed_albums(conn: aiosqlite.Connection) -> list[OwedAlbum]:
    """Every active chat owed an album, in chat order (what a restart delivers first)."""
    async with read_tx(conn):
        rows = await fetch_all(conn, _OWED + " ORDER BY s.chat_id")
        return [await _owed(conn, row) for row in rows]


async def owed_album(conn: aiosqlite.Connection, chat_id: int) -> OwedAlbum | None:
    """What the chat is owed, or None (nothing owed, no open search, or the chat is inactive)."""
    async with read_tx(conn):
        row = await fetch_one(conn, _OWED + " AND s.chat_id = ?", (chat_id,))
        return None if row is None else await _owed(conn, row)


async def _owed(conn: aiosqlite.Connection, row: aiosqlite.Row) -> OwedAlbum:
    round_ = None if row["round_id"] is None else await load_round(conn, row["round_id"])
    return OwedAlbum(
        chat_id=row["chat_id"],
        session_id=row["session_id"],
        language=row["language"],
        round=round_,
    )


async def begin_album_send(conn: aiosqlite.Connection, round_id: int) -> int:
    """Log an attempt to send a round's album, before it is made; the attempt's id."""
    async with write_tx(conn):
        if await fetch_one(conn, "SELECT 1 FROM rounds WHERE id = ?", (round_id,)) is None:
            raise NotFound(f"round {round_id} does not exist")
        cur = await conn.execute(
            "INSERT INTO album_sends (round_id, started_at) VALUES (?, ?)", (round_id, now())
        )
    assert cur.lastrowid is not None
    return cur.lastrowid


async def album_sent(conn: aiosqlite.Connection, send_id: int, message_ids: Sequence[int]) -> Round:
    """The attempt delivered: attach its message ids to the faces (position order), one
    transaction; returns the round."""
    async with write_tx(conn):
        send = await fetch_one(conn, "SELECT round_id FROM album_sends WHERE id = ?", (send_id,))
        if send is None:
            raise NotFound(f"album send {send_id} does not exist")
        round_id = send["round_id"]
        faces = await fetch_all(
            conn, "SELECT id FROM faces WHERE round_id = ? ORDER BY position", (round_id,)
        )
        if len(faces) != len(message_ids):
            raise BadValue(f"{len(faces)} faces but {len(message_ids)} message ids")
        try:
            for face, message_id in zip(faces, message_ids, strict=True):
                await conn.execute(
                    "UPDATE faces SET message_id = ? WHERE id = ?", (int(message_id), face["id"])
                )
        except sqlite3.IntegrityError as exc:
            raise DuplicateMessage(f"a message id of this album is already in use: {exc}") from exc
        await conn.execute(
            "UPDATE album_sends SET outcome = 'sent', finished_at = ? WHERE id = ?",
            (now(), send_id),
        )
        round_ = await load_round(conn, round_id)
    assert round_ is not None
    return round_


async def album_send_failed(conn: aiosqlite.Connection, send_id: int, *, uncertain: bool) -> None:
    """The attempt failed; `uncertain` when Telegram may have delivered it anyway."""
    async with write_tx(conn):
        await conn.execute(
            "UPDATE album_sends SET outcome = ?, finished_at = ? WHERE id = ?",
            ("uncertain" if uncertain else "failed", now(), send_id),
        )


async def settle_interrupted_sends(conn: aiosqlite.Connection) -> int:
    """At start-up: attempts a crash cut short become uncertain (they may have arrived)."""
    async with write_tx(conn):
        cur = await conn.execute(
            """UPDATE album_sends SET outcome = 'uncertain', finished_at = ?
               WHERE outcome IS NULL""",
            (now(),),
        )
        return int(cur.rowcount)


async def round_of_lost_copy(conn: aiosqlite.Connection, chat_id: int, date: float) -> Round | None:
    """The round an album photo we have no id for belongs to: the one whose uncertain send
    attempt was under way when Telegram dated that photo (None if no attempt fits)."""
    async with read_tx(conn):
        row = await fetch_one(
            conn,
            """SELECT a.round_id FROM album_sends a JOIN rounds r ON r.id = a.round_id
               WHERE r.chat_id = ? AND a.outcome = 'uncertain'
                 AND a.started_at - ? <= ? AND ? <= COALESCE(a.finished_at, a.started_at) + ?
               ORDER BY a.id DESC LIMIT 1""",
            (chat_id, CLOCK_SLACK_S, date, date, CLOCK_SLACK_S),
        )
        return None if row is None else await load_round(conn, row["round_id"])


async def round_before_message(
    conn: aiosqlite.Connection, chat_id: int, message_id: int, date: float | None = None
) -> Round | None:
    """The latest album the chat was shown before this message: the round of the highest
    number whose photos have smaller message ids, or (with `date`) one whose uncertain send
    began before the message was written. A bare rating rates this album, never a later one."""
    async with read_tx(conn):
        row = await fetch_one(
            conn,
            """SELECT r.id FROM rounds r WHERE r.chat_id = ? AND (
                   EXISTS (SELECT 1 FROM faces f WHERE f.round_id = r.id AND f.message_id < ?)
                   OR EXISTS (SELECT 1 FROM album_sends a WHERE a.round_id = r.id
                              AND a.outcome = 'uncertain' AND a.started_at < ?))
               ORDER BY r.id DESC LIMIT 1""",
            (chat_id, message_id, float("-inf") if date is None else date),
        )
        return None if row is None else await load_round(conn, row["id"])
