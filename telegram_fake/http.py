"""Real-HTTP transport: tornado serving /bot<token>/<method> and /file/bot<token>/<path>."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections.abc import AsyncIterator
from typing import Any

import tornado.httpserver
import tornado.netutil
import tornado.web

from telegram_fake.api import FakeBotAPI
from telegram_fake.params import Upload

_NOT_FOUND = b'{"ok":false,"error_code":404,"description":"Not Found"}'


class _MethodHandler(tornado.web.RequestHandler):
    """POST/GET /bot<token>/<method> with a query string, JSON, urlencoded or multipart body."""

    def initialize(self, api: FakeBotAPI) -> None:
        self.api = api
        self._task: asyncio.Task[tuple[int, bytes]] | None = None

    async def get(self, token: str, method: str) -> None:
        await self._serve(token, method)

    async def post(self, token: str, method: str) -> None:
        await self._serve(token, method)

    async def _serve(self, token: str, method: str) -> None:
        form: dict[str, Any] = {k: v[-1].decode() for k, v in self.request.query_arguments.items()}
        content_type = self.request.headers.get("Content-Type", "")
        if content_type.startswith("application/json") and self.request.body:
            try:
                body = json.loads(self.request.body)
            except ValueError:
                self._reply(
                    400,
                    b'{"ok":false,"error_code":400,"description":'
                    b'"Bad Request: can\'t parse JSON object"}',
                )
                return
            if isinstance(body, dict):
                form.update(body)
        else:
            form.update({k: v[-1].decode("utf-8") for k, v in self.request.body_arguments.items()})
        uploads = {
            name: Upload(parts[0].filename, parts[0].body, parts[0].content_type)
            for name, parts in self.request.files.items()
        }
        self._task = asyncio.ensure_future(self.api.handle(token, method, form, uploads))
        try:
            status, payload = await self._task
        except asyncio.CancelledError:  # the client went away mid long-poll
            return
        self._reply(status, payload)

    def _reply(self, status: int, payload: bytes) -> None:
        self.set_status(status)
        json_body = payload.startswith(b"{")
        self.set_header("Content-Type", "application/json" if json_body else "text/html")
        self.finish(payload)

    def on_connection_close(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()


class _FileHandler(tornado.web.RequestHandler):
    """GET /file/bot<token>/<file_path>."""

    def initialize(self, api: FakeBotAPI) -> None:
        self.api = api

    def get(self, token: str, path: str) -> None:
        status, body, content_type = self.api.download(token, path)
        self.set_status(status)
        self.set_header("Content-Type", content_type)
        self.finish(body)


class _NotFound(tornado.web.RequestHandler):
    def prepare(self) -> None:
        self.set_status(404)
        self.set_header("Content-Type", "application/json")
        self.finish(_NOT_FOUND)


def make_app(api: FakeBotAPI, extra: list[Any] | None = None) -> tornado.web.Application:
    """The tornado application serving the Bot API routes (plus `extra` routes, e.g. a web UI)."""
    routes: list[Any] = [
        (r"/bot([^/]+)/([A-Za-z0-9_]+)/?", _MethodHandler, {"api": api}),
        (r"/file/bot([^/]+)/(.+)", _FileHandler, {"api": api}),
        *(extra or []),
    ]
    # No access log: request lines carry the bot token.
    return tornado.web.Application(
        routes, default_handler_class=_NotFound, log_function=lambda _handler: None
    )


@contextlib.asynccontextmanager
async def serve_http(
    api: FakeBotAPI, host: str = "127.0.0.1", port: int = 0, *, web_ui: bool = False
) -> AsyncIterator[str]:
    """Serve the fake over HTTP in the running loop; yields its base URL (http://host:port)."""
    extra: list[Any] = []
    if web_ui:
        from telegram_fake.webui import routes as ui_routes

        extra = ui_routes(api)
    sockets = tornado.netutil.bind_sockets(port, host)
    server = tornado.httpserver.HTTPServer(make_app(api, extra), max_body_size=60 * 1024 * 1024)
    server.add_sockets(sockets)
    bound = sockets[0].getsockname()[1]
    try:
        yield f"http://{host}:{bound}"
    finally:
        server.stop()
        await server.close_all_connections()


class ServerThread:
    """The HTTP fake in a background thread with its own event loop (for subprocess tests).

    Use as a context manager: `with ServerThread(api) as url: ...`. The FakeBotAPI's state is
    lock-protected, so tests may drive it from the main thread meanwhile.
    """

    def __init__(
        self, api: FakeBotAPI, host: str = "127.0.0.1", port: int = 0, web_ui: bool = False
    ) -> None:
        self.api = api
        self.host = host
        self.port = port
        self.web_ui = web_ui
        self.url = ""
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="fake-bot-api", daemon=True)

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except Exception as exc:  # reported to the starting thread by start()
            self._error = exc
            self._ready.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        async with serve_http(self.api, self.host, self.port, web_ui=self.web_ui) as url:
            self.url = url
            self._ready.set()
            await self._stop.wait()

    def start(self) -> str:
        """Start serving; returns the base URL."""
        self._thread.start()
        self._ready.wait(10)
        if self._error is not None or not self.url:
            raise RuntimeError(f"fake Bot API server did not start: {self._error!r}")
        return self.url

    def stop(self) -> None:
        """Stop serving and join the thread."""
        if self._loop is not None and self._stop is not None:
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
