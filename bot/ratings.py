"""The rating parser: what a person types back at an album, turned into (position, value) pairs.

One pure function, `parse_ratings`, with no Telegram import. It returns either `ParsedRatings`
or a `RatingError` (never raises for any string) so the handler can answer every message.

What it reads (the grammar, after normalising unicode):

- Values in album order: ``8 3 5 6``, ``8,3,5,6``, ``8;3;5;6``, ``8-3-5-6`` (3+ dashed values),
  ``🔥 😐 👎 🙂`` or ``🔥😐👎🙂`` (one emoji per face), ``⭐⭐⭐ ⭐ ⭐⭐⭐⭐⭐ ⭐⭐`` (a run
  of stars is one rating), ``8/10 3/10 ...`` (a denominator must equal the chat's top of scale).
- Values by position: ``#2 9``, ``#2: 9``, ``#2=9``, ``№2 9``, ``1:8 3:2``, ``1=8``, ``2 - 9``,
  ``2-9`` (a two-number dash is position-value, never a range), ``#3 🔥``, ``#3🔥``.
- A single value when the message replies to one photo (``target_position``).
- Digits of any script (full-width ``８``, Arabic-Indic ``٨``, keycaps ``8️⃣``, ``🔟``).
- Decimals with a point (``7.5``). A decimal comma (``7,5``) only where a list makes no sense:
  a reply to one photo, or the value after a position (``#2 7,5``); everywhere else the comma
  separates ratings, so ``8,3,5,6`` is always four ratings.

A leading ``@botname`` (addressing the bot in a group) is skipped.

What it refuses (``RatingError.code``): ``empty``, ``command`` (a slash command is not a
rating), ``too_long`` (over `MAX_LENGTH` characters, checked before any other work),
``unreadable`` (no rating found, or any word in the message: "I'd say 8 3 5 6" is refused
rather than guessed, so chat talk with numbers never becomes a vote), ``out_of_range``,
``wrong_scale`` (``8/10`` on a 1-5 chat), ``bad_position`` (``#7`` in an album of 4),
``duplicate`` (one position given two different values), ``mixed`` (``#2 9 5``: positions for
some values only), ``ambiguous`` (one bare value for an album of several faces, not a reply to
a photo), ``wrong_count`` (bare values but not one per face: ``8 3 5`` for 4 faces is refused,
since guessing which face was skipped would put a vote on the wrong face).

Emoji are read on the 1-10 scale (`EMOJI_VALUES`) and mapped onto the chat's scale by their
position in the range (rounded half up): on 1-5, 🤮 👎 -> 1, 🙁 -> 2, 😐 -> 3, 🙂 👍 -> 4,
❤️ 😍 🔥 -> 5. n stars mean n on a 1-5 scale, mapped likewise (1-10: 1, 3, 6, 8, 10).
Variation selectors, skin tones and the keycap mark are ignored.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass, field
from typing import Any

MAX_LENGTH = 500  # characters; a rating never needs more, and the cap bounds the work
MAX_STARS = 5

# Value of each emoji on a 1-10 scale (keys without variation selectors or skin tones).
EMOJI_VALUES: dict[str, int] = {
    "🤮": 1,
    "🤢": 1,
    "💩": 1,
    "👎": 2,
    "💔": 2,
    "🙁": 3,
    "☹": 3,
    "😞": 3,
    "😕": 4,
    "😐": 5,
    "😶": 5,
    "🤔": 5,
    "🙂": 7,
    "😊": 7,
    "👌": 7,
    "👍": 8,
    "😀": 8,
    "😃": 8,
    "😄": 8,
    "❤": 9,
    "♥": 9,
    "🧡": 9,
    "💛": 9,
    "💚": 9,
    "💙": 9,
    "💜": 9,
    "🤍": 9,
    "🤎": 9,
    "🩷": 9,
    "🩵": 9,
    "💖": 9,
    "💗": 9,
    "💓": 9,
    "💕": 9,
    "💞": 9,
    "💘": 9,
    "😍": 10,
    "🥰": 10,
    "🤩": 10,
    "🔥": 10,
    "💯": 10,
    "❤\u200d🔥": 10,
}
STAR_CHARS = frozenset("⭐🌟★")
_IGNORED = frozenset("\ufe0e\ufe0f\u20e3\u200b") | {chr(c) for c in range(0x1F3FB, 0x1F400)}
_DASHES = frozenset("-‐‑‒–—―−﹣")
_PAIR_SEPS = frozenset(":=") | {"-"}
_LIST_SEPS = frozenset(",;")
_MAX_EMOJI_KEY = max(len(k) for k in EMOJI_VALUES)


@dataclass(frozen=True)
class RatingScale:
    """The inclusive range of ratings a chat uses (1-10 or 1-5)."""

    low: int = 1
    high: int = 10

    def __post_init__(self) -> None:
        if self.low >= self.high:
            raise ValueError(f"rating scale needs low < high, got {self.low}-{self.high}")

    @classmethod
    def parse(cls, text: str) -> RatingScale:
        """Read "1-10" or "1-5" (any "LOW-HIGH" with LOW < HIGH); raises ValueError."""
        low, sep, high = text.strip().partition("-")
        if not sep or not low.strip().isdigit() or not high.strip().isdigit():
            raise ValueError(f"rating scale must look like '1-10', got {text!r}")
        return cls(int(low), int(high))

    def contains(self, value: float) -> bool:
        """True when value lies within the scale (inclusive)."""
        return self.low <= value <= self.high

    def from_fraction(self, fraction: float) -> float:
        """The value at `fraction` (0..1) of the range, rounded half up to a whole number."""
        return float(math.floor(self.low + fraction * (self.high - self.low) + 0.5))

    def __str__(self) -> str:
        return f"{self.low}-{self.high}"


@dataclass(frozen=True)
class Rating:
    """One face's rating; position is 1-based within the album."""

    position: int
    value: float


