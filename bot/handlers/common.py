"""Shared handler plumbing: recording the chat, the prompt's buttons, moving to the next album.

Handlers never send albums themselves: starting a search or closing a round makes the next
album owed (storage.outbox), and the update runner delivers it once the update is done.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.texts import text

if TYPE_CHECKING:
    from bot.context import BotContext
    from bot.engine import Engine


# Callback data of the prompt's buttons.
NEXT, BEST, UNDO = "next", "best", "undo"


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


async def next_album(context: BotContext, round_id: int) -> None:
    """Close the round: the next album is then owed, and the update runner (bot.inbox) delivers
    it as soon as this update is finished. Closing twice is harmless (the first one wins)."""
    await context.deps.engine.close_round(round_id)


async def reply(update: Update, message: str) -> None:
    """Answer the update's message (quoting it in groups, where several people talk)."""
    msg = update.effective_message
    if msg is None:
        return
    chat = update.effective_chat
    quote = chat is not None and chat.type != "private"
    await msg.reply_text(message, do_quote=quote)
