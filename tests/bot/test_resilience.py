"""Concurrency, edits after a round closed, blocked users and group migrations."""

from __future__ import annotations

from pathlib import Path

import storage
from bot.texts import text
from telegram_fake import FakeBotAPI, Injection
from tests.botkit import WAIT, Person, album_of, bot_settings, chat_lock, running_bot


async def test_a_busy_chat_never_blocks_another_and_keeps_its_order(tmp_path: Path) -> None:
    api = FakeBotAPI()
    async with running_bot(api, bot_settings(tmp_path, api.token)) as app:
        alice, bob = Person(api, "Alice"), Person(api, "Bob")
        await alice.start()
        lock = chat_lock(app, alice.chat.id)
        await lock.acquire()  # Alice's chat is busy, as if a long round were running
        try:
            partial = api.send_text(alice.chat, alice.user, "#1 8")
            rest = api.send_text(alice.chat, alice.user, "#2 3 #3 5 #4 6")
            bob_messages = await bob.start()
            assert len(bob_messages) == 6  # Bob is served while Alice's chat waits
            assert api.bot_messages(alice.chat, after=partial.message_id) == []
        finally:
            lock.release()
        answers = await alice.answers_after(partial, 6)
        # Strict order: the progress note for "#1 8" comes before the album of the second one.
        assert answers[0].reply_to is None or answers[0].reply_to == partial.message_id
        assert "1 of 4" in (answers[0].text or "")
        photos, _ = album_of(answers[1:])
        assert len(photos) == 4 and photos[0].message_id > rest.message_id


async def test_a_flood_from_one_chat_never_takes_the_slots_of_others(tmp_path: Path) -> None:
    api = FakeBotAPI()
    settings = bot_settings(tmp_path, api.token)
    async with running_bot(api, settings, concurrent_updates=2) as app:
        alice, bob = Person(api, "Alice"), Person(api, "Bob")
        lock = chat_lock(app, alice.chat.id)
        await lock.acquire()
        try:
            flood = [api.send_text(alice.chat, alice.user, "/help") for _ in range(6)]
            # Six of Alice's updates wait for her chat; only 2 may run at once, yet Bob is served.
            assert len(await bob.start()) == 6
        finally:
            lock.release()
        answers = await alice.answers_after(flood[0], 6)
        assert all("/best" in (m.text or "") for m in answers)


async def test_editing_a_rating_after_its_album_closed_is_answered_gently(
    tmp_path: Path,
) -> None:
    api = FakeBotAPI()
    async with running_bot(api, bot_settings(tmp_path, api.token)) as app:
        conn = app.bot_data.require().engine.conn
        alice = Person(api)
        await alice.start()
        sent = api.send_text(alice.chat, alice.user, "8 3 5 6")
        album = await alice.answers_after(sent, 5)
        api.edit_text(alice.chat, sent.message_id, "1 1 1 1")
        (note,) = await api.wait_for_messages(alice.chat, 1, after=album[-1].message_id)
        assert "closed" in (note.text or "")
        votes = await storage.votes_by_message(conn, alice.chat.id, sent.message_id)
        assert sorted(v.value for v in votes) == [3.0, 5.0, 6.0, 8.0]


async def test_user_blocking_the_bot_marks_the_chat_inactive(tmp_path: Path) -> None:
    api = FakeBotAPI()
    async with running_bot(api, bot_settings(tmp_path, api.token)) as app:
        conn = app.bot_data.require().engine.conn
        alice = Person(api)
        await alice.start()
        with api.lock:
            api.push_update(
                "my_chat_member",
                {
                    "chat": alice.chat.to_dict(),
                    "from": alice.user.to_dict(),
                    "date": api.now(),
                    "old_chat_member": {"status": "member", "user": api.bot.to_dict()},
                    "new_chat_member": {
                        "status": "kicked",
                        "user": api.bot.to_dict(),
                        "until_date": 0,
                    },
                },
            )
        api.notify()
        await api.wait_idle(quiet=0.3, timeout=30)
        chat = await storage.get_chat(conn, alice.chat.id)
        assert chat is not None and not chat.active


async def test_group_upgraded_to_supergroup_keeps_its_search(tmp_path: Path) -> None:
    api = FakeBotAPI()
    async with running_bot(api, bot_settings(tmp_path, api.token)) as app:
        conn = app.bot_data.require().engine.conn
        alice, bob = api.user(first_name="Alice"), api.user(first_name="Bob")
        group = api.group("Friends", [alice, bob])
        start = api.send_text(group, alice, "/start")
        _, prompt = album_of(await api.wait_for_messages(group, 7, after=start.message_id))
        api.send_text(group, alice, "#1 8", reply_to=prompt.message_id)  # 1 of a quorum of 2
        await api.wait_idle(quiet=0.3, timeout=30)
        old_session = await storage.open_session(conn, group.id)
        supergroup = api.migrate(group)
        # The open round goes on there: the same faces again, a new poll and tally.
        carried = await api.wait_for_messages(supergroup, 7, timeout=WAIT)
        moved = await storage.open_session(conn, supergroup.id)
        assert old_session is not None and moved is not None and moved.id == old_session.id
        assert len(album_of(carried)[0]) == 4
        # The search goes on in the supergroup: /next uses the rating given in the group.
        sent = api.send_text(supergroup, alice, "/next")
        photos, _ = album_of(await api.wait_for_messages(supergroup, 6, after=sent.message_id))
        assert len(photos) == 4


