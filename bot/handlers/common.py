"""Shared handler plumbing: recording the chat, the prompt's buttons, sending an album."""

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
from telegram.error import ChatMigrated, TelegramError

from bot.groups import is_group_chat
from bot.models import ModelGone
from bot.texts import text

if TYPE_CHECKING:
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


async def with_migration(
    engine: Engine, chat_id: int, send: Callable[[int], Awaitable[Any]]
) -> tuple[int, Any]:
    """Call send(chat_id); if the group became a supergroup, move its data and send again."""
    try:
        return chat_id, await send(chat_id)
    except ChatMigrated as exc:
        new_id = int(exc.new_chat_id)
        log.info("chat %s migrated to %s", chat_id, new_id)
        await engine.migrate_chat(chat_id, new_id)
        return new_id, await send(new_id)


async def send_album(context: BotContext, chat_id: int) -> None:
    """Propose, send and record the chat's next album, then the prompt with its buttons."""
    engine, lang = context.deps.engine, context.language
    # "sending a photo..." in the chat header while the GP and the decoder work.
    chat_id, _ = await with_migration(
        engine, chat_id, lambda cid: context.bot.send_chat_action(cid, ChatAction.UPLOAD_PHOTO)
    )
    plan = await engine.plan_album(chat_id)
    if plan is None:
        return  # the search was closed meanwhile: nothing is owed
    media = album_media(plan.images)
    chat_id, messages = await with_migration(
        engine, chat_id, lambda cid: context.bot.send_media_group(cid, media)
    )
    message_ids = [m.message_id for m in messages]
    round_id = await engine.commit_album(plan, message_ids)
    if is_group_chat(chat_id):
        # The group side imports this module, hence the import here: a poll of the faces and
        # the round's tally instead of the private prompt.
        from bot.handlers.groups import open_group_round

        await open_group_round(context, chat_id, round_id, messages)
        return
    scale = await engine.chat_scale(chat_id)
    prompt_text = text(lang, "prompt", album_size=len(message_ids), low=scale.low, high=scale.high)
    prompt: Message = await context.bot.send_message(
        chat_id, prompt_text, reply_markup=prompt_keyboard(lang)
    )
    await engine.set_prompt(round_id, prompt.message_id)


def album_media(images: list[bytes]) -> list[InputMediaPhoto]:
    """An album's photos, captioned #1..#N."""
    return [
        InputMediaPhoto(image, caption=f"#{i + 1}", filename=f"face{i + 1}.jpg")
        for i, image in enumerate(images)
    ]


async def next_album(context: BotContext, chat_id: int, round_id: int) -> None:
    """Close the round and send the next album, unless another update closed it first."""
    if await context.deps.engine.close_round(round_id):
        await round_closed(context, chat_id, round_id)


async def round_closed(context: BotContext, chat_id: int, round_id: int) -> None:
    """The one path from a closed round to the next album, whatever closed it (every face
    rated in a private chat, Next, a group's quorum or deadline). In a group the closed
    round's poll is then stopped and its tally becomes the closing message: after the album,
    so that the next album is not kept waiting for them."""
    try:
        await send_album(context, chat_id)
    except ModelGone:
        # Said here, not by the error handler: a poll answer or a deadline has no chat it knows.
        await search_model_gone(context, chat_id, context.language)
    finally:
        if is_group_chat(chat_id):
            from bot.handlers.groups import wrap_up_round  # it imports this module

            await wrap_up_round(context, chat_id, round_id)


async def search_model_gone(context: BotContext, chat_id: int, lang: str) -> None:
    """The chat's search was started with a model that is gone: end it, offer a new one."""
    log.info("chat %s: its search's model is gone; the search ends", chat_id)
    await context.deps.engine.end_search(chat_id)
    button = InlineKeyboardButton(text(lang, "button_new_search"), callback_data=NEW)
    try:
        await context.bot.send_message(
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
