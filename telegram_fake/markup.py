"""Text formatting as Telegram does it: parse_mode to plain text + entities (UTF-16 offsets)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

from telegram_fake.errors import bad_request

Entity = dict[str, Any]

# Entities Telegram detects in any text by itself (a subset: commands, mentions, links, tags).
_AUTO_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("bot_command", re.compile(r"(?<![\w/])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?")),
    ("mention", re.compile(r"(?<![\w@])@[A-Za-z0-9_]{5,32}")),
    ("hashtag", re.compile(r"(?<![\w#])#\w*[^\W\d]\w*")),
    ("url", re.compile(r"(?<![\w/])(?:https?://)[^\s<>\"]+[^\s<>\".,;:!?)\]]")),
]

_HTML_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "code": "code",
    "pre": "pre",
    "a": "text_link",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}

_MDV2_RESERVED = set("_*[]()~`>#+-=|{}.!")


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram's entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def auto_entities(text: str, existing: list[Entity] | None = None) -> list[Entity]:
    """Entities Telegram adds by itself (commands, mentions, hashtags, URLs), merged in order."""
    found: list[Entity] = list(existing or [])
    taken = [(e["offset"], e["offset"] + e["length"]) for e in found]
    for kind, pattern in _AUTO_PATTERNS:
        for match in pattern.finditer(text):
            start = utf16_len(text[: match.start()])
            end = start + utf16_len(match.group())
            if any(s < end and start < e for s, e in taken):
                continue
            found.append({"type": kind, "offset": start, "length": end - start})
            taken.append((start, end))
    found.sort(key=lambda e: (e["offset"], -e["length"]))
    return found


class _HtmlToEntities(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.pos = 0
        self.stack: list[tuple[str, int, dict[str, str | None]]] = []
        self.entities: list[Entity] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _HTML_TAGS:
            raise bad_request(f'can\'t parse entities: Unsupported start tag "{tag}"')
        self.stack.append((tag, self.pos, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1][0] != tag:
            raise bad_request(f'can\'t parse entities: Unexpected end tag "{tag}"')
        _, start, attrs = self.stack.pop()
        if self.pos == start:
            return
        entity: Entity = {"type": _HTML_TAGS[tag], "offset": start, "length": self.pos - start}
        if tag == "a":
            href = attrs.get("href") or ""
            if href.startswith("tg://user?id="):
                entity = {**entity, "type": "text_mention", "user": {"id": int(href[13:])}}
            else:
                entity["url"] = href
        elif tag == "code" and self.stack and self.stack[-1][0] == "pre":
            language = (attrs.get("class") or "").removeprefix("language-")
            if language:
                self.stack[-1][2]["language"] = language
            entity["type"] = "code"
        elif tag == "pre" and attrs.get("language"):
            entity["language"] = attrs["language"]
        elif tag == "blockquote" and "expandable" in attrs:
            entity["type"] = "expandable_blockquote"
        elif tag == "tg-emoji":
            entity["custom_emoji_id"] = attrs.get("emoji-id") or ""
        self.entities.append(entity)

    def handle_data(self, data: str) -> None:
        self.parts.append(data)
        self.pos += utf16_len(data)


def _parse_html(text: str) -> tuple[str, list[Entity]]:
    parser = _HtmlToEntities()
    parser.feed(text)
    parser.close()
    if parser.stack:
        tag = parser.stack[-1][0]
        raise bad_request(
            f"can't parse entities: Can't find end tag corresponding to start tag \"{tag}\""
        )
    return "".join(parser.parts), parser.entities


_MDV2_MARKS = [
    ("```", "pre"),
    ("||", "spoiler"),
    ("__", "underline"),
    ("*", "bold"),
    ("_", "italic"),
    ("~", "strikethrough"),
    ("`", "code"),
]


def _parse_markdown(text: str, v2: bool) -> tuple[str, list[Entity]]:
    """MarkdownV2 (strict: reserved characters must be escaped) or legacy Markdown."""
    marks = _MDV2_MARKS if v2 else [("```", "pre"), ("*", "bold"), ("_", "italic"), ("`", "code")]
    out: list[str] = []
    pos = 0
    open_marks: list[tuple[str, str, int]] = []
    entities: list[Entity] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and v2 and i + 1 < len(text):
            out.append(text[i + 1])
            pos += utf16_len(text[i + 1])
            i += 2
            continue
        in_code = bool(open_marks) and open_marks[-1][1] in ("code", "pre")
        mark = next((m for m in marks if text.startswith(m[0], i)), None)
        if mark and (not in_code or mark[1] == open_marks[-1][1]):
            token, kind = mark
            if open_marks and open_marks[-1][0] == token:
                _, _, start = open_marks.pop()
                if pos > start:
                    entities.append({"type": kind, "offset": start, "length": pos - start})
            else:
                open_marks.append((token, kind, pos))
            i += len(token)
            continue
        if ch == "[" and not in_code:
            close = text.find("](", i)
            end = text.find(")", close + 2) if close >= 0 else -1
            if close >= 0 and end >= 0:
                label, _ = _parse_markdown(text[i + 1 : close], v2)
                entities.append(
                    {
                        "type": "text_link",
                        "offset": pos,
                        "length": utf16_len(label),
                        "url": text[close + 2 : end],
                    }
                )
                out.append(label)
                pos += utf16_len(label)
                i = end + 1
                continue
        if v2 and not in_code and ch in _MDV2_RESERVED:
            raise bad_request(
                f"can't parse entities: Character '{ch}' is reserved and must be escaped "
                "with the preceding '\\'"
            )
        out.append(ch)
        pos += utf16_len(ch)
        i += 1
    if open_marks:
        raise bad_request(
            f"can't parse entities: Can't find end of the entity starting at byte offset "
            f"{open_marks[-1][2]}"
        )
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def format_text(
    text: str, parse_mode: str | None, entities: list[Entity] | None
) -> tuple[str, list[Entity]]:
    """Plain text and entities of a text or caption as Telegram stores them."""
    if parse_mode and entities:
        entities = None  # Telegram: explicit entities win; parse_mode is then ignored
    mode = (parse_mode or "").lower()
    if entities is not None or not mode:
        plain, found = text, list(entities or [])
    elif mode == "html":
        plain, found = _parse_html(text)
    elif mode == "markdownv2":
        plain, found = _parse_markdown(text, v2=True)
    elif mode == "markdown":
        plain, found = _parse_markdown(text, v2=False)
    else:
        raise bad_request(f"unsupported parse_mode {parse_mode!r}")
    stripped = plain.strip()
    if stripped != plain:
        shift = utf16_len(plain[: len(plain) - len(plain.lstrip())])
        plain = stripped
        found = [{**e, "offset": max(0, e["offset"] - shift)} for e in found]
    return plain, auto_entities(plain, found)


def check_inline_keyboard(markup: Any) -> dict[str, Any] | None:
    """Validate a reply_markup; return it if it belongs on the message (inline keyboards only)."""
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" not in markup:
        return None  # reply keyboards, ForceReply, ReplyKeyboardRemove live on the client
    rows = markup["inline_keyboard"]
    if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
        raise bad_request('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array')
    if sum(len(r) for r in rows) > 100:
        raise bad_request("too many inline keyboard buttons")
    for row in rows:
        for button in row:
            _check_button(button)
    return markup


def _check_button(button: Any) -> None:
    if not isinstance(button, dict) or not isinstance(button.get("text"), str):
        raise bad_request('can\'t find field "text"')
    if not button["text"].strip():
        raise bad_request("inline keyboard button text must be non-empty")
    actions = [k for k in button if k != "text"]
    if not actions:
        raise bad_request("text buttons are unallowed in the inline keyboard")
    data = button.get("callback_data")
    if data is not None and not (1 <= len(str(data).encode()) <= 64):
        raise bad_request("BUTTON_DATA_INVALID")
    url = button.get("url")
    if url is not None and not re.match(r"^(https?|tg)://\S+$", str(url)):
        raise bad_request("BUTTON_URL_INVALID")
