"""Plain data the fake keeps: users, chats, stored files, and a read-only view of messages."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

JSON = dict[str, Any]


@dataclass
class FakeUser:
    """A Telegram user (or another bot) as the fake knows it (named apart from telegram.User)."""

    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    is_bot: bool = False

    def to_dict(self) -> JSON:
        """The Bot API `User` object."""
        out: JSON = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out


@dataclass
class FakeChat:
    """A private chat, basic group or supergroup with its messages and per-chat message ids."""

    id: int
    type: str  # "private" | "group" | "supergroup"
    title: str | None = None
    user: FakeUser | None = None  # the other side of a private chat
    members: dict[int, FakeUser] = field(default_factory=dict)
    bot_admin: bool = False
    admins: dict[int, bool] = field(default_factory=dict)  # user id -> posts anonymously
    owner_id: int | None = None  # the group's creator (an admin too)
    bot_removed: bool = False  # the bot was kicked / left the group
    migrated_to: int | None = None
    migrated_from: int | None = None
    next_message_id: int = 1
    messages: dict[int, JSON] = field(default_factory=dict)

    def to_dict(self) -> JSON:
        """The short Bot API `Chat` object embedded in messages."""
        out: JSON = {"id": self.id, "type": self.type}
        if self.type == "private" and self.user is not None:
            out["first_name"] = self.user.first_name
            if self.user.last_name:
                out["last_name"] = self.user.last_name
            if self.user.username:
                out["username"] = self.user.username
        else:
            out["title"] = self.title or ""
        return out

    def take_message_id(self) -> int:
        """The next message id of this chat (Telegram counts per chat, from 1)."""
        message_id = self.next_message_id
        self.next_message_id += 1
        return message_id


@dataclass
class StoredFile:
    """One file on the fake's "servers"; thumbnails are rendered only when downloaded."""

    file_id: str
    file_unique_id: str
    kind: str  # photo | document | animation | sticker | voice | video | audio
    file_path: str
    size: int
    mime_type: str | None = None
    file_name: str | None = None
    width: int | None = None
    height: int | None = None
    duration: int | None = None
    data: bytes | None = None
    render: Callable[[], bytes] | None = None

    def content(self) -> bytes:
        """The file's bytes (rendering and caching a lazy thumbnail on first use)."""
        if self.data is None and self.render is not None:
            self.data = self.render()
            self.render = None
        if self.data is None:
            raise LookupError(f"the fake kept no bytes for {self.file_id}")
        return self.data


class Msg:
    """A live read-only view of one stored message (edits show through)."""

    def __init__(self, raw: JSON, deleted: bool = False) -> None:
        self.raw = raw
        self.deleted = deleted

    def __repr__(self) -> str:
        what = self.text if self.text is not None else f"<{self.kind}> {self.caption or ''}"
        return f"Msg(#{self.message_id} in {self.chat_id}: {what!r})"

    @property
    def message_id(self) -> int:
        """Id within its chat."""
        return int(self.raw["message_id"])

    @property
    def chat_id(self) -> int:
        """The chat's id."""
        return int(self.raw["chat"]["id"])

    @property
    def from_id(self) -> int | None:
        """Sender's user id."""
        sender = self.raw.get("from")
        return int(sender["id"]) if sender else None

    @property
    def text(self) -> str | None:
        """Text of a text message."""
        return self.raw.get("text")

    @property
    def caption(self) -> str | None:
        """Caption of a media message."""
        return self.raw.get("caption")

    @property
    def kind(self) -> str:
        """text | photo | animation | document | sticker | voice | poll | service ..."""
        for kind in (
            "text",
            "animation",
            "photo",
            "document",
            "sticker",
            "voice",
            "video",
            "audio",
            "poll",
        ):
            if kind in self.raw:
                return kind
        return "service"

    @property
    def media_group_id(self) -> str | None:
        """Album id shared by the messages of one sendMediaGroup."""
        return self.raw.get("media_group_id")

    @property
    def reply_to(self) -> int | None:
        """Message id this one replies to."""
        replied = self.raw.get("reply_to_message")
        return int(replied["message_id"]) if replied else None

    @property
    def reply_markup(self) -> JSON | None:
        """The inline keyboard, if any."""
        return self.raw.get("reply_markup")

    @property
    def buttons(self) -> list[tuple[str, str | None]]:
        """Inline buttons in reading order as (text, callback_data or url)."""
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [(b["text"], b.get("callback_data", b.get("url"))) for row in rows for b in row]

    @property
    def entities(self) -> list[JSON]:
        """Entities of the text or caption."""
        return list(self.raw.get("entities") or self.raw.get("caption_entities") or [])

    @property
    def file_id(self) -> str | None:
        """file_id of the media (the largest size for a photo)."""
        if "photo" in self.raw:
            return str(self.raw["photo"][-1]["file_id"])
        for kind in ("animation", "document", "sticker", "voice", "video", "audio"):
            if kind in self.raw:
                return str(self.raw[kind]["file_id"])
        return None

    @property
    def edited(self) -> bool:
        """True once edited."""
        return "edit_date" in self.raw


@dataclass
class Call:
    """One Bot API call the bot made, as the fake received it."""

    method: str
    params: dict[str, Any]
    files: list[str]
    at: float
    status: int = 0
    error: str | None = None
    result: Any = None

    @property
    def chat_id(self) -> Any:
        """The chat_id parameter, if any."""
        return self.params.get("chat_id")
