"""FakeBotAPI: the request path both transports share, fault injection and the call log."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from telegram_fake import methods_edit, methods_misc, methods_send  # noqa: F401  (registration)
from telegram_fake.errors import NOT_FOUND, UNAUTHORIZED, ApiError, too_many_requests
from telegram_fake.flood import FloodControl
from telegram_fake.objects import Call
from telegram_fake.params import Upload, as_int, as_list, decode_params
from telegram_fake.registry import METHODS
from telegram_fake.users import UserSide
from telegram_fake.world import DEFAULT_UPDATE_KINDS

_LOG = logging.getLogger(__name__)
_BAD_GATEWAY = (
    b"<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway"
    b"</h1></center><hr><center>nginx</center></body></html>"
)


@dataclass
class Injection:
    """A scripted failure for the next `times` matching calls."""

    code: int
    method: str | None
    chat_id: int | None
    times: int
    retry_after: int
    description: str | None
    migrate_to: int | None = None
    hits: list[str] = field(default_factory=list)

    def matches(self, method: str, params: Mapping[str, Any]) -> bool:
        """Whether a call (lower-cased method name, decoded params) is one to fail."""
        if self.times <= 0:
            return False
        if self.method is not None and self.method.lower() != method:
            return False
        return self.chat_id is None or params.get("chat_id") == self.chat_id

    def error(self) -> ApiError:
        """The ApiError to answer with."""
        if self.code == 429:
            return too_many_requests(self.retry_after)
        if self.migrate_to is not None:
            return ApiError(
                400,
                self.description or "Bad Request: group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": self.migrate_to},
            )
        default = {
            400: "Bad Request: injected failure",
            403: "Forbidden: bot was blocked by the user",
            409: "Conflict: terminated by other getUpdates request; make sure that only one "
            "bot instance is running",
            500: "Internal Server Error",
        }.get(self.code, "Internal Server Error")
        return ApiError(self.code, self.description or default)


class FakeBotAPI(UserSide):
    """A Telegram Bot API server emulator: drive it with the user-side API, point a bot at it."""

    latency: float = 0.0  # seconds added to every call (for benchmarks that want a network)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.injections: list[Injection] = []
        self.flood: FloodControl | None = None

    # ---- fault injection -----------------------------------------------------------------

    def fail_next(
        self,
        method: str | None = None,
        *,
        code: int = 429,
        times: int = 1,
        chat: Any = None,
        retry_after: int = 1,
        description: str | None = None,
    ) -> Injection:
        """Fail the next `times` calls of `method` (any method if None) in `chat` (any if None).

        code 429 answers "Too Many Requests: retry after N" with parameters.retry_after; 400/403/
        409/500 answer with a Telegram-like description; 502 answers nginx's HTML (not JSON).
        """
        chat_id = None if chat is None else (chat if isinstance(chat, int) else chat.id)
        injection = Injection(code, method, chat_id, times, retry_after, description)
        with self.lock:
            self.injections.append(injection)
        return injection

    def _injected(self, method: str, params: Mapping[str, Any]) -> Injection | None:
        for injection in self.injections:
            if injection.matches(method, params):
                injection.times -= 1
                injection.hits.append(method)
                return injection
        return None

    def flood_control(
        self,
        enabled: bool = True,
        *,
        per_bot_per_s: float = 30.0,
        per_group_per_min: float = 20.0,
        per_chat_per_s: float = 1.0,
        chat_burst: float = 10.0,
        clock: Callable[[], float] | None = None,
    ) -> FloodControl | None:
        """Turn on Telegram-like 429s for a bot sending too fast (off by default)."""
        with self.lock:
            self.flood = None
            if enabled:
                self.flood = FloodControl(
                    per_bot_per_s, per_group_per_min, per_chat_per_s, chat_burst
                )
                if clock is not None:
                    self.flood.clock = clock
            return self.flood

    def _check_flood(self, method: str, params: Mapping[str, Any]) -> None:
        assert self.flood is not None
        chat_id = params.get("chat_id")
        with self.lock:
            chat = self.chats.get(chat_id) if isinstance(chat_id, int) else None
            if chat is None:
                return  # the method itself answers "chat not found"
            media = params.get("media")
            count = len(media) if method == "sendmediagroup" and isinstance(media, list) else 1
            self.flood.check(method, chat.id, chat.type != "private", max(1, count))

    # ---- the shared request path ---------------------------------------------------------

    async def handle(
        self,
        token: str,
        method: str,
        form: Mapping[str, Any],
        uploads: Mapping[str, Upload] | None = None,
    ) -> tuple[int, bytes]:
        """Serve one Bot API call: (HTTP status, response body) exactly as Telegram would."""
        uploads = uploads or {}
        if token != self.token:
            return _error_body(*UNAUTHORIZED)
        handler = METHODS.get(method.lower())
        if handler is None and method.lower() != "getupdates":
            return _error_body(*NOT_FOUND)
        params = decode_params(form)
        call = Call(method, params, sorted(uploads), time.time())
        with self.lock:
            self.calls.append(call)
            self.last_call_at = time.monotonic()
        if self.latency > 0:
            await asyncio.sleep(self.latency)
        try:
            with self.lock:
                injection = self._injected(method.lower(), params)
            if injection is not None and injection.code == 502:
                call.status, call.error = 502, "Bad Gateway"
                return 502, _BAD_GATEWAY
            if injection is not None:
                raise injection.error()
            if self.flood is not None:
                self._check_flood(method.lower(), params)
            if handler is None:
                result = await self._get_updates(params)
            else:
                with self.lock:
                    result = handler(self, params, uploads)
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
            # Malformed input the validators missed: Telegram answers 400, never a crash.
            _LOG.warning("fake Bot API could not read a %s call", method, exc_info=True)
            error = ApiError(400, f"Bad Request: can't parse request ({type(exc).__name__})")
            return self._failed(call, error)
        except ApiError as exc:
            return self._failed(call, exc)
        call.status, call.result = 200, result
        self.notify()
        return 200, json.dumps({"ok": True, "result": result}, ensure_ascii=False).encode()

    def _failed(self, call: Call, error: ApiError) -> tuple[int, bytes]:
        call.status, call.error = error.code, error.description
        self.notify()
        return error.code, error.body()

    def download(self, token: str, file_path: str) -> tuple[int, bytes, str]:
        """Serve /file/bot<token>/<file_path>: (status, bytes, content type)."""
        if token != self.token:
            status, body = _error_body(*UNAUTHORIZED)
            return status, body, "application/json"
        with self.lock:
            stored = self.files.by_path(file_path)
            if stored is None:
                status, body = _error_body(*NOT_FOUND)
                return status, body, "application/json"
            try:
                return 200, stored.content(), stored.mime_type or "application/octet-stream"
            except LookupError:
                status, body = _error_body(404, "Not Found: file bytes were not kept")
                return status, body, "application/json"

    async def _get_updates(self, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        """getUpdates with offset confirmation, limit, allowed_updates and long polling."""
        offset = as_int(params, "offset") or 0
        limit = as_int(params, "limit") or 100
        try:
            timeout = float(params.get("timeout") or 0)
        except (TypeError, ValueError):
            raise ApiError(400, 'Bad Request: field "timeout" must be a number') from None
        if not 1 <= limit <= 100:
            limit = 100
        allowed = as_list(params, "allowed_updates")
        with self.lock:
            if self.webhook_url:
                raise ApiError(
                    409,
                    "Conflict: can't use getUpdates method while webhook is "
                    "active; use deleteWebhook to delete the webhook first",
                )
            if allowed is not None:
                self.allowed_updates = frozenset(allowed) if allowed else DEFAULT_UPDATE_KINDS
            generation = self.new_poll()
        deadline = time.monotonic() + max(0, timeout)
        with self.changes() as changes:
            while True:
                changes.clear()
                with self.lock:
                    pending = self._pending_updates(generation, offset, limit)
                left = deadline - time.monotonic()
                if pending or left <= 0:
                    return pending
                await changes.wait(left)

    def _pending_updates(self, generation: int, offset: int, limit: int) -> list[dict[str, Any]]:
        """Confirm updates below `offset` and return up to `limit` (caller holds the lock)."""
        if self.poll_superseded(generation):
            raise ApiError(
                409,
                "Conflict: terminated by other getUpdates request; make sure that only one "
                "bot instance is running",
            )
        if offset > 0:
            self.updates[:] = [u for u in self.updates if u["update_id"] >= offset]
        elif offset < 0:  # the last -offset updates; older ones are forgotten
            self.updates[:] = self.updates[offset:]
        return [dict(u) for u in self.updates[:limit]]

    # ---- observing the bot ---------------------------------------------------------------

    def calls_to(self, method: str) -> list[Call]:
        """Every call of one method (case-insensitive), in order."""
        with self.lock:
            return [c for c in self.calls if c.method.lower() == method.lower()]

    def commands_for(
        self, language_code: str = "", scope: dict[str, Any] | None = None
    ) -> list[str]:
        """Command names set by setMyCommands for a language and scope (default scope)."""
        key = (json.dumps(scope or {"type": "default"}, sort_keys=True), language_code)
        with self.lock:
            return [c["command"] for c in self.commands.get(key, [])]


def _error_body(code: int, description: str) -> tuple[int, bytes]:
    return code, ApiError(code, description).body()


__all__ = ["Call", "FakeBotAPI", "Injection"]
