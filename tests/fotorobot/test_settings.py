"""Settings: defaults, every variable, precedence over .env, refusals, the token kept secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.ratings import RatingScale
from fotorobot.envfile import EnvFileError, read_env_file
from fotorobot.settings import (
    DEFAULT_API_BASE_URL,
    Secret,
    Settings,
    SettingsError,
    load_settings,
)
from model import default_model_path

TOKEN = "123456789:AAHsecretPartOfTheToken-xyz_987"


def test_defaults_without_anything() -> None:
    config = load_settings({}, env_file=None)
    assert config.token.reveal() == "" and not config.token
    assert config.api_base_url == DEFAULT_API_BASE_URL
    assert config.bot_api_url == "https://api.telegram.org/bot"
    assert config.file_api_url == "https://api.telegram.org/file/bot"
    assert config.data_dir == Path("data")
    assert config.db_path == Path("data") / "fotorobot.sqlite3"
    assert config.model_path == default_model_path()
    assert config.admin_ids == frozenset()
    assert config.album_size == 4
    assert config.rating_scale == RatingScale(1, 10)
    assert config.default_language == "en"
    assert config.search_dim == 16
    assert config.webhook_url is None
    assert config.datasets_root == Path("data") / "datasets"


def test_dataclass_defaults_match_load_settings() -> None:
    assert Settings() == load_settings({}, env_file=None)


def test_every_variable(tmp_path: Path) -> None:
    env = {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": "http://127.0.0.1:8081/",
        "FOTOROBOT_DATA_DIR": str(tmp_path / "d"),
        "FOTOROBOT_MODEL": str(tmp_path / "m.pt"),
        "FOTOROBOT_ADMINS": "11, 22,33",
        "FOTOROBOT_ALBUM_SIZE": "6",
        "FOTOROBOT_RATING_SCALE": "1-5",
        "FOTOROBOT_LANGUAGE": "RU",
        "FOTOROBOT_SEARCH_DIM": "12",
        "FOTOROBOT_WEBHOOK_URL": "https://bot.example.org/hook",
    }
    config = load_settings(env, env_file=None)
    assert config.token.reveal() == TOKEN
    assert config.api_base_url == "http://127.0.0.1:8081"
    assert config.bot_api_url == "http://127.0.0.1:8081/bot"
    assert config.file_api_url == "http://127.0.0.1:8081/file/bot"
    assert config.data_dir == tmp_path / "d"
    assert config.db_path == tmp_path / "d" / "fotorobot.sqlite3"  # follows the data dir
    assert config.model_path == tmp_path / "m.pt"
    assert config.admin_ids == frozenset({11, 22, 33})
    assert config.is_admin(22) and not config.is_admin(44) and not config.is_admin(None)
    assert config.album_size == 6
    assert config.rating_scale == RatingScale(1, 5)
    assert config.default_language == "ru"
    assert config.search_dim == 12
    assert config.webhook_url == "https://bot.example.org/hook"
    explicit_db = load_settings({**env, "FOTOROBOT_DB": str(tmp_path / "x.db")}, env_file=None)
    assert explicit_db.db_path == tmp_path / "x.db"
    assert config.datasets_root == tmp_path / "d" / "datasets"  # follows the data dir
    datasets = load_settings({**env, "FOTOROBOT_DATASETS_DIR": "~/faces"}, env_file=None)
    assert datasets.datasets_root == Path("~/faces").expanduser()


@pytest.mark.parametrize(
    "value", ["http://127.0.0.1:8081", "http://127.0.0.1:8081/", "http://127.0.0.1:8081/bot/"]
)
def test_api_base_url_takes_a_server_address_or_telegrams_method_url(value: str) -> None:
    config = load_settings({"TELEGRAM_API_BASE_URL": value}, env_file=None)
    assert config.api_base_url == "http://127.0.0.1:8081"
    assert config.bot_api_url == "http://127.0.0.1:8081/bot"
    assert config.file_api_url == "http://127.0.0.1:8081/file/bot"


def test_empty_values_mean_default() -> None:
    config = load_settings({"FOTOROBOT_ALBUM_SIZE": "", "FOTOROBOT_ADMINS": " "}, env_file=None)
    assert config.album_size == 4 and config.admin_ids == frozenset()


def test_config_is_frozen() -> None:
    config = load_settings({}, env_file=None)
    with pytest.raises(AttributeError):
        config.album_size = 5  # type: ignore[misc]


def test_env_file_and_real_environment_wins(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        f"TELEGRAM_BOT_TOKEN={TOKEN}\nFOTOROBOT_ALBUM_SIZE=5\nFOTOROBOT_LANGUAGE=ru\n",
        encoding="utf-8",
    )
    from_file = load_settings({}, env_file=env_file)
    assert from_file.token.reveal() == TOKEN and from_file.album_size == 5
    overridden = load_settings({"FOTOROBOT_ALBUM_SIZE": "3"}, env_file=env_file)
    assert overridden.album_size == 3 and overridden.default_language == "ru"


def test_missing_env_file_is_fine(tmp_path: Path) -> None:
    assert load_settings({}, env_file=tmp_path / "nope.env").album_size == 4
    assert read_env_file(tmp_path / "nope.env") == {}


def test_os_environ_is_the_default(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("FOTOROBOT_ALBUM_SIZE", "7")
    assert load_settings(env_file=tmp_path / "none").album_size == 7


def test_unreadable_env_file(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_bytes(b"A=\xff\xfe\n")
    with pytest.raises(EnvFileError, match="cannot read"):
        load_settings({}, env_file=env_file)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("FOTOROBOT_ALBUM_SIZE", "1"),
        ("FOTOROBOT_ALBUM_SIZE", "11"),
        ("FOTOROBOT_ALBUM_SIZE", "four"),
        ("FOTOROBOT_RATING_SCALE", "0-100"),
        ("FOTOROBOT_RATING_SCALE", "stars"),
        ("FOTOROBOT_LANGUAGE", "de"),
        ("FOTOROBOT_SEARCH_DIM", "0"),
        ("FOTOROBOT_SEARCH_DIM", "1000"),
        ("FOTOROBOT_ADMINS", "12,abc"),
        ("FOTOROBOT_ADMINS", "-5"),
        ("TELEGRAM_API_BASE_URL", "api.telegram.org"),
        ("TELEGRAM_API_BASE_URL", "ftp://x"),
        ("FOTOROBOT_WEBHOOK_URL", "http://bot.example.org/hook"),
    ],
)
def test_invalid_values_name_the_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        load_settings({name: value}, env_file=None)


def test_settings_errors_are_value_errors() -> None:
    # Every command reports ValueErrors as one "bad configuration" line.
    assert issubclass(SettingsError, ValueError) and issubclass(EnvFileError, ValueError)


@pytest.mark.parametrize(
    "bad", ["not a token", "123456789:secret with space", "abc:def", TOKEN + "/"]
)
def test_malformed_token_is_refused_without_echo(bad: str) -> None:
    with pytest.raises(SettingsError, match="TELEGRAM_BOT_TOKEN") as info:
        load_settings({"TELEGRAM_BOT_TOKEN": bad}, env_file=None)
    assert bad not in str(info.value)
    assert "secret" not in str(info.value)


@pytest.mark.parametrize("short", ["5", "10", "1 - 5"])
def test_scale_shorthands(short: str) -> None:
    scale = load_settings({"FOTOROBOT_RATING_SCALE": short}, env_file=None).rating_scale
    assert scale.low == 1 and scale.high in (5, 10)


def test_token_not_in_repr_or_str() -> None:
    config = load_settings({"TELEGRAM_BOT_TOKEN": TOKEN}, env_file=None)
    assert TOKEN not in repr(config) and TOKEN not in str(config)
    assert "AAHsecret" not in repr(config)
    assert TOKEN not in f"{config.token} {config.token!r} {config.token!s}"


def test_secret_compares_by_value_and_shows_only_whether_it_is_set() -> None:
    assert Secret(TOKEN) == Secret(TOKEN) and Secret(TOKEN) != Secret("1:other")
    assert bool(Secret(TOKEN)) and not Secret("")
    assert repr(Secret("")) == "Secret('')" and str(Secret("")) == ""
    assert str(Secret(TOKEN)) == "**********"


def test_fotorobot_model_takes_a_bundled_name_or_a_path(tmp_path: Path) -> None:
    from model.face_model import BUNDLED_MODELS, bundled_model_path

    for name in BUNDLED_MODELS:
        path = load_settings({"FOTOROBOT_MODEL": name}, env_file=None).model_path
        assert path == bundled_model_path(name) and path.is_file()
    assert load_settings({}, env_file=None).model_path == default_model_path()
    custom = load_settings({"FOTOROBOT_MODEL": str(tmp_path / "x.pt")}, env_file=None)
    assert custom.model_path == tmp_path / "x.pt"
