"""`fotorobot db backup PATH` and `fotorobot db export CHAT_ID`: the database from the shell."""

from __future__ import annotations

import argparse
import asyncio
import json
import pathlib
import sqlite3
import sys

from storage.db import connect, default_db_path
from storage.errors import StorageError
from storage.export import backup_file, export_chat

MULTI_COMMAND = True


def add_arguments(parser: argparse.ArgumentParser, command: tuple[str, ...]) -> None:
    """Flags of `db backup` / `db export`."""
    parser.add_argument(
        "--db",
        type=pathlib.Path,
        default=None,
        help="database file (default: $FOTOROBOT_DB or ./data/fotorobot.sqlite3)",
    )
    if command[-1] == "backup":
        parser.add_argument("path", type=pathlib.Path, help="where to write the backup copy")
    else:
        parser.add_argument("chat_id", type=int, help="Telegram chat id to export")
        parser.add_argument(
            "--out", type=pathlib.Path, default=None, help="write JSON here instead of stdout"
        )


def run(args: argparse.Namespace, command: tuple[str, ...]) -> int:
    """Run `db backup` or `db export`; 0 on success, 1 with a message on stderr otherwise."""
    db = args.db if args.db is not None else default_db_path()
    if not db.is_file():
        print(f"fotorobot: no database at {db}", file=sys.stderr)
        return 1
    try:
        if command[-1] == "backup":
            return _backup(db, args.path)
        return asyncio.run(_export(db, args.chat_id, args.out))
    except (StorageError, sqlite3.Error, OSError) as exc:
        print(f"fotorobot: {command[-1]} failed: {exc}", file=sys.stderr)
        return 1


def _backup(db: pathlib.Path, target: pathlib.Path) -> int:
    if target.resolve() == db.resolve():
        print("fotorobot: the backup path is the database itself", file=sys.stderr)
        return 1
    size = backup_file(db, target)
    print(f"backed up {db} -> {target} ({size} bytes)")
    return 0


async def _export(db: pathlib.Path, chat_id: int, out: pathlib.Path | None) -> int:
    conn = await connect(db)
    try:
        data = await export_chat(conn, chat_id)
    finally:
        await conn.close()
    if data is None:
        print(f"fotorobot: chat {chat_id} is not in {db}", file=sys.stderr)
        return 1
    text = json.dumps(data, ensure_ascii=False, indent=1)
    if out is None:
        print(text)
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text + "\n", encoding="utf-8")
        print(f"exported chat {chat_id} -> {out}", file=sys.stderr)
    return 0
