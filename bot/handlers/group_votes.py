"""Group voting: poll answers, ratings by reply in a group, the round's deadline, who may move
a group's search on or restart it, /settings, and a round carried over a supergroup migration.

Every path that closes a round ends in `common.round_closed`, the one way from a closed round
to the next album.
"""

from __future__ import annotations

import functools
import logging
from typing import TYPE_CHECKING, assert_never

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest

from bot.context import BotContext
from bot.group_outcomes import SETTING_NAMES, GroupSettings, VoteOutcome
from bot.groups import is_group_chat, stepped_value
from bot.handlers import groups
from bot.handlers.common import album_media, ensure_chat, reply, round_closed, search_model_gone
from bot.models import ModelGone
from bot.ordering import ChatOrderedUpdateProcessor, chat_turn
from bot.texts import text

if TYPE_CHECKING:
    from bot.context import BotApplication
    from bot.group_outcomes import Steerer

log = logging.getLogger(__name__)

SETTINGS_BUTTON = "gs"  # callback data: gs:<setting>:<+|-|~>
# What /settings offers in a private chat (quorum, deadline and names are about groups).
PRIVATE_SETTINGS = ("album", "scale", "language")
# Each setting's name for people (text keys).
SETTING_LABELS = {
    "quorum": "setting_quorum",
    "deadline": "setting_deadline",
    "album": "setting_album",
    "scale": "setting_scale",
    "language": "setting_language",
    "names": "setting_names",
}


# --- votes ------------------------------------------------------------------------------


async def after_vote(context: BotContext, chat_id: int, outcome: VoteOutcome) -> None:
    """A group vote was stored: update the tally, or move on if it closed the round."""
    match outcome.status:
        case "recorded":
            assert outcome.round_id is not None
            await groups.request_tally(context, chat_id, outcome.round_id)
        case "closed":
            assert outcome.round_id is not None
            await round_closed(context, chat_id, outcome.round_id)
        case "late" | "unknown":
            pass  # kept as data (late) or not ours: nothing to show
        case _:
            assert_never(outcome.status)


async def poll_answer(update: Update, context: BotContext) -> None:
    """A member chose faces in a round's poll (or took the choice back)."""
    answer = update.poll_answer
    if answer is None:
        return
    engine = context.deps.engine
    chat_id = await engine.groups.poll_chat(answer.poll_id)
    if chat_id is None:
        return  # not a poll of ours (or of a chat forgotten since)
    names: tuple[str | None, str | None, str | None] = (None, None, None)
    if answer.voter_chat is not None:
        voter = answer.voter_chat.id  # an anonymous admin votes in the group's name
    elif answer.user is not None:
        user = answer.user
        voter, names = user.id, (user.first_name, user.username, user.language_code)
    else:
        return
    await groups.ensure_member_count(context, chat_id)
    positions = [option + 1 for option in answer.option_ids]
    outcome = await engine.groups.pick(chat_id, answer.poll_id, voter, positions, names)
    if outcome.status in ("recorded", "closed"):  # something to show: in the group's language
        context.language = await engine.chat_language(chat_id, None)
    await after_vote(context, chat_id, outcome)


async def rated_in_group(update: Update, context: BotContext, round_id: int) -> None:
    """A rating by reply was stored in a group: no answer of its own (the tally shows it)."""
    chat = update.effective_chat
    if chat is None:
        return
    engine = context.deps.engine
    await ensure_chat(update, engine)  # the voter's name, for groups that show names
    await groups.ensure_member_count(context, chat.id)
    await after_vote(context, chat.id, await engine.groups.settle(chat.id, round_id))


async def poll_answer_chat(app: BotApplication, update: Update) -> int | None:
    """The chat of a poll answer (Telegram sends none), so it waits its chat's turn."""
    deps = app.bot_data.deps
    if update.poll_answer is None or deps is None:
        return None
    return await deps.engine.groups.poll_chat(update.poll_answer.poll_id)


async def deadline_passed(app: BotApplication, round_id: int) -> None:
    """A round's deadline passed: close it (if anyone voted) and send the next album, in the
    chat's turn like an update."""
    engine = app.bot_data.require().engine
    chat_id = await engine.groups.round_chat(round_id)
    if chat_id is None:
        return
    async with chat_turn(app.update_processor, chat_id):
        chat_id = await engine.groups.round_chat(round_id)  # it may have migrated meanwhile
        status = await engine.groups.expire(round_id)
        match status:
            case "closed":
                assert chat_id is not None
                context = BotContext(app, chat_id=chat_id)
                context.language = await engine.chat_language(chat_id, None)
                await round_closed(context, chat_id, round_id)
            case "empty" | "not_due" | "gone":
                pass
            case _:
                assert_never(status)


