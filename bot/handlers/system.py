"""Updates about the chat itself, other bots, the per-update language, and the error handler."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from telegram import ChatMember, Update
from telegram.error import ChatMigrated, Forbidden, TelegramError
from telegram.ext import ApplicationHandlerStop

from bot.handlers.common import search_model_gone
from bot.handlers.group_votes import carry_round_over
from bot.models import ModelGone
from bot.texts import pick_language, text

if TYPE_CHECKING:
    from bot.context import BotContext

log = logging.getLogger(__name__)


async def drop_bots(update: Update, context: BotContext) -> None:
    """Ignore everything other bots send (they could loop with us)."""
    user, msg = update.effective_user, update.effective_message
    # An anonymous group admin, or a person posting as a channel, arrives from a bot account
    # (@GroupAnonymousBot, @Channel_Bot) with sender_chat set: a person all the same. So does
    # an anonymous admin's poll answer (from @Channel_Bot, with voter_chat set).
    if update.poll_answer is not None and update.poll_answer.voter_chat is not None:
        return
    if user is not None and user.is_bot and (msg is None or msg.sender_chat is None):
        raise ApplicationHandlerStop


async def look_up_language(update: Update, context: BotContext) -> None:
    """The chat's language, once per update, for every handler after this one."""
    chat, user = update.effective_chat, update.effective_user
    context.language = await context.deps.engine.chat_language(
        chat.id if chat is not None else None, user.language_code if user is not None else None
    )


async def member_status(update: Update, context: BotContext) -> None:
    """The user blocked or unblocked the bot (or removed it from a group)."""
    change = update.my_chat_member
    if change is None:
        return
    status = change.new_chat_member.status
    active = status not in (ChatMember.BANNED, ChatMember.LEFT)
    chat = change.chat
    engine = context.deps.engine
    await engine.record_chat(chat.id, chat.type, chat.title)
    await engine.set_chat_active(chat.id, active)
    log.info("chat %s is now %s", chat.id, "active" if active else "inactive")


async def migrated(update: Update, context: BotContext) -> None:
    """A group became a supergroup: its search moves to the new chat id."""
    msg = update.effective_message
    if msg is None or msg.migrate_to_chat_id is None:
        return
    await context.deps.engine.migrate_chat(msg.chat_id, msg.migrate_to_chat_id)
    log.info("chat %s migrated to %s", msg.chat_id, msg.migrate_to_chat_id)
    await carry_round_over(context, msg.chat_id, msg.migrate_to_chat_id)


def _describe(update: object) -> str:
    """Where an error happened, without message text or tokens."""
    if not isinstance(update, Update):
        return repr(type(update).__name__)
    chat = update.effective_chat.id if update.effective_chat else None
    user = update.effective_user.id if update.effective_user else None
    kind = next(
        (
            k
            for k in ("message", "edited_message", "callback_query", "my_chat_member")
            if getattr(update, k) is not None
        ),
        "other",
    )
    return f"update {update.update_id} ({kind}) chat={chat} user={user}"


async def on_error(update: object, context: BotContext) -> None:
    """Log any handler failure with its context; tell the user briefly, never a traceback."""
    error = context.error
    chat = update.effective_chat if isinstance(update, Update) else None
    deps = context.bot_data.deps
    if isinstance(error, Forbidden):
        log.info("forbidden in %s: %s", _describe(update), error)
        if chat is not None and deps is not None:
            await deps.engine.set_chat_active(chat.id, False)
        return
    if isinstance(error, ChatMigrated) and chat is not None and deps is not None:
        await deps.engine.migrate_chat(chat.id, int(error.new_chat_id))
        log.info("chat %s migrated to %s (seen as an error)", chat.id, error.new_chat_id)
        return
    if isinstance(error, ModelGone) and chat is not None and deps is not None:
        user = update.effective_user if isinstance(update, Update) else None
        lang = await deps.engine.chat_language(chat.id, user.language_code if user else None)
        await search_model_gone(context, chat.id, lang)
        return
    log.error("error handling %s", _describe(update), exc_info=error)
    if chat is None or not isinstance(update, Update):
        return
    # The error handler gets a context of its own: the language is looked up again here.
    user = update.effective_user
    user_language = user.language_code if user else None
    if deps is not None:
        lang = await deps.engine.chat_language(chat.id, user_language)
    else:
        lang = pick_language(user_language)
    try:
        await context.bot.send_message(chat.id, text(lang, "error"))
    except TelegramError as exc:
        log.warning("could not tell chat %s about the error: %s", chat.id, exc)
