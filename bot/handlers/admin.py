"""The owners' commands: /train /train_status /train_cancel /train_resume /models /use
/rollback /audit, archives of photos sent as files, and the buttons under training runs.

Thin: each handler builds a `Caller`, asks the admin service (bot.admin, which checks the
caller and audits) and turns its outcome into a message. The command menu shows these commands
to owners only (a BotCommandScopeChat per owner), which is a convenience, not a check.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, assert_never

from telegram import BotCommand, BotCommandScopeChat, Update
from telegram.error import BadRequest, TelegramError
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.admin_outcomes import Caller, TrainOutcome, UseOutcome
from bot.archives import ARCHIVE_SUFFIXES
from bot.handlers.admin_format import (
    ACTIVATE,
    DISCARD,
    RESUME,
    STATE_KEYS,
    audit_text,
    duration,
    model_rows_text,
    progress_text,
    source_of,
    who,
)
from bot.handlers.common import ensure_chat, reply
from bot.texts import admin_commands, bot_commands, text

if TYPE_CHECKING:
    from telegram import Bot

    from bot.admin import AdminService
    from bot.context import BotApplication, BotContext

log = logging.getLogger(__name__)

OPTION_KEYS = {
    "unknown": "train_option_unknown",
    "malformed": "train_option_malformed",
    "bad_value": "train_option_bad_value",
    "repeated": "train_option_repeated",
}
SOURCE_KEYS = {
    "outside": "train_source_outside",
    "missing": "train_source_missing",
    "not_folder": "train_source_not_folder",
    "link_out": "train_source_link_out",
    "bad_synthetic": "train_source_bad_synthetic",
}
ARCHIVE_KEYS = {
    "not_archive": "archive_not_archive",
    "damaged": "archive_damaged",
    "path_escape": "archive_path_escape",
    "too_many_files": "archive_too_many_files",
    "too_large": "archive_too_large",
    "no_images": "archive_no_images",
}


def _service(context: BotContext) -> AdminService:
    admin = context.deps.admin
    if admin is None:
        raise RuntimeError("the admin service is not open")
    return admin


async def _caller(update: Update, context: BotContext) -> Caller | None:
    """Who is asking (recorded first: the audit log names the chat)."""
    chat, user, msg = update.effective_chat, update.effective_user, update.effective_message
    if chat is None:
        return None
    await ensure_chat(update, context.deps.engine)
    caller = Caller(
        user.id if user is not None else None,
        chat.id,
        anonymous=msg is not None and msg.sender_chat is not None,
    )
    admin = _service(context)
    if caller.user_id in admin.menu_pending and admin.is_owner(caller):
        await register_owner_menu(context.bot, admin, [caller.user_id])
    return caller


async def _run(
    update: Update,
    context: BotContext,
    call: Callable[[AdminService, Caller], Awaitable[str | None]],
) -> None:
    caller = await _caller(update, context)
    if caller is None:
        return
    answer = await call(_service(context), caller)
    if answer:
        await reply(update, answer)


# --- training ----------------------------------------------------------------------------


def train_answer(lang: str, outcome: TrainOutcome, admin: AdminService) -> str | None:
    """What to say about /train (None when started: the progress message is the answer)."""
    match outcome.status:
        case "refused":
            return text(lang, "admin_refused")
        case "usage":
            return text(lang, "train_usage", download_note=download_note(lang, admin))
        case "bad_options":
            assert outcome.option_error is not None
            error = outcome.option_error
            return text(lang, OPTION_KEYS[error.problem], token=error.token)
        case "bad_source":
            assert outcome.source_problem is not None
            return text(lang, SOURCE_KEYS[outcome.source_problem])
        case "busy":
            return text(lang, "train_busy", run=outcome.run.id if outcome.run else "?")
        case "started":
            return None
        case _:
            assert_never(outcome.status)


def download_note(lang: str, admin: AdminService) -> str:
    """The download limit of the Bot API in use, said plainly."""
    limit = admin.download_limit() // 2**20
    cloud = limit <= 20
    return text(lang, "download_note_cloud" if cloud else "download_note_local", limit_mb=limit)


async def train(update: Update, context: BotContext) -> None:
    """/train SOURCE [options]."""

    async def call(admin: AdminService, caller: Caller) -> str | None:
        outcome = await admin.train(caller, list(context.args or []))
        return train_answer(context.language, outcome, admin)

    await _run(update, context, call)


async def train_status(update: Update, context: BotContext) -> None:
    """/train_status: where the run is, or how the last one ended."""

    async def call(admin: AdminService, caller: Caller) -> str:
        lang = context.language
        outcome = await admin.status(caller)
        run = outcome.run
        match outcome.status:
            case "refused":
                return text(lang, "admin_refused")
            case "running":
                assert run is not None and outcome.progress is not None
                return text(
                    lang,
                    "train_status_running",
                    progress=progress_text(lang, run, outcome.progress),
                    ago=duration(time.time() - run.created_at),
                    who=who(run.requested_by),
                )
            case "idle":
                if run is None:
                    return text(lang, "train_status_none")
                return text(
                    lang,
                    "train_status_idle",
                    run=run.id,
                    source=source_of(run),
                    state=text(lang, STATE_KEYS.get(run.state, "state_done")),
                    epoch=run.epoch,
                    epochs=run.epochs or "?",
                )
            case _:
                assert_never(outcome.status)

    await _run(update, context, call)


async def train_cancel(update: Update, context: BotContext) -> None:
    """/train_cancel: end the run (its last finished epoch stays)."""

    async def call(admin: AdminService, caller: Caller) -> str | None:
        outcome = await admin.cancel(caller)
        match outcome.status:
            case "refused":
                return text(context.language, "admin_refused")
            case "nothing":
                return text(context.language, "train_cancel_nothing")
            case "cancelled":
                run = outcome.run
                assert run is not None
                # The run's chat already has the full report (with its buttons).
                if run.chat_id == caller.chat_id:
                    return None
                return text(context.language, "train_cancel_done", run=run.id)
            case _:
                assert_never(outcome.status)

    await _run(update, context, call)


async def resume_answer(lang: str, admin: AdminService, caller: Caller, args: list[str]) -> str:
    """Resume a stopped run (from /train_resume or its button); what to say about it."""
    outcome = await admin.resume(caller, args)
    match outcome.status:
        case "refused":
            return text(lang, "admin_refused")
        case "nothing":
            return text(lang, "train_resume_nothing")
        case "busy":
            return text(lang, "train_resume_busy", run=outcome.run.id if outcome.run else "?")
        case "resumed":
            return ""  # the new progress message says it
        case _:
            assert_never(outcome.status)


async def train_resume(update: Update, context: BotContext) -> None:
    """/train_resume [RUN]."""

    async def call(admin: AdminService, caller: Caller) -> str:
        return await resume_answer(context.language, admin, caller, list(context.args or []))

    await _run(update, context, call)


# --- model versions ----------------------------------------------------------------------


def use_answer(lang: str, outcome: UseOutcome, *, rollback: bool = False) -> str:
    """What to say after /use, /rollback or Activate."""
    version = outcome.version.version if outcome.version is not None else "?"
    match outcome.status:
        case "refused":
            return text(lang, "admin_refused")
        case "usage":
            return text(lang, "use_usage")
        case "switched":
            return text(lang, "rollback_switched" if rollback else "use_switched", version=version)
        case "already":
            return text(lang, "use_already", version=version)
        case "missing":
            return text(lang, "use_missing")
        case "ambiguous":
            return text(lang, "use_ambiguous")
        case "file_gone":
            return text(lang, "use_file_gone", version=version)
        case "nothing":
            return text(lang, "rollback_nothing")
        case _:
            assert_never(outcome.status)


async def models(update: Update, context: BotContext) -> None:
    """/models: versions, the active one, metrics, open searches on each."""

    async def call(admin: AdminService, caller: Caller) -> str:
        outcome = await admin.list_models(caller)
        match outcome.status:
            case "refused":
                return text(context.language, "admin_refused")
            case "listed":
                return model_rows_text(context.language, outcome.rows)
            case _:
                assert_never(outcome.status)

    await _run(update, context, call)


async def use(update: Update, context: BotContext) -> None:
    """/use VERSION."""

    async def call(admin: AdminService, caller: Caller) -> str:
        return use_answer(context.language, await admin.use(caller, list(context.args or [])))

    await _run(update, context, call)


async def rollback(update: Update, context: BotContext) -> None:
    """/rollback."""

    async def call(admin: AdminService, caller: Caller) -> str:
        return use_answer(context.language, await admin.rollback(caller), rollback=True)

    await _run(update, context, call)


async def audit(update: Update, context: BotContext) -> None:
    """/audit: the latest 20 admin actions."""

    async def call(admin: AdminService, caller: Caller) -> str:
        outcome = await admin.audit_entries(caller)
        match outcome.status:
            case "refused":
                return text(context.language, "admin_refused")
            case "listed":
                return audit_text(context.language, outcome.entries)
            case _:
                assert_never(outcome.status)

    await _run(update, context, call)


# --- archives and buttons ----------------------------------------------------------------


async def archive(update: Update, context: BotContext) -> None:
    """A ZIP or tar sent as a file: an owner's photos become a dataset (maybe trained on)."""
    msg, lang = update.effective_message, context.language
    if msg is None or msg.document is None:
        return
    caller = await _caller(update, context)
    if caller is None:
        return
    admin = _service(context)
    if not admin.is_owner(caller):
        # For anyone else an archive is a file that is not a picture, as it always was.
        if update.effective_chat is not None and update.effective_chat.type == "private":
            await reply(update, text(lang, "upload_not_image"))
        return
    doc = msg.document
    name = doc.file_name or "archive.zip"
    decision, target = await admin.accept_archive(caller, name, doc.file_size)
    if decision.status == "too_big" or target is None:
        await reply(update, text(lang, "archive_too_big", limit_mb=decision.limit_mb))
        return
    await reply(update, text(lang, "archive_downloading"))
    try:
        telegram_file = await context.bot.get_file(doc.file_id)
        await telegram_file.download_to_drive(target)
    except BadRequest as exc:  # "file is too big": the size was not in the message
        log.info("archive not downloaded: %s", exc)
        Path(target).unlink(missing_ok=True)
        limit = admin.download_limit() // 2**20
        await reply(update, text(lang, "archive_too_big", limit_mb=limit))
        return
    outcome = await admin.unpack(caller, target, name, msg.caption)
    match outcome.status:
        case "unpacked":
            u = outcome.unpacked
            assert u is not None
            await reply(
                update,
                text(
                    lang,
                    "archive_unpacked",
                    images=u.images,
                    label=outcome.label,
                    non_images=u.non_images,
                    links=u.links,
                    too_big=u.too_big,
                ),
            )
            if outcome.train is not None:
                answer = train_answer(lang, outcome.train, admin)
                if answer:
                    await reply(update, answer)
        case "bad_archive":
            assert outcome.problem is not None
            limits = admin.archive_limits
            await reply(
                update,
                text(
                    lang,
                    ARCHIVE_KEYS[outcome.problem],
                    max_files=limits.max_files,
                    max_gb=f"{limits.max_total_bytes / 1024**3:g}",
                ),
            )
        case "refused" | "too_big" | "accepted":
            pass  # decided before the download
        case _:
            assert_never(outcome.status)


