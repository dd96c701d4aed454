"""Helpers for the bot's conversation tests: a real Application talking to the fake Bot API."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import io
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from PIL import Image

from bot.app import BotApplication, build_application
from bot.ordering import ChatOrderedUpdateProcessor
from fotorobot.settings import Settings, load_settings
from telegram_fake import FakeBotAPI, FakeChat, FakeUser, Msg, fake_requests, polling

# Small search space: the real GP and EI, but cheap enough for a loaded 2-core box.
TEST_SEARCH_DIM = 4
# Generous: rounds run off the event loop on a shared, busy CPU.
WAIT = 60.0


@functools.cache
def face_model() -> Any:
    """The bundled face model, loaded once per test process."""
    from model import FaceModel, default_model_path

    return FaceModel.load(default_model_path())


def bot_settings(tmp_path: Path, token: str, **overrides: Any) -> Settings:
    """Settings from the real loader, pointed at a temporary database and a small search.

    An override that is not a field of Settings is an error (a typo must not be dropped).
    """
    settings = load_settings(environ={"TELEGRAM_BOT_TOKEN": token}, env_file=None)
    values: dict[str, Any] = {
        "db_path": tmp_path / "bot.sqlite3",
        "search_dim": TEST_SEARCH_DIM,
        "data_dir": tmp_path,
    }
    values.update(overrides)
    known = {f.name for f in dataclasses.fields(settings)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise TypeError(f"Settings has no field {', '.join(unknown)}")
    return dataclasses.replace(settings, **values)


@contextlib.asynccontextmanager
async def running_bot(
    api: FakeBotAPI,
    settings: Settings,
    executor: ThreadPoolExecutor | None = None,
    model: Any = None,
    **build_options: Any,
) -> AsyncIterator[BotApplication]:
    """The bot, built as `fotorobot run` builds it, polling the in-process fake for the block
    (with the bundled face model unless `model` is given)."""
    app = build_application(
        settings,
        **fake_requests(api),
        model=model or face_model(),
        executor=executor,
        **build_options,
    )
    async with polling(app, timeout=1):
        yield app


def chat_lock(app: BotApplication, chat_id: int) -> Any:
    """The lock that serialises one chat's updates (held: that chat's updates wait)."""
    processor = app.update_processor
    assert isinstance(processor, ChatOrderedUpdateProcessor)
    return processor.locks.get(chat_id)


class Person:
    """One fake user in their private chat with the bot, with waits on the bot's answers."""

    def __init__(self, api: FakeBotAPI, first_name: str = "Alice", language: str = "en") -> None:
        self.api = api
        self.user: FakeUser = api.user(first_name=first_name, language_code=language)
        self.chat: FakeChat = api.private_chat(self.user)

    async def say(
        self, text: str, n: int = 1, *, reply_to: int | None = None, timeout: float = WAIT
    ) -> list[Msg]:
        """Send a text and return the first n bot messages after it."""
        sent = self.api.send_text(self.chat, self.user, text, reply_to=reply_to)
        return await self.api.wait_for_messages(
            self.chat, n, after=sent.message_id, timeout=timeout
        )

    async def answers_after(self, sent: Msg, n: int = 1, timeout: float = WAIT) -> list[Msg]:
        """The first n bot messages after a message the user sent."""
        return await self.api.wait_for_messages(
            self.chat, n, after=sent.message_id, timeout=timeout
        )

    async def quiet_answers_after(self, sent: Msg) -> list[Msg]:
        """Every bot message after `sent`, once the bot has gone idle."""
        await self.api.wait_idle(quiet=0.3, timeout=WAIT)
        return self.api.bot_messages(self.chat, after=sent.message_id)

    async def start(self) -> list[Msg]:
        """/start: greeting, 4 album photos and the prompt."""
        return await self.say("/start", 6)

    async def rate_all(self, text: str = "8 3 5 6") -> list[Msg]:
        """Rate the whole album; returns the next album's 4 photos and prompt."""
        return await self.say(text, 5)


def album_of(messages: list[Msg]) -> tuple[list[Msg], Msg]:
    """Split bot messages into (the album photos, the prompt after them)."""
    photos = [m for m in messages if m.kind == "photo" and m.media_group_id is not None]
    prompt = next(m for m in messages if m.kind == "text" and m.buttons)
    return photos, prompt


def image_size(data: bytes) -> tuple[int, int]:
    """(width, height) of an encoded image."""
    with Image.open(io.BytesIO(data)) as im:
        return im.size


def png_bytes(pixels: Any) -> bytes:
    """Encode an (H, W, 3) uint8 array as PNG."""
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format="PNG")
    return out.getvalue()