@dataclass(frozen=True)
class ParsedRatings:
    """Ratings read from one message, sorted by position, one per position."""

    ratings: tuple[Rating, ...]

    def as_dict(self) -> dict[int, float]:
        """{position: value}."""
        return {r.position: r.value for r in self.ratings}


@dataclass(frozen=True)
class RatingError:
    """Why a message could not be read as ratings; `detail` feeds the friendly answer."""

    code: str
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class _Tok:
    kind: str  # "num" | "hash" | "pair" | "list" | "tight" | "slash" | "emoji" | "stars" | "end"
    text: str
    value: float = 0.0


@dataclass(frozen=True)
class _Value:
    value: float
    raw: str
    low: float
    high: float


@dataclass(frozen=True)
class _Entry:
    position: int | None
    value: _Value


class _Refusal(Exception):
    """Internal: carries a RatingError out of the nested parsing helpers."""

    def __init__(self, error: RatingError) -> None:
        super().__init__(error.code)
        self.error = error


def parse_ratings(
    text: str, *, album_size: int, scale: RatingScale, target_position: int | None = None
) -> ParsedRatings | RatingError:
    """Read ratings for an album of `album_size` faces; a reply to one photo passes its position."""
    if not isinstance(text, str):
        return RatingError("unreadable", {"reason": "not_text"})
    if len(text) > MAX_LENGTH:
        return RatingError("too_long", {"length": len(text), "max": MAX_LENGTH})
    stripped = text.strip()
    if not stripped:
        return RatingError("empty", {})
    if stripped.startswith("/"):
        return RatingError("command", {"command": stripped.split()[0][:64]})
    if stripped.startswith("@"):
        # "@fotorobot_bot 8 3 5 6": addressing the bot in a group is not part of the rating.
        parts = stripped.split(maxsplit=1)
        stripped = parts[1] if len(parts) > 1 else ""
        if not stripped:
            return RatingError("empty", {})
    try:
        tokens = _tokenize(_normalize(stripped))
        single = target_position is not None or album_size == 1
        entries = _entries(tokens, scale, decimal_comma=single)
        return _interpret(entries, album_size, scale, target_position)
    except _Refusal as refusal:
        return refusal.error


def _normalize(text: str) -> str:
    """NFKC, ASCII digits for every script, one dash, no emoji modifiers."""
    text = text.replace("№", "#").replace("🔟", "10")
    text = unicodedata.normalize("NFKC", text)
    out: list[str] = []
    for ch in text:
        if ch in _IGNORED:
            continue
        if ch in _DASHES:
            out.append("-")
            continue
        if not ch.isascii():
            digit = unicodedata.digit(ch, None)
            if digit is not None:
                out.append(str(digit))
                continue
        out.append(ch)
    return "".join(out)


