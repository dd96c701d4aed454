"""A chat's full export (JSON-able), and online backup of the whole database."""

from __future__ import annotations

import os
import pathlib
import sqlite3
from typing import Any

import aiosqlite

from storage.blobs import from_blob
from storage.db import exclusive, fetch_all, fetch_one, loads_json, read_tx

EXPORT_FORMAT = 1


def _floats(blob: bytes, length: int, what: str) -> list[float]:
    return [float(x) for x in from_blob(blob, length, what)]


async def export_chat(conn: aiosqlite.Connection, chat_id: int) -> dict[str, Any] | None:
    """Everything stored about a chat as a JSON-able dict (vectors as float lists), or None."""
    async with read_tx(conn):
        chat = await fetch_one(conn, "SELECT * FROM chats WHERE chat_id = ?", (chat_id,))
        if chat is None:
            return None
        sessions = await fetch_all(
            conn, "SELECT * FROM sessions WHERE chat_id = ? ORDER BY id", (chat_id,)
        )
        rounds = await fetch_all(
            conn, "SELECT * FROM rounds WHERE chat_id = ? ORDER BY id", (chat_id,)
        )
        faces = await fetch_all(
            conn,
            """SELECT f.*, s.dim AS s_dim, s.latent_dim AS s_latent_dim FROM faces f
               JOIN sessions s ON s.id = f.session_id WHERE f.chat_id = ? ORDER BY f.id""",
            (chat_id,),
        )
        votes = await fetch_all(
            conn, "SELECT * FROM votes WHERE chat_id = ? ORDER BY id", (chat_id,)
        )
        picks = await fetch_all(
            conn, "SELECT * FROM picks WHERE chat_id = ? ORDER BY id", (chat_id,)
        )
        users = await fetch_all(
            conn,
            """SELECT * FROM users WHERE user_id IN (SELECT user_id FROM votes WHERE chat_id = ?)
               OR user_id IN (SELECT user_id FROM picks WHERE chat_id = ?)
               OR user_id = ? ORDER BY user_id""",
            (chat_id, chat_id, chat_id),
        )
        audit = await fetch_all(
            conn, "SELECT * FROM audit_log WHERE chat_id = ? ORDER BY id", (chat_id,)
        )
    faces_by_round: dict[int, list[dict[str, Any]]] = {}
    for f in faces:
        faces_by_round.setdefault(f["round_id"], []).append(
            {
                "id": f["id"],
                "position": f["position"],
                "source": f["source"],
                "point": _floats(f["point"], f["s_dim"], f"point of face {f['id']}"),
                "latent": _floats(f["latent"], f["s_latent_dim"], f"latent of face {f['id']}"),
                "model_version": f["model_version"],
                "message_id": f["message_id"],
                "file_id": f["file_id"],
                "score": f["score"],
                "n_votes": f["n_votes"],
                "created_at": f["created_at"],
            }
        )
    rounds_by_session: dict[int, list[dict[str, Any]]] = {}
    for r in rounds:
        rounds_by_session.setdefault(r["session_id"], []).append(
            {
                key: r[key]
                for key in (
                    "id",
                    "number",
                    "prompt_message_id",
                    "poll_id",
                    "poll_message_id",
                    "opened_at",
                    "closed_at",
                    "deadline",
                )
            }
            | {"faces": faces_by_round.get(r["id"], [])}
        )
    return {
        "format": EXPORT_FORMAT,
        "chat": {
            "chat_id": chat["chat_id"],
            "type": chat["type"],
            "title": chat["title"],
            "language": chat["language"],
            "active": bool(chat["active"]),
            "settings": loads_json(chat["settings"]),
            "created_at": chat["created_at"],
            "updated_at": chat["updated_at"],
        },
        "sessions": [
            {
                "id": s["id"],
                "model_version": s["model_version"],
                "settings": loads_json(s["settings"]),
                "state": loads_json(s["state"]),
                "dim": s["dim"],
                "latent_dim": s["latent_dim"],
                "opened_at": s["opened_at"],
                "closed_at": s["closed_at"],
                "started_by": s["started_by"],
                "rounds": rounds_by_session.get(s["id"], []),
            }
            for s in sessions
        ],
        "votes": [
            {
                key: v[key]
                for key in (
                    "id",
                    "face_id",
                    "user_id",
                    "round_id",
                    "value",
                    "raw_text",
                    "message_id",
                    "created_at",
                )
            }
            for v in votes
        ],
        "picks": [
            {key: p[key] for key in ("id", "face_id", "user_id", "round_id", "created_at")}
            for p in picks
        ],
        "users": [
            {key: u[key] for key in ("user_id", "username", "first_name", "language")}
            for u in users
        ],
        "audit_log": [
            {
                "id": a["id"],
                "admin_user_id": a["admin_user_id"],
                "action": a["action"],
                "details": loads_json(a["details"]),
                "created_at": a["created_at"],
            }
            for a in audit
        ],
    }


def backup_file(source: str | os.PathLike[str], target: str | os.PathLike[str]) -> int:
    """Copy a live database with SQLite's online backup API; returns the target's size in bytes."""
    dst_path = pathlib.Path(target)
    dst_path.parent.mkdir(parents=True, exist_ok=True)
    src_path = pathlib.Path(source)
    if not src_path.is_file():
        raise FileNotFoundError(f"no database at {src_path}")
    src = sqlite3.connect(src_path)
    try:
        dst = sqlite3.connect(dst_path)
        try:
            src.backup(dst)
            # A backup is a single file: leave it in rollback-journal mode, not WAL.
            dst.execute("PRAGMA journal_mode = DELETE")
        finally:
            dst.close()
    finally:
        src.close()
    return dst_path.stat().st_size


async def backup_to(conn: aiosqlite.Connection, target: str | os.PathLike[str]) -> None:
    """Online backup of an open database (e.g. an admin /backup) while the bot keeps running."""
    dst_path = pathlib.Path(target)
    dst_path.parent.mkdir(parents=True, exist_ok=True)
    async with aiosqlite.connect(dst_path) as dst:
        # Under the connection's lock: SQLite's backup of a connection inside a write
        # transaction spins on SQLITE_LOCKED forever, and on aiosqlite's one thread the
        # COMMIT that would end it is queued behind the backup.
        async with exclusive(conn):
            await conn.backup(dst)
        await dst.execute("PRAGMA journal_mode = DELETE")