async def button(update: Update, context: BotContext) -> None:
    """Activate / Discard / Resume under a run."""
    query = update.callback_query
    if query is None or query.data is None or update.effective_chat is None:
        return
    action, _, number = query.data.rpartition(":")
    if not number.isdigit():
        await query.answer()
        return
    run_id, lang = int(number), context.language
    caller = await _caller(update, context)
    assert caller is not None
    admin = _service(context)
    if action == ACTIVATE:
        answer = use_answer(lang, await admin.activate_run(caller, run_id))
    elif action == DISCARD:
        answer = await _discard(lang, admin, caller, run_id)
    elif action == RESUME:
        answer = await resume_answer(lang, admin, caller, [str(run_id)])
    else:
        await query.answer()
        return
    if not admin.is_owner(caller):
        await query.answer(answer, show_alert=True)
        return
    await query.answer()
    if answer:
        await reply(update, answer)


async def _discard(lang: str, admin: AdminService, caller: Caller, run_id: int) -> str:
    outcome = await admin.discard(caller, run_id)
    match outcome.status:
        case "refused":
            return text(lang, "admin_refused")
        case "missing":
            return text(lang, "discard_missing", run=run_id)
        case "live":
            return text(lang, "discard_live", run=run_id)
        case "discarded":
            if outcome.kept:
                return text(
                    lang, "discard_kept", run=run_id, removed=outcome.removed, kept=outcome.kept
                )
            return text(lang, "discard_done", run=run_id, removed=outcome.removed)
        case _:
            assert_never(outcome.status)


