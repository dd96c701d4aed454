"""Rounds and faces: record an album atomically, find the face or round behind a message."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

import aiosqlite

from storage.blobs import from_blob, to_blob, vector_length
from storage.db import dumps_json, fetch_all, fetch_one, now, read_tx, write_tx
from storage.errors import BadValue, DuplicateMessage, NotFound, SessionClosed
from storage.rows import SOURCES, Face, NewFace, Round

MAX_ALBUM = 10  # Telegram's sendMediaGroup limit

# Faces joined with their session's dimensions, needed to validate the blobs on the way out.
FACE_SELECT = """SELECT f.*, s.dim AS s_dim, s.latent_dim AS s_latent_dim
                 FROM faces f JOIN sessions s ON s.id = f.session_id"""


def face_from_row(row: aiosqlite.Row) -> Face:
    """A Face from a FACE_SELECT row; BadBlob if a stored vector has the wrong length."""
    return Face(
        id=row["id"],
        round_id=row["round_id"],
        session_id=row["session_id"],
        chat_id=row["chat_id"],
        position=row["position"],
        source=row["source"],
        point=from_blob(row["point"], row["s_dim"], f"point of face {row['id']}"),
        latent=from_blob(row["latent"], row["s_latent_dim"], f"latent of face {row['id']}"),
        model_version=row["model_version"],
        message_id=row["message_id"],
        file_id=row["file_id"],
        score=row["score"],
        created_at=row["created_at"],
    )


async def load_round(conn: aiosqlite.Connection, round_id: int) -> Round | None:
    """A round with its faces in position order (inside the caller's transaction)."""
    row = await fetch_one(conn, "SELECT * FROM rounds WHERE id = ?", (round_id,))
    if row is None:
        return None
    faces = await fetch_all(
        conn, FACE_SELECT + " WHERE f.round_id = ? ORDER BY f.position", (round_id,)
    )
    return Round(
        id=row["id"],
        session_id=row["session_id"],
        chat_id=row["chat_id"],
        number=row["number"],
        prompt_message_id=row["prompt_message_id"],
        poll_id=row["poll_id"],
        opened_at=row["opened_at"],
        closed_at=row["closed_at"],
        deadline=row["deadline"],
        faces=tuple(face_from_row(f) for f in faces),
        poll_message_id=row["poll_message_id"],
    )


def _check_album(faces: Sequence[NewFace], message_ids: Sequence[int | None]) -> None:
    if not 1 <= len(faces) <= MAX_ALBUM:
        raise BadValue(f"an album holds 1 to {MAX_ALBUM} faces, got {len(faces)}")
    if len(message_ids) != len(faces):
        raise BadValue(f"{len(faces)} faces but {len(message_ids)} message ids")
    positions = [f.position for f in faces]
    if len(set(positions)) != len(positions) or min(positions) < 1:
        raise BadValue(f"album positions must be distinct and >= 1, got {positions}")
    for f in faces:
        if f.source not in SOURCES:
            raise BadValue(f"face source must be one of {SOURCES}, got {f.source!r}")
    ids = [m for m in message_ids if m is not None]
    if len(set(ids)) != len(ids):
        raise DuplicateMessage(f"the same message id appears twice in one album: {ids}")


async def record_album(
    conn: aiosqlite.Connection,
    session_id: int,
    faces: Sequence[NewFace],
    message_ids: Sequence[int | None],
    prompt_message_id: int | None = None,
    *,
    deadline: float | None = None,
    poll_id: str | None = None,
    state: dict[str, Any] | None = None,
) -> Round:
    """Store a sent album as a new open round: faces and their message ids, all or nothing.

    The chat's previous round, if still open, is closed in the same transaction; `state`, if
    given, replaces the session's optimizer state in it too (no album without its state).
    """
    _check_album(faces, message_ids)
    state_json = None if state is None else dumps_json(state, "session state")
    t = now()
    async with write_tx(conn):
        srow = await fetch_one(conn, "SELECT * FROM sessions WHERE id = ?", (session_id,))
        if srow is None:
            raise NotFound(f"search session {session_id} does not exist")
        if srow["closed_at"] is not None:
            raise SessionClosed(f"search session {session_id} is closed; start a new one")
        dim = srow["dim"] or vector_length(faces[0].point, "point of face #1")
        latent_dim = srow["latent_dim"] or vector_length(faces[0].latent, "latent of face #1")
        blobs = [
            (
                to_blob(f.point, dim, f"point of face #{f.position}"),
                to_blob(f.latent, latent_dim, f"latent of face #{f.position}"),
            )
            for f in faces
        ]
        if srow["dim"] is None or srow["latent_dim"] is None:
            await conn.execute(
                "UPDATE sessions SET dim = ?, latent_dim = ? WHERE id = ?",
                (dim, latent_dim, session_id),
            )
        if state_json is not None:
            await conn.execute(
                "UPDATE sessions SET state = ? WHERE id = ?", (state_json, session_id)
            )
        chat_id = srow["chat_id"]
        await conn.execute(
            "UPDATE rounds SET closed_at = ? WHERE chat_id = ? AND closed_at IS NULL", (t, chat_id)
        )
        nrow = await fetch_one(
            conn,
            "SELECT COALESCE(MAX(number), 0) + 1 FROM rounds WHERE session_id = ?",
            (session_id,),
        )
        number = int(nrow[0]) if nrow else 1
        cur = await conn.execute(
            """INSERT INTO rounds (session_id, chat_id, number, prompt_message_id, poll_id,
                                   opened_at, deadline) VALUES (?, ?, ?, ?, ?, ?, ?)""",
            (session_id, chat_id, number, prompt_message_id, poll_id, t, deadline),
        )
        round_id = cur.lastrowid
        try:
            await conn.executemany(
                """INSERT INTO faces (round_id, session_id, chat_id, position, source, point,
                                      latent, model_version, message_id, created_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                [
                    (
                        round_id,
                        session_id,
                        chat_id,
                        f.position,
                        f.source,
                        p,
                        z,
                        srow["model_version"],
                        m,
                        t,
                    )
                    for f, (p, z), m in zip(faces, blobs, message_ids, strict=True)
                ],
            )
        except sqlite3.IntegrityError as exc:
            raise DuplicateMessage(
                f"a message id of this album is already attached to another face: {exc}"
            ) from exc
        assert round_id is not None
        rnd = await load_round(conn, round_id)
    assert rnd is not None
    return rnd


async def _set(conn: aiosqlite.Connection, sql: str, params: tuple[object, ...], what: str) -> None:
    async with write_tx(conn):
        try:
            cur = await conn.execute(sql, params)
        except sqlite3.IntegrityError as exc:
            raise DuplicateMessage(f"{what}: message id already in use ({exc})") from exc
        if cur.rowcount != 1:
            raise NotFound(f"{what} does not exist")


async def set_prompt_message(conn: aiosqlite.Connection, round_id: int, message_id: int) -> None:
    """Attach the follow-up prompt message (instructions/buttons) to a round."""
    await _set(
        conn,
        "UPDATE rounds SET prompt_message_id = ? WHERE id = ?",
        (message_id, round_id),
        f"round {round_id}",
    )


async def set_round_poll(conn: aiosqlite.Connection, round_id: int, poll_id: str) -> None:
    """Attach a Telegram poll id to a round (poll_answer updates carry only the poll id)."""
    await _set(
        conn, "UPDATE rounds SET poll_id = ? WHERE id = ?", (poll_id, round_id), f"round {round_id}"
    )


async def set_round_deadline(
    conn: aiosqlite.Connection, round_id: int, deadline: float | None
) -> None:
    """Set or clear the time (epoch seconds) at which the bot closes the round."""
    await _set(
        conn,
        "UPDATE rounds SET deadline = ? WHERE id = ?",
        (deadline, round_id),
        f"round {round_id}",
    )


async def get_round(conn: aiosqlite.Connection, round_id: int) -> Round | None:
    """A round with its faces, or None."""
    async with read_tx(conn):
        return await load_round(conn, round_id)


async def open_round(conn: aiosqlite.Connection, chat_id: int) -> Round | None:
    """The chat's open round (the album people are rating now), or None."""
    async with read_tx(conn):
        row = await fetch_one(
            conn, "SELECT id FROM rounds WHERE chat_id = ? AND closed_at IS NULL", (chat_id,)
        )
        return await load_round(conn, row["id"]) if row else None


async def open_rounds(conn: aiosqlite.Connection) -> list[Round]:
    """Every chat's open round, oldest first (a restarted bot re-arms their deadlines)."""
    async with read_tx(conn):
        rows = await fetch_all(conn, "SELECT id FROM rounds WHERE closed_at IS NULL ORDER BY id")
        rounds = [await load_round(conn, r["id"]) for r in rows]
    return [r for r in rounds if r is not None]


async def face_by_message(conn: aiosqlite.Connection, chat_id: int, message_id: int) -> Face | None:
    """The face shown in a photo message of this chat (a reply to one photo), or None."""
    async with read_tx(conn):
        row = await fetch_one(
            conn, FACE_SELECT + " WHERE f.chat_id = ? AND f.message_id = ?", (chat_id, message_id)
        )
    return face_from_row(row) if row else None


async def round_by_message(
    conn: aiosqlite.Connection, chat_id: int, message_id: int
) -> Round | None:
    """The round behind any of its album photos or its prompt message, or None."""
    async with read_tx(conn):
        row = await fetch_one(
            conn,
            """SELECT round_id AS id FROM faces WHERE chat_id = ? AND message_id = ?
               UNION ALL
               SELECT id FROM rounds WHERE chat_id = ? AND prompt_message_id = ?
               LIMIT 1""",
            (chat_id, message_id, chat_id, message_id),
        )
        return await load_round(conn, row["id"]) if row else None


async def round_by_poll(conn: aiosqlite.Connection, poll_id: str) -> Round | None:
    """The round a Telegram poll belongs to, or None."""
    async with read_tx(conn):
        row = await fetch_one(conn, "SELECT id FROM rounds WHERE poll_id = ?", (poll_id,))
        return await load_round(conn, row["id"]) if row else None


async def close_round(conn: aiosqlite.Connection, round_id: int) -> bool:
    """Close a round; True only for the call that closed it (False if closed or unknown)."""
    async with write_tx(conn):
        cur = await conn.execute(
            "UPDATE rounds SET closed_at = ? WHERE id = ? AND closed_at IS NULL", (now(), round_id)
        )
        return cur.rowcount == 1