async def start_group_rounds(app: BotApplication) -> None:
    """At start-up: deadlines fire, poll answers find their chat, stored deadlines re-armed."""
    engine = app.bot_data.require().engine
    engine.groups.timers.start(functools.partial(deadline_passed, app))
    if isinstance(app.update_processor, ChatOrderedUpdateProcessor):
        app.update_processor.chat_resolver = functools.partial(poll_answer_chat, app)
    armed = await engine.groups.rearm()
    if armed:
        log.info("re-armed the deadlines of %d open group rounds", armed)


async def stop_group_rounds(app: BotApplication) -> None:
    """At shutdown: timers and pending tally edits stop (the deadlines stay stored)."""
    deps = app.bot_data.deps
    if deps is not None:
        await deps.engine.groups.stop()


# --- who steers ---------------------------------------------------------------------------


async def may_move_on(update: Update, context: BotContext) -> Steerer | None:
    """Next in a group: its admins (anonymous ones too) and whoever started the search; others
    are told so (an alert for the button, a reply for /next). None when refused."""
    who = await groups.steerer(update, context)
    if who != "member":
        return who
    refusal = text(context.language, "group_next_refused")
    if update.callback_query is not None:
        await update.callback_query.answer(refusal, show_alert=True)
    else:
        await reply(update, refusal)
    return None


async def audit_move_on(context: BotContext, update: Update, who: Steerer, round_id: int) -> None:
    """Record an admin's Next in a group (a privileged action)."""
    chat, user = update.effective_chat, update.effective_user
    if chat is not None and who in ("admin", "anonymous_admin"):
        await context.deps.engine.groups.audit(
            user.id if user else None, "group_next", chat.id, {"round": round_id, "as": who}
        )


async def may_start_new_search(update: Update, context: BotContext) -> bool:
    """/new or /start in a group: an admin or the starter restarts at once; a member's request
    counts, and the search restarts once as many members as the round quorum asked (nobody
    alone throws away everyone's votes)."""
    chat, user = update.effective_chat, update.effective_user
    engine = context.deps.engine
    if chat is None or not await engine.has_search(chat.id):
        return True
    who = await groups.steerer(update, context)
    if who in ("admin", "anonymous_admin"):
        await engine.groups.audit(user.id if user else None, "new_search", chat.id, {"as": who})
    if who != "member" or user is None:
        return True
    await groups.ensure_member_count(context, chat.id)
    vote = await engine.groups.request_new_search(chat.id, user.id)
    match vote.status:
        case "start":
            await engine.groups.audit(
                user.id, "new_search", chat.id, {"as": "members", "count": vote.count}
            )
            return True
        case "no_search":
            return True
        case "pending":
            message = text(
                context.language,
                "group_new_requested",
                name=user.first_name,
                count=vote.count,
                needed=vote.needed,
            )
            await reply(update, message)
            return False
        case _:
            assert_never(vote.status)


# --- /settings ------------------------------------------------------------------------------


def _shown(lang: str, name: str, value: str) -> str:
    """A setting's value for people: durations and on/off in words."""
    if name == "deadline":
        seconds = int(value)
        return groups.duration(lang, seconds) if seconds else text(lang, "deadline_off")
    if name == "names":
        return text(lang, "names_on" if value == "on" else "names_off")
    return value


def settings_text(lang: str, settings: GroupSettings, group: bool) -> str:
    """The chat's settings and how to change them."""
    fields = {
        "quorum": settings.quorum,
        "deadline": _shown(lang, "deadline", str(settings.deadline_s)),
        "album_size": settings.album_size,
        "low": settings.scale.low,
        "high": settings.scale.high,
        "language": lang,
        "names": _shown(lang, "names", "on" if settings.show_names else "off"),
    }
    return text(lang, "settings_show" if group else "settings_show_private", **fields)


def settings_keyboard(lang: str, settings: GroupSettings, group: bool) -> InlineKeyboardMarkup:
    """Buttons that step each setting (group-only ones in groups)."""

    def button(label: str, name: str, op: str) -> InlineKeyboardButton:
        return InlineKeyboardButton(label, callback_data=f"{SETTINGS_BUTTON}:{name}:{op}")

    def steps(name: str) -> list[InlineKeyboardButton]:
        label = text(lang, SETTING_LABELS[name])
        return [
            button(text(lang, "button_setting_down", setting=label), name, "-"),
            button(text(lang, "button_setting_up", setting=label), name, "+"),
        ]

    names = "on" if settings.show_names else "off"
    cycles = [("scale", str(settings.scale)), ("language", lang)]
    if group:
        cycles.append(("names", _shown(lang, "names", names)))
    rows = [steps("quorum"), steps("deadline")] if group else []
    rows.append(steps("album"))
    cycle = [
        button(text(lang, "button_setting_cycle", setting=text(lang, SETTING_LABELS[n]), value=v),
               n, "~")
        for n, v in cycles
    ]  # fmt: skip
    rows.append(cycle)
    return InlineKeyboardMarkup(rows)


