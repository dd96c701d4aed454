"""`fotorobot try`: the whole bot on this machine, no token and no Telegram needed.

The fake Bot API (with its one-page chat) runs in a background thread; the real bot, built by
the same `build_application` as `fotorobot run`, polls it over HTTP. Its database is kept apart
from a real bot's (`data/tryout.sqlite3` by default), so trying it never mixes with real chats.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.config import BotConfig

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of `fotorobot try`."""
    parser.add_argument("--host", default="127.0.0.1", help="address of the chat page")
    parser.add_argument("--port", type=int, default=8081, help="port (0 = any free port)")
    parser.add_argument(
        "--db", type=Path, default=None, help="database (default: DATA_DIR/tryout.sqlite3)"
    )
    parser.add_argument(
        "--env-file", type=Path, default=Path(".env"), help="optional KEY=VALUE file (.env)"
    )
    parser.add_argument(
        "--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"]
    )


def run(args: argparse.Namespace) -> int:
    """Serve the chat page and the bot until Ctrl+C."""
    from bot.main import setup_logging

    try:
        config = local_config(args.env_file, args.db)
    except ValueError as exc:
        print(f"fotorobot: bad configuration: {exc}", file=sys.stderr)
        return 2

    from bot.app import ALLOWED_UPDATES, build_application
    from telegram_fake import FakeBotAPI, ServerThread

    api = FakeBotAPI(config.token)
    try:
        server = ServerThread(api, args.host, args.port, web_ui=True)
        url = server.start()
    except OSError as exc:
        print(f"fotorobot: cannot serve on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 2
    setup_logging(args.log_level, config.token)
    config = dataclasses.replace(config, api_base_url=url)
    print(
        f"\n  fotorobot is running locally. Open {url}/ in a browser and send /start.\n"
        "  (Ctrl+C stops it. With TELEGRAM_BOT_TOKEN set, `fotorobot run` talks to Telegram.)\n",
        flush=True,
    )
    try:
        app = build_application(config)
        app.run_polling(allowed_updates=ALLOWED_UPDATES, drop_pending_updates=False)
    finally:
        server.stop()
    return 0


def local_config(env_file: Path | None, db: Path | None) -> BotConfig:
    """The user's settings (.env, environment) with the emulator's token and its own DB.

    A real token, if one is set, is never used here: the emulator accepts only its own.
    """
    from bot.config import load_config
    from telegram_fake.world import DEFAULT_TOKEN

    environ = {**os.environ, "TELEGRAM_BOT_TOKEN": DEFAULT_TOKEN}
    config = load_config(environ=environ, env_file=env_file)
    return dataclasses.replace(config, db_path=db or config.data_dir / "tryout.sqlite3")
