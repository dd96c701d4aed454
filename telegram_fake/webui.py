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
# The try-out group: the browser user (its owner) and three more members the page can act as.
GROUP_TITLE = "Try-out group"
GROUP_MEMBERS = ((UI_USER_ID, "You"), (10_002, "Bob"), (10_003, "Cid"), (10_004, "Dee"))


def _ui_chat(api: FakeBotAPI, language: str | None = None) -> tuple[FakeUser, FakeChat]:
    """The browser user (created on first use) and their private chat with the bot."""
    with api.lock:
        user = api.users.get(UI_USER_ID)
        if user is None or (language and user.language_code != language):
            user = api.user(UI_USER_ID, "You", language_code=language or "en")
        chat = api.private_chat(user)
        chat.user = user
        return user, chat


def _ui_group(api: FakeBotAPI) -> FakeChat:
    """The try-out group (created, with the bot added, on first use); "You" own it."""
    with api.lock:
        found = next((c for c in api.chats.values() if c.title == GROUP_TITLE), None)
        if found is not None:
            return api.chat_of(found.migrated_to) if found.migrated_to else found
        members = [api.users.get(uid) or api.user(uid, name) for uid, name in GROUP_MEMBERS]
        group = api.group(GROUP_TITLE, members)
        api.promote(group, members[0], owner=True)
        return group


def _speaker(
    api: FakeBotAPI, data: dict[str, Any], language: str | None = None
) -> tuple[FakeUser, FakeChat]:
    """Who acts and where: the private chat, or one member of the try-out group."""
    if data.get("chat") != "group":
        return _ui_chat(api, language)
    group = _ui_group(api)
    try:
        member = group.members[int(data.get("member") or UI_USER_ID)]
    except (KeyError, TypeError, ValueError):
        raise tornado.web.HTTPError(400, "not a member of the try-out group") from None
    if language and member.language_code != language:
        member = api.user(member.id, member.first_name, language_code=language)
        group.members[member.id] = member
    return member, group


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
        where = {"chat": self.get_argument("chat", ""), "member": self.get_argument("member", "")}
        user, chat = _speaker(self.api, where)
        messages = [m.raw for m in self.api.messages(chat)]
        # The member's own choices in each poll (Telegram shows a voter theirs).
        choices = {
            m["poll"]["id"]: self.api.poll_choice(m["poll"]["id"], user)
            for m in messages
            if "poll" in m
        }
        members = [{"id": uid, "name": name} for uid, name in GROUP_MEMBERS]
        self.reply(
            {
                "bot": self.api.bot.to_dict(),
                "user_id": user.id,
                "messages": messages,
                "choices": choices,
                "members": members,
            }
        )


class _Send(_Base):
    def post(self) -> None:
        data = self.body()
        user, chat = _speaker(self.api, data, data.get("language"))
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
        where = {k: self.get_body_argument(k, "") for k in ("chat", "member")}
        user, chat = _speaker(self.api, where)
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
        user, chat = _speaker(self.api, data)
        try:
            query = self.api.press_button(chat, user, int(data["message_id"]), str(data["data"]))
        except (KeyError, ValueError) as exc:
            raise tornado.web.HTTPError(400, str(exc)) from None
        self.reply({"query_id": query})


class _Vote(_Base):
    def post(self) -> None:
        data = self.body()
        user, chat = _speaker(self.api, data)
        try:
            options = [int(o) for o in data.get("options") or []]
            self.api.vote_poll(chat, user, int(data["message_id"]), options)
        except (KeyError, TypeError, ValueError) as exc:
            raise tornado.web.HTTPError(400, str(exc)) from None
        self.reply({"options": options})


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
        (r"/ui/vote", _Vote, args),
        (r"/ui/answer", _Answer, args),
        (r"/ui/file/([^/]+)", _File, args),
    ]
