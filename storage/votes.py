"""Votes: cast (replacing re-votes and edited messages), undo, and the GP-ready history."""

from __future__ import annotations

import math
from collections.abc import Sequence

import aiosqlite
import numpy as np

from storage.blobs import from_blob
from storage.db import fetch_all, fetch_one, now, read_tx, write_tx
from storage.errors import BadValue, NotFound, RoundClosed, WrongChat
from storage.polls import load_picks
from storage.rows import History, Vote


def vote_from_row(row: aiosqlite.Row) -> Vote:
    """A Vote from a `votes` row."""
    return Vote(
        id=row["id"],
        face_id=row["face_id"],
        user_id=row["user_id"],
        chat_id=row["chat_id"],
        round_id=row["round_id"],
        value=row["value"],
        raw_text=row["raw_text"],
        message_id=row["message_id"],
        created_at=row["created_at"],
    )


def _clean_votes(votes: Sequence[tuple[int, float]]) -> dict[int, float]:
    clean: dict[int, float] = {}
    for item in votes:
        try:
            face_id, value = item
            fid, v = int(face_id), float(value)
        except (TypeError, ValueError) as exc:
            raise BadValue(f"a vote must be (face_id, number), got {item!r}") from exc
        if not math.isfinite(v):
            raise BadValue(f"a vote must be a finite number, got {value!r}")
        clean[fid] = v  # the same face twice in one message: the last value wins
    return clean


async def _refresh_counts(conn: aiosqlite.Connection, round_ids: set[int]) -> None:
    for rid in round_ids:
        await conn.execute(
            """UPDATE faces SET n_votes =
                   (SELECT COUNT(*) FROM votes WHERE votes.face_id = faces.id)
               WHERE round_id = ?""",
            (rid,),
        )


