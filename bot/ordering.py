"""Per-chat serialisation: updates of one chat run one at a time, in arrival order.

This is where the bot's concurrency rule lives (handlers and the engine rely on it and take
no lock of their own): up to CONCURRENT_UPDATES updates in flight across chats, one per chat.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

# Updates processed at once across chats; one chat's updates run in order (ChatLocks).
CONCURRENT_UPDATES = 64


class ChatLocks:
    """One asyncio.Lock per chat, created on demand and dropped once nobody holds it."""

    def __init__(self) -> None:
        self._locks: weakref.WeakValueDictionary[int, asyncio.Lock] = weakref.WeakValueDictionary()

    def get(self, chat_id: int) -> asyncio.Lock:
        """The lock of one chat (the same object while anyone holds or waits on it)."""
        lock = self._locks.get(chat_id)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[chat_id] = lock
        return lock

    def __len__(self) -> int:
        return len(self._locks)


class ChatOrderedUpdateProcessor(BaseUpdateProcessor):
    """Runs updates concurrently across chats but one at a time, in order, within a chat.

    PTB's own slot semaphore (final `process_update`) is made effectively unbounded; the real
    bound is applied after the chat's lock is taken, so a flood of messages from one chat waits
    on its own lock and never fills the slots other chats need.
    """

    def __init__(self, max_concurrent_updates: int = CONCURRENT_UPDATES) -> None:
        super().__init__(2**30)
        self.locks = ChatLocks()
        self.limit = max_concurrent_updates
        self._slots = asyncio.BoundedSemaphore(max_concurrent_updates)
        # For updates Telegram sends without a chat (poll answers): finds their chat, so they
        # queue behind that chat's other updates (lock first, then slot, like every update).
        self.chat_resolver: Callable[[Update], Awaitable[int | None]] | None = None

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Wait for the chat's turn, then for a free slot, then handle the update."""
        chat = update.effective_chat if isinstance(update, Update) else None
        chat_id = chat.id if chat is not None else None
        if chat_id is None and self.chat_resolver is not None and isinstance(update, Update):
            chat_id = await self.chat_resolver(update)
        if chat_id is None:
            async with self._slots:
                await coroutine
            return
        async with self.locks.get(chat_id), self._slots:
            await coroutine

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""


def chat_turn(processor: object, chat_id: int) -> contextlib.AbstractAsyncContextManager[Any]:
    """The chat's lock, for work that runs outside an update (a round's deadline): it then
    waits its turn behind the chat's updates, and they behind it."""
    if isinstance(processor, ChatOrderedUpdateProcessor):
        return processor.locks.get(chat_id)
    return contextlib.nullcontext()
