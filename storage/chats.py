"""Chats and users: upserts from incoming updates, language, activity, group->supergroup moves."""

from __future__ import annotations

from typing import Any

import aiosqlite

from storage.db import dumps_json, fetch_one, loads_json, now, read_tx, write_tx
from storage.errors import BadValue, NotFound
from storage.rows import Chat, User

# Every table with a chat_id column, in the order rows must move on a chat migration
# (parents first, so foreign keys hold at every statement).
CHAT_TABLES = (
    "sessions",
    "rounds",
    "faces",
    "votes",
    "audit_log",
    "picks",
    "restart_requests",
    "training_runs",  # a run started there reports to the supergroup
)


def chat_from_row(row: aiosqlite.Row) -> Chat:
    """A Chat from a `chats` row."""
    return Chat(
        chat_id=row["chat_id"],
        type=row["type"],
        title=row["title"],
        language=row["language"],
        active=bool(row["active"]),
        settings=loads_json(row["settings"]),
        created_at=row["created_at"],
    )


def user_from_row(row: aiosqlite.Row) -> User:
    """A User from a `users` row."""
    return User(
        user_id=row["user_id"],
        username=row["username"],
        first_name=row["first_name"],
        language=row["language"],
    )


async def upsert_chat(
    conn: aiosqlite.Connection,
    chat_id: int,
    type: str,
    title: str | None = None,
    language: str | None = None,
) -> Chat:
    """Create or refresh a chat; a language already chosen is kept (the argument is a default)."""
    if not type:
        raise BadValue("chat type must be a non-empty string")
    t = now()
    async with write_tx(conn):
        await conn.execute(
            """INSERT INTO chats (chat_id, type, title, language, created_at, updated_at)
               VALUES (?, ?, ?, ?, ?, ?)
               ON CONFLICT (chat_id) DO UPDATE SET
                   type = excluded.type,
                   title = COALESCE(excluded.title, chats.title),
                   language = COALESCE(chats.language, excluded.language),
                   updated_at = excluded.updated_at""",
            (chat_id, type, title, language, t, t),
        )
        row = await fetch_one(conn, "SELECT * FROM chats WHERE chat_id = ?", (chat_id,))
    assert row is not None  # just written inside the same transaction
    return chat_from_row(row)


async def get_chat(conn: aiosqlite.Connection, chat_id: int) -> Chat | None:
    """The chat, or None if it was never seen (or was forgotten)."""
    async with read_tx(conn):
        row = await fetch_one(conn, "SELECT * FROM chats WHERE chat_id = ?", (chat_id,))
    return chat_from_row(row) if row else None


async def _update_chat(
    conn: aiosqlite.Connection, chat_id: int, column_sql: str, value: Any
) -> None:
    async with write_tx(conn):
        cur = await conn.execute(
            f"UPDATE chats SET {column_sql} = ?, updated_at = ? WHERE chat_id = ?",
            (value, now(), chat_id),
        )
        if cur.rowcount != 1:
            raise NotFound(f"chat {chat_id} is not known")


async def set_chat_language(conn: aiosqlite.Connection, chat_id: int, language: str) -> None:
    """Set the chat's interface language (e.g. 'en', 'ru')."""
    await _update_chat(conn, chat_id, "language", language)


async def set_chat_active(conn: aiosqlite.Connection, chat_id: int, active: bool) -> None:
    """Mark a chat active or not (the bot was blocked/kicked: Forbidden)."""
    await _update_chat(conn, chat_id, "active", 1 if active else 0)


async def set_chat_settings(
    conn: aiosqlite.Connection, chat_id: int, settings: dict[str, Any]
) -> None:
    """Replace the chat's settings (a JSON object)."""
    await _update_chat(conn, chat_id, "settings", dumps_json(settings, "chat settings"))


