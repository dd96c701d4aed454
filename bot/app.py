"""The one place that wires the python-telegram-bot `Application`: dependencies, handlers, hooks.

Dependencies live in `bot_data` (a `BotData`) and reach handlers through the typed
`BotContext` (bot.context); the engine (and with it the database) is opened in `post_init` and
closed in `post_shutdown`, so building an application does no I/O. Tests build it with the fake
Bot API's request objects.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from telegram import BotCommand
from telegram.error import TelegramError
from telegram.ext import ApplicationBuilder, ContextTypes

from bot.context import BotApplication, BotContext, BotData, Deps
from bot.handlers import register_handlers
from bot.handlers.admin import register_owner_menu
from bot.handlers.group_votes import start_group_rounds, stop_group_rounds
from bot.ordering import CONCURRENT_UPDATES, ChatOrderedUpdateProcessor
from bot.ratelimit import GroupRateLimiter

if TYPE_CHECKING:
    from telegram.request import BaseRequest

    from bot.admin import AdminService
    from bot.engine import Engine
    from fotorobot.settings import Settings
    from model import FaceModel

log = logging.getLogger(__name__)

# The update kinds the handlers use, asked for by name: Telegram remembers the last list given
# and otherwise sends kinds nothing here handles (polls, channel posts...).
ALLOWED_UPDATES = ["message", "edited_message", "callback_query", "my_chat_member", "poll_answer"]


def build_application(
    settings: Settings,
    *,
    request: BaseRequest | None = None,
    get_updates_request: BaseRequest | None = None,
    model: FaceModel | None = None,
    executor: ThreadPoolExecutor | None = None,
    rate_limiter: bool = True,
    concurrent_updates: int = CONCURRENT_UPDATES,
) -> BotApplication:
    """Build the bot's Application: handlers, typed context, engine hooks, rate limiter."""
    builder: Any = (
        ApplicationBuilder()
        .token(settings.token.reveal())
        .base_url(settings.bot_api_url)
        .base_file_url(settings.file_api_url)
        .context_types(ContextTypes(context=BotContext, bot_data=BotData))
        .concurrent_updates(ChatOrderedUpdateProcessor(concurrent_updates))
        .post_init(post_init)
        .post_stop(stop_group_rounds)
        .post_shutdown(post_shutdown)
        .job_queue(None)  # no scheduled jobs: spare the scheduler thread
    )
    if rate_limiter:
        # Albums and edits count per message in a group, as Telegram counts them.
        builder = builder.rate_limiter(GroupRateLimiter(max_retries=3))
    if request is not None:
        builder = builder.request(request)
    if get_updates_request is not None:
        builder = builder.get_updates_request(get_updates_request)
    app: BotApplication = builder.build()
    data = app.bot_data
    data.settings = settings
    data.model = model
    data.executor = executor
    register_handlers(app)
    return app


async def post_init(app: BotApplication) -> None:
    """Load the model, open the engine (and its database), register localised commands."""
    from bot.engine import Engine

    data = app.bot_data
    settings = data.settings
    if settings is None:
        raise RuntimeError("build_application() did not set the settings")
    if data.executor is None:
        # Two workers: GP fits and decodes of different chats overlap; torch/numpy drop the GIL.
        data.executor = ThreadPoolExecutor(
            max_workers=2, thread_name_prefix="fotorobot-cpu", initializer=single_threaded_torch
        )
        data.owns_executor = True
    if data.model is None:
        from model import FaceModel

        loop = asyncio.get_running_loop()
        data.model = await loop.run_in_executor(data.executor, FaceModel.load, settings.model_path)
    engine = await Engine.open(settings, data.model, data.executor)
    admin = await open_admin(app, engine)
    data.deps = Deps(settings=settings, engine=engine, admin=admin)
    await start_group_rounds(app)  # re-arms the stored deadlines of open group rounds
    await register_commands(app)
    await register_owner_menu(app.bot, admin, sorted(settings.admin_ids))


async def open_admin(app: BotApplication, engine: Engine) -> AdminService:
    """The owners' service; a training run left by an earlier process is reported now."""
    from bot.admin import AdminService
    from bot.handlers.admin_reports import TelegramReporter

    return await AdminService.open(engine, TelegramReporter(app.bot, engine))


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
    """Close the engine's database and stop the worker threads we started."""
    data = app.bot_data
    await stop_group_rounds(app)  # post_stop did unless the application never started
    if data.deps is not None and data.deps.admin is not None:
        await data.deps.admin.close()  # stops a training process: resumable at the next start
    if data.deps is not None:
        await data.deps.engine.close()
        data.deps = None
    if data.owns_executor and data.executor is not None:
        data.executor.shutdown(wait=True, cancel_futures=True)
        data.executor = None
        data.owns_executor = False


__all__ = ["ALLOWED_UPDATES", "BotApplication", "BotContext", "build_application"]