def _tokenize(s: str) -> list[_Tok]:
    """Split into tokens; any character outside the grammar refuses the whole message."""
    tokens: list[_Tok] = []
    i, n = 0, len(s)
    while i < n:
        ch = s[i]
        if ch.isspace():
            i += 1
        elif ch.isascii() and ch.isdigit():
            j = i
            while j < n and s[j].isascii() and s[j].isdigit():
                j += 1
            if j + 1 < n and s[j] == "." and s[j + 1].isascii() and s[j + 1].isdigit():
                j += 1
                while j < n and s[j].isascii() and s[j].isdigit():
                    j += 1
            tokens.append(_Tok("num", s[i:j], float(s[i:j])))
            i = j
        elif ch == "#":
            tokens.append(_Tok("hash", ch))
            i += 1
        elif ch in _PAIR_SEPS:
            tokens.append(_Tok("pair", ch))
            i += 1
        elif ch in _LIST_SEPS:
            tight = (
                ch == ","
                and 0 < i < n - 1
                and s[i - 1].isascii()
                and s[i - 1].isdigit()
                and s[i + 1].isascii()
                and s[i + 1].isdigit()
            )
            tokens.append(_Tok("tight" if tight else "list", ch))
            i += 1
        elif ch == "/":
            tokens.append(_Tok("slash", ch))
            i += 1
        elif ch in STAR_CHARS:
            j = i
            while j < n and s[j] in STAR_CHARS:
                j += 1
            tokens.append(_Tok("stars", s[i:j], float(j - i)))
            i = j
        elif ch in ".!" and s[i + 1 :].strip(".! ") == "":
            i = n  # closing punctuation: "8 3 5 6!" reads like "8 3 5 6"
        else:
            for length in range(min(_MAX_EMOJI_KEY, n - i), 0, -1):
                key = s[i : i + length]
                if key in EMOJI_VALUES:
                    tokens.append(_Tok("emoji", key, float(EMOJI_VALUES[key])))
                    i += length
                    break
            else:
                reason = "text" if ch.isalpha() else "symbol"
                raise _Refusal(RatingError("unreadable", {"reason": reason}))
    return tokens


class _Cursor:
    def __init__(self, tokens: list[_Tok]) -> None:
        self.tokens = tokens
        self.i = 0

    def peek(self, ahead: int = 0) -> _Tok:
        j = self.i + ahead
        return self.tokens[j] if j < len(self.tokens) else _Tok("end", "")

    def take(self) -> _Tok:
        tok = self.peek()
        self.i += 1
        return tok


def _entries(tokens: list[_Tok], scale: RatingScale, *, decimal_comma: bool) -> list[_Entry]:
    """Group tokens into bare values and (position, value) entries."""
    if not tokens:
        raise _Refusal(RatingError("unreadable", {"reason": "nothing"}))
    kinds = [t.kind for t in tokens]
    # "8-3-5-6": three or more values joined by dashes is a list, not a chain of pairs.
    if (
        len(tokens) >= 5
        and all(k in {"num", "emoji", "stars"} for k in kinds[::2])
        and all(t.kind == "pair" and t.text == "-" for t in tokens[1::2])
        and len(tokens) % 2 == 1
    ):
        return [_Entry(None, _value(_Cursor([t]), scale, decimal_comma=False)) for t in tokens[::2]]
    if decimal_comma and kinds == ["num", "tight", "num"]:
        return [_Entry(None, _value(_Cursor(tokens), scale, decimal_comma=True))]
    cur = _Cursor(tokens)
    entries: list[_Entry] = []
    while cur.peek().kind != "end":
        tok = cur.peek()
        if tok.kind in {"list", "tight"}:
            cur.take()
            continue
        if tok.kind == "hash":
            cur.take()
            if cur.peek().kind != "num":
                raise _Refusal(RatingError("unreadable", {"reason": "position_without_number"}))
            position = cur.take()
            if cur.peek().kind == "pair":
                cur.take()
            entries.append(_Entry(_position(position), _value(cur, scale, decimal_comma=True)))
        elif tok.kind == "num" and cur.peek(1).kind == "pair":
            position = cur.take()
            cur.take()
            entries.append(_Entry(_position(position), _value(cur, scale, decimal_comma=True)))
        elif tok.kind == "pair" and tok.text == "-" and cur.peek(1).kind == "num":
            cur.take()  # a minus sign: "-3" is refused as out of range below
            value = _value(cur, scale, decimal_comma=False)
            entries.append(
                _Entry(None, _Value(-value.value, "-" + value.raw, value.low, value.high))
            )
        else:
            entries.append(_Entry(None, _value(cur, scale, decimal_comma=False)))
    if not entries:
        raise _Refusal(RatingError("unreadable", {"reason": "nothing"}))
    return entries