async def cast_votes(
    conn: aiosqlite.Connection,
    chat_id: int,
    user_id: int,
    votes: Sequence[tuple[int, float]],
    raw_text: str | None = None,
    message_id: int | None = None,
) -> list[Vote]:
    """Store one message's votes, all or nothing; returns the stored votes.

    One vote per user per face: a later vote replaces the earlier one. With a message_id the
    message's vote set is replaced as a whole (an edited message that drops a face drops its
    vote). Refuses faces of another chat (WrongChat), of a closed round (RoundClosed), unknown
    faces (NotFound) and non-finite values (BadValue).
    """
    clean = _clean_votes(votes)
    if not clean and message_id is None:
        return []
    t = now()
    async with write_tx(conn):
        rows = []
        if clean:
            marks = ",".join("?" * len(clean))
            rows = await fetch_all(
                conn,
                f"""SELECT f.id, f.chat_id, f.round_id, f.position, r.closed_at
                    FROM faces f JOIN rounds r ON r.id = f.round_id WHERE f.id IN ({marks})""",
                tuple(clean),
            )
        found = {r["id"]: r for r in rows}
        for fid in clean:
            row = found.get(fid)
            if row is None:
                raise NotFound(f"face {fid} does not exist")
            if row["chat_id"] != chat_id:
                raise WrongChat(f"face {fid} belongs to another chat")
            if row["closed_at"] is not None:
                raise RoundClosed(f"the round of face #{row['position']} is already closed")
        touched = {r["round_id"] for r in rows}
        await conn.execute(
            """INSERT INTO users (user_id, created_at, updated_at) VALUES (?, ?, ?)
               ON CONFLICT (user_id) DO NOTHING""",
            (user_id, t, t),
        )
        if message_id is not None:
            # The edited message's earlier votes on faces it no longer names go too.
            dropped = await fetch_all(
                conn,
                """SELECT v.id, v.round_id, v.face_id FROM votes v
                   JOIN rounds r ON r.id = v.round_id
                   WHERE v.chat_id = ? AND v.user_id = ? AND v.message_id = ?
                     AND r.closed_at IS NULL""",
                (chat_id, user_id, message_id),
            )
            for d in dropped:
                if d["face_id"] not in clean:
                    await conn.execute("DELETE FROM votes WHERE id = ?", (d["id"],))
                    touched.add(d["round_id"])
        new_ids = []
        for fid, value in clean.items():
            # Delete + insert (not UPDATE) so the vote gets a fresh, larger id: undo_last_vote
            # then finds the user's latest vote by id alone.
            await conn.execute(
                "DELETE FROM votes WHERE face_id = ? AND user_id = ?", (fid, user_id)
            )
            cur = await conn.execute(
                """INSERT INTO votes (face_id, user_id, chat_id, round_id, value, raw_text,
                                      message_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
                (fid, user_id, chat_id, found[fid]["round_id"], value, raw_text, message_id, t),
            )
            new_ids.append(cur.lastrowid)
        await _refresh_counts(conn, touched)
        stored = []
        for vid in new_ids:
            row = await fetch_one(conn, "SELECT * FROM votes WHERE id = ?", (vid,))
            assert row is not None
            stored.append(vote_from_row(row))
    return stored


async def votes_by_message(conn: aiosqlite.Connection, chat_id: int, message_id: int) -> list[Vote]:
    """The votes a message cast (to show or update them when the message is edited)."""
    async with read_tx(conn):
        rows = await fetch_all(
            conn,
            "SELECT * FROM votes WHERE chat_id = ? AND message_id = ? ORDER BY id",
            (chat_id, message_id),
        )
    return [vote_from_row(r) for r in rows]


async def round_votes(conn: aiosqlite.Connection, round_id: int) -> list[Vote]:
    """Every vote of a round, oldest first."""
    async with read_tx(conn):
        rows = await fetch_all(
            conn, "SELECT * FROM votes WHERE round_id = ? ORDER BY id", (round_id,)
        )
    return [vote_from_row(r) for r in rows]


async def _undo(
    conn: aiosqlite.Connection, chat_id: int, user_id: int, whole_cast: bool
) -> list[Vote]:
    async with write_tx(conn):
        last = await fetch_one(
            conn,
            """SELECT v.*, r.closed_at AS r_closed FROM votes v JOIN rounds r ON r.id = v.round_id
               WHERE v.chat_id = ? AND v.user_id = ? ORDER BY v.id DESC LIMIT 1""",
            (chat_id, user_id),
        )
        if last is None:
            return []
        if last["r_closed"] is not None:
            raise RoundClosed("your last vote was in a round that is already closed")
        if whole_cast:
            # One cast_votes call shares round, message and timestamp.
            rows = await fetch_all(
                conn,
                """SELECT * FROM votes WHERE user_id = ? AND round_id = ? AND created_at = ?
                   AND message_id IS ? ORDER BY id""",
                (user_id, last["round_id"], last["created_at"], last["message_id"]),
            )
        else:
            rows = [last]
        for r in rows:
            await conn.execute("DELETE FROM votes WHERE id = ?", (r["id"],))
        await _refresh_counts(conn, {last["round_id"]})
    return [vote_from_row(r) for r in rows]


async def undo_last_vote(conn: aiosqlite.Connection, chat_id: int, user_id: int) -> Vote | None:
    """Delete the user's latest vote in this chat and return it (None if there is none).

    Raises RoundClosed if that vote's round is already closed.
    """
    undone = await _undo(conn, chat_id, user_id, whole_cast=False)
    return undone[0] if undone else None


async def session_history(conn: aiosqlite.Connection, session_id: int) -> History:
    """All faces of a session (round, position order), their votes and poll picks, GP-ready."""
    async with read_tx(conn):
        srow = await fetch_one(
            conn, "SELECT dim, latent_dim FROM sessions WHERE id = ?", (session_id,)
        )
        if srow is None:
            raise NotFound(f"search session {session_id} does not exist")
        faces = await fetch_all(
            conn,
            """SELECT f.id, f.point, f.latent, f.position, f.source, r.number
               FROM faces f JOIN rounds r ON r.id = f.round_id
               WHERE f.session_id = ? ORDER BY r.number, f.position""",
            (session_id,),
        )
        votes = await fetch_all(
            conn,
            """SELECT v.face_id, v.user_id, v.value FROM votes v
               JOIN faces f ON f.id = v.face_id WHERE f.session_id = ? ORDER BY v.id""",
            (session_id,),
        )
        index = {f["id"]: i for i, f in enumerate(faces)}
        picks = await load_picks(conn, session_id, index)
    dim, latent_dim = srow["dim"] or 0, srow["latent_dim"] or 0
    n = len(faces)
    points = np.empty((n, dim), dtype=np.float32)  # (n, dim)
    latents = np.empty((n, latent_dim), dtype=np.float32)  # (n, latent_dim)
    for i, f in enumerate(faces):
        points[i] = from_blob(f["point"], dim, f"point of face {f['id']}")
        latents[i] = from_blob(f["latent"], latent_dim, f"latent of face {f['id']}")
    return History(
        face_ids=np.array([f["id"] for f in faces], dtype=np.int64),  # (n,)
        points=points,
        latents=latents,
        rounds=np.array([f["number"] for f in faces], dtype=np.int64),  # (n,)
        positions=np.array([f["position"] for f in faces], dtype=np.int64),  # (n,)
        sources=[f["source"] for f in faces],
        votes=[(index[v["face_id"]], int(v["user_id"]), float(v["value"])) for v in votes],
        picks=picks,
    )
