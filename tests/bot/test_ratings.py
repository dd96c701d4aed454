"""The rating parser: every accepted form, every refusal, and a property test over any text."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.ratings import (
    EMOJI_VALUES,
    MAX_LENGTH,
    ParsedRatings,
    Rating,
    RatingError,
    RatingScale,
    parse_ratings,
)

TEN = RatingScale(1, 10)
FIVE = RatingScale(1, 5)


def ok(text: str, album_size: int = 4, scale: RatingScale = TEN, target: int | None = None):
    result = parse_ratings(text, album_size=album_size, scale=scale, target_position=target)
    assert isinstance(result, ParsedRatings), (text, result)
    return {r.position: r.value for r in result.ratings}


def err(text: str, album_size: int = 4, scale: RatingScale = TEN, target: int | None = None):
    result = parse_ratings(text, album_size=album_size, scale=scale, target_position=target)
    assert isinstance(result, RatingError), (text, result)
    return result


ALBUM = {1: 8.0, 2: 3.0, 3: 5.0, 4: 6.0}


@pytest.mark.parametrize(
    "text",
    [
        "8 3 5 6",
        "8,3,5,6",
        "8, 3, 5, 6",
        "8;3;5;6",
        "8 ; 3 ; 5 ; 6",
        "  8   3\n5\t6  ",
        "8-3-5-6",
        "8 - 3 - 5 - 6",
        "８ ３ ５ ６",  # full-width
        "８，３，５，６",  # full-width commas
        "٨ ٣ ٥ ٦",  # Arabic-Indic
        "८ ३ ५ ६",  # Devanagari
        "8️⃣ 3️⃣ 5️⃣ 6️⃣",  # keycaps
        "8 3 5 6!",
        "8 3 5 6.",
        "8/10 3/10 5/10 6/10",
        "1:8 2:3 3:5 4:6",
        "#1 8 #2 3 #3 5 #4 6",
        "#4 6 #3 5 #2 3 #1 8",  # any order
        "1=8, 2=3, 3=5, 4=6",
        "#1: 8; #2: 3; #3: 5; #4: 6",
        "№1 8 №2 3 №3 5 №4 6",
        "1 - 8, 2 - 3, 3 - 5, 4 - 6",
        "1–8 2—3 3−5 4-6",  # en dash, em dash, minus sign
    ],
)
def test_whole_album_forms(text: str) -> None:
    assert ok(text) == ALBUM


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1:8 3:2", {1: 8.0, 3: 2.0}),
        ("1=8", {1: 8.0}),
        ("#2 9", {2: 9.0}),
        ("#2: 9", {2: 9.0}),
        ("#2:9", {2: 9.0}),
        ("#2=9", {2: 9.0}),
        ("#2 - 9", {2: 9.0}),
        ("2 - 9", {2: 9.0}),
        ("2-9", {2: 9.0}),  # position-value, never a range
        ("2 -9", {2: 9.0}),
        ("＃２ ９", {2: 9.0}),
        ("#3 🔥", {3: 10.0}),
        ("#3🔥", {3: 10.0}),
        ("3: 👎", {3: 2.0}),
        ("#1 ⭐⭐⭐⭐⭐", {1: 10.0}),
        ("#2 7.5", {2: 7.5}),
        ("#2 7,5", {2: 7.5}),  # after a position a comma can only be decimal
        ("#2 7,5 #3 8", {2: 7.5, 3: 8.0}),
        ("1:8,3:2", {1: 8.0, 3: 2.0}),  # here the comma separates pairs
        ("#2 9 #2 9", {2: 9.0}),  # a repeat with the same value is harmless
        ("#1 10 #4 1", {1: 10.0, 4: 1.0}),
        ("2:8/10", {2: 8.0}),
    ],
)
def test_positioned(text: str, expected: dict[int, float]) -> None:
    assert ok(text) == expected


@pytest.mark.parametrize(
    ("text", "target", "expected"),
    [
        ("9", 2, {2: 9.0}),
        ("10", 4, {4: 10.0}),
        ("1", 1, {1: 1.0}),
        ("7.5", 3, {3: 7.5}),
        ("7,5", 3, {3: 7.5}),  # a reply to one photo: a decimal comma
        ("🔥", 2, {2: 10.0}),
        ("👍🏽", 2, {2: 8.0}),
        ("⭐⭐⭐", 1, {1: 6.0}),
        ("９", 2, {2: 9.0}),
        ("#3 9", 2, {3: 9.0}),  # an explicit position wins over the replied-to photo
        ("8 3 5 6", 2, ALBUM),  # a whole album in a reply still rates the album
    ],
)
def test_reply_to_photo(text: str, target: int, expected: dict[int, float]) -> None:
    assert ok(text, target=target) == expected


def test_leading_mention_is_skipped() -> None:
    assert ok("@fotorobot_bot 8 3 5 6") == ALBUM
    assert ok("@fotorobot_bot\n#2\n9") == {2: 9.0}
    assert err("@fotorobot_bot").code == "empty"
    assert err("8 3 5 6 @fotorobot_bot").code == "unreadable"


def test_single_value_for_an_album_of_one() -> None:
    assert ok("7", album_size=1) == {1: 7.0}
    assert ok("7,5", album_size=1) == {1: 7.5}


def test_comma_between_digits_separates_in_an_album() -> None:
    assert ok("7,5", album_size=2) == {1: 7.0, 2: 5.0}
    assert err("7,5").code == "wrong_count"


def test_ten_ten_one_one() -> None:
    assert ok("10 10 1 1") == {1: 10.0, 2: 10.0, 3: 1.0, 4: 1.0}


def test_decimal_point_everywhere() -> None:
    assert ok("7.5 8.25 1 10") == {1: 7.5, 2: 8.25, 3: 1.0, 4: 10.0}


def test_album_sizes() -> None:
    assert ok("1 2", album_size=2) == {1: 1.0, 2: 2.0}
    assert ok(" ".join(["5"] * 10), album_size=10) == {i: 5.0 for i in range(1, 11)}
    assert ok("#10 3", album_size=10) == {10: 3.0}


@pytest.mark.parametrize(
    ("emoji", "on_ten", "on_five"),
    [
        ("🤮", 1, 1),
        ("👎", 2, 1),
        ("🙁", 3, 2),
        ("😐", 5, 3),
        ("🙂", 7, 4),
        ("👍", 8, 4),
        ("❤️", 9, 5),
        ("❤", 9, 5),
        ("♥️", 9, 5),
        ("♥", 9, 5),
        ("😍", 10, 5),
        ("🔥", 10, 5),
        ("❤️‍🔥", 10, 5),
    ],
)
def test_emoji_table(emoji: str, on_ten: int, on_five: int) -> None:
    assert ok(emoji, target=1) == {1: float(on_ten)}
    assert ok(emoji, scale=FIVE, target=1) == {1: float(on_five)}


@pytest.mark.parametrize(
    "tone", ["", "\U0001f3fb", "\U0001f3fc", "\U0001f3fd", "\U0001f3fe", "\U0001f3ff"]
)
@pytest.mark.parametrize("selector", ["", "\ufe0f", "\ufe0e"])
def test_emoji_modifiers_ignored(tone: str, selector: str) -> None:
    assert ok("👍" + tone + selector, target=1) == {1: 8.0}
    assert ok("👎" + selector + tone, target=1) == {1: 2.0}


def test_every_table_emoji_maps_inside_both_scales() -> None:
    for emoji, value in EMOJI_VALUES.items():
        assert 1 <= value <= 10
        assert TEN.contains(ok(emoji, target=1)[1])
        assert FIVE.contains(ok(emoji, scale=FIVE, target=1)[1])


def test_emoji_per_face_in_sequence() -> None:
    assert ok("🔥 😐 👎 🙂") == {1: 10.0, 2: 5.0, 3: 2.0, 4: 7.0}
    assert ok("🔥😐👎🙂") == {1: 10.0, 2: 5.0, 3: 2.0, 4: 7.0}
    assert ok("🔥,😐,👎,🙂") == {1: 10.0, 2: 5.0, 3: 2.0, 4: 7.0}
    assert ok("🔥 5 👎 7") == {1: 10.0, 2: 5.0, 3: 2.0, 4: 7.0}
    assert ok("🔥🔥", album_size=2, scale=FIVE) == {1: 5.0, 2: 5.0}


@pytest.mark.parametrize(
    ("stars", "on_five", "on_ten"),
    [(1, 1, 1), (2, 2, 3), (3, 3, 6), (4, 4, 8), (5, 5, 10)],
)
def test_stars(stars: int, on_five: int, on_ten: int) -> None:
    for star in ["⭐", "⭐️", "🌟", "★"]:
        assert ok(star * stars, scale=FIVE, target=1) == {1: float(on_five)}
        assert ok(star * stars, target=1) == {1: float(on_ten)}


def test_star_runs_rate_faces_in_order() -> None:
    assert ok("⭐⭐⭐ ⭐ ⭐⭐⭐⭐⭐ ⭐⭐", scale=FIVE) == {1: 3.0, 2: 1.0, 3: 5.0, 4: 2.0}


def test_scale_one_to_five() -> None:
    assert ok("5 1 3 4", scale=FIVE) == {1: 5.0, 2: 1.0, 3: 3.0, 4: 4.0}
    e = err("8 3 5 6", scale=FIVE)
    assert e.code == "out_of_range"
    assert e.detail == {"value": "8", "low": 1, "high": 5}


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("11 3 5 6", "11"),
        ("0 3 5 6", "0"),
        ("#2 11", "11"),
        ("-3 1 2 3", "-3"),
        ("8356", "8356"),
        ("10.5 1 1 1", "10.5"),
        ("1" * 400, "1" * 10 + "…"),
        ("2:0", "0"),
    ],
)
def test_out_of_range_names_value_and_range(text: str, value: str) -> None:
    e = err(text)
    assert e.code == "out_of_range"
    assert e.detail == {"value": value, "low": 1, "high": 10}


def test_out_of_range_in_a_reply() -> None:
    e = err("42", target=1)
    assert e.code == "out_of_range" and e.detail["value"] == "42"


def test_too_many_stars() -> None:
    e = err("⭐⭐⭐⭐⭐⭐", target=1)
    assert e.code == "out_of_range"
    assert e.detail["high"] == 5


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "empty"),
        ("   \n\t ", "empty"),
        ("/start", "command"),
        ("/next@fotorobot_bot", "command"),
        ("hello", "unreadable"),
        ("I'd say 8 3 5 6 thanks", "unreadable"),  # words: refused, never guessed
        ("8 3 5 6 thanks", "unreadable"),
        ("восемь", "unreadable"),
        ("😂", "unreadable"),  # not in the table
        ("🐱 🐶", "unreadable"),
        ("#", "unreadable"),
        ("#2", "unreadable"),
        ("#2:", "unreadable"),
        ("#two 9", "unreadable"),
        ("2:", "unreadable"),
        (",,,", "unreadable"),
        ("8 (3) 5 6", "unreadable"),
        ("1:2:3", "unreadable"),
        ("½", "unreadable"),
        ("#7 9", "bad_position"),
        ("#0 9", "bad_position"),
        ("5:9", "bad_position"),
        ("2.5:9", "bad_position"),
        ("#2 9 #2 8", "duplicate"),
        ("#2 9 5", "mixed"),
        ("8 #2 9", "mixed"),
        ("9", "ambiguous"),
        ("🔥", "ambiguous"),
        ("8 3 5", "wrong_count"),
        ("8 3 5 6 7", "wrong_count"),
        ("8/5 3/5 5/5 6/5", "wrong_scale"),
        ("x" * (MAX_LENGTH + 1), "too_long"),
    ],
)
def test_refusals(text: str, code: str) -> None:
    assert err(text).code == code


def test_refusal_details() -> None:
    assert err("#7 9").detail == {"position": 7, "album_size": 4}
    assert err("8 3 5").detail == {"got": 3, "expected": 4}
    assert err("9").detail == {"value": "9", "album_size": 4}
    assert err("#2 9 #2 8").detail == {"position": 2, "values": [9.0, 8.0]}
    assert err("8/5", target=1).detail == {"denominator": "5", "low": 1, "high": 10}
    assert err("a" * 10_000).detail == {"length": 10_000, "max": MAX_LENGTH}


def test_two_bare_values_in_a_reply_are_refused() -> None:
    assert err("9 8", target=2).code == "wrong_count"


def test_target_outside_the_album_is_refused() -> None:
    assert err("9", target=5).code == "bad_position"


def test_ratings_sorted_unique_and_typed() -> None:
    result = parse_ratings("#4 1 #1 10 #2 5", album_size=4, scale=TEN)
    assert result == ParsedRatings((Rating(1, 10.0), Rating(2, 5.0), Rating(4, 1.0)))
    assert result.as_dict() == {1: 10.0, 2: 5.0, 4: 1.0}


def test_scale_parse_and_contains() -> None:
    assert RatingScale.parse("1-5") == FIVE
    assert RatingScale.parse(" 1 - 10 ") == TEN
    assert str(FIVE) == "1-5"
    assert TEN.contains(1) and TEN.contains(10) and TEN.contains(7.5)
    assert not TEN.contains(0) and not TEN.contains(10.01)
    for bad in ["", "10", "1-", "a-b", "5-1", "3-3"]:
        with pytest.raises(ValueError):
            RatingScale.parse(bad)


def test_long_hostile_input_is_fast() -> None:
    hostile = ["#" * 500, "1:" * 250, "9" * 500, "🔥" * 500, "⭐" * 500, "1," * 250, "-" * 500]
    start = time.perf_counter()
    for text in hostile * 20:
        assert isinstance(parse_ratings(text, album_size=4, scale=TEN), RatingError)
    # 140 worst-case parses; a quadratic or backtracking parser would take seconds here.
    assert time.perf_counter() - start < 2.0


@settings(max_examples=300, deadline=None)
@given(
    text=st.text(max_size=600),
    album_size=st.integers(1, 10),
    target=st.one_of(st.none(), st.integers(1, 10)),
    five=st.booleans(),
)
def test_never_raises_on_any_text(
    text: str, album_size: int, target: int | None, five: bool
) -> None:
    scale = FIVE if five else TEN
    result = parse_ratings(text, album_size=album_size, scale=scale, target_position=target)
    assert isinstance(result, ParsedRatings | RatingError)
    if isinstance(result, ParsedRatings):
        positions = [r.position for r in result.ratings]
        assert positions == sorted(set(positions))
        assert all(1 <= p <= album_size for p in positions)
        assert all(scale.contains(r.value) for r in result.ratings)


RATING_ALPHABET = st.sampled_from(
    [*"0123456789#:=-,;./ !⭐", "🔥", "👍", "\ufe0f", "\U0001f3fd", "８", "٣", "№", "❤"]
)


@settings(max_examples=300, deadline=None)
@given(chars=st.lists(RATING_ALPHABET, max_size=40), target=st.one_of(st.none(), st.integers(1, 4)))
def test_never_raises_on_rating_like_text(chars: list[str], target: int | None) -> None:
    result = parse_ratings("".join(chars), album_size=4, scale=TEN, target_position=target)
    assert isinstance(result, ParsedRatings | RatingError)
    if isinstance(result, ParsedRatings):
        assert 1 <= len(result.ratings) <= 4
        assert all(TEN.contains(r.value) for r in result.ratings)


@given(
    values=st.lists(st.integers(1, 10), min_size=4, max_size=4),
    sep=st.sampled_from([" ", ",", ";", ", "]),
)
def test_round_trip_of_album_order(values: list[int], sep: str) -> None:
    assert ok(sep.join(map(str, values))) == {i + 1: float(v) for i, v in enumerate(values)}