async def test_a_failure_gets_a_short_apology_never_a_traceback(tmp_path: Path) -> None:
    api = FakeBotAPI()
    async with running_bot(api, bot_settings(tmp_path, api.token)):
        alice = Person(api)
        injection = api.fail_next("sendMessage", code=400, description="Bad Request: boom")
        (apology,) = await alice.say("/help")
        assert injection.hits == ["sendmessage"]
        assert "went wrong" in (apology.text or "")
        assert "Traceback" not in (apology.text or "") and "boom" not in (apology.text or "")
        (helped,) = await alice.say("/help")  # and the bot carries on
        assert "/best" in (helped.text or "")


async def test_the_apology_speaks_the_configured_default_language(tmp_path: Path) -> None:
    api = FakeBotAPI()
    async with running_bot(api, bot_settings(tmp_path, api.token, default_language="ru")):
        hans = Person(api, "Hans", language="de")  # no catalogue: the default applies
        api.fail_next("sendMessage", code=400, description="Bad Request: boom")
        (apology,) = await hans.say("/help")
        assert apology.text == text("ru", "error")


async def test_messages_from_other_bots_are_ignored(tmp_path: Path) -> None:
    api = FakeBotAPI()
    async with running_bot(api, bot_settings(tmp_path, api.token)):
        alice = Person(api)
        await alice.start()
        robot = api.user(first_name="Spam", is_bot=True)
        with api.lock:  # Telegram never delivers these; a misbehaving proxy might
            api.push_update(
                "message",
                {
                    "message_id": 999,
                    "date": api.now(),
                    "chat": alice.chat.to_dict(),
                    "from": robot.to_dict(),
                    "text": "/start",
                    "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
                },
            )
        api.notify()
        before = len(api.bot_messages(alice.chat))
        await api.wait_idle(quiet=0.3, timeout=30)
        assert len(api.bot_messages(alice.chat)) == before


async def test_a_failed_album_send_is_recovered_by_the_next_message(tmp_path: Path) -> None:
    api = FakeBotAPI()
    async with running_bot(api, bot_settings(tmp_path, api.token)):
        alice = Person(api)
        await alice.start()
        api.fail_next("sendMediaGroup", code=400, description="Bad Request: network hiccup")
        (apology,) = await alice.say("8 3 5 6")
        assert "went wrong" in (apology.text or "")
        photos, _ = album_of(await alice.say("7 7 7 7", 5))  # no open album: a fresh one
        assert [m.caption for m in photos] == ["#1", "#2", "#3", "#4"]
        album = await alice.rate_all("1 2 3 4")  # and the search goes on as usual
        assert len(album_of(album)[0]) == 4


async def test_a_send_refused_with_chat_migrated_moves_the_search_and_retries(
    tmp_path: Path,
) -> None:
    api = FakeBotAPI()
    async with running_bot(api, bot_settings(tmp_path, api.token)) as app:
        conn = app.bot_data.require().engine.conn
        alice, bob = api.user(first_name="Alice"), api.user(first_name="Bob")
        group = api.group("Friends", [alice, bob])
        start = api.send_text(group, alice, "/start")
        _, prompt = album_of(await api.wait_for_messages(group, 7, after=start.message_id))
        api.send_text(group, alice, "#1 8", reply_to=prompt.message_id)  # 1 of a quorum of 2
        await api.wait_idle(quiet=0.3, timeout=30)
        session = await storage.open_session(conn, group.id)
        # Telegram upgraded the group; the bot learns it only from the next send's error.
        supergroup = api.group("Friends", [alice], supergroup=True)
        await api.wait_idle(quiet=0.3, timeout=30)
        injection = Injection(400, "sendChatAction", group.id, 1, 0, None, migrate_to=supergroup.id)
        with api.lock:
            api.injections.append(injection)
        sent = api.send_text(group, alice, "/next")
        photos, _ = album_of(await api.wait_for_messages(supergroup, 6, timeout=60))
        assert len(photos) == 4 and injection.hits == ["sendchataction"]
        assert api.bot_messages(group, after=sent.message_id) == []
        moved = await storage.open_session(conn, supergroup.id)
        assert session is not None and moved is not None and moved.id == session.id
