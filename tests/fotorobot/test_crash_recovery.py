"""`fotorobot run` killed (SIGKILL) or stopped (SIGINT) at the worst instants, as real processes
against the fake Bot API over HTTP: nothing is lost, nothing counted twice, nobody left waiting.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import storage
from fotorobot.botprocess import BotProcess, bot_environment
from fotorobot.run import webhook_secret
from telegram_fake import FakeBotAPI, ServerThread
from tests.botkit import TEST_SEARCH_DIM, Person, album_of

START = 180.0  # a fresh process imports torch, GPy and PTB on a busy box
SHUTDOWN_BOUND_S = 10.0  # what the deploy files' 15 s grace period must comfortably cover


@pytest.fixture
def fake() -> Iterator[tuple[FakeBotAPI, str]]:
    api = FakeBotAPI()
    with ServerThread(api) as url:
        yield api, url


@pytest.fixture
def bot(fake: tuple[FakeBotAPI, str], tmp_path: Path) -> Iterator[BotProcess]:
    api, url = fake
    env = bot_environment(
        api.token, url, tmp_path / "data", FOTOROBOT_SEARCH_DIM=str(TEST_SEARCH_DIM)
    )
    process = BotProcess(env, tmp_path, tmp_path / "bot.log")
    yield process
    process.close()
    output = process.output()
    assert api.token.split(":", 1)[1] not in output
    assert "Traceback" not in output, output[-3000:]


async def started(api: FakeBotAPI, bot: BotProcess) -> Person:
    """Start the bot; Alice's /start has its greeting, album and prompt."""
    bot.start()
    alice = Person(api)
    await alice.say("/start", 6, timeout=START)
    return alice


def last_update_id(api: FakeBotAPI) -> int:
    with api.lock:
        return int(api.updates[-1]["update_id"])


def fetched(api: FakeBotAPI, update_id: int) -> bool:
    """Whether a getUpdates answer has carried this update to the bot."""
    return any(
        u["update_id"] == update_id for c in api.calls_to("getUpdates") for u in (c.result or [])
    )


async def votes_of(db: Path, chat_id: int, message_id: int) -> list[Any]:
    conn = await storage.connect(db)
    try:
        return await storage.votes_by_message(conn, chat_id, message_id)
    finally:
        await conn.close()


@pytest.mark.slow
async def test_a_rating_killed_the_instant_it_arrived_is_counted_once_after_the_restart(
    fake: tuple[FakeBotAPI, str], bot: BotProcess, tmp_path: Path
) -> None:
    api, _ = fake
    alice = await started(api, bot)
    rated = []
    for position, delay in ((1, 0.0), (2, 0.01), (3, 0.03)):
        sent = api.send_text(alice.chat, alice.user, f"#{position} {position + 5}")
        update_id = last_update_id(api)
        await api.wait_until(lambda u=update_id: fetched(api, u), timeout=START)  # type: ignore[misc]
        await asyncio.sleep(delay)
        bot.kill()  # a few milliseconds after the rating reached the bot
        bot.start()

        def noted(p: int = position, after: int = sent.message_id) -> bool:
            # (A prompt cut off by the kill may come again first: sent at least once.)
            return any(
                f"{p} of 4" in (m.text or "") for m in api.bot_messages(alice.chat, after=after)
            )

        await api.wait_until(noted, timeout=START, what=f"the note for #{position}")
        rated.append(sent)
    last = api.send_text(alice.chat, alice.user, "#4 2")

    def next_album() -> list[Any] | None:
        # A replayed update may repeat its note ("3 of 4") before: replies are at least once.
        after = api.bot_messages(alice.chat, after=last.message_id)
        photos = [m for m in after if m.kind == "photo"]
        return photos if len(photos) == 4 and any(m.buttons for m in after) else None

    photos = await api.wait_until(next_album, timeout=START, what="the next album")
    assert len({m.media_group_id for m in photos}) == 1
    db = tmp_path / "data" / "fotorobot.sqlite3"
    for position, sent in enumerate(rated, start=1):
        votes = await votes_of(db, alice.chat.id, sent.message_id)
        assert [v.value for v in votes] == [position + 5]  # stored, once


@pytest.mark.slow
async def test_a_kill_between_closing_the_round_and_sending_the_album(
    fake: tuple[FakeBotAPI, str], bot: BotProcess, tmp_path: Path
) -> None:
    api, _ = fake
    alice = await started(api, bot)
    # The round closes, then the album's "sending a photo..." goes out: kill right there.
    api.slow_next("sendChatAction", delay=60, chat=alice.chat)
    actions = len(api.calls_to("sendChatAction"))
    sent = api.send_text(alice.chat, alice.user, "8 3 5 6")
    await api.wait_until(lambda: len(api.calls_to("sendChatAction")) > actions, timeout=START)
    bot.kill()
    assert [
        m for m in api.bot_messages(alice.chat, after=sent.message_id) if m.kind == "photo"
    ] == []
    bot.start()  # nobody writes: the album owed comes by itself
    photos, _ = album_of(await alice.answers_after(sent, 5, timeout=START))
    assert len(photos) == 4
    votes = await votes_of(tmp_path / "data" / "fotorobot.sqlite3", alice.chat.id, sent.message_id)
    assert sorted(v.value for v in votes) == [3.0, 5.0, 6.0, 8.0]