async def _allowed_to_configure(update: Update, context: BotContext, chat_id: int) -> bool:
    """Group admins (checked with Telegram now; anonymous admins too); anyone in private."""
    if not is_group_chat(chat_id) or groups.anonymous_admin(update):
        return True
    user = update.effective_user
    return user is not None and await groups.is_admin(context, chat_id, user.id)


async def settings(update: Update, context: BotContext) -> None:
    """/settings [NAME VALUE]: show or change the chat's settings (group admins only)."""
    chat, user = update.effective_chat, update.effective_user
    if chat is None:
        return
    engine, lang = context.deps.engine, context.language
    if not await _allowed_to_configure(update, context, chat.id):
        await reply(update, text(lang, "settings_refused"))
        return
    await ensure_chat(update, engine)
    group = is_group_chat(chat.id)
    args = context.args or []
    if not args:
        current = await engine.groups.settings_for(chat.id)
        message = update.effective_message
        if message is not None:
            await message.reply_text(
                settings_text(lang, current, group),
                reply_markup=settings_keyboard(lang, current, group),
                do_quote=group,
            )
        return
    name = args[0].lower()
    allowed = SETTING_NAMES if group else PRIVATE_SETTINGS
    known = name if name in allowed else ""
    change = await engine.groups.change_setting(chat.id, known, " ".join(args[1:]), lang)
    match change.status:
        case "changed":
            if name == "language":
                context.language = lang = change.value
            if group:
                await engine.groups.audit(
                    user.id if user else None, "chat_settings", chat.id, {name: change.value}
                )
            label = text(lang, SETTING_LABELS[name])
            shown = _shown(lang, name, change.value)
            await reply(update, text(lang, "settings_changed", setting=label, value=shown))
        case "invalid" | "unknown":
            key = "settings_usage" if group else "settings_usage_private"
            await reply(update, text(lang, key))
        case _:
            assert_never(change.status)


async def settings_button(update: Update, context: BotContext) -> None:
    """A /settings button: step one setting, then show the settings again (admins only)."""
    query, chat = update.callback_query, update.effective_chat
    if query is None or chat is None or query.data is None:
        return
    engine, lang = context.deps.engine, context.language
    _prefix, name, op = [*query.data.split(":"), "", ""][:3]
    group = is_group_chat(chat.id)
    if name not in (SETTING_NAMES if group else PRIVATE_SETTINGS):
        await query.answer()
        return
    if group and not await groups.is_admin(context, chat.id, query.from_user.id):
        await query.answer(text(lang, "settings_refused"), show_alert=True)
        return
    current = await engine.groups.settings_for(chat.id)
    value = stepped_value(name, current, lang, up=op != "-")
    change = await engine.groups.change_setting(chat.id, name, value, lang)
    if change.status != "changed" or change.settings is None:
        await query.answer()
        return
    if name == "language":
        context.language = lang = change.value
    if group:
        await engine.groups.audit(
            query.from_user.id, "chat_settings", chat.id, {name: change.value}
        )
    label = text(lang, SETTING_LABELS[name])
    await query.answer(
        text(lang, "settings_changed", setting=label, value=_shown(lang, name, change.value))
    )
    try:
        await query.edit_message_text(
            settings_text(lang, change.settings, group),
            reply_markup=settings_keyboard(lang, change.settings, group),
        )
    except BadRequest as exc:  # at a limit already: the same text again
        if "not modified" not in str(exc).lower():
            raise


# --- a group that became a supergroup -----------------------------------------------------


async def carry_round_over(context: BotContext, old_chat_id: int, new_chat_id: int) -> None:
    """After a migration: the open round goes on in the supergroup with every vote kept. Its
    photos, poll and tally stay behind in the old group, so the same faces are sent again
    there (drawn from their stored latents), with a new poll and tally."""
    engine = context.deps.engine
    engine.groups.migrated(old_chat_id, new_chat_id)
    round_ = await engine.open_round(new_chat_id)
    if round_ is None or any(m is not None for m in round_.message_ids):
        return
    await engine.groups.tallies.close(round_.id)
    async with chat_turn(context.application.update_processor, new_chat_id):
        context.language = await engine.chat_language(new_chat_id, None)
        try:
            images = await engine.round_images(round_.id)
        except ModelGone:  # the migration message names the old group: said here, in the new
            await search_model_gone(context, new_chat_id, context.language)
            return
        if not images:
            return
        tally = await engine.groups.tally(round_.id)
        voters = tally.voters if tally is not None else 0
        await context.bot.send_message(
            new_chat_id, text(context.language, "group_resent", voters=voters)
        )
        photos = await context.bot.send_media_group(new_chat_id, album_media(images))
        await engine.reattach_album(round_.id, [m.message_id for m in photos])
        await groups.open_group_round(context, new_chat_id, round_.id, photos)
