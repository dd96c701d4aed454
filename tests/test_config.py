"""Configuration: defaults, .env parsing, precedence, refusals, and the token kept out of logs."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.config import (
    DEFAULT_API_BASE_URL,
    BotConfig,
    ConfigError,
    install_log_redaction,
    load_config,
    parse_env,
    read_env_file,
    reset_log_redaction,
)
from bot.ratings import RatingScale
from model import default_model_path

TOKEN = "123456789:AAHsecretPartOfTheToken-xyz_987"


@pytest.fixture(autouse=True)
def clean_redaction() -> Iterator[None]:
    reset_log_redaction()
    yield
    reset_log_redaction()


def test_defaults_without_anything() -> None:
    config = load_config({}, env_file=None)
    assert config.token == ""
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


def test_dataclass_defaults_match_load_config() -> None:
    assert BotConfig() == load_config({}, env_file=None)


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
    config = load_config(env, env_file=None)
    assert config.token == TOKEN
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
    explicit_db = load_config({**env, "FOTOROBOT_DB": str(tmp_path / "x.db")}, env_file=None)
    assert explicit_db.db_path == tmp_path / "x.db"


@pytest.mark.parametrize(
    "value", ["http://127.0.0.1:8081", "http://127.0.0.1:8081/", "http://127.0.0.1:8081/bot/"]
)
def test_api_base_url_takes_a_server_address_or_telegrams_method_url(value: str) -> None:
    config = load_config({"TELEGRAM_API_BASE_URL": value}, env_file=None)
    assert config.api_base_url == "http://127.0.0.1:8081"
    assert config.bot_api_url == "http://127.0.0.1:8081/bot"
    assert config.file_api_url == "http://127.0.0.1:8081/file/bot"


def test_empty_values_mean_default() -> None:
    config = load_config({"FOTOROBOT_ALBUM_SIZE": "", "FOTOROBOT_ADMINS": " "}, env_file=None)
    assert config.album_size == 4 and config.admin_ids == frozenset()


def test_config_is_frozen() -> None:
    config = load_config({}, env_file=None)
    with pytest.raises(AttributeError):
        config.album_size = 5  # type: ignore[misc]


def test_env_file_and_real_environment_wins(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        f"TELEGRAM_BOT_TOKEN={TOKEN}\nFOTOROBOT_ALBUM_SIZE=5\nFOTOROBOT_LANGUAGE=ru\n",
        encoding="utf-8",
    )
    from_file = load_config({}, env_file=env_file)
    assert from_file.token == TOKEN and from_file.album_size == 5
    overridden = load_config({"FOTOROBOT_ALBUM_SIZE": "3"}, env_file=env_file)
    assert overridden.album_size == 3 and overridden.default_language == "ru"


def test_missing_env_file_is_fine(tmp_path: Path) -> None:
    assert load_config({}, env_file=tmp_path / "nope.env").album_size == 4
    assert read_env_file(tmp_path / "nope.env") == {}


def test_os_environ_is_the_default(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("FOTOROBOT_ALBUM_SIZE", "7")
    assert load_config(env_file=tmp_path / "none").album_size == 7


def test_env_parser() -> None:
    content = """
# a comment
   # an indented comment

