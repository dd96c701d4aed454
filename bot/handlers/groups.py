"""Group rounds, the Telegram side: the poll whose options are the album's faces, the tally
message (the round's prompt, edited as votes arrive, coalesced), the wrap-up when a round
closes, and who may steer a group's search.

The faces are the poll's options: Bot API 10.0 lets an option carry a photo
(`InputPollOption.media`, an `InputMediaPhoto`). PTB 22.8 uploads files only for the
documented attach fields, not inside poll options, so each option reuses the file_id of its
album photo (already on Telegram's servers: no second upload). A Bot API server that refuses
photo options gets a plain "#1".."#N" poll answering the album instead.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from telegram import ChatMember, InputMediaPhoto, InputPollOption, Message, Update
from telegram.error import BadRequest, TelegramError

from bot.groups import is_group_chat
from bot.handlers.common import prompt_keyboard
from bot.ratelimit import GroupRateLimiter
from bot.texts import text

if TYPE_CHECKING:
    from bot.context import BotContext
    from bot.group_outcomes import Steerer, Tally
    from bot.ratings import RatingScale

log = logging.getLogger(__name__)

# Group messages a round still needs when it closes: the wrap-up (stopPoll, the summary) and
# the next round's album, poll and tally. The live tally only uses room beyond this.
ROUND_OVERHEAD = 4


def duration(lang: str, seconds: float) -> str:
    """A short, localised duration: "45 s", "2 min", "1 min 30 s"."""
    total = max(0, round(seconds))
    minutes, rest = divmod(total, 60)
    if not minutes:
        return text(lang, "duration_s", seconds=rest)
    if not rest:
        return text(lang, "duration_min", minutes=minutes)
    return text(lang, "duration_min_s", minutes=minutes, seconds=rest)


def _names(lang: str, tally: Tally) -> str:
    if not tally.names:
        return ""
    shown = [name if name is not None else text(lang, "anonymous_voter") for name in tally.names]
    return "\n" + text(lang, "tally_names", names=", ".join(shown))


def tally_text(lang: str, tally: Tally, scale: RatingScale) -> str:
    """The round's prompt with its live state: voters so far, the leading face, time left."""
    head = text(lang, "group_prompt", low=scale.low, high=scale.high)
    deadline = duration(lang, tally.deadline_s)
    if tally.voters == 0:
        key = "tally_none" if tally.deadline_s else "tally_none_no_deadline"
        status = text(lang, key, quorum=tally.quorum, deadline=deadline)
    elif tally.seconds_left is not None:
        status = text(
            lang,
            "tally_open",
            voters=tally.voters,
            quorum=tally.quorum,
            leader=tally.leader,
            left=duration(lang, tally.seconds_left),
        )
    else:
        status = text(
            lang, "tally_open_no_deadline", voters=tally.voters, quorum=tally.quorum,
            leader=tally.leader,
        )  # fmt: skip
    return f"{head}\n\n{status}{_names(lang, tally)}"


def summary_text(lang: str, tally: Tally) -> str:
    """What the tally says once its round has closed: who took part, which face led."""
    if tally.voters == 0 or tally.leader is None:
        return text(lang, "round_summary_none", round=tally.number)
    summary = text(
        lang, "round_summary", round=tally.number, voters=tally.voters, leader=tally.leader
    )
    return summary + _names(lang, tally)


async def send_faces_poll(
    context: BotContext, chat_id: int, photos: Sequence[Message]
) -> Message | None:
    """The round's poll: non-anonymous (answers say who chose what), several answers,
    re-voting allowed, one option per face showing that face."""
    question = text(context.language, "poll_question")

    async def send(options: list[InputPollOption], reply_to: int | None) -> Message:
        return await context.bot.send_poll(
            chat_id,
            question,
            options,
            is_anonymous=False,
            allows_multiple_answers=True,
            allows_revoting=True,
            reply_to_message_id=reply_to,
        )

    faces = []
    for i, photo in enumerate(photos):
        media = InputMediaPhoto(photo.photo[-1].file_id) if photo.photo else None
        faces.append(InputPollOption(f"#{i + 1}", media=media))
    try:
        return await send(faces, None)
    except BadRequest as exc:
        log.warning("poll with photo options refused in %s (%s): numbers instead", chat_id, exc)
    try:
        numbers = [InputPollOption(f"#{i + 1}") for i in range(len(photos))]
        return await send(numbers, photos[0].message_id)
    except BadRequest as exc:
        log.warning("no poll in %s (%s): ratings by reply only", chat_id, exc)
        return None


