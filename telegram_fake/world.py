"""The fake Bot API's world: bot identity, users, chats, messages, updates and change signals."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from telegram_fake.errors import bad_request, chat_migrated, forbidden
from telegram_fake.files import FileStore
from telegram_fake.objects import JSON, Call, FakeChat, FakeUser

DEFAULT_TOKEN = "123456789:AAFakeTokenForTestsOnly-fotorobot000000"
# Update kinds Telegram sends when allowed_updates is empty or never set.
DEFAULT_UPDATE_KINDS = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "callback_query",
        "inline_query",
        "chosen_inline_result",
        "shipping_query",
        "pre_checkout_query",
        "poll",
        "poll_answer",
        "my_chat_member",
        "chat_join_request",
        "business_connection",
        "business_message",
        "edited_business_message",
        "deleted_business_messages",
        "purchased_paid_media",
    }
)

# Service messages a bot receives even in privacy mode.
SERVICE_KEYS = frozenset(
    {
        "new_chat_members",
        "left_chat_member",
        "new_chat_title",
        "new_chat_photo",
        "delete_chat_photo",
        "group_chat_created",
        "supergroup_chat_created",
        "migrate_to_chat_id",
        "migrate_from_chat_id",
        "pinned_message",
    }
)


class ChangeWaiter:
    """One subscriber to change signals, woken thread-safely in its own event loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.event = asyncio.Event()

    def wake(self) -> None:
        """Set the event from any thread (a closed loop means nobody waits any more)."""
        with contextlib.suppress(RuntimeError):
            self.loop.call_soon_threadsafe(self.event.set)

    def clear(self) -> None:
        """Forget past signals; call before re-checking the state so none is lost."""
        self.event.clear()

    async def wait(self, timeout: float) -> None:
        """Until the next signal (or one since clear()) or `timeout` seconds."""
        if timeout > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.event.wait(), timeout)


