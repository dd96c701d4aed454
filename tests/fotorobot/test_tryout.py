"""`fotorobot try`: the local emulator a person opens in a browser, driven through its page API."""

from __future__ import annotations

import asyncio
import io
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image


def _wait_for_url(proc: subprocess.Popen[bytes], log: Path, timeout: float) -> str:
    """Watch the process' output until it prints the chat page's address."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        found = re.search(r"Open (http://127\.0\.0\.1:\d+)/", log.read_text(errors="replace"))
        if found:
            return found.group(1)
        time.sleep(0.2)
    raise AssertionError(f"fotorobot try printed no address (rc={proc.poll()}):\n{log.read_text()}")


def _bot_messages(client: httpx.Client, url: str) -> list[dict[str, Any]]:
    data = client.get(f"{url}/ui/messages").json()
    bot_id = data["bot"]["id"]
    return [m for m in data["messages"] if m["from"]["id"] == bot_id]


def _wait_for(client: httpx.Client, url: str, count: int, timeout: float) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        messages = _bot_messages(client, url)
        if len(messages) >= count:
            return messages
        time.sleep(0.2)
    raise AssertionError(f"the bot sent {len(_bot_messages(client, url))} of {count} messages")


@pytest.mark.slow
def test_try_serves_a_chat_page_that_builds_faces_without_a_token(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "FOTOROBOT_"))}
    env.update(FOTOROBOT_DATA_DIR=str(tmp_path / "data"), FOTOROBOT_SEARCH_DIM="8")
    env["PYTHONUNBUFFERED"] = "1"
    log = tmp_path / "try.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "fotorobot", "try", "--port", "0"],
            cwd=tmp_path,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        url = _wait_for_url(proc, log, timeout=180)
        with httpx.Client(timeout=30) as client:
            page = client.get(f"{url}/")
            assert page.status_code == 200 and "<html" in page.text.lower()
            client.post(f"{url}/ui/send", json={"text": "/start"}).raise_for_status()
            first = _wait_for(client, url, 6, timeout=120)  # greeting, 4 photos, prompt
            photos = [m for m in first if "photo" in m]
            assert [m["caption"] for m in photos] == ["#1", "#2", "#3", "#4"]
            picture = client.get(f"{url}/ui/file/{photos[0]['photo'][-1]['file_id']}")
            assert picture.status_code == 200
            assert Image.open(io.BytesIO(picture.content)).size[0] >= 256
            client.post(f"{url}/ui/send", json={"text": "8 3 5 6"}).raise_for_status()
            after = _wait_for(client, url, len(first) + 5, timeout=120)
            assert sum("photo" in m for m in after) == 8  # the next album came
        # Its database is its own, apart from a real bot's.
        assert (tmp_path / "data" / "tryout.sqlite3").exists()
        assert not (tmp_path / "data" / "fotorobot.sqlite3").exists()
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0


def test_try_without_the_emulator_installed_says_so(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The production image leaves telegram_fake out: `fotorobot try` explains, no traceback."""
    from fotorobot.cli import main

    monkeypatch.setitem(sys.modules, "telegram_fake", None)  # as if it were not installed
    assert main(["try", "--port", "0"]) == 2
    assert "emulator (telegram_fake) is not installed" in capsys.readouterr().err


@pytest.mark.slow
async def test_the_page_lets_one_person_play_a_whole_group(tmp_path: Path) -> None:
    """`fotorobot try`'s page switches between members of one group: each votes in the poll."""
    from telegram_fake import FakeBotAPI, serve_http
    from tests.botkit import WAIT, bot_settings, running_bot

    api = FakeBotAPI()
    async with (
        serve_http(api, web_ui=True) as base,
        running_bot(api, bot_settings(tmp_path, api.token)),
        httpx.AsyncClient(base_url=base, timeout=30) as client,
    ):

        async def group_view(member: int) -> dict[str, Any]:
            params = {"chat": "group", "member": str(member)}
            view: dict[str, Any] = (await client.get("/ui/messages", params=params)).json()
            return view

        async def polls() -> list[dict[str, Any]]:
            view = await group_view(10_001)
            return [m for m in view["messages"] if "poll" in m]

        async def wait_for_polls(n: int) -> list[dict[str, Any]]:
            deadline = time.monotonic() + WAIT
            while time.monotonic() < deadline:
                if len(found := await polls()) >= n:
                    return found
                await asyncio.sleep(0.2)
            raise AssertionError(f"{len(await polls())} polls, not {n}")

        sent = await client.post("/ui/send", json={"text": "/start", "chat": "group"})
        sent.raise_for_status()
        (poll,) = await wait_for_polls(1)
        assert all("media" in option for option in poll["poll"]["options"])  # the faces
        for i, member in enumerate((10_002, 10_003, 10_004)):  # Bob, Cid and Dee vote
            vote = {"chat": "group", "member": member, "message_id": poll["message_id"]}
            (await client.post("/ui/vote", json={**vote, "options": [i]})).raise_for_status()
        first, second = await wait_for_polls(2)  # their quorum brought the next album
        cid = await group_view(10_003)
        assert cid["choices"][first["poll"]["id"]] == [1]  # each member sees their own choice
        assert cid["choices"][second["poll"]["id"]] == []
        await api.wait_idle(quiet=0.3, timeout=WAIT)
        first, second = await polls()
        assert first["poll"]["is_closed"] and not second["poll"]["is_closed"]
