"""A one-page chat in the browser for trying the bot locally against the fake (no Telegram)."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import tornado.web

from telegram_fake.api import FakeBotAPI
from telegram_fake.errors import ApiError
from telegram_fake.objects import FakeChat, FakeUser

UI_USER_ID = 10_001


def _ui_chat(api: FakeBotAPI, language: str | None = None) -> tuple[FakeUser, FakeChat]:
    """The browser user (created on first use) and their private chat with the bot."""
    with api.lock:
        user = api.users.get(UI_USER_ID)
        if user is None or (language and user.language_code != language):
            user = api.user(UI_USER_ID, "You", language_code=language or "en")
        chat = api.private_chat(user)
        chat.user = user
        return user, chat


class _Page(tornado.web.RequestHandler):
    def get(self) -> None:
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.finish(resources.files("telegram_fake").joinpath("webui.html").read_text("utf-8"))


class _Base(tornado.web.RequestHandler):
    def initialize(self, api: FakeBotAPI) -> None:
        self.api = api

    def body(self) -> dict[str, Any]:
        try:
            data = json.loads(self.request.body or b"{}")
        except ValueError:
            raise tornado.web.HTTPError(400, "body must be JSON") from None
        return data if isinstance(data, dict) else {}

    def reply(self, data: Any) -> None:
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(data, ensure_ascii=False))


class _Messages(_Base):
    def get(self) -> None:
        _user, chat = _ui_chat(self.api)
        messages = [m.raw for m in self.api.messages(chat)]
        self.reply({"bot": self.api.bot.to_dict(), "user_id": UI_USER_ID, "messages": messages})


class _Send(_Base):
    def post(self) -> None:
        data = self.body()
        user, chat = _ui_chat(self.api, data.get("language"))
        text = str(data.get("text") or "").strip()
        reply_to = data.get("reply_to")
        if not text:
            raise tornado.web.HTTPError(400, "empty message")
        try:
            sent = self.api.send_text(
                chat, user, text, reply_to=int(reply_to) if reply_to else None
            )
        except KeyError as exc:
            raise tornado.web.HTTPError(400, str(exc)) from None
        self.reply({"message_id": sent.message_id})


class _Photo(_Base):
    def post(self) -> None:
        user, chat = _ui_chat(self.api)
        files = self.request.files.get("photo")
        if not files:
            raise tornado.web.HTTPError(400, "no photo")
        caption = self.get_body_argument("caption", "") or None
        try:
            sent = self.api.send_photo(chat, user, files[0].body, caption=caption)
        except ApiError as exc:  # Telegram's own refusals: not an image, too big
            raise tornado.web.HTTPError(400, exc.description) from None
        self.reply({"message_id": sent.message_id})


class _Press(_Base):
    def post(self) -> None:
        data = self.body()
        user, chat = _ui_chat(self.api)
        try:
            query = self.api.press_button(chat, user, int(data["message_id"]), str(data["data"]))
        except (KeyError, ValueError) as exc:
            raise tornado.web.HTTPError(400, str(exc)) from None
        self.reply({"query_id": query})


class _Answer(_Base):
    def get(self) -> None:
        self.reply(self.api.callback_answer(self.get_argument("id")) or {})


class _File(_Base):
    def get(self, file_id: str) -> None:
        try:
            data = self.api.file_bytes(file_id)
        except (KeyError, LookupError):
            raise tornado.web.HTTPError(404) from None
        stored = self.api.files.get(file_id)
        self.set_header("Content-Type", (stored.mime_type if stored else None) or "image/png")
        self.finish(data)


def routes(api: FakeBotAPI) -> list[Any]:
    """Tornado routes of the chat page and its small JSON API under /ui/."""
    args = {"api": api}
    return [
        (r"/", _Page),
        (r"/ui/messages", _Messages, args),
        (r"/ui/send", _Send, args),
        (r"/ui/photo", _Photo, args),
        (r"/ui/press", _Press, args),
        (r"/ui/answer", _Answer, args),
        (r"/ui/file/([^/]+)", _File, args),
    ]
