"""Helpers to run a python-telegram-bot Application against the fake with little ceremony."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from telegram.ext import Application

from bot.fakeapi.api import FakeBotAPI
from bot.fakeapi.request import FakeRequest


def fake_requests(api: FakeBotAPI, read_timeout: float | None = 5.0) -> dict[str, FakeRequest]:
    """Keyword arguments for a builder: `request=` and `get_updates_request=` on the fake."""
    return {
        "request": FakeRequest(api, read_timeout),
        "get_updates_request": FakeRequest(api, read_timeout),
    }


def fake_application_builder(api: FakeBotAPI) -> Any:
    """`Application.builder()` with the fake's token and both in-process requests set."""
    requests = fake_requests(api)
    return (
        Application.builder()
        .token(api.token)
        .request(requests["request"])
        .get_updates_request(requests["get_updates_request"])
    )


@contextlib.asynccontextmanager
async def polling(app: Application, *, timeout: int = 5) -> AsyncIterator[Application]:
    """Initialize, start and poll `app` for the duration of the block, then shut it down."""
    await app.initialize()
    try:
        await app.start()
        if app.updater is None:
            raise ValueError("the application was built without an updater")
        await app.updater.start_polling(poll_interval=0, timeout=timeout)
        try:
            yield app
        finally:
            if app.updater.running:
                await app.updater.stop()
            if app.running:
                await app.stop()
    finally:
        await app.shutdown()
