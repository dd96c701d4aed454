"""Texts: both languages complete and consistent, fallbacks, examples that parse back."""

from __future__ import annotations

import ast
import logging
import string
from pathlib import Path

import pytest

import bot
from bot.locales import en, ru
from bot.ratings import ParsedRatings, RatingError, RatingScale, parse_ratings
from bot.texts import (
    SUPPORTED_LANGUAGES,
    bot_commands,
    example_one,
    example_ratings,
    message_keys,
    pick_language,
    rating_error_text,
    text,
)

CATALOGUES = {"en": en, "ru": ru}
ERROR_CODES = [
    "empty",
    "command",
    "too_long",
    "unreadable",
    "out_of_range",
    "wrong_scale",
    "bad_position",
    "duplicate",
    "mixed",
    "ambiguous",
    "wrong_count",
]


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_every_key_in_every_language_with_the_same_placeholders() -> None:
    assert set(SUPPORTED_LANGUAGES) == set(CATALOGUES)
    for lang, catalogue in CATALOGUES.items():
        assert set(catalogue.MESSAGES) == set(en.MESSAGES), lang
        for key, template in catalogue.MESSAGES.items():
            assert template.strip(), (lang, key)
            assert placeholders(template) == placeholders(en.MESSAGES[key]), (lang, key)


def test_russian_is_actually_russian() -> None:
    cyrillic = set("абвгдеёжзийклмнопрстуфхцчшщъыьэюя")
    for key, template in ru.MESSAGES.items():
        assert cyrillic & set(template.lower()), key
        assert template != en.MESSAGES[key], key


def test_keys_the_handlers_need_exist() -> None:
    needed = {
        "greeting", "new_search", "prompt", "progress", "no_round",
        "next_needs_rating", "round_closed", "edit_closed", "no_best", "best_caption",
        "no_history", "history_caption", "no_morph", "morph_caption", "undone",
        "nothing_to_undo", "help", "lang_usage", "lang_set", "button_next", "button_best",
        "button_undo", "upload_queued", "upload_not_image", "upload_too_big",
        "upload_bomb", "upload_no_face", "unsupported", "sticker", "voice", "unknown_command",
        "error", "rating_hint",
    }  # fmt: skip
    assert needed <= message_keys()
    assert {f"rating_error_{code}" for code in ERROR_CODES} <= message_keys()


def test_every_message_is_used_by_the_bot() -> None:
    # A key no code names is dead text (rating errors are looked up by their code).
    literals: set[str] = set()
    for path in Path(bot.__file__).parent.rglob("*.py"):
        if "locales" not in path.parts:
            tree = ast.parse(path.read_text(encoding="utf-8"))
            literals |= {
                n.value
                for n in ast.walk(tree)
                if isinstance(n, ast.Constant) and isinstance(n.value, str)
            }
    unused = {k for k in message_keys() if k not in literals and not k.startswith("rating_error_")}
    assert unused == set()


@pytest.mark.parametrize("lang", SUPPORTED_LANGUAGES)
def test_every_message_renders_with_its_fields(lang: str) -> None:
    for key in message_keys():
        fields = {name: f"<{name}>" for name in placeholders(en.MESSAGES[key])}
        rendered = text(lang, key, **fields)
        assert "{" not in rendered and "}" not in rendered, (lang, key)
        for name in fields:
            assert f"<{name}>" in rendered, (lang, key, name)


@pytest.mark.parametrize("lang", SUPPORTED_LANGUAGES)
def test_telegram_length_limits(lang: str) -> None:
    for key in message_keys():
        limit = 1024 if key.endswith("caption") else 64 if key.startswith("button_") else 4096
        assert len(text(lang, key)) <= limit, (lang, key)


def test_fields_are_filled() -> None:
    assert text("en", "progress", rated=3, total=4, missing="#2") == (
        "Got 3 of 4 ratings, missing #2. /next moves on anyway."
    )
    assert "#2" in text("ru", "progress", rated=3, total=4, missing="#2")
    assert "Ann" in text("en", "greeting", name="Ann")
    assert "7.5" in text("ru", "best_caption", rating="7.5", round=3, position=2)


def test_unknown_language_falls_back_to_english() -> None:
    assert text("de", "error") == en.MESSAGES["error"]
    assert text("", "lang_set") == en.MESSAGES["lang_set"]
    assert bot_commands("zz") == bot_commands("en")


def test_unknown_key_is_a_programming_error() -> None:
    with pytest.raises(KeyError):
        text("en", "no_such_key")


