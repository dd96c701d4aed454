"""The token in every spelling it can take stays out of logs, errors and exit messages."""

from __future__ import annotations

import logging
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from fotorobot.logs import install_log_redaction, redact, reset_log_redaction, secret_forms
from fotorobot.settings import SettingsError, load_settings
from telegram_fake import FakeBotAPI, ServerThread
from tests.botkit import Person, album_of
from tests.fotorobot.test_run import RUN, clean_env

TOKEN = "123456789:AAHsecretPartOfTheToken-xyz_987"
SECRET = TOKEN.split(":", 1)[1]


def spellings(token: str) -> list[str]:
    """The forms a token takes in URLs and error texts."""
    secret = token.split(":", 1)[1]
    return [token, quote(token, safe=""), token.replace(":", "%3a"), secret, f"bot{secret}"]


@pytest.fixture(autouse=True)
def clean_redaction() -> Iterator[None]:
    reset_log_redaction()
    yield
    reset_log_redaction()


def test_every_spelling_of_the_token_is_masked(caplog: pytest.LogCaptureFixture) -> None:
    install_log_redaction([TOKEN])
    assert {TOKEN, quote(TOKEN, safe=""), SECRET} <= secret_forms(TOKEN)
    with caplog.at_level(logging.INFO):
        for form in spellings(TOKEN):
            logging.getLogger("bot").error("download of /file/bot%s/photo.jpg failed", form)
    assert SECRET not in caplog.text and caplog.text.count("[REDACTED]") == 5
    assert redact(f"path /file/bot{quote(TOKEN, safe='')}/x") == "path /file/bot[REDACTED]/x"
    # A short secret half is not masked on its own (it could be an ordinary word).
    assert "abc" not in secret_forms("1:abc")


@pytest.mark.parametrize(
    "base",
    [
        f"https://api.telegram.org/bot{TOKEN}",
        f"https://api.telegram.org/bot{quote(TOKEN, safe='')}",
        f"http://127.0.0.1:8081/bot{TOKEN}/",
        f"https://proxy.example/{SECRET}/api",
        "https://api.telegram.org/bot987654321:AAOtherBotsTokenIsStillASecret_12?x=1",
    ],
)
def test_a_base_url_holding_a_token_is_refused_without_printing_it(base: str) -> None:
    environ = {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": base}
    with pytest.raises(SettingsError, match="TELEGRAM_API_BASE_URL") as refused:
        load_settings(environ, env_file=None)
    message = str(refused.value)
    assert SECRET not in message and "AAOtherBots" not in message
    assert "TokenIsStillASecret" not in message


@pytest.mark.slow
def test_run_refuses_such_a_base_url_and_its_exit_message_holds_no_token(tmp_path: Path) -> None:
    env = clean_env(
        tmp_path,
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE_URL=f"https://api.telegram.org/bot{TOKEN}",
    )
    proc = subprocess.run(RUN, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "TELEGRAM_API_BASE_URL" in proc.stderr
    assert all(form not in proc.stderr + proc.stdout for form in spellings(TOKEN))


@pytest.mark.slow
async def test_a_failed_download_that_echoes_the_path_leaks_nothing(tmp_path: Path) -> None:
    """The bot process's whole output, while a file download fails with a body that echoes the
    requested path URL-encoded (token included), holds the token in no spelling."""
    api = FakeBotAPI()
    log_path = tmp_path / "bot.log"
    with ServerThread(api) as url, log_path.open("w") as log:
        env = clean_env(tmp_path, TELEGRAM_BOT_TOKEN=api.token, TELEGRAM_API_BASE_URL=url)
        proc = subprocess.Popen(RUN, cwd=tmp_path, env=env, stdout=log, stderr=log)
        try:
            alice = Person(api)
            photos, _ = album_of((await alice.say("/start", 6, timeout=180))[1:])
            assert len(photos) == 4
            api.fail_next("download", code=400, description="Bad Request: no file at {path}")
            photo = api.file_bytes(photos[0].file_id or "")
            sent = api.send_document(
                alice.chat, alice.user, photo, file_name="me.jpg", mime_type="image/jpeg"
            )
            (answer,) = await alice.answers_after(sent, timeout=60)
            assert "went wrong" in (answer.text or "")  # a plain failure, plainly told
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                raise
    output = log_path.read_text()
    assert "no file at" in output  # the echoing error did reach the log...
    assert all(form not in output for form in spellings(api.token))  # ...masked
