"""Bot configuration: read from the environment and an optional `.env` file by a function.

Nothing here runs at import. `load_config()` returns a frozen `BotConfig`; a bad value raises
`ConfigError` naming the variable (the token's value is never echoed). The real environment
wins over `.env`. `install_log_redaction()` keeps the token out of every log line.

Variables (all optional; without a token `fotorobot run` explains how to get one):

    TELEGRAM_BOT_TOKEN       the token from @BotFather
    TELEGRAM_API_BASE_URL    default https://api.telegram.org (a self-hosted Bot API or a fake)
    FOTOROBOT_DATA_DIR       default ./data
    FOTOROBOT_DB             default $FOTOROBOT_DATA_DIR/fotorobot.sqlite3
    FOTOROBOT_MODEL          default: the bundled model (model.default_model_path())
    FOTOROBOT_ADMINS         comma-separated Telegram user ids
    FOTOROBOT_ALBUM_SIZE     faces per album, 2..10, default 4
    FOTOROBOT_RATING_SCALE   1-10 (default) or 1-5
    FOTOROBOT_LANGUAGE       en (default) or ru: for users whose Telegram language is neither
    FOTOROBOT_SEARCH_DIM     dimensions the search explores, 1..32, default 16
    FOTOROBOT_WEBHOOK_URL    public https URL: serve a webhook instead of long polling
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from bot.ratings import RatingScale

DEFAULT_API_BASE_URL = "https://api.telegram.org"
LANGUAGES = ("en", "ru")
SCALES = ("1-10", "1-5")
REDACTED = "[REDACTED]"
_TOKEN_RE = re.compile(r"[0-9]{1,20}:[A-Za-z0-9_-]{1,200}")
_KEY_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class ConfigError(ValueError):
    """A configuration value is missing or invalid; the message names the variable."""


def _bundled_model() -> Path:
    from model import default_model_path  # lazy: config must not pull in torch at import

    return Path(default_model_path())


@dataclass(frozen=True)
class BotConfig:
    """Everything the bot needs to start; the token is left out of repr()."""

    token: str = field(default="", repr=False)
    api_base_url: str = DEFAULT_API_BASE_URL
    data_dir: Path = Path("data")
    db_path: Path = Path("data") / "fotorobot.sqlite3"
    model_path: Path = field(default_factory=_bundled_model)
    admin_ids: frozenset[int] = frozenset()
    album_size: int = 4
    rating_scale: RatingScale = field(default_factory=RatingScale)
    default_language: str = "en"
    search_dim: int = 16
    webhook_url: str | None = None

    @property
    def bot_api_url(self) -> str:
        """base_url for python-telegram-bot: the token is appended to it."""
        return f"{self.api_base_url}/bot"

    @property
    def file_api_url(self) -> str:
        """base_file_url for python-telegram-bot."""
        return f"{self.api_base_url}/file/bot"

    def is_admin(self, user_id: int | None) -> bool:
        """True for a user id listed in FOTOROBOT_ADMINS."""
        return user_id is not None and user_id in self.admin_ids


def load_config(
    environ: Mapping[str, str] | None = None, env_file: Path | None = Path(".env")
) -> BotConfig:
    """Read the configuration: `environ` (default os.environ) over the optional `env_file`."""
    values = dict(read_env_file(env_file)) if env_file is not None else {}
    values.update(os.environ if environ is None else environ)

    def get(name: str) -> str | None:
        value = values.get(name)
        value = value.strip() if value is not None else None
        return value or None

    token = get("TELEGRAM_BOT_TOKEN") or ""
    if token and not _TOKEN_RE.fullmatch(token):
        # Never echo the value: a half-pasted token is still a secret.
        raise ConfigError(
            "TELEGRAM_BOT_TOKEN does not look like a bot token (expected digits, a colon, "
            "then letters, digits, '-' or '_', as @BotFather gives it)"
        )
    data_dir = _path(get("FOTOROBOT_DATA_DIR")) or Path("data")
    model_path = _path(get("FOTOROBOT_MODEL")) or _bundled_model()
    return BotConfig(
        token=token,
        api_base_url=_server_url(get("TELEGRAM_API_BASE_URL")) or DEFAULT_API_BASE_URL,
        data_dir=data_dir,
        db_path=_path(get("FOTOROBOT_DB")) or data_dir / "fotorobot.sqlite3",
        model_path=model_path,
        admin_ids=_admins(get("FOTOROBOT_ADMINS")),
        album_size=_int("FOTOROBOT_ALBUM_SIZE", get("FOTOROBOT_ALBUM_SIZE"), 4, 2, 10),
        rating_scale=_scale(get("FOTOROBOT_RATING_SCALE")),
        default_language=_language(get("FOTOROBOT_LANGUAGE")),
        search_dim=_int("FOTOROBOT_SEARCH_DIM", get("FOTOROBOT_SEARCH_DIM"), 16, 1, 32),
        webhook_url=_url("FOTOROBOT_WEBHOOK_URL", get("FOTOROBOT_WEBHOOK_URL"), https=True),
    )


def _path(value: str | None) -> Path | None:
    return Path(value).expanduser() if value else None


def _url(name: str, value: str | None, https: bool = False) -> str | None:
    if value is None:
        return None
    parts = urlsplit(value)
    schemes = ("https",) if https else ("http", "https")
    if parts.scheme not in schemes or not parts.netloc or parts.query or parts.fragment:
        need = "an https URL" if https else "an http(s) URL like https://api.telegram.org"
        raise ConfigError(f"{name} must be {need}, got {value!r}")
    return value.rstrip("/")


def _server_url(value: str | None) -> str | None:
    """The Bot API server's address; Telegram's method-URL form (".../bot") is accepted too."""
    url = _url("TELEGRAM_API_BASE_URL", value)
    if url is not None and url.endswith("/bot"):
        url = url[: -len("/bot")]
    return url


def _int(name: str, value: str | None, default: int, low: int, high: int) -> int:
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number {low}..{high}, got {value!r}") from None
    if not low <= number <= high:
        raise ConfigError(f"{name} must be {low}..{high}, got {number}")
    return number


def _admins(value: str | None) -> frozenset[int]:
    if value is None:
        return frozenset()
    ids: set[int] = set()
    for part in value.replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        if not part.isascii() or not part.isdigit() or int(part) <= 0:
            raise ConfigError(
                f"FOTOROBOT_ADMINS must be comma-separated Telegram user ids, got {part!r}"
            )
        ids.add(int(part))
    return frozenset(ids)


def _scale(value: str | None) -> RatingScale:
    if value is None:
        return RatingScale(1, 10)
    text = value.replace(" ", "")
    text = {"10": "1-10", "5": "1-5"}.get(text, text)
    if text not in SCALES:
        raise ConfigError(
            f"FOTOROBOT_RATING_SCALE must be one of {', '.join(SCALES)}, got {value!r}"
        )
    return RatingScale.parse(text)


def _language(value: str | None) -> str:
    if value is None:
        return "en"
    lang = value.lower()
    if lang not in LANGUAGES:
        raise ConfigError(
            f"FOTOROBOT_LANGUAGE must be one of {', '.join(LANGUAGES)}, got {value!r}"
        )
    return lang


def read_env_file(path: Path) -> dict[str, str]:
    """Parse a .env file: KEY=VALUE lines, # comments, quotes, `export `; missing file -> {}."""
    try:
        content = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc.__class__.__name__}") from None
    return parse_env(content, source=str(path))


