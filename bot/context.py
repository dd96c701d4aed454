"""What handlers are given: the typed callback context, and what it carries.

Its own module so that `bot.app` (which registers the handlers) and `bot.handlers` (which
receive this context) never import each other.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from telegram.ext import Application, CallbackContext, ExtBot

if TYPE_CHECKING:
    from bot.admin import AdminService
    from bot.engine import Engine
    from fotorobot.settings import Settings
    from model import FaceModel


@dataclass(frozen=True)
class Deps:
    """What handlers use once the application runs: the settings and the service."""

    settings: Settings
    engine: Engine
    admin: AdminService | None = None  # the owners' commands (bot.admin)


class BotData:
    """The application's `bot_data`: what `post_init` needs, then the live dependencies."""

    def __init__(self) -> None:
        self.settings: Settings | None = None
        self.model: FaceModel | None = None  # a loaded model to share (tests); else loaded
        self.executor: ThreadPoolExecutor | None = None
        self.owns_executor = False
        self.deps: Deps | None = None

    def require(self) -> Deps:
        """The live dependencies; fails loudly if the application was not initialised."""
        if self.deps is None:
            raise RuntimeError("the application is not initialised (post_init has not run)")
        return self.deps


class BotContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], BotData]):
    """Callback context with the dependencies and the chat's language, typed.

    PTB makes one context per update and hands it to every handler group, so the language
    looked up by `handlers.system.look_up_language` (group -1) is there for all of them.
    """

    def __init__(
        self,
        application: Application[Any, Any, Any, Any, Any, Any],
        chat_id: int | None = None,
        user_id: int | None = None,
    ) -> None:
        super().__init__(application, chat_id, user_id)
        self.language = ""  # set once per update, before any handler that answers runs

    @property
    def deps(self) -> Deps:
        """The live dependencies (settings, engine)."""
        return self.bot_data.require()


BotApplication = Application[ExtBot[None], BotContext, dict[Any, Any], dict[Any, Any], BotData, Any]