export TELEGRAM_BOT_TOKEN=123:abc
PLAIN = value with spaces   # trailing comment
HASH_IN_VALUE=a#b
DOUBLE="quoted # not a comment"
ESCAPES="line\\nnext \\"q\\" back\\\\slash"
EMPTY=
EQUALS=a=b=c
QUOTED_THEN_COMMENT="x"  # fine
"""
    assert parse_env(content) == {
        "TELEGRAM_BOT_TOKEN": "123:abc",
        "PLAIN": "value with spaces",
        "HASH_IN_VALUE": "a#b",
        "DOUBLE": "quoted # not a comment",
        "ESCAPES": 'line\nnext "q" back\\slash',
        "EMPTY": "",
        "EQUALS": "a=b=c",
        "QUOTED_THEN_COMMENT": "x",
    }


def test_env_parser_single_quotes_are_literal() -> None:
    assert parse_env("A='raw \\n $HOME'") == {"A": "raw \\n $HOME"}


def test_env_parser_escaped_backslash_before_the_quote() -> None:
    assert parse_env('A="x\\\\"  # c') == {"A": "x\\"}
    assert parse_env('A="say \\"hi\\""') == {"A": 'say "hi"'}


def test_env_parser_crlf_and_last_value_wins() -> None:
    assert parse_env("A=1\r\nA=2\r\n") == {"A": "2"}


@pytest.mark.parametrize(
    "line",
    ["no equals sign", "1BAD=x", "BAD KEY=x", "=x", 'A="unclosed', "A='x' trailing"],
)
def test_env_parser_refuses_malformed_lines(line: str) -> None:
    with pytest.raises(ConfigError, match="line 2"):
        parse_env("OK=1\n" + line)


def test_env_parser_never_echoes_the_line() -> None:
    with pytest.raises(ConfigError) as info:
        parse_env(f"TELEGRAM_BOT_TOKEN {TOKEN}")
    assert TOKEN not in str(info.value)


def test_unreadable_env_file(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_bytes(b"A=\xff\xfe\n")
    with pytest.raises(ConfigError, match="cannot read"):
        load_config({}, env_file=env_file)


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
    with pytest.raises(ConfigError, match=name):
        load_config({name: value}, env_file=None)


def test_config_error_is_a_value_error() -> None:
    assert issubclass(ConfigError, ValueError)  # `fotorobot run` reports ValueErrors cleanly


@pytest.mark.parametrize(
    "bad", ["not a token", "123456789:secret with space", "abc:def", TOKEN + "/"]
)
def test_malformed_token_is_refused_without_echo(bad: str) -> None:
    with pytest.raises(ConfigError, match="TELEGRAM_BOT_TOKEN") as info:
        load_config({"TELEGRAM_BOT_TOKEN": bad}, env_file=None)
    assert bad not in str(info.value)
    assert "secret" not in str(info.value)


@pytest.mark.parametrize("short", ["5", "10", "1 - 5"])
def test_scale_shorthands(short: str) -> None:
    scale = load_config({"FOTOROBOT_RATING_SCALE": short}, env_file=None).rating_scale
    assert scale.low == 1 and scale.high in (5, 10)


def test_token_not_in_repr_or_str() -> None:
    config = load_config({"TELEGRAM_BOT_TOKEN": TOKEN}, env_file=None)
    assert TOKEN not in repr(config) and TOKEN not in str(config)
    assert "AAHsecret" not in repr(config)


def capture(logger_name: str = "") -> tuple[logging.Handler, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    return handler, stream


def test_token_never_reaches_a_log(caplog: pytest.LogCaptureFixture) -> None:
    root = logging.getLogger()
    handler, stream = capture()
    root.addHandler(handler)
    try:
        install_log_redaction([TOKEN, ""])  # an empty secret must not blank every message
        url = f"https://api.telegram.org/bot{TOKEN}/getUpdates"
        with caplog.at_level(logging.DEBUG):
            logging.getLogger("telegram.ext.Updater").warning("request to %s failed", url)
            logging.getLogger("bot.app").info(f"f-string with {TOKEN} inside")
            logging.getLogger("some.lib").error("dict arg %(u)s", {"u": url})
            try:
                raise RuntimeError(f"boom at {url}")
            except RuntimeError:
                logging.getLogger("bot.handlers").exception("handler failed")
        logged = stream.getvalue() + caplog.text
        assert TOKEN not in logged
        assert "AAHsecretPartOfTheToken" not in logged
        assert "request to https://api.telegram.org/bot[REDACTED]/getUpdates failed" in logged
        assert "f-string with [REDACTED] inside" in logged
        assert "boom at https://api.telegram.org/bot[REDACTED]/getUpdates" in logged
        assert "handler failed" in logged
    finally:
        root.removeHandler(handler)


def test_httpx_request_lines_are_quiet_and_redacted(caplog: pytest.LogCaptureFixture) -> None:
    install_log_redaction([TOKEN])
    httpx_logger = logging.getLogger("httpx")
    assert httpx_logger.getEffectiveLevel() == logging.WARNING
    assert not httpx_logger.isEnabledFor(logging.INFO)  # httpx's per-request INFO line
    url = f"http://127.0.0.1:8081/bot{TOKEN}/sendMessage"
    with caplog.at_level(logging.WARNING, logger="httpx"):
        httpx_logger.warning('HTTP Request: POST %s "HTTP/1.1 429 Too Many Requests"', url)
    assert TOKEN not in caplog.text
    assert "/bot[REDACTED]/sendMessage" in caplog.text
    assert all(TOKEN not in r.getMessage() for r in caplog.records)


def test_a_handler_that_bypasses_the_factory_is_filtered() -> None:
    root = logging.getLogger()
    handler, stream = capture()
    root.addHandler(handler)
    try:
        install_log_redaction([TOKEN])  # adds the filter to the existing root handler
        # A record built without the factory (as some libraries do) still gets scrubbed.
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "token %s", (TOKEN,), None)
        root.handle(record)
        assert TOKEN not in stream.getvalue() and "[REDACTED]" in stream.getvalue()
    finally:
        root.removeHandler(handler)


def test_without_secrets_messages_are_untouched(caplog: pytest.LogCaptureFixture) -> None:
    install_log_redaction([])
    with caplog.at_level(logging.INFO):
        logging.getLogger("bot").info("value %d of %s", 3, "four")
    assert "value 3 of four" in caplog.text
    assert caplog.records[-1].args == (3, "four")  # not pre-formatted when nothing matched


def test_install_twice_keeps_every_secret(caplog: pytest.LogCaptureFixture) -> None:
    install_log_redaction(["first-secret-1"])
    install_log_redaction(["second-secret-2"])
    with caplog.at_level(logging.INFO):
        logging.getLogger("bot").info("first-secret-1 and second-secret-2")
    assert caplog.text.count("[REDACTED]") == 2