def parse_env(content: str, source: str = ".env") -> dict[str, str]:
    """The KEY=VALUE pairs of .env text; a malformed line raises ConfigError (line number only)."""
    out: dict[str, str] = {}
    for number, raw in enumerate(content.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export ") :].lstrip()
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not _KEY_RE.fullmatch(key):
            # The line itself is not shown: it may hold a secret.
            raise ConfigError(f"{source}, line {number}: expected KEY=VALUE")
        out[key] = _env_value(value.strip(), source, number)
    return out


def _env_value(value: str, source: str, number: int) -> str:
    if value[:1] in {'"', "'"}:
        quote = value[0]
        end, i = -1, 1
        while i < len(value):
            if quote == '"' and value[i] == "\\":
                i += 2  # an escaped character never closes the string
                continue
            if value[i] == quote:
                end = i
                break
            i += 1
        if end < 0:
            raise ConfigError(f"{source}, line {number}: unclosed {quote} quote")
        rest = value[end + 1 :].strip()
        if rest and not rest.startswith("#"):
            raise ConfigError(f"{source}, line {number}: text after the closing quote")
        inner = value[1:end]
        if quote == '"':
            inner = re.sub(r'\\([\\"nt])', lambda m: {"n": "\n", "t": "\t"}.get(m[1], m[1]), inner)
        return inner
    hash_at = value.find(" #")
    return (value[:hash_at] if hash_at >= 0 else value).strip()


# --- keeping secrets out of logs -------------------------------------------------------------

_SECRETS: set[str] = set()
_PREVIOUS_FACTORY: list[Callable[..., logging.LogRecord]] = []  # set while our factory is installed


def redact(text: str) -> str:
    """`text` with every registered secret replaced by [REDACTED]."""
    for secret in sorted(_SECRETS, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text


def _scrub(record: logging.LogRecord) -> None:
    """Rewrite a record in place so its message, traceback and stack hold no secret."""
    if not _SECRETS:
        return
    try:
        message = record.getMessage()
    except (TypeError, ValueError, KeyError):
        message = f"{record.msg} {record.args}"  # a broken format call: keep it, redacted
    clean = redact(message)
    if clean != message:
        record.msg, record.args = clean, None
    if record.exc_info and not record.exc_text:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)


class RedactingFilter(logging.Filter):
    """A handler filter that scrubs secrets from every record passing through."""

    def filter(self, record: logging.LogRecord) -> bool:
        _scrub(record)
        return True


def install_log_redaction(secrets: Iterable[str]) -> None:
    """Mask these secrets in every log record (any logger, any handler) and quiet httpx."""
    _SECRETS.update(s for s in secrets if s)
    if not _PREVIOUS_FACTORY:
        # The record factory covers every logger, including handlers added later (and
        # records that never reach the root handlers); the filter below covers the rest.
        previous = logging.getLogRecordFactory()
        _PREVIOUS_FACTORY.append(previous)

        def factory(*args: object, **kwargs: object) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            _scrub(record)
            return record

        logging.setLogRecordFactory(factory)
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
    # httpx logs every request URL at INFO, and Bot API URLs contain the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)


def reset_log_redaction() -> None:
    """Undo install_log_redaction (for tests): forget secrets, restore the record factory."""
    _SECRETS.clear()
    if _PREVIOUS_FACTORY:
        logging.setLogRecordFactory(_PREVIOUS_FACTORY.pop())
    for handler in logging.getLogger().handlers:
        for f in [f for f in handler.filters if isinstance(f, RedactingFilter)]:
            handler.removeFilter(f)
