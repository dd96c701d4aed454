"""Bot API errors as Telegram returns them: an HTTP status plus a JSON description."""

from __future__ import annotations

import json
from typing import Any


class ApiError(Exception):
    """A failed Bot API call; `payload()` is the exact JSON body Telegram would send."""

    def __init__(
        self, code: int, description: str, parameters: dict[str, Any] | None = None
    ) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def payload(self) -> dict[str, Any]:
        """The response body: ok=false, error_code, description and optional parameters."""
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.code,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body

    def body(self) -> bytes:
        """The response body as UTF-8 JSON bytes."""
        return json.dumps(self.payload(), ensure_ascii=False).encode()


def bad_request(reason: str) -> ApiError:
    """400 with Telegram's "Bad Request: ..." prefix."""
    return ApiError(400, f"Bad Request: {reason}")


def forbidden(reason: str) -> ApiError:
    """403 with Telegram's "Forbidden: ..." prefix."""
    return ApiError(403, f"Forbidden: {reason}")


def too_many_requests(retry_after: int) -> ApiError:
    """429 flood control with parameters.retry_after, as PTB turns into RetryAfter."""
    return ApiError(
        429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
    )


def chat_migrated(new_chat_id: int) -> ApiError:
    """400 for a basic group that became a supergroup (PTB raises ChatMigrated)."""
    return ApiError(
        400,
        "Bad Request: group chat was upgraded to a supergroup chat",
        {"migrate_to_chat_id": new_chat_id},
    )


UNAUTHORIZED = (401, "Unauthorized")
NOT_FOUND = (404, "Not Found")
