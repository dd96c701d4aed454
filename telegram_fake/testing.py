"""Run a python-telegram-bot Application against the fake with little ceremony.

`polling(app)` is the one way this project starts and stops an Application outside
`run_polling`: tests, benchmarks, the demo and `fotorobot try`'s tests all use it, so the
sequence (and its hooks) is written once.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from typing import Any, TypedDict

from telegram.ext import Application

from telegram_fake.api import FakeBotAPI
from telegram_fake.request import FakeRequest


class FakeRequests(TypedDict):
    """The two requests an Application needs, both on the fake (PTB polls with the second)."""

    request: FakeRequest
    get_updates_request: FakeRequest


def fake_requests(api: FakeBotAPI, read_timeout: float | None = 5.0) -> FakeRequests:
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
async def polling(
    app: Application[Any, Any, Any, Any, Any, Any],
    *,
    timeout: int = 5,
    allowed_updates: Sequence[str] | None = None,
) -> AsyncIterator[Application[Any, Any, Any, Any, Any, Any]]:
    """Run `app` for the block exactly as `run_polling` would, hooks included, then stop it.

    The order is PTB's own: initialize, post_init, start polling, start; on the way out stop
    polling, stop, post_stop, shutdown, post_shutdown. Skipping post_init is the classic bug of
    hand-written sequences: an application that opens its resources there never gets them.
    """
    if app.updater is None:
        raise ValueError("the application was built without an updater")
    updater = app.updater
    try:
        await app.initialize()
        if app.post_init is not None:
            await app.post_init(app)
        await updater.start_polling(
            poll_interval=0,
            timeout=timeout,
            allowed_updates=list(allowed_updates) if allowed_updates is not None else None,
        )
        await app.start()
        yield app
    finally:
        if updater.running:
            await updater.stop()
        if app.running:
            await app.stop()
            if app.post_stop is not None:
                await app.post_stop(app)
        await app.shutdown()
        if app.post_shutdown is not None:
            await app.post_shutdown(app)
