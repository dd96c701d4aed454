"""A chat's own settings (quorum, deadline, album size, scale...): a JSON object on its row.

They live in `chats.settings`, so they move with the chat when a group becomes a supergroup
(`migrate_chat` copies the row). The bot validates values; storage keeps any JSON object.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aiosqlite

from storage.db import dumps_json, fetch_one, loads_json, now, read_tx, write_tx
from storage.errors import NotFound


async def chat_settings(conn: aiosqlite.Connection, chat_id: int) -> dict[str, Any]:
    """The chat's settings ({} for a chat never seen or never configured)."""
    async with read_tx(conn):
        row = await fetch_one(conn, "SELECT settings FROM chats WHERE chat_id = ?", (chat_id,))
    return loads_json(row["settings"]) if row else {}


async def update_chat_settings(
    conn: aiosqlite.Connection, chat_id: int, changes: Mapping[str, Any]
) -> dict[str, Any]:
    """Merge `changes` into the chat's settings in one transaction (a None value removes the
    key); returns the settings now stored. NotFound for a chat never recorded."""
    async with write_tx(conn):
        row = await fetch_one(conn, "SELECT settings FROM chats WHERE chat_id = ?", (chat_id,))
        if row is None:
            raise NotFound(f"chat {chat_id} is not known")
        merged = loads_json(row["settings"])
        for key, value in changes.items():
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = value
        await conn.execute(
            "UPDATE chats SET settings = ?, updated_at = ? WHERE chat_id = ?",
            (dumps_json(merged, "chat settings"), now(), chat_id),
        )
    return merged
