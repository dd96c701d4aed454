"""Message handlers: rating texts (new and edited), photo uploads, everything else."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, assert_never

from telegram import Message, Update

from bot.engine import MAX_UPLOAD_BYTES
from bot.groups import is_group_chat
from bot.handlers.common import ensure_chat, next_album, reply, send_album
from bot.handlers.group_votes import rated_in_group
from bot.texts import rating_error_text, text

if TYPE_CHECKING:
    from bot.context import BotContext

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
    engine, lang = context.deps.engine, context.language
    edited = update.edited_message is not None
    reply_to = _reply_to_bot(msg, context.bot.id)
    outcome = await engine.rate(chat.id, user.id, msg.text, msg.message_id, reply_to, edited)
    # In groups people talk to each other: answer only what was clearly meant for the bot.
    addressed = chat.type == "private" or reply_to is not None
    if is_group_chat(chat.id) and outcome.status in ("partial", "complete"):
        # A group's vote: no answer of its own (the round's tally shows it), and a round
        # closes on its quorum or deadline, not when every face has a rating.
        assert outcome.round_id is not None
        await rated_in_group(update, context, outcome.round_id)
        return
    match outcome.status:
        case "unreadable":
            if addressed and outcome.error is not None:
                scale = await engine.chat_scale(chat.id)
                error = rating_error_text(lang, outcome.error, scale, outcome.album_size)
                await reply(update, error)
        case "no_round":
            if addressed:
                await _no_album(update, context)
        case "closed":
            await reply(update, text(lang, "edit_closed" if edited else "round_closed"))
        case "partial":
            missing = ", ".join(f"#{p}" for p in outcome.missing)
            total = len(outcome.rated) + len(outcome.missing)
            await reply(
                update,
                text(lang, "progress", rated=len(outcome.rated), total=total, missing=missing),
            )
        case "complete":
            if outcome.round_id is not None:
                await next_album(context, chat.id, outcome.round_id)
        case _:
            assert_never(outcome.status)


async def _no_album(update: Update, context: BotContext) -> None:
    """Nothing open to rate: resume the chat's search with a fresh album, or point to /start.

    An open search without an open album happens when sending the next album failed (the
    round was closed first); the next message then brings the album instead of a dead end.
    """
    chat = update.effective_chat
    if chat is None or not await context.deps.engine.has_search(chat.id):
        await reply(update, text(context.language, "no_round"))
        return
    await send_album(context, chat.id)


async def photo(update: Update, context: BotContext) -> None:
    """A photo or an image file: encode it and put that face into the next album."""
    msg, chat = update.effective_message, update.effective_chat
    if msg is None or chat is None:
        return
    if chat.type != "private" and _reply_to_bot(msg, context.bot.id) is None:
        return  # a group where the bot sees everything: only photos sent in reply to it count
    engine, lang = context.deps.engine, context.language
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
        latent = await engine.encode_upload(data, chat.id)
    except ImageError as exc:
        log.info("refused upload in chat %s: %s", chat.id, exc)
        # The model's reasons are English and technical: answer with the localised gist.
        key = {"too_large": "upload_bomb", "no_face": "upload_no_face"}.get(
            exc.kind, "upload_not_image"
        )
        await reply(update, text(lang, key))
        return
    await ensure_chat(update, engine)
    status = await engine.queue_upload(chat.id, latent)
    match status:
        case "show_now":  # nothing to rate right now: show the uploaded face at once
            await send_album(context, chat.id)
        case "queued":
            await reply(update, text(lang, "upload_queued"))
        case _:
            assert_never(status)


async def other(update: Update, context: BotContext) -> None:
    """Stickers, voice, video, locations, non-image files: say what the bot understands."""
    msg, chat = update.effective_message, update.effective_chat
    if msg is None or chat is None or chat.type != "private":
        return  # in groups, unrelated media is people talking to each other
    if msg.sticker is not None:
        key = "sticker"
    elif msg.voice is not None or msg.audio is not None or msg.video_note is not None:
        key = "voice"
    elif msg.document is not None:
        key = "upload_not_image"
    else:
        key = "unsupported"
    await reply(update, text(context.language, key))


async def unknown_command(update: Update, context: BotContext) -> None:
    """A command the bot does not have: point to /help."""
    await reply(update, text(context.language, "unknown_command"))
