"""At-least-once updates, applied once (bot.updater, bot.inbox, storage.inbox), in process.

The kills with real processes are in tests/fotorobot/test_crash_recovery.py.
"""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

import pytest

import storage
from bot.inbox import CRASH_LIMIT
from storage.db import exclusive
from telegram_fake import FakeBotAPI
from tests.botkit import Person, album_of, bot_settings, running_bot, wait_inbox_finished


def queued_ids(api: FakeBotAPI) -> list[int]:
    """Update ids Telegram still holds (not confirmed by a getUpdates offset)."""
    with api.lock:
        return [u["update_id"] for u in api.updates]


async def inbox_row(conn: object, update_id: int) -> tuple[str, int, str | None]:
    async with conn.execute(  # type: ignore[attr-defined]
        "SELECT state, attempts, error FROM inbox WHERE update_id = ?", (update_id,)
    ) as cur:
        row = await cur.fetchone()
    assert row is not None, f"update {update_id} is not in the inbox"
    return row[0], row[1], row[2]


async def test_an_update_is_confirmed_to_telegram_only_once_it_is_stored(tmp_path: Path) -> None:
    api = FakeBotAPI()
    async with running_bot(api, bot_settings(tmp_path, api.token)) as app:
        conn = app.bot_data.require().engine.conn
        alice = Person(api)
        async with exclusive(conn):  # the database is busy: the inbox write has to wait
            sent = api.send_text(alice.chat, alice.user, "/help")
            update_ids = queued_ids(api)
            assert len(update_ids) == 1

            def fetched() -> bool:
                return any(c.result for c in api.calls_to("getUpdates"))

            await api.wait_until(fetched, what="the bot fetches the update")
            await asyncio.sleep(0.5)
            # Fetched, but not stored: Telegram still holds it (no later offset confirmed it),
            # so a bot killed now would get it again.
            assert queued_ids(api) == update_ids
            assert api.bot_messages(alice.chat, after=sent.message_id) == []
        (help_text,) = await alice.answers_after(sent)
        assert "/best" in (help_text.text or "")
        await api.wait_until(lambda: not api.pending_updates(), what="the offset confirms it")
        await wait_inbox_finished(conn)
        assert (await inbox_row(conn, update_ids[0]))[:2] == ("done", 1)


