"""Telegram handlers: thin translations between updates and the service (bot.engine.Engine).

Handlers never import `storage`: they call the engine and turn its results (bot.outcomes)
into messages (a test scans the imports).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from telegram import Update
from telegram.ext import (
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    MessageHandler,
    PollAnswerHandler,
    TypeHandler,
    filters,
)

from bot.handlers import admin, commands, group_votes, messages, system

if TYPE_CHECKING:
    from bot.context import BotApplication

COMMANDS = {
    "start": commands.start,
    "new": commands.new,
    "next": commands.next_,
    "best": commands.best,
    "history": commands.history,
    "morph": commands.morph,
    "undo": commands.undo,
    "help": commands.help_,
    "lang": commands.lang,
    "settings": group_votes.settings,
}


def register_handlers(app: BotApplication) -> None:
    """Attach every handler and the error handler to the application."""
    # Before anything answers: other bots are dropped (-2), then the chat's language is looked
    # up once for the whole update (-1; PTB hands the same context to every group).
    app.add_handler(TypeHandler(Update, system.drop_bots), group=-2)
    app.add_handler(TypeHandler(Update, system.look_up_language), group=-1)
    admin.register(app)  # owners' commands, archives and buttons before the general handlers
    # Editing an old "/start" must not restart anything: commands act on new messages only.
    fresh = filters.UpdateType.MESSAGE
    for name, callback in COMMANDS.items():
        app.add_handler(CommandHandler(name, callback, filters=fresh))
    app.add_handler(
        CallbackQueryHandler(
            group_votes.settings_button, pattern=f"^{group_votes.SETTINGS_BUTTON}:"
        )
    )
    app.add_handler(CallbackQueryHandler(commands.button))
    app.add_handler(PollAnswerHandler(group_votes.poll_answer))
    app.add_handler(ChatMemberHandler(system.member_status, ChatMemberHandler.MY_CHAT_MEMBER))
    app.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, system.migrated))
    # In groups other bots' commands reach us too: only private chats hear "unknown command".
    app.add_handler(
        MessageHandler(filters.COMMAND & fresh & filters.ChatType.PRIVATE, messages.unknown_command)
    )
    app.add_handler(
        MessageHandler(
            filters.TEXT & ~filters.COMMAND & filters.UpdateType.MESSAGES, messages.rating
        )
    )
    app.add_handler(
        MessageHandler(
            (filters.PHOTO | filters.Document.IMAGE) & fresh,
            messages.photo,
        )
    )
    app.add_handler(
        MessageHandler(fresh & ~filters.COMMAND & ~filters.StatusUpdate.ALL, messages.other)
    )
    app.add_error_handler(system.on_error)
