"""`fotorobot run`: load the settings, then serve Telegram by long polling or a webhook."""

from __future__ import annotations

import argparse
import hashlib
import hmac
import logging
import sys
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from fotorobot.logs import redact, setup_logging
from fotorobot.settings import add_env_file_argument, settings_for_command

if TYPE_CHECKING:
    from fotorobot.settings import Settings

log = logging.getLogger(__name__)

BOTFATHER_HINT = """\
fotorobot: no Telegram bot token is set, so there is nothing to run yet.

How to get one (two minutes):
  1. In Telegram, open @BotFather and send /newbot.
  2. Choose a display name, then a username that ends in "bot".
  3. BotFather answers with a token like 123456789:AAF...; keep it secret.

How to give it to fotorobot (either way):
  export TELEGRAM_BOT_TOKEN=123456789:AAF...
  or put the line  TELEGRAM_BOT_TOKEN=123456789:AAF...  into a file named .env
  in the directory you run fotorobot from.

Then run `fotorobot run` again. docs/bot.md describes the whole set-up.
"""

TOKEN_REFUSED = """\
fotorobot: the Bot API refused the token (401 Unauthorized): it is mistyped or was revoked.
Get the current one from @BotFather (/mybots, your bot, API Token) and set
TELEGRAM_BOT_TOKEN again.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of `fotorobot run`."""
    add_env_file_argument(parser)
    parser.add_argument(
        "--webhook-url",
        default=None,
        help="serve a webhook at this public https URL instead of long polling",
    )
    parser.add_argument("--listen", default="0.0.0.0", help="webhook: address to bind")
    parser.add_argument("--port", type=int, default=8443, help="webhook: port to bind")
    parser.add_argument(
        "--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"]
    )


def webhook_secret(token: str) -> str:
    """The X-Telegram-Bot-Api-Secret-Token for the webhook: derived from the token, so it is
    stable across restarts (Telegram keeps the one given to setWebhook) and never logged."""
    return hmac.new(token.encode(), b"fotorobot-webhook", hashlib.sha256).hexdigest()


def run(args: argparse.Namespace) -> int:
    """Run the bot until interrupted; exit code 2 when it is not configured."""
    settings = settings_for_command(args.env_file)
    if settings is None:
        return 2
    if not settings.token:
        print(BOTFATHER_HINT, file=sys.stderr)
        return 2
    if args.webhook_url and urlsplit(args.webhook_url).scheme != "https":
        print("fotorobot: --webhook-url must be a public https:// URL", file=sys.stderr)
        return 2
    setup_logging(args.log_level, [settings.token.reveal()])

    from telegram.error import InvalidToken, NetworkError

    try:
        serve(settings, args)
    except InvalidToken:
        print(TOKEN_REFUSED, file=sys.stderr)
        return 2
    except NetworkError as exc:
        # Only start-up gets here: once running, PTB retries network errors itself.
        where = settings.api_base_url
        print(
            f"fotorobot: cannot reach the Bot API at {where}: {redact(str(exc))}", file=sys.stderr
        )
        return 1
    return 0


def serve(settings: Settings, args: argparse.Namespace) -> None:
    """Build the application and run it by webhook (if a URL is set) or long polling."""
    from bot.app import ALLOWED_UPDATES, build_application
    from fotorobot.logs import install_log_redaction

    app = build_application(settings)
    webhook_url = args.webhook_url or settings.webhook_url
    if webhook_url:
        # Serve the public URL's path (a reverse proxy terminates TLS in front of us); the
        # secret header, told only to Telegram by setWebhook, keeps forged updates out.
        path = urlsplit(webhook_url).path.strip("/")
        secret = webhook_secret(settings.token.reveal())
        install_log_redaction([secret])  # PTB logs setWebhook's parameters at DEBUG
        log.info("serving a webhook on %s:%s/%s", args.listen, args.port, path)
        app.run_webhook(
            listen=args.listen,
            port=args.port,
            url_path=path,
            webhook_url=webhook_url,
            secret_token=secret,
            allowed_updates=ALLOWED_UPDATES,
            drop_pending_updates=False,
        )
    else:
        log.info("polling %s", settings.api_base_url)
        app.run_polling(allowed_updates=ALLOWED_UPDATES, drop_pending_updates=False)
