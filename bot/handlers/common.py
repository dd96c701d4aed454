"""Shared handler plumbing: the chat's language, records, buttons, sending an album."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaPhoto,
    Message,
    Update,
)
from telegram.constants import ChatAction
from telegram.error import ChatMigrated

import storage
from bot.texts import pick_language, text

if TYPE_CHECKING:
    from bot.app import BotContext, Deps

log = logging.getLogger(__name__)

# Callback data of the prompt's buttons.
NEXT, BEST, UNDO = "next", "best", "undo"


async def chat_language(update: Update, deps: Deps) -> str:
    """The chat's language: chosen with /lang, else the user's Telegram language, else default."""
    chat, user = update.effective_chat, update.effective_user
    default = str(deps.config.default_language)
    if chat is not None:
        row = await storage.get_chat(deps.conn, chat.id)
        if row is not None and row.language:
            return row.language
    return pick_language(user.language_code if user else None, default)


async def ensure_chat(update: Update, deps: Deps) -> None:
    """Record the chat and the user (title, language) so sessions can refer to them."""
    chat, user = update.effective_chat, update.effective_user
    if chat is not None:
        await storage.upsert_chat(deps.conn, chat.id, chat.type, title=chat.title)
    if user is not None:
        await storage.upsert_user(
            deps.conn,
            user.id,
            username=user.username,
            first_name=user.first_name,
            language=user.language_code,
        )


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


async def with_migration(
    deps: Deps, chat_id: int, send: Callable[[int], Awaitable[Any]]
) -> tuple[int, Any]:
    """Call send(chat_id); if the group became a supergroup, move its data and send again."""
    try:
        return chat_id, await send(chat_id)
    except ChatMigrated as exc:
        new_id = int(exc.new_chat_id)
        log.info("chat %s migrated to %s", chat_id, new_id)
        await storage.migrate_chat(deps.conn, chat_id, new_id)
        return new_id, await send(new_id)


async def send_album(
    context: BotContext, chat_id: int, lang: str, session: storage.SearchSession
) -> storage.Round:
    """Propose, send and record the session's next album, then the prompt with its buttons."""
    deps = context.deps
    # "sending a photo..." in the chat header while the GP and the decoder work.
    chat_id, _ = await with_migration(
        deps, chat_id, lambda cid: context.bot.send_chat_action(cid, ChatAction.UPLOAD_PHOTO)
    )
    plan = await deps.engine.plan_album(session)
    media = [
        InputMediaPhoto(image, caption=f"#{i + 1}", filename=f"face{i + 1}.jpg")
        for i, image in enumerate(plan.images)
    ]
    chat_id, messages = await with_migration(
        deps, chat_id, lambda cid: context.bot.send_media_group(cid, media)
    )
    message_ids = [m.message_id for m in messages]
    round_ = await deps.engine.commit_album(plan, message_ids)
    scale = deps.engine.scale
    prompt_text = text(lang, "prompt", album_size=len(message_ids), low=scale.low, high=scale.high)
    prompt: Message = await context.bot.send_message(
        chat_id, prompt_text, reply_markup=prompt_keyboard(lang)
    )
    await deps.engine.set_prompt(round_.id, prompt.message_id)
    return round_


async def next_album(context: BotContext, chat_id: int, lang: str, round_id: int) -> bool:
    """Close the round and send the next album; False if another update closed it first."""
    deps = context.deps
    if not await deps.engine.close_round(round_id):
        return False
    session = await deps.engine.current_session(chat_id)
    if session is None:
        return False
    await send_album(context, chat_id, lang, session)
    return True


async def reply(update: Update, message: str) -> None:
    """Answer the update's message (quoting it in groups, where several people talk)."""
    msg = update.effective_message
    if msg is None:
        return
    chat = update.effective_chat
    quote = chat is not None and chat.type != "private"
    await msg.reply_text(message, do_quote=quote)
