"""Settings of every fotorobot command, loaded by one function from the environment and `.env`.

Nothing here runs at import. `load_settings()` returns a frozen `Settings`; a bad value raises
`SettingsError` naming the variable (a token's value is never echoed). The real environment
wins over `.env`. The token is a `Secret`: its repr and str never show it.

Variables (all optional; without a token `fotorobot run` explains how to get one):

    TELEGRAM_BOT_TOKEN       the token from @BotFather
    TELEGRAM_API_BASE_URL    default https://api.telegram.org (a self-hosted Bot API or a fake)
    FOTOROBOT_DATA_DIR       default ./data
    FOTOROBOT_DB             default $FOTOROBOT_DATA_DIR/fotorobot.sqlite3
    FOTOROBOT_MODEL          a bundled model's name (celeba, synthetic) or a checkpoint path;
                             default: model.default_model_path()
    FOTOROBOT_ADMINS         comma-separated Telegram user ids
    FOTOROBOT_ALBUM_SIZE     faces per album, 2..10, default 4
    FOTOROBOT_RATING_SCALE   1-10 (default) or 1-5
    FOTOROBOT_LANGUAGE       en (default) or ru: for users whose Telegram language is neither
    FOTOROBOT_SEARCH_DIM     dimensions the search explores, 1..32, default 16
    FOTOROBOT_WEBHOOK_URL    public https URL: serve a webhook instead of long polling
    FOTOROBOT_DATASETS_DIR   the one folder /train may read photos from (and where archives
                             sent to the bot are unpacked), default $FOTOROBOT_DATA_DIR/datasets
"""

from __future__ import annotations

import argparse
import hmac
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from bot.ratings import RatingScale
from fotorobot.envfile import read_env_file

DEFAULT_API_BASE_URL = "https://api.telegram.org"
LANGUAGES = ("en", "ru")
SCALES = ("1-10", "1-5")
_TOKEN_RE = re.compile(r"[0-9]{1,20}:[A-Za-z0-9_-]{1,200}")


class SettingsError(ValueError):
    """A setting is missing or invalid; the message names the variable."""


class Secret:
    """A string that never shows itself: repr, str and f-strings print a mask.

    Read the value on purpose with `reveal()`; a Secret is true when it is not empty.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str = "") -> None:
        self._value = value

    def reveal(self) -> str:
        """The secret itself (for the one call that needs it: the Bot API client)."""
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __repr__(self) -> str:
        return "Secret('**********')" if self._value else "Secret('')"

    def __str__(self) -> str:
        return "**********" if self._value else ""

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True)
class Settings:
    """Everything a command may need; every field has a default (no environment at all)."""

    token: Secret = field(default_factory=Secret)
    api_base_url: str = DEFAULT_API_BASE_URL
    data_dir: Path = Path("data")
    db_path: Path = Path("data") / "fotorobot.sqlite3"
    model: str = ""  # FOTOROBOT_MODEL: a bundled model's name or a checkpoint path ("": default)
    admin_ids: frozenset[int] = frozenset()
    album_size: int = 4
    rating_scale: RatingScale = field(default_factory=RatingScale)
    default_language: str = "en"
    search_dim: int = 16
    webhook_url: str | None = None
    datasets_dir: Path | None = None  # None: data_dir / "datasets" (see datasets_root)

    @property
    def datasets_root(self) -> Path:
        """FOTOROBOT_DATASETS_DIR, else DATA_DIR/datasets: the only folder /train reads."""
        return self.datasets_dir if self.datasets_dir is not None else self.data_dir / "datasets"

    @property
    def model_path(self) -> Path:
        """The checkpoint FOTOROBOT_MODEL names (a bundled model or a path), else the default.

        Resolved when asked, not at load: finding the bundled file imports the model package
        (torch), which `fotorobot db ...` has no use for.
        """
        from model import resolve_model

        return resolve_model(self.model or None)

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


def load_settings(
    environ: Mapping[str, str] | None = None, env_file: Path | None = Path(".env")
) -> Settings:
    """Read the settings: `environ` (default os.environ) over the optional `env_file`."""
    values = dict(read_env_file(env_file)) if env_file is not None else {}
    values.update(os.environ if environ is None else environ)

    def get(name: str) -> str | None:
        value = values.get(name)
        value = value.strip() if value is not None else None
        return value or None

    token = get("TELEGRAM_BOT_TOKEN") or ""
    if token and not _TOKEN_RE.fullmatch(token):
        # Never echo the value: a half-pasted token is still a secret.
        raise SettingsError(
            "TELEGRAM_BOT_TOKEN does not look like a bot token (expected digits, a colon, "
            "then letters, digits, '-' or '_', as @BotFather gives it)"
        )
    data_dir = _path(get("FOTOROBOT_DATA_DIR")) or Path("data")
    return Settings(
        token=Secret(token),
        api_base_url=_server_url(get("TELEGRAM_API_BASE_URL")) or DEFAULT_API_BASE_URL,
        data_dir=data_dir,
        db_path=_path(get("FOTOROBOT_DB")) or data_dir / "fotorobot.sqlite3",
        model=(get("FOTOROBOT_MODEL") or "").strip(),
        admin_ids=_admins(get("FOTOROBOT_ADMINS")),
        album_size=_int("FOTOROBOT_ALBUM_SIZE", get("FOTOROBOT_ALBUM_SIZE"), 4, 2, 10),
        rating_scale=_scale(get("FOTOROBOT_RATING_SCALE")),
        default_language=_language(get("FOTOROBOT_LANGUAGE")),
        search_dim=_int("FOTOROBOT_SEARCH_DIM", get("FOTOROBOT_SEARCH_DIM"), 16, 1, 32),
        webhook_url=_url("FOTOROBOT_WEBHOOK_URL", get("FOTOROBOT_WEBHOOK_URL"), https=True),
        datasets_dir=_path(get("FOTOROBOT_DATASETS_DIR")),
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
        raise SettingsError(f"{name} must be {need}, got {value!r}")
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
        raise SettingsError(f"{name} must be a whole number {low}..{high}, got {value!r}") from None
    if not low <= number <= high:
        raise SettingsError(f"{name} must be {low}..{high}, got {number}")
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
            raise SettingsError(
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
        raise SettingsError(
            f"FOTOROBOT_RATING_SCALE must be one of {', '.join(SCALES)}, got {value!r}"
        )
    return RatingScale.parse(text)


def _language(value: str | None) -> str:
    if value is None:
        return "en"
    lang = value.lower()
    if lang not in LANGUAGES:
        raise SettingsError(
            f"FOTOROBOT_LANGUAGE must be one of {', '.join(LANGUAGES)}, got {value!r}"
        )
    return lang


def add_env_file_argument(parser: argparse.ArgumentParser) -> None:
    """The `--env-file` flag every command that reads settings takes."""
    parser.add_argument(
        "--env-file", type=Path, default=Path(".env"), help="optional KEY=VALUE file (.env)"
    )


def settings_for_command(
    env_file: Path | None, environ: Mapping[str, str] | None = None
) -> Settings | None:
    """load_settings for a command line: a bad value becomes one line on stderr and None."""
    try:
        return load_settings(environ=environ, env_file=env_file)
    except ValueError as exc:  # SettingsError, or a malformed .env (EnvFileError)
        print(f"fotorobot: bad configuration: {exc}", file=sys.stderr)
        return None