class World:
    """Everything the fake server knows; every mutation happens under `self.lock`."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        username: str = "fotorobot_test_bot",
        first_name: str = "Fotorobot",
        privacy_mode: bool = True,
        keep_file_bytes: bool = True,
        clock: Callable[[], float] = time.time,
    ) -> None:
        bot_id = token.split(":", 1)[0]
        if not bot_id.isdigit() or ":" not in token:
            raise ValueError("a bot token looks like 123456789:AA... (digits, colon, secret)")
        self.token = token
        self.bot = FakeUser(int(bot_id), first_name, username=username, is_bot=True)
        self.privacy_mode = privacy_mode
        self.clock = clock
        self.lock = threading.RLock()
        self.users: dict[int, FakeUser] = {}
        self.chats: dict[int, FakeChat] = {}
        self.blocked: set[int] = set()
        self.files = FileStore(keep_bytes=keep_file_bytes)
        self.updates: list[JSON] = []
        self.next_update_id = 500_000_001
        self.allowed_updates: frozenset[str] = DEFAULT_UPDATE_KINDS
        self.webhook_url = ""
        self.commands: dict[tuple[str, str], list[JSON]] = {}
        self.bot_profile: dict[str, dict[str, str]] = {}
        self.deleted: dict[int, list[JSON]] = {}
        self.chat_actions: list[tuple[int, str]] = []
        self.calls: list[Call] = []
        self.last_call_at = 0.0
        self.callback_queries: dict[str, JSON] = {}
        self.callback_answers: dict[str, JSON] = {}
        self.bot_reactions: dict[tuple[int, int], list[JSON]] = {}
        self.polls: dict[str, JSON] = {}  # poll id -> {"chat_id", "message_id"}
        self.poll_answers: dict[str, dict[int, list[int]]] = {}  # poll id -> voter -> options
        self._next_media_group = 13_600_000_000_000_001
        self._next_poll = 5_800_000_000_000_001
        self._next_callback = 2_900_000_000_000_001
        self._waiters: set[ChangeWaiter] = set()
        self._waiters_lock = threading.Lock()
        self._poll_generation = 0
        self._next_user_id = 100_000_001
        self._next_group_id = 4_000_000_001
        self._next_supergroup_id = 1_000_000_000_001

    # ---- identity and lookup -------------------------------------------------------------

    def now(self) -> int:
        """Unix time as Telegram stamps messages."""
        return int(self.clock())

    def chat_of(self, chat: FakeChat | int) -> FakeChat:
        """A chat from itself or its id (for the test-facing API; an unknown id is a test bug)."""
        chat_id = chat.id if isinstance(chat, FakeChat) else int(chat)
        found = self.chats.get(chat_id)
        if found is None:
            raise KeyError(f"the fake has no chat {chat_id}")
        return found

    def target_chat(self, chat_id: Any) -> FakeChat:
        """The chat a bot method addresses, with Telegram's errors for the ones it cannot use."""
        if chat_id is None or chat_id == "":
            raise bad_request("chat_id is empty")
        if isinstance(chat_id, str) and chat_id.startswith("@"):
            match = [c for c in self.chats.values() if c.user and c.user.username == chat_id[1:]]
            if not match:
                raise bad_request("chat not found")
            chat = match[0]
        else:
            try:
                chat = self.chats[int(chat_id)]
            except (KeyError, TypeError, ValueError):
                raise bad_request("chat not found") from None
        if chat.migrated_to is not None:
            raise chat_migrated(chat.migrated_to)
        if chat.type == "private" and chat.id in self.blocked:
            raise forbidden("bot was blocked by the user")
        if chat.bot_removed:
            raise forbidden(
                "bot was kicked from the group chat"
                if chat.type == "group"
                else "bot was kicked from the supergroup chat"
            )
        return chat

    def stored_message(self, chat: FakeChat, message_id: Any, purpose: str) -> JSON:
        """A message of the chat, or Telegram's "message to <purpose> not found"."""
        try:
            message = chat.messages.get(int(message_id))
        except (TypeError, ValueError):
            message = None
        if message is None:
            raise bad_request(f"message to {purpose} not found")
        return message

    def new_media_group_id(self) -> str:
        """A fresh media_group_id (a numeric string, as Telegram's)."""
        self._next_media_group += 1
        return str(self._next_media_group)

    def new_poll_id(self) -> str:
        """A fresh poll id."""
        self._next_poll += 1
        return str(self._next_poll)

    def new_callback_id(self) -> str:
        """A fresh callback query id."""
        self._next_callback += 1
        return str(self._next_callback)

    # ---- messages and updates ------------------------------------------------------------

    def new_message(
        self,
        chat: FakeChat,
        sender: FakeUser,
        content: JSON,
        reply_to: JSON | None = None,
    ) -> JSON:
        """Store a message with the chat's next id; `reply_to` is embedded one level deep."""
        message: JSON = {
            "message_id": chat.take_message_id(),
            "from": sender.to_dict(),
            "chat": chat.to_dict(),
            "date": self.now(),
        }
        if reply_to is not None:
            replied = {k: v for k, v in reply_to.items() if k != "reply_to_message"}
            message["reply_to_message"] = copy.deepcopy(replied)
        message.update(content)
        chat.messages[message["message_id"]] = message
        return message

    def push_update(self, kind: str, payload: JSON) -> JSON | None:
        """Queue an update for getUpdates unless allowed_updates filters its kind out."""
        if kind not in self.allowed_updates:
            return None
        update = {"update_id": self.next_update_id, kind: copy.deepcopy(payload)}
        self.next_update_id += 1
        self.updates.append(update)
        return update

    def bot_sees(self, chat: FakeChat, message: JSON) -> bool:
        """Whether Telegram would deliver a user's message to this bot (privacy mode)."""
        sender = message.get("from") or {}
        if sender.get("is_bot") and "sender_chat" not in message:
            # Bots never see other bots' messages; posts "as the group" or as a channel come
            # from a bot account (@GroupAnonymousBot, @Channel_Bot) and are delivered.
            return False
        if chat.type == "private" or not self.privacy_mode or chat.bot_admin:
            return True
        text = message.get("text") or message.get("caption") or ""
        if text.startswith("/"):
            command = text.split()[0]
            return "@" not in command or command.lower().endswith("@" + self.username.lower())
        replied = message.get("reply_to_message") or {}
        if (replied.get("from") or {}).get("id") == self.bot.id:
            return True
        if "@" + self.username.lower() in text.lower():
            return True
        return any(k in message for k in SERVICE_KEYS)

    @property
    def username(self) -> str:
        """The bot's @username without the @."""
        return self.bot.username or ""

    # ---- change signals (thread-safe: the HTTP server may run in another thread) ---------

    def notify(self) -> None:
        """Wake every waiter (long polls, test waits) in whatever loop or thread it runs."""
        with self._waiters_lock:
            waiters = list(self._waiters)
        for waiter in waiters:
            waiter.wake()

    @contextlib.contextmanager
    def changes(self) -> Iterator[ChangeWaiter]:
        """Subscribe to change signals; check state after `clear()`, then `await wait(t)`."""
        waiter = ChangeWaiter(asyncio.get_running_loop())
        with self._waiters_lock:
            self._waiters.add(waiter)
        try:
            yield waiter
        finally:
            with self._waiters_lock:
                self._waiters.discard(waiter)

    def new_poll(self) -> int:
        """Start a getUpdates; an older one still waiting then ends with 409 Conflict."""
        self._poll_generation += 1
        self.notify()
        return self._poll_generation

    def poll_superseded(self, generation: int) -> bool:
        """True when a newer getUpdates started after this one."""
        return generation != self._poll_generation
