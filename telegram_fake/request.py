"""In-process transport: a python-telegram-bot `BaseRequest` that talks to a FakeBotAPI directly."""

from __future__ import annotations

import asyncio
import re
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, unquote, urlsplit

from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import TimedOut
from telegram.request import BaseRequest, RequestData

from telegram_fake.params import Upload

if TYPE_CHECKING:
    from telegram_fake.api import FakeBotAPI

_FILE = re.compile(r"/file/bot([^/]+)/(.+)$")
_METHOD = re.compile(r"/bot([^/]+)/([A-Za-z0-9_]+)/?$")


class FakeRequest(BaseRequest):
    """Sends PTB's requests to a FakeBotAPI in the same event loop, encoded as httpx would.

    Parameters travel as PTB's form strings (`json_parameters`) and files as its multipart
    parts, so the fake decodes exactly what Telegram would receive over HTTP.
    """

    def __init__(self, api: FakeBotAPI, read_timeout: float | None = 5.0) -> None:
        self.api = api
        self._read_timeout = read_timeout

    @property
    def read_timeout(self) -> float | None:
        """Default read timeout; PTB adds the getUpdates long-poll timeout to it."""
        return self._read_timeout

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Route one request to the fake; (status, body) as the server would answer."""
        parts = urlsplit(url)
        path = unquote(parts.path)
        if file_match := _FILE.search(path):
            status, body, _type = self.api.download(file_match.group(1), file_match.group(2))
            return status, body
        method_match = _METHOD.search(path)
        if method_match is None:
            return 404, b'{"ok":false,"error_code":404,"description":"Not Found"}'
        form: dict[str, str] = dict(parse_qsl(parts.query))
        uploads: dict[str, Upload] = {}
        if request_data is not None:
            form.update(request_data.json_parameters)
            for name, (filename, content, mime) in request_data.multipart_data.items():
                data = content if isinstance(content, bytes) else content.read()
                uploads[name] = Upload(filename, data, mime)
        timeout = self._read_timeout if isinstance(read_timeout, DefaultValue) else read_timeout
        call = self.api.handle(method_match.group(1), method_match.group(2), form, uploads)
        if timeout is None:
            return await call
        try:
            return await asyncio.wait_for(call, timeout)
        except TimeoutError:
            raise TimedOut("Timed out") from None