def _position(tok: _Tok) -> int:
    if "." in tok.text or len(tok.text) > 6:
        raise _Refusal(RatingError("bad_position", {"position": tok.text}))
    return int(tok.text)


def _value(cur: _Cursor, scale: RatingScale, *, decimal_comma: bool) -> _Value:
    """One rating value at the cursor: a number, number/denominator, an emoji or a star run."""
    tok = cur.take()
    if tok.kind == "emoji":
        fraction = (tok.value - 1.0) / 9.0
        return _Value(scale.from_fraction(fraction), tok.text, scale.low, scale.high)
    if tok.kind == "stars":
        count = int(tok.value)
        if count > MAX_STARS:
            raw = f"{count}⭐"
            raise _Refusal(RatingError("out_of_range", {"value": raw, "low": 1, "high": MAX_STARS}))
        fraction = (count - 1) / (MAX_STARS - 1)
        return _Value(scale.from_fraction(fraction), tok.text, scale.low, scale.high)
    if tok.kind != "num":
        raise _Refusal(RatingError("unreadable", {"reason": "expected_value"}))
    raw, value = tok.text, tok.value
    if (
        decimal_comma
        and "." not in raw
        and cur.peek().kind == "tight"
        and cur.peek(1).kind == "num"
        and "." not in cur.peek(1).text
        and cur.peek(2).kind != "pair"
    ):
        cur.take()
        frac = cur.take().text
        raw = f"{raw},{frac}"
        value = float(f"{tok.text}.{frac}")
    if cur.peek().kind == "slash":
        cur.take()
        denominator = cur.take()
        if denominator.kind != "num":
            raise _Refusal(RatingError("unreadable", {"reason": "expected_value"}))
        if denominator.value != scale.high:
            detail = {"denominator": denominator.text, "low": scale.low, "high": scale.high}
            raise _Refusal(RatingError("wrong_scale", detail))
        raw = f"{raw}/{denominator.text}"
    return _Value(value, raw, scale.low, scale.high)


def _interpret(
    entries: list[_Entry], album_size: int, scale: RatingScale, target_position: int | None
) -> ParsedRatings | RatingError:
    """Check values, positions and counts; number bare values by album order."""
    for entry in entries:
        v = entry.value
        if not (math.isfinite(v.value) and v.low <= v.value <= v.high):
            raw = v.raw if len(v.raw) <= 12 else v.raw[:10] + "…"  # the answer stays short
            detail = {"value": raw, "low": scale.low, "high": scale.high}
            return RatingError("out_of_range", detail)
    positioned = [e for e in entries if e.position is not None]
    bare = [e for e in entries if e.position is None]
    if positioned and bare:
        return RatingError("mixed", {})
    if positioned:
        pairs = [(int(e.position or 0), e.value.value) for e in positioned]
    elif target_position is not None and len(bare) == 1:
        pairs = [(target_position, bare[0].value.value)]
    elif len(bare) == album_size:
        pairs = [(i + 1, e.value.value) for i, e in enumerate(bare)]
    elif len(bare) == 1:
        return RatingError("ambiguous", {"value": bare[0].value.raw, "album_size": album_size})
    else:
        return RatingError("wrong_count", {"got": len(bare), "expected": album_size})
    chosen: dict[int, float] = {}
    for position, value in pairs:
        if not 1 <= position <= album_size:
            return RatingError("bad_position", {"position": position, "album_size": album_size})
        if position in chosen and chosen[position] != value:
            detail = {"position": position, "values": [chosen[position], value]}
            return RatingError("duplicate", detail)
        chosen[position] = value
    return ParsedRatings(tuple(Rating(p, chosen[p]) for p in sorted(chosen)))