async def test_an_unparseable_update_is_skipped_once_and_everyone_else_is_served(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    api = FakeBotAPI()
    async with running_bot(api, bot_settings(tmp_path, api.token)) as app:
        conn = app.bot_data.require().engine.conn
        alice, bob = Person(api, "Alice"), Person(api, "Bob")
        with caplog.at_level(logging.WARNING, logger="bot"), api.lock:
            # A message python-telegram-bot cannot read (its date is not a number).
            bad = api.push_update(
                "message",
                {"message_id": 1, "date": "soon", "chat": alice.chat.to_dict(), "text": "hi"},
            )
        assert bad is not None
        api.notify()
        assert len(await bob.start()) == 6  # the rest of the world is served
        await api.wait_until(lambda: not api.pending_updates(), what="everything confirmed")
        calls = len(api.calls_to("getUpdates"))
        await asyncio.sleep(1.0)
        # Long polling goes on quietly: no retry storm of the same batch.
        assert len(api.calls_to("getUpdates")) - calls <= 2
        state, _, error = await inbox_row(conn, bad["update_id"])
        assert (state, error) == ("skipped", "unparseable")
        skipped = [r for r in caplog.records if "cannot read" in r.getMessage()]
        assert len(skipped) == 1 and str(bad["update_id"]) in skipped[0].getMessage()
        assert (await alice.say("/help"))[0].text  # and Alice is served as ever


async def test_a_dropped_connection_runs_the_update_again_and_counts_its_votes_once(
    tmp_path: Path,
) -> None:
    api = FakeBotAPI()
    async with running_bot(api, bot_settings(tmp_path, api.token)) as app:
        conn = app.bot_data.require().engine.conn
        alice = Person(api)
        await alice.start()
        api.fail_next("sendMessage", code=502, chat=alice.chat)  # the progress note is lost
        sent = api.send_text(alice.chat, alice.user, "#2 7")
        (note,) = await alice.answers_after(sent)
        assert "1 of 4" in (note.text or "")  # the second run said it
        await api.wait_idle(quiet=0.3, timeout=30)
        assert len(api.bot_messages(alice.chat, after=sent.message_id)) == 1
        votes = await storage.votes_by_message(conn, alice.chat.id, sent.message_id)
        assert [v.value for v in votes] == [7.0]
        update_id = max(c.result[-1]["update_id"] for c in api.calls_to("getUpdates") if c.result)
        assert (await inbox_row(conn, update_id))[0] == "done"


async def test_a_reply_that_timed_out_but_arrived_is_not_an_error(tmp_path: Path) -> None:
    api = FakeBotAPI()
    async with running_bot(api, bot_settings(tmp_path, api.token), read_timeout=0.5):
        alice = Person(api)
        api.slow_next("sendMessage", delay=1.5, chat=alice.chat)  # Telegram is slow to answer
        sent = api.send_text(alice.chat, alice.user, "/help")
        (help_text,) = await alice.answers_after(sent)
        await asyncio.sleep(2.0)
        await api.wait_idle(quiet=0.3, timeout=30)
        answers = api.bot_messages(alice.chat, after=sent.message_id)
        assert [m.message_id for m in answers] == [help_text.message_id]  # no "went wrong"


async def test_updates_stored_before_a_stop_run_after_the_restart(tmp_path: Path) -> None:
    """A stored update the last process never finished (it stopped mid-way) runs at start;
    one that was being handled every time the bot died is skipped, with one log line."""
    api = FakeBotAPI()
    settings = bot_settings(tmp_path, api.token)
    alice, bob = Person(api, "Alice"), Person(api, "Bob")
    async with running_bot(api, settings):
        await alice.start()
    # Two updates arrived and were stored, then the process died: simulate its inbox rows.
    help_msg = api.send_text(alice.chat, alice.user, "/help")
    poison = api.send_text(bob.chat, bob.user, "/help")
    with api.lock:
        queued = list(api.updates)
        api.updates.clear()  # confirmed to Telegram: only the inbox has them now
    conn = await storage.connect(settings.db_path)
    await storage.receive_updates(
        conn,
        [storage.ReceivedUpdate(u["update_id"], None, json.dumps(u)) for u in queued],
    )
    poison_id = queued[1]["update_id"]
    await conn.execute(
        "UPDATE inbox SET attempts = ? WHERE update_id = ?", (CRASH_LIMIT, poison_id)
    )
    await conn.close()
    async with running_bot(api, settings) as app:
        (help_text,) = await alice.answers_after(help_msg)
        assert "/best" in (help_text.text or "")
        await api.wait_idle(quiet=0.3, timeout=30)
        assert api.bot_messages(bob.chat, after=poison.message_id) == []
        conn = app.bot_data.require().engine.conn
        state, attempts, error = await inbox_row(conn, poison_id)
        assert state == "skipped" and attempts == CRASH_LIMIT + 1 and "stopped" in (error or "")


async def test_a_replayed_update_is_applied_once(tmp_path: Path) -> None:
    """Updates finished in the database but re-run as if the process had died before marking
    them done: the vote is not cast into the next album, /undo takes back one vote, /start
    opens no second search."""
    api = FakeBotAPI()
    settings = bot_settings(tmp_path, api.token)
    alice = Person(api)
    async with running_bot(api, settings) as app:
        conn = app.bot_data.require().engine.conn
        await alice.start()
        await alice.say("#1 4")
        await alice.say("#2 5")
        undo = api.send_text(alice.chat, alice.user, "/undo")
        await alice.answers_after(undo)
        complete = api.send_text(alice.chat, alice.user, "#2 6 #3 7 #4 8")
        photos, prompt = album_of(await alice.answers_after(complete, 5))
        session = await storage.open_session(conn, alice.chat.id)
        first_round = await storage.round_before_message(conn, alice.chat.id, complete.message_id)
        assert session is not None and first_round is not None
        # As if the process had died before marking these three done: pending again.
        batches = [c.result for c in api.calls_to("getUpdates") if c.result]
        fetched = {u["message"]["message_id"]: u for batch in batches for u in batch}
        start = next(m for m in api.messages(alice.chat) if m.text == "/start")
        for message in (start, undo, complete):
            raw = fetched[message.message_id]
            await conn.execute(
                "UPDATE inbox SET state = 'pending', payload = ? WHERE update_id = ?",
                (json.dumps(raw), raw["update_id"]),
            )
    async with running_bot(api, settings) as app:
        conn = app.bot_data.require().engine.conn
        await wait_inbox_finished(conn)
        await api.wait_idle(quiet=0.5, timeout=30)
        again = await storage.open_session(conn, alice.chat.id)
        assert again is not None and again.id == session.id  # no second search
        new_round = await storage.open_round(conn, alice.chat.id)
        assert new_round is not None and new_round.message_ids == [p.message_id for p in photos]
        assert await storage.round_votes(conn, new_round.id) == []  # nothing cast into album 2
        values = sorted(v.value for v in await storage.round_votes(conn, first_round.id))
        assert values == [4.0, 6.0, 7.0, 8.0]  # the undo took back "#2 5" only, once
        quiet = api.bot_messages(alice.chat, after=prompt.message_id)
        assert all("closed" not in (m.text or "") for m in quiet)