async def open_group_round(
    context: BotContext, chat_id: int, round_id: int, photos: Sequence[Message]
) -> None:
    """After a group's album: its poll, then the tally message that is the round's prompt."""
    engine = context.deps.engine
    poll = await send_faces_poll(context, chat_id, photos)
    if poll is not None and poll.poll is not None:
        await engine.groups.attach_poll(round_id, chat_id, poll.poll.id, poll.message_id)
    await ensure_member_count(context, chat_id)
    tally = await engine.groups.tally(round_id)
    if tally is None:
        return
    scale = await engine.chat_scale(chat_id)
    prompt = await context.bot.send_message(
        chat_id,
        tally_text(context.language, tally, scale),
        reply_markup=prompt_keyboard(context.language),
    )
    await engine.set_prompt(round_id, prompt.message_id)


async def request_tally(context: BotContext, chat_id: int, round_id: int) -> None:
    """Bring the round's tally up to date soon: coalesced, within the group's message budget."""
    engine, lang, bot = context.deps.engine, context.language, context.bot
    # Edit only with room left for the next round (album, poll, tally) and this one's wrap-up.
    reserve = (await engine.groups.settings_for(chat_id)).album_size + ROUND_OVERHEAD

    async def edit() -> None:
        tally = await engine.groups.tally(round_id)
        if tally is None or not tally.is_open or tally.message_id is None:
            return
        scale = await engine.chat_scale(tally.chat_id)
        try:
            await bot.edit_message_text(
                tally_text(lang, tally, scale),
                chat_id=tally.chat_id,
                message_id=tally.message_id,
                reply_markup=prompt_keyboard(lang),
            )
        except BadRequest as exc:
            if "not modified" not in str(exc).lower():
                raise

    limiter = bot.rate_limiter

    def room() -> float:
        if not isinstance(limiter, GroupRateLimiter):
            return 0.0
        return limiter.wait_for(chat_id, reserve + 1)

    engine.groups.tallies.request(round_id, edit, room)


async def wrap_up_round(context: BotContext, chat_id: int, round_id: int) -> None:
    """A group round closed: no more tally edits, stop its poll, and turn its tally into the
    closing message (who took part, which face led; names only if the group opted in)."""
    engine, lang = context.deps.engine, context.language
    await engine.groups.tallies.close(round_id)
    tally = await engine.groups.tally(round_id)
    if tally is None:
        return
    if tally.poll_message_id is not None:
        try:
            await context.bot.stop_poll(tally.chat_id, tally.poll_message_id)
        except BadRequest as exc:
            log.info("could not stop the poll of round %s: %s", round_id, exc)
    final = await engine.groups.tally(round_id)  # late answers up to the stop count too
    if final is None or final.message_id is None:
        return
    try:
        await context.bot.edit_message_text(
            summary_text(lang, final), chat_id=final.chat_id, message_id=final.message_id
        )
    except BadRequest as exc:
        log.info("could not close the tally of round %s: %s", round_id, exc)


async def ensure_member_count(context: BotContext, chat_id: int) -> None:
    """Know the group's size (a quorum is at most everyone but the bot); cached a while."""
    groups = context.deps.engine.groups
    if not is_group_chat(chat_id) or groups.members_known(chat_id):
        return
    try:
        groups.remember_members(chat_id, await context.bot.get_chat_member_count(chat_id))
    except TelegramError as exc:
        log.info("member count of %s unknown (%s): the quorum setting applies", chat_id, exc)


async def is_admin(context: BotContext, chat_id: int, user_id: int) -> bool:
    """Whether the user is the group's owner or an administrator, asked of Telegram now."""
    try:
        member = await context.bot.get_chat_member(chat_id, user_id)
    except TelegramError as exc:
        log.info("could not check %s in %s: %s", user_id, chat_id, exc)
        return False
    return member.status in (ChatMember.OWNER, ChatMember.ADMINISTRATOR)


def anonymous_admin(update: Update) -> bool:
    """A message the group's anonymous admin posted in the group's own name (only admins can;
    Telegram shows it from @GroupAnonymousBot with sender_chat = the group)."""
    message, chat = update.message, update.effective_chat
    if message is None or chat is None or message.sender_chat is None:
        return False
    return message.sender_chat.id == chat.id


async def steerer(update: Update, context: BotContext) -> Steerer:
    """Who is asking, as far as steering the chat's search goes."""
    chat, user = update.effective_chat, update.effective_user
    if chat is None or not is_group_chat(chat.id):
        return "private"
    if anonymous_admin(update):
        return "anonymous_admin"
    if user is None:
        return "member"
    if await context.deps.engine.groups.starter(chat.id) == user.id:
        return "starter"
    return "admin" if await is_admin(context, chat.id, user.id) else "member"
