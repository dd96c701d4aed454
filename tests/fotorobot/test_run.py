"""`fotorobot run` as a real process: no token, and the whole polling loop over HTTP."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from fotorobot.run import webhook_secret
from telegram_fake import FakeBotAPI, ServerThread
from tests.botkit import TEST_SEARCH_DIM, Person, album_of

RUN = [sys.executable, "-m", "fotorobot", "run"]


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The test's environment without any bot settings, data under tmp_path."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "FOTOROBOT_"))}
    env.update(
        FOTOROBOT_DATA_DIR=str(tmp_path / "data"),
        FOTOROBOT_SEARCH_DIM=str(TEST_SEARCH_DIM),
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def test_run_without_token_explains_botfather_and_fails(tmp_path: Path) -> None:
    proc = subprocess.run(
        RUN, cwd=tmp_path, env=clean_env(tmp_path), capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 2
    assert "@BotFather" in proc.stderr and "/newbot" in proc.stderr
    assert "TELEGRAM_BOT_TOKEN" in proc.stderr and ".env" in proc.stderr


@pytest.mark.slow
def test_run_with_a_refused_token_or_no_server_says_so_and_fails(tmp_path: Path) -> None:
    api = FakeBotAPI()
    wrong = "123456:" + "x" * 35
    with ServerThread(api) as url:
        env = clean_env(tmp_path, TELEGRAM_BOT_TOKEN=wrong, TELEGRAM_API_BASE_URL=url)
        refused = subprocess.run(
            RUN, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
        )
    assert refused.returncode == 2
    assert "refused the token" in refused.stderr and "@BotFather" in refused.stderr
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}"
    env = clean_env(tmp_path, TELEGRAM_BOT_TOKEN=wrong, TELEGRAM_API_BASE_URL=closed)
    unreachable = subprocess.run(
        RUN, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert unreachable.returncode == 1
    assert f"cannot reach the Bot API at {closed}" in unreachable.stderr
    for proc in (refused, unreachable):
        assert "x" * 35 not in proc.stderr + proc.stdout


@pytest.mark.slow
async def test_run_polls_the_fake_over_http_and_stops_on_sigint(tmp_path: Path) -> None:
    api = FakeBotAPI()
    log_path = tmp_path / "bot.log"
    with ServerThread(api) as url, log_path.open("w") as log:
        env = clean_env(tmp_path, TELEGRAM_BOT_TOKEN=api.token, TELEGRAM_API_BASE_URL=url)
        proc = subprocess.Popen(
            [*RUN, "--log-level", "DEBUG"], cwd=tmp_path, env=env, stdout=log, stderr=log
        )
        try:
            alice = Person(api)
            # Generous first wait: the process imports torch, GPy and PTB on a busy box.
            greeting, *rest = await alice.say("/start", 6, timeout=180)
            assert "Alice" in (greeting.text or "")
            photos, prompt = album_of(rest)
            assert [m.caption for m in photos] == ["#1", "#2", "#3", "#4"]
            assert len({m.media_group_id for m in photos}) == 1
            (progress,) = await alice.say("#1 8")
            assert "1 of 4" in (progress.text or "")
            second, _ = album_of(await alice.say("#2 3 #3 5 #4 6", 5, reply_to=prompt.message_id))
            assert len(second) == 4 and second[0].media_group_id != photos[0].media_group_id
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                returncode = proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                raise
    output = log_path.read_text()
    assert returncode == 0, output[-3000:]
    assert api.token not in output
    assert api.token.split(":", 1)[1] not in output
    assert "getUpdates" in output  # it really logged its polling (at DEBUG), token-free
    assert (tmp_path / "data" / "fotorobot.sqlite3").exists()


@pytest.mark.slow
async def test_run_serves_a_webhook_and_refuses_forged_updates(tmp_path: Path) -> None:
    api = FakeBotAPI()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log_path = tmp_path / "bot.log"
    public = "https://bot.example.org/fotorobot"
    with ServerThread(api) as url, log_path.open("w") as log:
        env = clean_env(tmp_path, TELEGRAM_BOT_TOKEN=api.token, TELEGRAM_API_BASE_URL=url)
        args = ["--webhook-url", public, "--listen", "127.0.0.1", "--port", str(port)]
        proc = subprocess.Popen(
            [*RUN, *args, "--log-level", "DEBUG"], cwd=tmp_path, env=env, stdout=log, stderr=log
        )
        try:
            await api.wait_until(lambda: api.webhook_url == public, timeout=180, what="setWebhook")
            alice = Person(api)
            sent = api.send_text(alice.chat, alice.user, "/start")
            with api.lock:  # the fake queues the update; Telegram would POST it to the webhook
                update = api.updates.pop()
            hook = f"http://127.0.0.1:{port}/fotorobot"
            async with httpx.AsyncClient(timeout=30) as client:
                forged = await client.post(
                    hook, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "guess"}
                )
                assert forged.status_code == 403
                await asyncio.sleep(0.5)
                assert api.bot_messages(alice.chat, after=sent.message_id) == []
                delivered = await client.post(
                    hook,
                    json=update,
                    headers={"X-Telegram-Bot-Api-Secret-Token": webhook_secret(api.token)},
                )
                assert delivered.status_code == 200
            photos, _ = album_of((await alice.answers_after(sent, 6, timeout=120))[1:])
            assert [m.caption for m in photos] == ["#1", "#2", "#3", "#4"]
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                returncode = proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                raise
    output = log_path.read_text()
    assert returncode == 0, output[-3000:]
    assert api.token.split(":", 1)[1] not in output
    assert webhook_secret(api.token) not in output


def test_run_with_a_bad_setting_names_it_and_fails(tmp_path: Path) -> None:
    token = "123456789:AAFakeTokenForTestsOnly-fotorobot000000"
    env = clean_env(tmp_path, TELEGRAM_BOT_TOKEN=token, FOTOROBOT_ALBUM_SIZE="99")
    proc = subprocess.run(RUN, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "FOTOROBOT_ALBUM_SIZE" in proc.stderr
    assert token.split(":", 1)[1] not in proc.stderr + proc.stdout
