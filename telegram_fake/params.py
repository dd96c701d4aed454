"""Decoding a Bot API request the way Telegram reads it: form/JSON fields and uploaded parts."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from telegram_fake.errors import bad_request

# Fields whose value is a plain string even when it looks like JSON ("123", "true").
STRING_KEYS = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "callback_query_id",
        "file_id",
        "language_code",
        "title",
        "description",
        "short_description",
        "name",
        "question",
        "emoji",
        "action",
        "url",
        "inline_message_id",
        "business_connection_id",
        "message_effect_id",
        "secret_token",
        "ip_address",
        "explanation",
        "explanation_parse_mode",
        "type",
        "question_parse_mode",
        "file_name",
        "mime_type",
        "sticker",
        "photo",
        "animation",
        "document",
        "voice",
        "video",
        "audio",
        "thumbnail",
        "certificate",
        "performer",
    }
)


@dataclass(frozen=True)
class Upload:
    """One multipart file part: file name, bytes and the declared MIME type."""

    filename: str
    data: bytes
    mime_type: str


def decode_params(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Typed parameters from form strings (PTB JSON-encodes every non-string value)."""
    params: dict[str, Any] = {}
    for key, value in raw.items():
        if isinstance(value, str) and key not in STRING_KEYS:
            try:
                params[key] = json.loads(value)
            except ValueError:
                params[key] = value
        else:
            params[key] = value
    return params


def require(params: Mapping[str, Any], key: str) -> Any:
    """A required parameter, or Telegram's 400 for a missing one."""
    value = params.get(key)
    if value is None or value == "":
        raise bad_request(f"{key} is empty" if key in ("text", "media") else f"{key} is required")
    return value


def as_int(params: Mapping[str, Any], key: str, default: int | None = None) -> int | None:
    """An integer parameter; strings of digits are accepted like Telegram does."""
    value = params.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool):
        raise bad_request(f'field "{key}" must be of type Integer')
    try:
        return int(value)
    except (TypeError, ValueError):
        raise bad_request(f'field "{key}" must be of type Integer') from None


def as_bool(params: Mapping[str, Any], key: str) -> bool:
    """A boolean parameter (absent = False)."""
    value = params.get(key)
    if isinstance(value, str):
        return value.lower() in ("true", "1")
    return bool(value)


def as_list(params: Mapping[str, Any], key: str) -> list[Any] | None:
    """A JSON array parameter."""
    value = params.get(key)
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise bad_request(f"can't parse {key} JSON object") from None
    if not isinstance(value, list):
        raise bad_request(f'field "{key}" must be an Array')
    return value


def input_file(
    value: Any, field: str, uploads: Mapping[str, Upload]
) -> tuple[Upload | None, str | None]:
    """(upload, None) for an uploaded part or (None, file_id) for an existing file."""
    if value is None or value == "":
        if field in uploads:
            return uploads[field], None
        raise bad_request(f"there is no {field} in the request")
    if not isinstance(value, str):
        raise bad_request(f"wrong type of the {field} field")
    if value.startswith("attach://"):
        name = value[len("attach://") :]
        if name not in uploads:
            raise bad_request(f"file of the {field} field is not found in the request")
        return uploads[name], None
    if value.startswith(("http://", "https://")):
        # The fake reaches no network, as a sandboxed server would not either.
        raise bad_request("failed to get HTTP URL content")
    return None, value
