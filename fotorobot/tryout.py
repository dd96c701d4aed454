"""`fotorobot try`: the whole bot on this machine, no token and no Telegram needed.

The fake Bot API (`telegram_fake`, with its one-page chat) runs in a background thread; the
real bot, built by the same `build_application` as `fotorobot run`, polls it over HTTP. Its
database is kept apart from a real bot's (`DATA_DIR/tryout.sqlite3` by default), so trying it
never mixes with real chats.

It lives here, not in `bot/`, because it is the one command that joins the bot and the fake:
`bot` never imports `telegram_fake`, and the production image, which leaves the fake out,
answers `fotorobot try` with a sentence instead of a traceback.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import sys
from pathlib import Path

from fotorobot.logs import setup_logging
from fotorobot.settings import Settings, add_env_file_argument, settings_for_command

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of `fotorobot try`."""
    parser.add_argument("--host", default="127.0.0.1", help="address of the chat page")
    parser.add_argument("--port", type=int, default=8081, help="port (0 = any free port)")
    parser.add_argument(
        "--db", type=Path, default=None, help="database (default: DATA_DIR/tryout.sqlite3)"
    )
    add_env_file_argument(parser)
    parser.add_argument(
        "--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"]
    )


def run(args: argparse.Namespace) -> int:
    """Serve the chat page and the bot until Ctrl+C."""
    try:
        from telegram_fake import DEFAULT_TOKEN, FakeBotAPI, ServerThread
    except ImportError:
        print(
            "fotorobot: the local emulator (telegram_fake) is not installed here; the "
            "production image leaves it out. Run `fotorobot try` from a source checkout "
            "(bash scripts/run.sh).",
            file=sys.stderr,
        )
        return 2
    # The user's settings (.env, environment) with the emulator's token: a real token, if one
    # is set, is never used here (the emulator accepts only its own).
    settings = settings_for_command(
        args.env_file, environ={**os.environ, "TELEGRAM_BOT_TOKEN": DEFAULT_TOKEN}
    )
    if settings is None:
        return 2
    settings = dataclasses.replace(settings, db_path=args.db or tryout_db(settings))

    from bot.app import ALLOWED_UPDATES, build_application

    api = FakeBotAPI(DEFAULT_TOKEN)
    try:
        server = ServerThread(api, args.host, args.port, web_ui=True)
        url = server.start()
    except OSError as exc:
        print(f"fotorobot: cannot serve on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 2
    setup_logging(args.log_level, [DEFAULT_TOKEN])
    settings = dataclasses.replace(settings, api_base_url=url)
    print(
        f"\n  fotorobot is running locally. Open {url}/ in a browser and send /start.\n"
        "  (Ctrl+C stops it. With TELEGRAM_BOT_TOKEN set, `fotorobot run` talks to Telegram.)\n",
        flush=True,
    )
    try:
        app = build_application(settings)
        app.run_polling(allowed_updates=ALLOWED_UPDATES, drop_pending_updates=False)
    finally:
        server.stop()
    return 0


def tryout_db(settings: Settings) -> Path:
    """The emulator's own database, beside (never instead of) the real bot's."""
    return settings.data_dir / "tryout.sqlite3"
