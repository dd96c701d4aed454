"""What a message rates: the album the person saw, never a later one; forwarded ratings are
someone else's; a file is judged by its bytes, not its declared type."""

from __future__ import annotations

from pathlib import Path

import storage
from telegram_fake import FakeBotAPI
from tests.botkit import Person, album_of, bot_settings, chat_lock, running_bot

ASTRONAUT = Path(__file__).resolve().parents[1] / "data" / "astronaut.jpg"


async def test_a_rating_typed_before_the_next_album_arrived_rates_the_one_seen(
    tmp_path: Path,
) -> None:
    api = FakeBotAPI()
    async with running_bot(api, bot_settings(tmp_path, api.token)) as app:
        conn = app.bot_data.require().engine.conn
        alice = Person(api)
        await alice.start()
        first = await storage.open_round(conn, alice.chat.id)
        assert first is not None
        # "8 3 5 6" then, 50 ms later and before album 2 exists, "8 3 5 7".
        async with chat_lock(app, alice.chat.id):
            api.send_text(alice.chat, alice.user, "8 3 5 6")
            typo_fix = api.send_text(alice.chat, alice.user, "8 3 5 7")
        answers = await alice.answers_after(typo_fix, 6)
        photos, _ = album_of(answers)
        note = next(m for m in answers if m.kind == "text" and not m.buttons)
        assert "closed" in (note.text or "") and note.message_id > photos[-1].message_id
        second = await storage.open_round(conn, alice.chat.id)
        assert second is not None and second.id != first.id
        assert await storage.round_votes(conn, second.id) == []  # album 2 is untouched
        firsts = sorted(v.value for v in await storage.round_votes(conn, first.id))
        assert firsts == [3.0, 5.0, 6.0, 8.0]


async def test_a_rating_typed_before_the_first_album_is_told_to_rate_it(tmp_path: Path) -> None:
    api = FakeBotAPI()
    async with running_bot(api, bot_settings(tmp_path, api.token)) as app:
        alice = Person(api)
        async with chat_lock(app, alice.chat.id):
            start = api.send_text(alice.chat, alice.user, "/start")
            early = api.send_text(alice.chat, alice.user, "8 3 5 6")
        answers = await alice.answers_after(start, 7)
        assert answers[-1].message_id > early.message_id
        assert "came before the album" in (answers[-1].text or "")
        round_ = await storage.open_round(app.bot_data.require().engine.conn, alice.chat.id)
        assert round_ is not None
        assert await storage.round_votes(app.bot_data.require().engine.conn, round_.id) == []


async def test_a_forwarded_rating_is_refused_politely(tmp_path: Path) -> None:
    api = FakeBotAPI()
    async with running_bot(api, bot_settings(tmp_path, api.token)) as app:
        conn = app.bot_data.require().engine.conn
        alice, bob = Person(api, "Alice"), Person(api, "Bob")
        await alice.start()
        await bob.start()
        said = api.send_text(bob.chat, bob.user, "#1 2")  # Bob's rating in his own chat
        await bob.answers_after(said)
        forwarded = api.forward(alice.chat, alice.user, said)
        (note,) = await alice.answers_after(forwarded)
        assert "forwarded" in (note.text or "") and "8 3 5 6" in (note.text or "")
        round_ = await storage.open_round(conn, alice.chat.id)
        assert round_ is not None and await storage.round_votes(conn, round_.id) == []


async def test_a_jpeg_sent_as_an_unknown_file_type_is_a_picture(tmp_path: Path) -> None:
    api = FakeBotAPI()
    async with running_bot(api, bot_settings(tmp_path, api.token)):
        alice = Person(api)
        await alice.start()
        sent = api.send_document(
            alice.chat,
            alice.user,
            ASTRONAUT.read_bytes(),
            file_name="IMG_0001",
            mime_type="application/octet-stream",
        )
        (answer,) = await alice.answers_after(sent)
        assert "next album" in (answer.text or "")
        photos, _ = album_of(await alice.rate_all())
        assert len(photos) == 4
