"""Everything the bot says, in English and Russian (catalogues in `bot/locales/`).

Texts are plain text: send them without a parse mode, so user-supplied fields (names) need no
escaping. `text()` never raises for a known key: unknown languages fall back to English and a
missing field is left as ``{field}`` (and logged) rather than crashing a handler.

Derived fields: when a template uses ``{example}`` (ratings for a whole album, e.g. "8 3 5 6")
or ``{one}`` (one rating, e.g. "9") and the caller did not pass them, they are made from
``album_size`` (default 4) and ``low``/``high`` (default 1-10) — pass those and the example
always fits the chat's album and scale.
"""

from __future__ import annotations

import logging
import string
from types import ModuleType
from typing import Any

from bot.locales import en, ru
from bot.ratings import RatingError, RatingScale

log = logging.getLogger(__name__)

SUPPORTED_LANGUAGES = ("en", "ru")
_CATALOGUES: dict[str, ModuleType] = {"en": en, "ru": ru}
# A 1-10 example with a clear favourite and a clear miss; scaled for other scales and sizes.
_EXAMPLE_FRACTIONS = (0.78, 0.22, 0.44, 0.56, 1.0, 0.0, 0.67, 0.33, 0.89, 0.11)


def pick_language(language_code: str | None, default: str = "en") -> str:
    """The supported language for a Telegram language_code ("ru-RU" -> "ru"), else default."""
    if language_code:
        base = language_code.strip().lower().replace("_", "-").split("-")[0]
        if base in _CATALOGUES:
            return base
    return default if default in _CATALOGUES else "en"


def format_value(value: float) -> str:
    """A rating as people write it: 8, 7.5, 3.25."""
    return f"{value:g}"


def example_ratings(album_size: int = 4, scale: RatingScale | None = None) -> str:
    """An example answer for a whole album, one value per face ("8 3 5 6" on 1-10)."""
    scale = scale or RatingScale()
    size = max(1, min(int(album_size), len(_EXAMPLE_FRACTIONS)))
    return " ".join(format_value(scale.from_fraction(f)) for f in _EXAMPLE_FRACTIONS[:size])


def example_one(scale: RatingScale | None = None) -> str:
    """An example single rating near the top of the scale ("9" on 1-10, "5" on 1-5)."""
    return format_value((scale or RatingScale()).from_fraction(0.89))


class _Fields(dict[str, Any]):
    """format_map mapping that leaves unknown placeholders visible instead of raising."""

    def __init__(self, key: str, fields: dict[str, Any]) -> None:
        super().__init__(fields)
        self.key = key

    def __missing__(self, name: str) -> str:
        log.warning("text %r rendered without field %r", self.key, name)
        return "{" + name + "}"


def _with_derived(fields: dict[str, Any]) -> dict[str, Any]:
    out = dict(fields)
    try:
        scale = RatingScale(int(out.get("low", 1)), int(out.get("high", 10)))
        album_size = int(out.get("album_size", 4))
    except (TypeError, ValueError):
        scale, album_size = RatingScale(), 4
    out.setdefault("example", example_ratings(album_size, scale))
    out.setdefault("one", example_one(scale))
    return out


def text(lang: str, key: str, **fields: Any) -> str:
    """The message `key` in `lang` (English when unknown) with `fields` filled in."""
    catalogue = _CATALOGUES.get(lang, en)
    template = catalogue.MESSAGES.get(key)
    if template is None:
        template = en.MESSAGES[key]  # a key missing everywhere is a programming error
    return string.Formatter().vformat(template, (), _Fields(key, _with_derived(fields)))


def rating_error_text(
    lang: str, error: RatingError, scale: RatingScale, album_size: int = 4
) -> str:
    """A short friendly explanation of a refused rating, followed by an example."""
    detail: dict[str, Any] = dict(error.detail)
    detail.setdefault("low", scale.low)
    detail.setdefault("high", scale.high)
    album_size = int(detail.get("album_size", detail.get("expected", album_size)))
    detail.setdefault("album_size", album_size)
    if "values" in detail:
        detail["values"] = ", ".join(format_value(float(v)) for v in detail["values"])
    key = f"rating_error_{error.code}"
    if key not in en.MESSAGES:
        key = "rating_error_unreadable"
    hint = text(lang, "rating_hint", album_size=album_size, low=scale.low, high=scale.high)
    return text(lang, key, **detail) + "\n" + hint


def bot_commands(lang: str) -> list[tuple[str, str]]:
    """(command, description) pairs for setMyCommands in `lang` (English when unknown)."""
    return list(_CATALOGUES.get(lang, en).COMMANDS)


def admin_commands(lang: str) -> list[tuple[str, str]]:
    """(command, description) of the owners' commands, shown in owners' menus only."""
    return list(_CATALOGUES.get(lang, en).ADMIN_COMMANDS)


def message_keys() -> frozenset[str]:
    """Every message key (the English catalogue is the reference)."""
    return frozenset(en.MESSAGES)
