"""The one place that wires the python-telegram-bot `Application`: dependencies, handlers, hooks.

Dependencies live in `bot_data` (a `BotState`) and reach handlers through the typed
`BotContext`; the database is opened in `post_init` and closed in `post_shutdown`, so building
an application does no I/O. Tests build it with the fake Bot API's request objects.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Awaitable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from telegram import BotCommand, Update
from telegram.error import TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    BaseUpdateProcessor,
    CallbackContext,
    ContextTypes,
    ExtBot,
)

if TYPE_CHECKING:
    import aiosqlite
    from telegram.request import BaseRequest

    from bot.config import BotConfig
    from bot.engine import Engine
    from model import FaceModel

log = logging.getLogger(__name__)

# The update kinds the handlers use, asked for by name: Telegram remembers the last list given
# and otherwise sends kinds nothing here handles (polls, channel posts...).
ALLOWED_UPDATES = ["message", "edited_message", "callback_query", "my_chat_member"]

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

    def __init__(self, max_concurrent_updates: int, locks: ChatLocks) -> None:
        super().__init__(2**30)
        self.locks = locks
        self.limit = max_concurrent_updates
        self._slots = asyncio.BoundedSemaphore(max_concurrent_updates)

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Wait for the chat's turn, then for a free slot, then handle the update."""
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is None:
            async with self._slots:
                await coroutine
            return
        async with self.locks.get(chat.id), self._slots:
            await coroutine

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""


@dataclass
class Deps:
    """What the handlers need once the application runs."""

    config: BotConfig
    conn: aiosqlite.Connection
    model: FaceModel
    engine: Engine
    locks: ChatLocks
    executor: ThreadPoolExecutor


class BotState:
    """The application's `bot_data`: configuration now, live dependencies after post_init."""

    def __init__(self) -> None:
        self.config: BotConfig | None = None
        self.model: FaceModel | None = None
        self.deps: Deps | None = None
        self.locks = ChatLocks()
        self.executor: ThreadPoolExecutor | None = None
        self.owns_executor = False

    def require(self) -> Deps:
        """The live dependencies; fails loudly if the application was not initialised."""
        if self.deps is None:
            raise RuntimeError("the application is not initialised (post_init has not run)")
        return self.deps


class BotContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], BotState]):
    """Callback context with typed access to the application's dependencies."""

    @property
    def deps(self) -> Deps:
        """The live dependencies (database, model, engine, locks, executor)."""
        return self.bot_data.require()


BotApplication = Application[
    ExtBot[None], BotContext, dict[Any, Any], dict[Any, Any], BotState, Any
]


def build_application(
    config: BotConfig,
    *,
    request: BaseRequest | None = None,
    get_updates_request: BaseRequest | None = None,
    model: FaceModel | None = None,
    executor: ThreadPoolExecutor | None = None,
    rate_limiter: bool = True,
    concurrent_updates: int = CONCURRENT_UPDATES,
) -> BotApplication:
    """Build the bot's Application: handlers, typed context, DB/model hooks, rate limiter."""
    from bot.handlers import register_handlers

    locks = ChatLocks()
    builder: Any = (
        ApplicationBuilder()
        .token(config.token)
        .base_url(config.bot_api_url)
        .base_file_url(config.file_api_url)
        .context_types(ContextTypes(context=BotContext, bot_data=BotState))
        .concurrent_updates(ChatOrderedUpdateProcessor(concurrent_updates, locks))
        .post_init(post_init)
        .post_shutdown(post_shutdown)
        .job_queue(None)  # no scheduled jobs: spare the scheduler thread
    )
    if rate_limiter:
        builder = builder.rate_limiter(AIORateLimiter(max_retries=3))
    if request is not None:
        builder = builder.request(request)
    if get_updates_request is not None:
        builder = builder.get_updates_request(get_updates_request)
    app: BotApplication = builder.build()
    state = app.bot_data
    state.config = config
    state.model = model
    state.executor = executor
    state.locks = locks
    register_handlers(app)
    return app


async def post_init(app: BotApplication) -> None:
    """Open the database, load the model, create the engine, register localised commands."""
    import storage
    from bot.engine import Engine

    state = app.bot_data
    config = state.config
    if config is None:
        raise RuntimeError("build_application() did not set the configuration")
    if state.executor is None:
        # Two workers: GP fits and decodes of different chats overlap; torch/numpy drop the GIL.
        state.executor = ThreadPoolExecutor(
            max_workers=2, thread_name_prefix="fotorobot-cpu", initializer=single_threaded_torch
        )
        state.owns_executor = True
    loop = asyncio.get_running_loop()
    if state.model is None:
        from model import FaceModel

        state.model = await loop.run_in_executor(state.executor, FaceModel.load, config.model_path)
    config.db_path.parent.mkdir(parents=True, exist_ok=True)
    conn = await storage.connect(config.db_path)
    engine = Engine(conn, state.model, state.executor, config)
    state.deps = Deps(
        config=config,
        conn=conn,
        model=state.model,
        engine=engine,
        locks=state.locks,
        executor=state.executor,
    )
    await register_commands(app)


def single_threaded_torch() -> None:
    """One intra-op thread per decode: the executor already runs two decodes side by side.

    torch's thread setting is per OS thread, so each worker sets it (executor initializer).
    Measured on the 2-core box under load: decoding an album took ~270-480 ms with torch's
    default 2 threads (oversubscribed) and ~20-30 ms with 1.
    """
    import torch

    torch.set_num_threads(1)


async def register_commands(app: BotApplication) -> None:
    """setMyCommands for the default scope (English) and each supported language."""
    from bot.texts import SUPPORTED_LANGUAGES, bot_commands

    try:
        await app.bot.set_my_commands([BotCommand(c, d) for c, d in bot_commands("en")])
        for lang in SUPPORTED_LANGUAGES:
            commands = [BotCommand(c, d) for c, d in bot_commands(lang)]
            await app.bot.set_my_commands(commands, language_code=lang)
    except TelegramError as exc:
        # Commands are a convenience: the bot works without them, so never fail start-up.
        log.warning("setMyCommands failed: %s", exc)


async def post_shutdown(app: BotApplication) -> None:
    """Close the database and stop the worker threads we started."""
    state = app.bot_data
    if state.deps is not None:
        await state.deps.conn.close()
        state.deps = None
    if state.owns_executor and state.executor is not None:
        state.executor.shutdown(wait=True, cancel_futures=True)
        state.executor = None
        state.owns_executor = False