@pytest.mark.slow
async def test_a_kill_mid_album_leaves_a_copy_that_can_still_be_rated(
    fake: tuple[FakeBotAPI, str], bot: BotProcess, tmp_path: Path
) -> None:
    api, _ = fake
    alice = await started(api, bot)
    # Telegram shows the album, and the bot dies before it hears back.
    api.slow_next("sendMediaGroup", delay=60, chat=alice.chat)
    sent = api.send_text(alice.chat, alice.user, "8 3 5 6")
    lost_copy = await api.wait_for_messages(alice.chat, 4, after=sent.message_id, timeout=START)
    bot.kill()
    bot.start()
    copy, _ = album_of(await alice.answers_after(lost_copy[-1], 5, timeout=START))
    assert [m.caption for m in copy] == [m.caption for m in lost_copy]
    reply = api.send_text(alice.chat, alice.user, "9", reply_to=lost_copy[1].message_id)
    (note,) = await alice.answers_after(reply, timeout=START)
    assert "1 of 4" in (note.text or "")
    conn = await storage.connect(tmp_path / "data" / "fotorobot.sqlite3")
    try:
        round_ = await storage.round_by_message(conn, alice.chat.id, copy[0].message_id)
        assert round_ is not None
        votes = await storage.votes_by_message(conn, alice.chat.id, reply.message_id)
        assert [(v.round_id, v.face_id, v.value) for v in votes] == [
            (round_.id, round_.faces[1].id, 9.0)
        ]
    finally:
        await conn.close()


@pytest.mark.slow
async def test_a_stop_with_replies_held_by_the_rate_limits_is_quick_and_loses_nothing(
    fake: tuple[FakeBotAPI, str], bot: BotProcess
) -> None:
    api, _ = fake
    bot.start()
    alice = api.user(first_name="Alice")
    group = api.group("Friends", [alice])
    start = api.send_text(group, alice, "/start")
    await api.wait_for_messages(group, 6, after=start.message_id, timeout=START)
    # Telegram asks for 30 s of quiet: the reply in progress waits in the rate limiter, and the
    # group's other updates wait behind it.
    api.fail_next("sendMessage", code=429, retry_after=30, chat=group)
    helps = [api.send_text(group, alice, "/help") for _ in range(6)]
    await api.wait_until(lambda: any(c.status == 429 for c in api.calls), timeout=START)
    code, seconds = await asyncio.to_thread(bot.interrupt, 60.0)
    assert code == 0 and seconds < SHUTDOWN_BOUND_S
    asked = {h.message_id for h in helps}
    assert not [m for m in api.bot_messages(group) if m.reply_to in asked]  # none answered yet
    bot.start()  # what the stop left unanswered is answered after the restart

    def all_answered() -> bool:
        return asked <= {m.reply_to for m in api.bot_messages(group)}

    await api.wait_until(all_answered, timeout=START, what="every /help answered")


@pytest.mark.slow
async def test_a_webhook_update_answered_200_survives_a_kill(
    fake: tuple[FakeBotAPI, str], bot: BotProcess
) -> None:
    api, _ = fake
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    public = "https://bot.example.org/hook"
    bot.args = ["--webhook-url", public, "--listen", "127.0.0.1", "--port", str(port)]
    bot.start()
    await api.wait_until(lambda: api.webhook_url == public, timeout=START, what="setWebhook")
    alice = Person(api)
    sent = api.send_text(alice.chat, alice.user, "/start")
    with api.lock:  # the fake queues it; Telegram would POST it to the webhook
        update = api.updates.pop()
    secret = {"X-Telegram-Bot-Api-Secret-Token": webhook_secret(api.token)}
    async with httpx.AsyncClient(timeout=30) as client:
        answer = await client.post(f"http://127.0.0.1:{port}/hook", json=update, headers=secret)
    assert answer.status_code == 200
    bot.kill()  # the instant after Telegram got its 200: it will never send this update again
    bot.start()

    def greeted_with_an_album() -> bool:
        # (The killed process may have greeted already: replies are sent at least once.)
        answers = api.bot_messages(alice.chat, after=sent.message_id)
        photos = [m for m in answers if m.kind == "photo"]
        greeted = any("Alice" in (m.text or "") for m in answers)
        return greeted and len(photos) == 4 and any(m.buttons for m in answers)

    await api.wait_until(greeted_with_an_album, timeout=START, what="the greeting and album")
