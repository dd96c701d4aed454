"""Albums that always arrive (bot.outbox, storage.outbox), through the in-process fake."""

from __future__ import annotations

import asyncio
from pathlib import Path

import storage
from telegram_fake import FakeBotAPI
from tests.botkit import Person, album_of, bot_settings, chat_lock, running_bot


async def send_log(conn: object, round_id: int) -> list[str | None]:
    async with conn.execute(  # type: ignore[attr-defined]
        "SELECT outcome FROM album_sends WHERE round_id = ? ORDER BY id", (round_id,)
    ) as cur:
        return [r[0] for r in await cur.fetchall()]


async def test_a_failed_chat_action_never_holds_the_album_back(tmp_path: Path) -> None:
    api = FakeBotAPI()
    async with running_bot(api, bot_settings(tmp_path, api.token)):
        alice = Person(api)
        api.fail_next("sendChatAction", code=500)
        messages = await alice.start()
        photos, prompt = album_of(messages[1:])
        assert len(photos) == 4 and prompt.buttons
        failed = [c for c in api.calls_to("sendChatAction") if c.status == 500]
        assert len(failed) == 1


async def test_an_album_lost_on_the_network_is_sent_again(tmp_path: Path) -> None:
    api = FakeBotAPI()
    async with running_bot(api, bot_settings(tmp_path, api.token)) as app:
        deps = app.bot_data.require()
        deps.outbox.backoff_s = 0.05
        alice = Person(api)
        await alice.start()
        api.fail_next("sendMediaGroup", code=502, chat=alice.chat)  # nginx: the call is lost
        photos, _ = album_of(await alice.rate_all())
        assert [m.caption for m in photos] == ["#1", "#2", "#3", "#4"]
        round_ = await storage.open_round(deps.engine.conn, alice.chat.id)
        assert round_ is not None and round_.message_ids == [m.message_id for m in photos]
        # The album was stored (planned) before the first try, and each try was logged.
        assert await send_log(deps.engine.conn, round_.id) == ["uncertain", "sent"]


async def test_an_album_that_never_gets_through_is_retried_in_the_background(
    tmp_path: Path,
) -> None:
    api = FakeBotAPI()
    async with running_bot(api, bot_settings(tmp_path, api.token)) as app:
        outbox = app.bot_data.require().outbox
        outbox.backoff_s, outbox.retry_delays_s = 0.05, (0.5,)
        alice = Person(api)
        await alice.start()
        api.fail_next("sendMediaGroup", code=502, chat=alice.chat, times=outbox.attempts)
        sent = api.send_text(alice.chat, alice.user, "8 3 5 6")
        # Nobody writes again: the album still comes, and no error message before it.
        answers = await alice.answers_after(sent, 5)
        photos, _ = album_of(answers)
        assert len(photos) == 4 and answers[0].kind == "photo"


async def test_a_slow_album_arrives_twice_and_either_copy_can_be_rated(tmp_path: Path) -> None:
    api = FakeBotAPI()
    async with running_bot(api, bot_settings(tmp_path, api.token)) as app:
        deps = app.bot_data.require()
        deps.outbox.read_timeout_s, deps.outbox.backoff_s = 0.5, 0.05
        alice = Person(api)
        # Telegram shows the album but answers after the bot stopped waiting (a timeout).
        api.slow_next("sendMediaGroup", delay=1.5, chat=alice.chat)
        start = api.send_text(alice.chat, alice.user, "/start")
        messages = await alice.answers_after(start, 10)
        first_copy = [m for m in messages[1:5] if m.kind == "photo"]
        second_copy, prompt = album_of(messages[5:])
        assert [m.caption for m in first_copy] == [m.caption for m in second_copy]
        assert first_copy[0].media_group_id != second_copy[0].media_group_id
        await asyncio.sleep(1.5)
        await api.wait_idle(quiet=0.3, timeout=30)
        assert all("wrong" not in (m.text or "") for m in api.bot_messages(alice.chat))
        # A reply to a photo of either copy rates that face of the one album.
        r1 = api.send_text(alice.chat, alice.user, "9", reply_to=first_copy[1].message_id)
        (note,) = await alice.answers_after(r1)
        assert "1 of 4" in (note.text or "")
        r2 = api.send_text(alice.chat, alice.user, "3", reply_to=second_copy[2].message_id)
        (note,) = await alice.answers_after(r2)
        assert "2 of 4" in (note.text or "")
        round_ = await storage.open_round(deps.engine.conn, alice.chat.id)
        assert round_ is not None and round_.prompt_message_id == prompt.message_id
        votes = {v.face_id: v.value for v in await storage.round_votes(deps.engine.conn, round_.id)}
        assert votes == {round_.faces[1].id: 9.0, round_.faces[2].id: 3.0}
        assert await send_log(deps.engine.conn, round_.id) == ["uncertain", "sent"]


async def test_an_album_owed_at_a_restart_arrives_without_anyone_writing(tmp_path: Path) -> None:
    api = FakeBotAPI()
    settings = bot_settings(tmp_path, api.token)
    alice = Person(api)
    async with running_bot(api, settings) as app:
        conn = app.bot_data.require().engine.conn
        await alice.start()
        round_ = await storage.open_round(conn, alice.chat.id)
        assert round_ is not None
        # The crash this guards against: the round closed (votes in), the album not yet sent.
        outbox = app.bot_data.require().outbox
        outbox.retry_delays_s, outbox.backoff_s = (600.0,), 0.05
        api.fail_next("sendMediaGroup", code=502, chat=alice.chat, times=outbox.attempts)
        sent = api.send_text(alice.chat, alice.user, "8 3 5 6")
        await api.wait_idle(quiet=0.5, timeout=30)
        assert not [m for m in api.bot_messages(alice.chat, after=sent.message_id)]
    async with running_bot(api, settings):  # the restart
        photos, _ = album_of(await alice.answers_after(sent, 5))
        assert len(photos) == 4


async def test_a_chat_that_blocked_the_bot_is_served_again_after_start(tmp_path: Path) -> None:
    api = FakeBotAPI()
    async with running_bot(api, bot_settings(tmp_path, api.token)) as app:
        conn = app.bot_data.require().engine.conn
        alice = Person(api)
        await alice.start()
        async with chat_lock(app, alice.chat.id):  # she blocks the bot while it works
            api.send_text(alice.chat, alice.user, "8 3 5 6")
            api.block(alice.user)
        await api.wait_until(lambda: any(c.status == 403 for c in api.calls_to("sendMediaGroup")))
        await api.wait_idle(quiet=0.3, timeout=30)
        chat = await storage.get_chat(conn, alice.chat.id)
        assert chat is not None and not chat.active
        # She comes back (writing unblocks the bot): a new search, and its album arrives.
        greeting, *album = await alice.start()
        assert "Alice" in (greeting.text or "") and len(album_of(album)[0]) == 4
        chat = await storage.get_chat(conn, alice.chat.id)
        assert chat is not None and chat.active
