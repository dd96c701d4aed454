"""Command and button handlers: /start /new /next /best /history /morph /undo /help /lang."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar, assert_never

from telegram import Update

from bot.groups import is_group_chat
from bot.handlers import group_votes
from bot.handlers.common import BEST, NEW, NEXT, UNDO, ensure_chat, next_album, reply, send_album
from bot.handlers.groups import wrap_up_round
from bot.texts import SUPPORTED_LANGUAGES, text

if TYPE_CHECKING:
    from bot.context import BotContext

T = TypeVar("T")  # the picture the engine makes: BestFacePicture, or the bytes of a grid / GIF


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
    engine = context.deps.engine
    await ensure_chat(update, engine)
    if is_group_chat(chat.id) and not await group_votes.may_start_new_search(update, context):
        return  # a member's request, counted: everyone's votes stay until enough agree
    old_round = await engine.open_round(chat.id)
    name = user.first_name if user else ""
    await reply(update, text(context.language, "greeting" if greet else "new_search", name=name))
    await engine.start_session(chat.id, started_by=user.id if user else None)
    await send_album(context, chat.id)
    if old_round is not None and is_group_chat(chat.id):
        await wrap_up_round(context, chat.id, old_round.id)  # its poll stops, its tally closes


async def next_(update: Update, context: BotContext) -> None:
    """/next: move on with a partly rated album."""
    chat = update.effective_chat
    if chat is None:
        return
    who = await group_votes.may_move_on(update, context)
    if who is None:
        return  # a group member who may not: told so
    if update.callback_query is not None:
        await update.callback_query.answer()
    step = await context.deps.engine.next_step(chat.id)
    match step.status:
        case "no_search":
            await reply(update, text(context.language, "no_round"))
        case "resume":
            await send_album(context, chat.id)
        case "needs_rating":
            await reply(update, text(context.language, "next_needs_rating"))
        case "ready":
            assert step.round_id is not None
            await group_votes.audit_move_on(context, update, who, step.round_id)
            await next_album(context, chat.id, step.round_id)
        case _:
            assert_never(step.status)


async def _picture(
    update: Update,
    context: BotContext,
    make: Callable[[int], Awaitable[T | None]],
    missing: str,
) -> tuple[int, T] | None:
    """(chat id, picture) of the chat's search, or None after saying there is none."""
    chat = update.effective_chat
    if chat is None:
        return None
    picture = await make(chat.id)
    if picture is None:
        await reply(update, text(context.language, missing))
        return None
    return chat.id, picture


async def best(update: Update, context: BotContext) -> None:
    """/best: the best face so far, large, with its rating and round."""
    found = await _picture(update, context, context.deps.engine.best_face_picture, "no_best")
    if found is None:
        return
    chat_id, face = found
    rating = "-" if face.rating is None else f"{face.rating:.3g}"
    caption = text(
        context.language, "best_caption", rating=rating, round=face.round, position=face.position
    )
    await context.bot.send_photo(chat_id, face.image, caption=caption, filename="best.png")


async def history(update: Update, context: BotContext) -> None:
    """/history: one grid image of every face shown, with ratings."""
    found = await _picture(update, context, context.deps.engine.history_picture, "no_history")
    if found is None:
        return
    chat_id, grid = found
    caption = text(context.language, "history_caption")
    await context.bot.send_photo(chat_id, grid, caption=caption, filename="history.png")


async def morph(update: Update, context: BotContext) -> None:
    """/morph: an animation from the first album's best face to the best so far."""
    found = await _picture(update, context, context.deps.engine.morph_picture, "no_morph")
    if found is None:
        return
    chat_id, gif = found
    caption = text(context.language, "morph_caption")
    await context.bot.send_animation(chat_id, gif, caption=caption, filename="morph.gif")


async def undo(update: Update, context: BotContext) -> None:
    """/undo: take back the user's last rating."""
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None:
        return
    outcome = await context.deps.engine.undo(chat.id, user.id)
    match outcome.status:
        case "nothing":
            await reply(update, text(context.language, "nothing_to_undo"))
        case "undone":
            value = f"{outcome.value:g}"
            await reply(
                update, text(context.language, "undone", position=outcome.position, value=value)
            )
        case _:
            assert_never(outcome.status)


async def help_(update: Update, context: BotContext) -> None:
    """/help: how to rate, and the commands."""
    chat = update.effective_chat
    if chat is None:
        return
    chat_settings = await context.deps.engine.groups.settings_for(chat.id)
    scale = chat_settings.scale
    help_text = text(
        context.language,
        "help",
        album_size=chat_settings.album_size,
        low=scale.low,
        high=scale.high,
    )
    extra = "help_group" if is_group_chat(chat.id) else "help_settings"
    await reply(update, help_text + "\n\n" + text(context.language, extra))


async def lang(update: Update, context: BotContext) -> None:
    """/lang [en|ru]: switch the chat's language."""
    chat = update.effective_chat
    if chat is None:
        return
    current = context.language
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
    engine = context.deps.engine
    await ensure_chat(update, engine)
    await engine.set_language(chat.id, choice)
    context.language = choice  # the rest of this update answers in the new language
    await reply(update, text(choice, "lang_set"))


async def button(update: Update, context: BotContext) -> None:
    """The prompt's inline buttons: next album, best so far, undo."""
    query = update.callback_query
    if query is None:
        return
    if query.data == NEXT:
        await next_(update, context)  # answers the query itself (an alert when refused)
        return
    await query.answer()
    if query.data == BEST:
        await best(update, context)
    elif query.data == UNDO:
        await undo(update, context)
    elif query.data == NEW:
        await new(update, context)
