"""A fake Telegram Bot API for tests, benchmarks and local try-outs (telegram_fake/README.md)."""

from telegram_fake.api import FakeBotAPI, Injection
from telegram_fake.errors import ApiError
from telegram_fake.http import ServerThread, serve_http
from telegram_fake.objects import Call, FakeChat, FakeUser, Msg
from telegram_fake.request import FakeRequest
from telegram_fake.testing import fake_application_builder, fake_requests, polling
from telegram_fake.world import DEFAULT_TOKEN

__all__ = [
    "DEFAULT_TOKEN",
    "ApiError",
    "Call",
    "FakeBotAPI",
    "FakeChat",
    "FakeRequest",
    "FakeUser",
    "Injection",
    "Msg",
    "ServerThread",
    "fake_application_builder",
    "fake_requests",
    "polling",
    "serve_http",
]
