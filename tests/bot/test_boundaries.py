"""The bot's boundaries: handlers reach the rest only through the engine; no emulator inside."""

from __future__ import annotations

from tests.imports import REPO, loaded_after_importing, modules_of, top_level_imports


def test_handlers_never_import_storage() -> None:
    """Handlers talk to the service (bot.engine), never to the database directly."""
    offenders = {
        str(path.relative_to(REPO)): sorted(top_level_imports(path) & {"storage", "aiosqlite"})
        for path in modules_of("bot/handlers")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_app_and_handlers_do_not_import_each_other() -> None:
    """Their shared types live in bot.context; only the app imports the handlers."""
    for path in modules_of("bot/handlers"):
        source = path.read_text(encoding="utf-8")
        assert "bot.app" not in source, path


def test_bot_never_loads_the_fake_or_the_command_line() -> None:
    """The production image leaves telegram_fake out; the command line sits above the bot."""
    for path in modules_of("bot"):
        assert not top_level_imports(path) & {"telegram_fake", "fotorobot"}, path
    assert loaded_after_importing("bot", ["telegram_fake", "fotorobot"]) == []
