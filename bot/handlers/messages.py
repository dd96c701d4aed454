"""Message handlers: rating texts (new and edited), photo uploads, everything else."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from telegram import Message, Update

from bot.engine import MAX_UPLOAD_BYTES
from bot.handlers.common import (
    chat_language,
    ensure_chat,
    next_album,
    reply,
    send_album,
)
from bot.texts import rating_error_text, text

if TYPE_CHECKING:
    from bot.app import BotContext

log = logging.getLogger(__name__)


def _reply_to_bot(message: Message, bot_id: int) -> int | None:
    """The id of the bot's message this one replies to, if it replies to one of ours."""
    target = message.reply_to_message
    if target is None or target.from_user is None or target.from_user.id != bot_id:
        return None
    return target.message_id


async def rating(update: Update, context: BotContext) -> None:
    """A text message (or an edit of one): ratings for the album or for one face."""
    msg, chat, user = update.effective_message, update.effective_chat, update.effective_user
    if msg is None or chat is None or user is None or msg.text is None:
        return
    deps = context.deps
    edited = update.edited_message is not None
    reply_to = _reply_to_bot(msg, context.bot.id)
    private = chat.type == "private"
    lang = await chat_language(update, deps)
    outcome = await deps.engine.rate(
        chat.id, user.id, msg.text, msg.message_id, reply_to, edited=edited
    )
    # In groups people talk to each other: answer only what was clearly meant for the bot.
    addressed = private or reply_to is not None
    if outcome.status == "error" and outcome.error is not None:
        if addressed:
            await reply(
                update,
                rating_error_text(lang, outcome.error, deps.engine.scale, outcome.album_size),
            )
    elif outcome.status == "no_round":
        if addressed:
            await _no_album(update, context, lang)
    elif outcome.status == "closed":
        await reply(update, text(lang, "edit_closed" if edited else "round_closed"))
    elif outcome.status == "partial":
        missing = ", ".join(f"#{p}" for p in outcome.missing)
        total = len(outcome.rated) + len(outcome.missing)
        await reply(
            update,
            text(lang, "progress", rated=len(outcome.rated), total=total, missing=missing),
        )
    elif outcome.status == "complete" and outcome.round_id is not None:
        await next_album(context, chat.id, lang, outcome.round_id)


async def _no_album(update: Update, context: BotContext, lang: str) -> None:
    """Nothing open to rate: resume the chat's search with a fresh album, or point to /start.

    An open search without an open album happens when sending the next album failed (the
    round was closed first); the next message then brings the album instead of a dead end.
    """
    chat = update.effective_chat
    session = None if chat is None else await context.deps.engine.current_session(chat.id)
    if chat is None or session is None:
        await reply(update, text(lang, "no_round"))
        return
    await send_album(context, chat.id, lang, session)


async def photo(update: Update, context: BotContext) -> None:
    """A photo or an image file: encode it and put that face into the next album."""
    msg, chat = update.effective_message, update.effective_chat
    if msg is None or chat is None:
        return
    if chat.type != "private" and _reply_to_bot(msg, context.bot.id) is None:
        return  # a group where the bot sees everything: only photos sent in reply to it count
    deps = context.deps
    lang = await chat_language(update, deps)
    if msg.photo:
        item = max(msg.photo, key=lambda p: p.width * p.height)
        file_id, size = item.file_id, item.file_size
    elif msg.document is not None:
        file_id, size = msg.document.file_id, msg.document.file_size
    else:
        return
    if size is not None and size > MAX_UPLOAD_BYTES:
        await reply(update, text(lang, "upload_too_big", limit_mb=MAX_UPLOAD_BYTES // 2**20))
        return
    from model import ImageError

    telegram_file = await context.bot.get_file(file_id)
    if telegram_file.file_size is not None and telegram_file.file_size > MAX_UPLOAD_BYTES:
        await reply(update, text(lang, "upload_too_big", limit_mb=MAX_UPLOAD_BYTES // 2**20))
        return
    data = bytes(await telegram_file.download_as_bytearray())
    try:
        latent = await deps.engine.encode_upload(data)
    except ImageError as exc:
        log.info("refused upload in chat %s: %s", chat.id, exc)
        # The model's reasons are English and technical: answer with the localised gist.
        key = "upload_bomb" if exc.kind == "too_large" else "upload_not_image"
        await reply(update, text(lang, key))
        return
    await ensure_chat(update, deps)
    session = await deps.engine.current_session(chat.id)
    if session is None:
        session = await deps.engine.start_session(chat.id)
    await deps.engine.add_upload(session, latent)
    if await deps.engine.open_round(chat.id) is None:
        # Nothing to rate right now: show the uploaded face at once.
        session = await deps.engine.current_session(chat.id)
        if session is not None:
            await send_album(context, chat.id, lang, session)
        return
    await reply(update, text(lang, "upload_queued"))


async def other(update: Update, context: BotContext) -> None:
    """Stickers, voice, video, locations, non-image files: say what the bot understands."""
    msg, chat = update.effective_message, update.effective_chat
    if msg is None or chat is None or chat.type != "private":
        return  # in groups, unrelated media is people talking to each other
    lang = await chat_language(update, context.deps)
    if msg.sticker is not None:
        key = "sticker"
    elif msg.voice is not None or msg.audio is not None or msg.video_note is not None:
        key = "voice"
    elif msg.document is not None:
        key = "upload_not_image"
    else:
        key = "unsupported"
    await reply(update, text(lang, key))


async def unknown_command(update: Update, context: BotContext) -> None:
    """A command the bot does not have: point to /help."""
    lang = await chat_language(update, context.deps)
    await reply(update, text(lang, "unknown_command"))
