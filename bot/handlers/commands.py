"""Command and button handlers: /start /new /next /best /history /morph /undo /help /lang."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

from telegram import Update

import storage
from bot import views
from bot.handlers.common import (
    BEST,
    NEXT,
    UNDO,
    chat_language,
    ensure_chat,
    next_album,
    reply,
    send_album,
)
from bot.texts import SUPPORTED_LANGUAGES, text

if TYPE_CHECKING:
    from bot.app import BotContext
    from bot.engine import Engine

T = TypeVar("T")  # the picture a view makes: BestFace, or the bytes of a grid / GIF


async def start(update: Update, context: BotContext) -> None:
    """/start: greet the user and open a new search with its first album."""
    await _new_search(update, context, greet=True)


async def new(update: Update, context: BotContext) -> None:
    """/new: forget the current album and start a new search."""
    await _new_search(update, context, greet=False)


async def _new_search(update: Update, context: BotContext, *, greet: bool) -> None:
    chat, user = update.effective_chat, update.effective_user
    if chat is None:
        return
    deps = context.deps
    await ensure_chat(update, deps)
    lang = await chat_language(update, deps)
    name = user.first_name if user else ""
    await reply(update, text(lang, "greeting" if greet else "new_search", name=name))
    session = await deps.engine.start_session(chat.id)
    await send_album(context, chat.id, lang, session)


async def next_(update: Update, context: BotContext) -> None:
    """/next: move on with a partly rated album."""
    chat = update.effective_chat
    if chat is None:
        return
    deps = context.deps
    lang = await chat_language(update, deps)
    round_ = await deps.engine.open_round(chat.id)
    if round_ is None:
        session = await deps.engine.current_session(chat.id)
        if session is None:
            await reply(update, text(lang, "no_round"))
        else:
            await send_album(context, chat.id, lang, session)
        return
    rated, _missing = await deps.engine.round_progress(round_)
    if not rated:
        await reply(update, text(lang, "next_needs_rating"))
        return
    await next_album(context, chat.id, lang, round_.id)


async def _session_picture(
    update: Update,
    context: BotContext,
    make: Callable[[Engine, storage.SearchSession], Awaitable[T | None]],
    missing: str,
) -> tuple[int, str, T] | None:
    """(chat id, language, picture) of the chat's search, or None after saying there is none."""
    chat = update.effective_chat
    if chat is None:
        return None
    deps = context.deps
    lang = await chat_language(update, deps)
    session = await deps.engine.current_session(chat.id)
    picture = None if session is None else await make(deps.engine, session)
    if picture is None:
        await reply(update, text(lang, missing))
        return None
    return chat.id, lang, picture


async def best(update: Update, context: BotContext) -> None:
    """/best: the best face so far, large, with its rating and round."""
    found = await _session_picture(update, context, views.best_face, "no_best")
    if found is None:
        return
    chat_id, lang, face = found
    rating = "-" if face.rating is None else f"{face.rating:.3g}"
    caption = text(lang, "best_caption", rating=rating, round=face.round, position=face.position)
    await context.bot.send_photo(chat_id, face.image, caption=caption, filename="best.png")


async def history(update: Update, context: BotContext) -> None:
    """/history: one grid image of every face shown, with ratings."""
    found = await _session_picture(update, context, views.history_image, "no_history")
    if found is None:
        return
    chat_id, lang, grid = found
    caption = text(lang, "history_caption")
    await context.bot.send_photo(chat_id, grid, caption=caption, filename="history.png")


async def morph(update: Update, context: BotContext) -> None:
    """/morph: an animation from the first album's best face to the best so far."""
    found = await _session_picture(update, context, views.morph_animation, "no_morph")
    if found is None:
        return
    chat_id, lang, gif = found
    caption = text(lang, "morph_caption")
    await context.bot.send_animation(chat_id, gif, caption=caption, filename="morph.gif")


async def undo(update: Update, context: BotContext) -> None:
    """/undo: take back the user's last rating."""
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None:
        return
    deps = context.deps
    lang = await chat_language(update, deps)
    try:
        vote = await deps.engine.undo(chat.id, user.id)
    except storage.RoundClosed:
        await reply(update, text(lang, "nothing_to_undo"))
        return
    if vote is None:
        await reply(update, text(lang, "nothing_to_undo"))
        return
    round_ = await deps.engine.open_round(chat.id)
    positions = {f.id: f.position for f in round_.faces} if round_ is not None else {}
    position = positions.get(vote.face_id)
    if position is None:
        await reply(update, text(lang, "nothing_to_undo"))
        return
    await reply(update, text(lang, "undone", position=position, value=f"{vote.value:g}"))


async def help_(update: Update, context: BotContext) -> None:
    """/help: how to rate, and the commands."""
    deps = context.deps
    lang = await chat_language(update, deps)
    scale = deps.engine.scale
    await reply(
        update,
        text(lang, "help", album_size=deps.config.album_size, low=scale.low, high=scale.high),
    )


async def lang(update: Update, context: BotContext) -> None:
    """/lang [en|ru]: switch the chat's language."""
    chat = update.effective_chat
    if chat is None:
        return
    deps = context.deps
    current = await chat_language(update, deps)
    args = [a.lower() for a in (context.args or [])]
    if not args:
        choice = SUPPORTED_LANGUAGES[
            (SUPPORTED_LANGUAGES.index(current) + 1) % len(SUPPORTED_LANGUAGES)
        ]
    elif args[0] in SUPPORTED_LANGUAGES:
        choice = args[0]
    else:
        await reply(update, text(current, "lang_usage", languages=", ".join(SUPPORTED_LANGUAGES)))
        return
    await ensure_chat(update, deps)
    await storage.set_chat_language(deps.conn, chat.id, choice)
    await reply(update, text(choice, "lang_set"))


async def button(update: Update, context: BotContext) -> None:
    """The prompt's inline buttons: next album, best so far, undo."""
    query = update.callback_query
    if query is None:
        return
    await query.answer()
    if query.data == NEXT:
        await next_(update, context)
    elif query.data == BEST:
        await best(update, context)
    elif query.data == UNDO:
        await undo(update, context)
