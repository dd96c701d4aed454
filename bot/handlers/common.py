"""Shared handler plumbing: recording the chat, the prompt's buttons, moving to the next album.

Handlers never send albums themselves: starting a search or closing a round makes the next
album owed (storage.outbox), and the outbox delivers it (bot.outbox): the update runner once
the update is done, or round_closed right away for a group's round.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import TelegramError

from bot.groups import is_group_chat
from bot.texts import text

if TYPE_CHECKING:
    from telegram import Bot

    from bot.context import BotContext
    from bot.engine import Engine

log = logging.getLogger(__name__)


# Callback data of the prompt's buttons.
NEXT, BEST, UNDO = "next", "best", "undo"
NEW = "new"  # under "this search's model is gone": start a new search


async def ensure_chat(update: Update, engine: Engine) -> None:
    """Record the chat and the user (title, language) so searches can refer to them."""
    chat, user = update.effective_chat, update.effective_user
    if chat is not None:
        await engine.record_chat(chat.id, chat.type, chat.title)
    if user is not None:
        await engine.record_user(user.id, user.username, user.first_name, user.language_code)


def prompt_keyboard(lang: str) -> InlineKeyboardMarkup:
    """Buttons under the prompt: next album, best so far, undo."""
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(text(lang, "button_next"), callback_data=NEXT),
                InlineKeyboardButton(text(lang, "button_best"), callback_data=BEST),
                InlineKeyboardButton(text(lang, "button_undo"), callback_data=UNDO),
            ]
        ]
    )


async def next_album(context: BotContext, chat_id: int, round_id: int) -> None:
    """Close the round (the next album is then owed) and go on as round_closed says, unless
    another update closed it first (closing twice is harmless: the first one wins)."""
    if await context.deps.engine.close_round(round_id):
        await round_closed(context, chat_id, round_id)


async def round_closed(context: BotContext, chat_id: int, round_id: int) -> None:
    """The one path from a closed round to the next album, whatever closed it (every face
    rated in a private chat, Next, a group's quorum, poll or deadline).

    The next album is owed from the very transaction that closed the round, and the outbox
    (bot.outbox) delivers it. In a private chat the update runner does, once this update is
    finished. A group's album is delivered here and now, since a poll answer or a deadline is
    no update of the chat's for the runner to follow (the caller holds the chat's turn); then
    the closed round's poll is stopped and its tally becomes the closing message: after the
    album, so that the next album is not kept waiting for them.
    """
    if not is_group_chat(chat_id):
        return
    try:
        await context.deps.outbox.deliver(chat_id, context.language)
    finally:
        from bot.handlers.groups import wrap_up_round  # it imports this module

        await wrap_up_round(context, chat_id, round_id)


async def search_model_gone(bot: Bot, engine: Engine, chat_id: int, lang: str) -> None:
    """The chat's search was started with a model that is gone: end it, offer a new one."""
    log.info("chat %s: its search's model is gone; the search ends", chat_id)
    await engine.end_search(chat_id)
    button = InlineKeyboardButton(text(lang, "button_new_search"), callback_data=NEW)
    try:
        await bot.send_message(
            chat_id, text(lang, "model_gone"), reply_markup=InlineKeyboardMarkup([[button]])
        )
    except TelegramError as exc:
        log.warning("could not tell chat %s that its model is gone: %s", chat_id, exc)


async def reply(update: Update, message: str) -> None:
    """Answer the update's message (quoting it in groups, where several people talk)."""
    msg = update.effective_message
    if msg is None:
        return
    chat = update.effective_chat
    quote = chat is not None and chat.type != "private"
    await msg.reply_text(message, do_quote=quote)
