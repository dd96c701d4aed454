"""`fotorobot db backup PATH` and `fotorobot db export CHAT_ID`: the database from the shell.

The database is the one `fotorobot run` uses: `--db`, else the settings' `db_path`
(FOTOROBOT_DB, else $FOTOROBOT_DATA_DIR/fotorobot.sqlite3, from the environment or `.env`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import pathlib
import sqlite3
import sys

from fotorobot.settings import add_env_file_argument, settings_for_command
from storage import StorageError, backup_file, connect, export_chat

MULTI_COMMAND = True


def add_arguments(parser: argparse.ArgumentParser, command: tuple[str, ...]) -> None:
    """Flags of `db backup` / `db export`."""
    parser.add_argument(
        "--db",
        type=pathlib.Path,
        default=None,
        help="database file (default: $FOTOROBOT_DB, else $FOTOROBOT_DATA_DIR/fotorobot.sqlite3)",
    )
    add_env_file_argument(parser)
    if command[-1] == "backup":
        parser.add_argument("path", type=pathlib.Path, help="where to write the backup copy")
    else:
        parser.add_argument("chat_id", type=int, help="Telegram chat id to export")
        parser.add_argument(
            "--out", type=pathlib.Path, default=None, help="write JSON here instead of stdout"
        )


def run(args: argparse.Namespace, command: tuple[str, ...]) -> int:
    """Run `db backup` or `db export`; 0 on success, 1 with a message on stderr otherwise."""
    db = args.db
    if db is None:
        settings = settings_for_command(args.env_file)
        if settings is None:
            return 2
        db = settings.db_path
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
