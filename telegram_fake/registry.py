"""The table of Bot API methods the fake implements (names are case-insensitive, as Telegram's)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from telegram_fake.params import Upload
    from telegram_fake.world import World

Handler = Callable[["World", dict[str, Any], "Mapping[str, Upload]"], Any]
METHODS: dict[str, Handler] = {}


def method(name: str) -> Callable[[Handler], Handler]:
    """Register a synchronous Bot API method under its (case-insensitive) name."""

    def register(fn: Handler) -> Handler:
        METHODS[name.lower()] = fn
        return fn

    return register