# --- registration ------------------------------------------------------------------------

COMMANDS = {
    "train": train,
    "train_status": train_status,
    "train_cancel": train_cancel,
    "train_resume": train_resume,
    "models": models,
    "use": use,
    "rollback": rollback,
    "audit": audit,
}


def register(app: BotApplication) -> None:
    """The owners' handlers, before the general ones (their buttons and files come first)."""
    fresh = filters.UpdateType.MESSAGE
    for name, callback in COMMANDS.items():
        app.add_handler(CommandHandler(name, callback, filters=fresh))
    archives: filters.BaseFilter = filters.Document.FileExtension(ARCHIVE_SUFFIXES[0][1:])
    for suffix in ARCHIVE_SUFFIXES[1:]:
        archives = archives | filters.Document.FileExtension(suffix[1:])
    app.add_handler(MessageHandler(archives & fresh, archive))
    app.add_handler(CallbackQueryHandler(button, pattern=r"^adm:"))


async def register_owner_menu(bot: Bot, admin: AdminService, owners: list[int]) -> None:
    """Each owner's private chat gets the user commands plus the owners' ones (en, ru).
    Telegram refuses a chat that has never talked to the bot: tried again when they do."""
    from bot.texts import SUPPORTED_LANGUAGES

    for owner in owners:
        try:
            for lang in ("", *SUPPORTED_LANGUAGES):
                pairs = bot_commands(lang or "en") + admin_commands(lang or "en")
                await bot.set_my_commands(
                    [BotCommand(c, d) for c, d in pairs],
                    scope=BotCommandScopeChat(owner),
                    language_code=lang or None,
                )
        except TelegramError as exc:
            log.info("owner %s gets the command menu later: %s", owner, exc)
            continue
        admin.menu_pending.discard(owner)
