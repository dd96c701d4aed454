"""A fake Telegram Bot API for tests, benchmarks and local try-outs (see docs/fakeapi.md)."""

from bot.fakeapi.api import FakeBotAPI, Injection
from bot.fakeapi.errors import ApiError
from bot.fakeapi.http import ServerThread, serve_http
from bot.fakeapi.model import Call, Chat, Msg, User
from bot.fakeapi.request import FakeRequest
from bot.fakeapi.state import DEFAULT_TOKEN
from bot.fakeapi.testing import fake_application_builder, fake_requests, polling

__all__ = [
    "DEFAULT_TOKEN",
    "ApiError",
    "Call",
    "Chat",
    "FakeBotAPI",
    "FakeRequest",
    "Injection",
    "Msg",
    "ServerThread",
    "User",
    "fake_application_builder",
    "fake_requests",
    "polling",
    "serve_http",
]