def test_missing_field_does_not_crash(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="bot.texts"):
        rendered = text("en", "undone", value="8")
    assert "{position}" in rendered and "8" in rendered
    assert "position" in caplog.text


def test_braces_in_user_fields_are_not_reformatted() -> None:
    assert "{evil}" in text("en", "greeting", name="{evil}")


def test_prompt_examples_fit_album_and_scale() -> None:
    ten = text("en", "prompt", album_size=4, low=1, high=10)
    assert "8 3 5 6" in ten and "#2 9" in ten and "1-10" in ten
    five = text("ru", "prompt", album_size=3, low=1, high=5)
    assert "4 2 3" in five and "#2 5" in five and "1 до 5" in five


@pytest.mark.parametrize("size", range(1, 11))
@pytest.mark.parametrize("scale", [RatingScale(1, 10), RatingScale(1, 5)])
def test_examples_parse_back(size: int, scale: RatingScale) -> None:
    example = example_ratings(size, scale)
    assert len(example.split()) == size
    parsed = parse_ratings(example, album_size=size, scale=scale)
    assert isinstance(parsed, ParsedRatings)
    assert len(parsed.ratings) == size
    one = parse_ratings(example_one(scale), album_size=size, scale=scale, target_position=1)
    assert isinstance(one, ParsedRatings)


@pytest.mark.parametrize("lang", SUPPORTED_LANGUAGES)
@pytest.mark.parametrize(
    "message",
    ["", "/start", "x" * 600, "hello", "11 3 5 6", "8/5", "#7 9", "#2 9 #2 8", "#2 9 5", "9",
     "8 3 5"],
)  # fmt: skip
def test_every_parser_refusal_has_a_friendly_text(lang: str, message: str) -> None:
    scale = RatingScale(1, 10)
    error = parse_ratings(message, album_size=4, scale=scale)
    assert isinstance(error, RatingError)
    answer = rating_error_text(lang, error, scale)
    assert "{" not in answer and "Traceback" not in answer
    assert "#2 9" in answer  # every refusal ends with an example
    assert "8 3 5 6" in answer


def test_rating_error_texts_name_the_problem() -> None:
    scale = RatingScale(1, 10)
    out = rating_error_text(
        "en", RatingError("out_of_range", {"value": "11", "low": 1, "high": 10}), scale
    )
    assert out.startswith("11 is off the scale: please use 1 to 10.")
    out = rating_error_text(
        "en", RatingError("bad_position", {"position": 7, "album_size": 4}), scale
    )
    assert "#7" in out and "#1-#4" in out
    out = rating_error_text(
        "ru", RatingError("duplicate", {"position": 2, "values": [9.0, 7.5]}), scale
    )
    assert "#2" in out and "9, 7.5" in out
    five = RatingScale(1, 5)
    out = rating_error_text("en", RatingError("wrong_count", {"got": 3, "expected": 5}), five)
    assert "3 ratings for 5 faces" in out
    assert "4 2 3 3 5" in out  # the example follows the album size and scale


def test_unknown_error_code_still_answers() -> None:
    out = rating_error_text("ru", RatingError("something_new", {}), RatingScale())
    assert out.startswith(ru.MESSAGES["rating_error_unreadable"])


@pytest.mark.parametrize(
    ("code", "expected"),
    [("ru", "ru"), ("ru-RU", "ru"), ("RU", "ru"), ("en-GB", "en"), ("en", "en"), ("de", "en"),
     (None, "en"), ("", "en"), ("pt_BR", "en")],
)  # fmt: skip
def test_pick_language(code: str | None, expected: str) -> None:
    assert pick_language(code) == expected


def test_pick_language_default() -> None:
    assert pick_language("de", default="ru") == "ru"
    assert pick_language(None, default="ru") == "ru"
    assert pick_language("en", default="ru") == "en"
    assert pick_language("de", default="xx") == "en"


@pytest.mark.parametrize("lang", SUPPORTED_LANGUAGES)
def test_bot_commands_follow_telegram_rules(lang: str) -> None:
    commands = bot_commands(lang)
    names = [c for c, _ in commands]
    assert names == [
        "start", "new", "next", "best", "history", "morph", "undo", "lang", "settings", "help",
    ]  # fmt: skip
    for command, description in commands:
        # setMyCommands: 1-32 chars of a-z0-9_, description 1-256 chars.
        assert 1 <= len(command) <= 32 and all(
            c.islower() or c.isdigit() or c == "_" for c in command
        )
        assert 1 <= len(description) <= 256
    assert bot_commands("ru") != bot_commands("en")