async def migrate_chat(conn: aiosqlite.Connection, old_chat_id: int, new_chat_id: int) -> bool:
    """Move every row of a group to its new supergroup id (ChatMigrated); False if old unknown."""
    if old_chat_id == new_chat_id:
        return False
    async with write_tx(conn):
        old = await fetch_one(conn, "SELECT * FROM chats WHERE chat_id = ?", (old_chat_id,))
        if old is None:
            return False
        new = await fetch_one(conn, "SELECT * FROM chats WHERE chat_id = ?", (new_chat_id,))
        t = now()
        if new is None:
            await conn.execute(
                """INSERT INTO chats (chat_id, type, title, language, active, settings,
                                      created_at, updated_at)
                   VALUES (?, 'supergroup', ?, ?, ?, ?, ?, ?)""",
                (
                    new_chat_id,
                    old["title"],
                    old["language"],
                    old["active"],
                    old["settings"],
                    old["created_at"],
                    t,
                ),
            )
        else:
            # The supergroup spoke first; the group's history wins over what it started since.
            await conn.execute(
                """UPDATE chats SET language = COALESCE(language, ?), settings = ?,
                       updated_at = ? WHERE chat_id = ?""",
                (old["language"], old["settings"], t, new_chat_id),
            )
            old_open = await fetch_one(
                conn,
                """SELECT 1 FROM sessions WHERE chat_id = ? AND closed_at IS NULL
                   UNION ALL SELECT 1 FROM rounds WHERE chat_id = ? AND closed_at IS NULL""",
                (old_chat_id, old_chat_id),
            )
            if old_open is not None:
                await conn.execute(
                    "UPDATE rounds SET closed_at = ? WHERE chat_id = ? AND closed_at IS NULL",
                    (t, new_chat_id),
                )
                await conn.execute(
                    "UPDATE sessions SET closed_at = ? WHERE chat_id = ? AND closed_at IS NULL",
                    (t, new_chat_id),
                )
        # Message ids are per chat and a supergroup numbers its messages from 1 again: the
        # group's photos and prompts can never be replied to (or edited) there, and keeping their
        # ids would make the supergroup's own new messages clash with them.
        for forget_ids in (
            "UPDATE faces SET message_id = NULL WHERE chat_id = ?",
            "UPDATE rounds SET prompt_message_id = NULL WHERE chat_id = ?",
            "UPDATE rounds SET poll_message_id = NULL WHERE chat_id = ?",
            "UPDATE votes SET message_id = NULL WHERE chat_id = ?",
            "UPDATE training_runs SET message_id = NULL WHERE chat_id = ?",
        ):
            await conn.execute(forget_ids, (old_chat_id,))
        for table in CHAT_TABLES:  # fixed names, never user input
            await conn.execute(
                f"UPDATE {table} SET chat_id = ? WHERE chat_id = ?", (new_chat_id, old_chat_id)
            )
        await conn.execute("DELETE FROM chats WHERE chat_id = ?", (old_chat_id,))
    return True


async def upsert_user(
    conn: aiosqlite.Connection,
    user_id: int,
    username: str | None = None,
    first_name: str | None = None,
    language: str | None = None,
) -> User:
    """Create or refresh a user (names follow Telegram; None keeps what was stored)."""
    async with write_tx(conn):
        await store_user(conn, user_id, username, first_name, language)
        row = await fetch_one(conn, "SELECT * FROM users WHERE user_id = ?", (user_id,))
    assert row is not None
    return user_from_row(row)


async def store_user(
    conn: aiosqlite.Connection,
    user_id: int,
    username: str | None,
    first_name: str | None,
    language: str | None,
) -> None:
    """Insert or refresh a users row inside the caller's transaction (None keeps what was
    stored)."""
    t = now()
    await conn.execute(
        """INSERT INTO users (user_id, username, first_name, language, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT (user_id) DO UPDATE SET
               username = COALESCE(excluded.username, users.username),
               first_name = COALESCE(excluded.first_name, users.first_name),
               language = COALESCE(excluded.language, users.language),
               updated_at = excluded.updated_at""",
        (user_id, username, first_name, language, t, t),
    )
