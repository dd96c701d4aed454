"""Log redaction: the token never reaches a log line, whatever logs it and however."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from fotorobot.logs import install_log_redaction, reset_log_redaction

TOKEN = "123456789:AAHsecretPartOfTheToken-xyz_987"


@pytest.fixture(autouse=True)
def clean_redaction() -> Iterator[None]:
    reset_log_redaction()
    yield
    reset_log_redaction()


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
