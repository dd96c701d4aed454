"""The webhook endpoint: Telegram's POST is answered 200 only once the update is stored.

python-telegram-bot's webhook handler queues the update in memory and answers at once, so a
crash right after loses it (Telegram never sends an update twice once it got its 200). This
one awaits the inbox write (DurableUpdater.accept) first; if the write fails it answers 500 and
Telegram delivers the update again later. Requests without the secret token Telegram was given
(setWebhook's secret_token, sent back in a header) are refused with 403.
"""

from __future__ import annotations

import hmac
import json
import logging
import ssl
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import tornado.httpserver
import tornado.netutil
import tornado.web

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY_BYTES = 1 << 20  # an update is a few kB; Telegram never sends anything near this

Accept = Callable[[Sequence[Any]], Awaitable[int | None]]


class _UpdateHandler(tornado.web.RequestHandler):
    def initialize(self, accept: Accept, secret: str | None) -> None:
        self.accept = accept
        self.secret = secret

    async def post(self) -> None:
        given = self.request.headers.get(SECRET_HEADER, "")
        if self.secret and not hmac.compare_digest(given.encode(), self.secret.encode()):
            self._answer(403, "forbidden")
            return
        try:
            payload = json.loads(self.request.body)
        except ValueError:
            self._answer(400, "not JSON")
            return
        if not isinstance(payload, dict) or not isinstance(payload.get("update_id"), int):
            self._answer(400, "not an update")
            return
        try:
            await self.accept([payload])
        except Exception:  # not stored: a 500 makes Telegram deliver it again later
            log.exception("could not store update %s from the webhook", payload["update_id"])
            self._answer(500, "not stored")
            return
        self._answer(200, "ok")

    def _answer(self, status: int, reason: str) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "text/plain")
        self.finish(reason)


class WebhookServer:
    """A small tornado server with one route, `/<url_path>`, for Telegram's POSTs."""

    def __init__(
        self,
        accept: Accept,
        url_path: str,
        secret: str | None,
        *,
        cert: str | Path | None = None,
        key: str | Path | None = None,
    ) -> None:
        path = "/" + url_path.strip("/")
        app = tornado.web.Application(
            [(path, _UpdateHandler, {"accept": accept, "secret": secret})],
            log_function=_quiet,
        )
        tls = None
        if cert is not None:
            tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            tls.load_cert_chain(str(cert), None if key is None else str(key))
        self._server = tornado.httpserver.HTTPServer(
            app, ssl_options=tls, max_body_size=MAX_BODY_BYTES
        )
        self.port: int | None = None

    def listen(self, host: str, port: int) -> int:
        """Start listening; the port bound (port 0 picks a free one)."""
        sockets = tornado.netutil.bind_sockets(port, host)
        self._server.add_sockets(sockets)
        self.port = int(sockets[0].getsockname()[1])
        return self.port

    async def stop(self) -> None:
        """Stop accepting and close open connections."""
        self._server.stop()
        await self._server.close_all_connections()


def _quiet(handler: tornado.web.RequestHandler) -> None:
    """Log only failures: one line per update would drown everything else."""
    status = handler.get_status()
    if status >= 400:
        log.warning("webhook answered %s to %s", status, handler.request.remote_ip)
