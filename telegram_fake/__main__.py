"""`python -m telegram_fake`: serve the fake Bot API (and its chat page) for a local try-out."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from collections.abc import Sequence

from telegram_fake.api import FakeBotAPI
from telegram_fake.http import serve_http
from telegram_fake.world import DEFAULT_TOKEN


def build_parser() -> argparse.ArgumentParser:
    """Command-line options of the fake server."""
    parser = argparse.ArgumentParser(
        prog="python -m telegram_fake",
        description="Serve a fake Telegram Bot API on localhost for trying the bot without "
        "Telegram. Point the bot at it with TELEGRAM_API_BASE_URL.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8081, help="port (0 = any free port)")
    parser.add_argument("--token", default=DEFAULT_TOKEN, help="the only token accepted")
    parser.add_argument(
        "--no-privacy", action="store_true", help="bots see every group message (privacy off)"
    )
    parser.add_argument("--no-web-ui", action="store_true", help="serve the Bot API only")
    return parser


async def _serve(args: argparse.Namespace) -> None:
    api = FakeBotAPI(args.token, privacy_mode=not args.no_privacy)
    async with serve_http(api, args.host, args.port, web_ui=not args.no_web_ui) as url:
        print(f"fake Bot API listening on {url}", flush=True)
        print(
            f"  run the bot with: TELEGRAM_BOT_TOKEN=<the --token> TELEGRAM_API_BASE_URL={url} "
            "fotorobot run",
            flush=True,
        )
        if not args.no_web_ui:
            print(f"  then chat with it in a browser: {url}/", flush=True)
        await asyncio.Event().wait()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; serves until interrupted."""
    args = build_parser().parse_args(argv)
    try:
        FakeBotAPI(args.token)
    except ValueError as exc:
        print(f"python -m telegram_fake: {exc}", file=sys.stderr)
        return 2
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
