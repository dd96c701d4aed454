"""Watching the bot from the test side: what it sent, its files, and async waits for both."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from telegram_fake.objects import JSON, FakeChat, Msg
from telegram_fake.world import World

ChatRef = FakeChat | int


class Watching(World):
    """Read-only views of the fake's state and waits that wake on every change."""

    # ---- watching the bot ----------------------------------------------------------------

    def messages(self, chat: ChatRef) -> list[Msg]:
        """Every message in the chat (users' and the bot's), in id order."""
        with self.lock:
            target = self.chat_of(chat)
            return [Msg(target.messages[i]) for i in sorted(target.messages)]

    def bot_messages(self, chat: ChatRef, *, after: int = 0) -> list[Msg]:
        """What the bot sent to the chat (not deleted), in order; only ids > `after`."""
        with self.lock:
            target = self.chat_of(chat)
            return [
                Msg(target.messages[i])
                for i in sorted(target.messages)
                if i > after and target.messages[i]["from"]["id"] == self.bot.id
            ]

    def deleted_messages(self, chat: ChatRef) -> list[Msg]:
        """Messages the bot deleted in the chat, in deletion order."""
        with self.lock:
            return [Msg(m, deleted=True) for m in self.deleted.get(self.chat_of(chat).id, [])]

    def file_bytes(self, file_id: str) -> bytes:
        """The bytes behind a file_id (of the bot's or a user's media)."""
        with self.lock:
            stored = self.files.get(file_id)
            if stored is None:
                raise KeyError(f"no file {file_id}")
            return stored.content()

    def callback_answer(self, query_id: str) -> JSON | None:
        """What the bot answered to a callback query (None if not answered yet)."""
        with self.lock:
            return self.callback_answers.get(query_id)

    def pending_updates(self) -> int:
        """Updates queued and not yet confirmed by the bot's getUpdates offset."""
        with self.lock:
            return len(self.updates)

    async def wait_until(
        self, predicate: Callable[[], Any], timeout: float = 10.0, what: str = "condition"
    ) -> Any:
        """Wait until predicate() is truthy (re-checked on every change); return its value."""
        deadline = time.monotonic() + timeout
        with self.changes() as changes:
            while True:
                changes.clear()
                with self.lock:
                    value = predicate()
                if value:
                    return value
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(
                        f"fake Bot API: timed out after {timeout}s waiting for {what}"
                    )
                await changes.wait(left)

    async def wait_for_messages(
        self, chat: ChatRef, n: int, *, after: int = 0, timeout: float = 10.0
    ) -> list[Msg]:
        """The first n bot messages in the chat with id > `after`, once there are n."""

        def enough() -> list[Msg] | None:
            found = self.bot_messages(chat, after=after)
            return found[:n] if len(found) >= n else None

        try:
            result: list[Msg] = await self.wait_until(enough, timeout)
        except TimeoutError:
            got = self.bot_messages(chat, after=after)
            raise TimeoutError(
                f"fake Bot API: waited {timeout}s for {n} bot messages after "
                f"#{after} in chat {chat if isinstance(chat, int) else chat.id}; "
                f"got {len(got)}: {got}; errors: {self._recent_errors()}"
            ) from None
        return result

    async def wait_for_message(
        self, chat: ChatRef, *, after: int = 0, timeout: float = 10.0
    ) -> Msg:
        """The first bot message in the chat with id > `after`."""
        return (await self.wait_for_messages(chat, 1, after=after, timeout=timeout))[0]

    async def wait_idle(self, quiet: float = 0.2, timeout: float = 10.0) -> None:
        """Wait until all updates are confirmed and the bot made no call for `quiet` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                idle = not self.updates and time.monotonic() - self._last_call() >= quiet
            if idle:
                return
            if time.monotonic() >= deadline:
                raise TimeoutError(f"fake Bot API: the bot was not idle within {timeout}s")
            await asyncio.sleep(min(quiet / 2, 0.05))

    def _last_call(self) -> float:
        return self.last_call_at

    def _recent_errors(self) -> list[str]:
        return [f"{c.method}: {c.error}" for c in self.calls[-20:] if c.error]
