"""Scripted conversations: the real Application against the in-process fake Bot API."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image

import storage
from bot.ratings import RatingScale
from telegram_fake import FakeBotAPI
from tests.botkit import WAIT, Person, album_of, bot_settings, image_size, running_bot


def bomb_png() -> bytes:
    """A 10 KB PNG that would unpack to 81 megapixels (a decompression bomb)."""
    out = io.BytesIO()
    Image.new("1", (9000, 9000), 0).save(out, format="PNG")
    return out.getvalue()


async def test_start_sends_greeting_album_and_prompt(tmp_path: Path) -> None:
    api = FakeBotAPI()
    async with running_bot(api, bot_settings(tmp_path, api.token)):
        alice = Person(api, "Alice")
        greeting, *rest = await alice.start()
        assert greeting.kind == "text" and "Alice" in (greeting.text or "")
        photos, prompt = album_of(rest)
        assert [m.caption for m in photos] == ["#1", "#2", "#3", "#4"]
        assert len({m.media_group_id for m in photos}) == 1
        assert prompt.message_id == photos[-1].message_id + 1
        assert "1-10" in (prompt.text or "")
        assert [data for _text, data in prompt.buttons] == ["next", "best", "undo"]
        pictures = [api.file_bytes(m.file_id or "") for m in photos]
        assert all(image_size(p)[0] >= 256 for p in pictures)
        assert len(set(pictures)) == 4  # four different faces
        # "sending a photo..." was shown while the album was made.
        assert (alice.chat.id, "upload_photo") in api.chat_actions
        # Commands were registered in both languages.
        assert "best" in api.commands_for(language_code="ru")
        assert "morph" in api.commands_for()


async def test_bad_input_gets_friendly_answers_and_never_breaks_the_round(
    tmp_path: Path,
) -> None:
    api = FakeBotAPI()
    async with running_bot(api, bot_settings(tmp_path, api.token)):
        alice = Person(api)
        await alice.start()
        (unreadable,) = await alice.say("what a lovely day")
        assert "8 3 5 6" in (unreadable.text or "")  # an example of what works
        (unknown,) = await alice.say("/frobnicate")
        assert "/help" in (unknown.text or "")
        (out_of_range,) = await alice.say("#2 42")
        assert "42" in (out_of_range.text or "") and "1 to 10" in (out_of_range.text or "")
        sticker = api.send_sticker(alice.chat, alice.user)
        (about_sticker,) = await alice.answers_after(sticker)
        assert about_sticker.kind == "text" and "sticker" in (about_sticker.text or "").lower()
        voice = api.send_voice(alice.chat, alice.user)
        (about_voice,) = await alice.answers_after(voice)
        assert "voice" in (about_voice.text or "").lower()
        doc = api.send_document(
            alice.chat,
            alice.user,
            b"%PDF-1.4 not a face",
            file_name="cv.pdf",
            mime_type="application/pdf",
        )
        (about_doc,) = await alice.answers_after(doc)
        assert "picture" in (about_doc.text or "").lower()
        garbage = api.send_document(
            alice.chat,
            alice.user,
            b"\x89PNG\r\n\x1a\n" + b"\x00" * 300,
            file_name="face.png",
            mime_type="image/png",
        )
        (about_garbage,) = await alice.answers_after(garbage)
        assert "isn't a picture I can read" in (about_garbage.text or "")
        bomb = api.send_document(
            alice.chat, alice.user, bomb_png(), file_name="bomb.png", mime_type="image/png"
        )
        (about_bomb,) = await alice.answers_after(bomb)
        assert "too large to unpack" in (about_bomb.text or "")
        huge = api.send_document(
            alice.chat,
            alice.user,
            b"\x00" * (21 * 2**20),
            file_name="huge.png",
            mime_type="image/png",
        )
        (about_huge,) = await alice.answers_after(huge)
        assert "too large" in (about_huge.text or "")
        assert not [c for c in api.calls_to("getFile") if c.params.get("file_id") == huge.file_id]
        # None of that touched the album: a full rating still brings the next one.
        photos, _prompt = album_of(await alice.rate_all("8 3 5 6"))
        assert len(photos) == 4


async def test_ratings_replies_edits_and_next_album(tmp_path: Path) -> None:
    api = FakeBotAPI()
    async with running_bot(api, bot_settings(tmp_path, api.token)) as app:
        conn = app.bot_data.require().engine.conn
        alice = Person(api)
        first, prompt = album_of((await alice.start())[1:])
        (progress,) = await alice.say("9", reply_to=first[2].message_id)
        assert "1 of 4" in (progress.text or "") and "#1, #2, #4" in (progress.text or "")
        sent = api.send_text(alice.chat, alice.user, "#2 4")
        (progress,) = await alice.answers_after(sent)
        assert "2 of 4" in (progress.text or "")
        # Editing "#2 4" into "#2 7" replaces that vote.
        api.edit_text(alice.chat, sent.message_id, "#2 7")
        await api.wait_until(
            lambda: len(api.bot_messages(alice.chat, after=progress.message_id)) >= 1
        )
        (vote,) = await storage.votes_by_message(conn, alice.chat.id, sent.message_id)
        assert vote.value == 7.0
        # A reply to the prompt with the two missing faces completes the album.
        second, _ = album_of(await alice.say("1:8 4:2", 5, reply_to=prompt.message_id))
        assert [m.caption for m in second] == ["#1", "#2", "#3", "#4"]
        assert second[0].media_group_id != first[0].media_group_id
        old = {api.file_bytes(m.file_id or "") for m in first}
        new = {api.file_bytes(m.file_id or "") for m in second}
        assert not old & new  # the next album shows new faces
        # Rating the closed album by replying to its photo is refused gently.
        (closed,) = await alice.say("5", reply_to=first[0].message_id)
        assert "closed" in (closed.text or "")
        session = await storage.open_session(conn, alice.chat.id)
        assert session is not None
        history = await storage.session_history(conn, session.id)
        assert len(history) == 8 and len(history.votes) == 4


async def test_best_history_morph_undo_and_next_button(tmp_path: Path) -> None:
    api = FakeBotAPI()
    async with running_bot(api, bot_settings(tmp_path, api.token)):
        alice = Person(api)
        (nothing,) = await alice.say("/best")
        assert "Nothing is rated" in (nothing.text or "")
        await alice.start()
        await alice.rate_all("2 9 4 6")
        (best,) = await alice.say("/best")
        assert best.kind == "photo" and "round 1" in (best.caption or "")
        assert min(image_size(api.file_bytes(best.file_id or ""))) >= 256
        (grid,) = await alice.say("/history")
        assert grid.kind == "photo"
        (morph,) = await alice.say("/morph")
        assert morph.kind == "animation"
        assert api.file_bytes(morph.file_id or "").startswith(b"GIF8")
        (progress,) = await alice.say("#3 7")
        assert "1 of 4" in (progress.text or "")
        (undone,) = await alice.say("/undo")
        assert "7" in (undone.text or "") and "#3" in (undone.text or "")
        (nothing_left,) = await alice.say("/undo")
        assert "Nothing to undo" in (nothing_left.text or "")
        # "Next album" with no rating in this album asks for one first ...
        prompt = [m for m in api.bot_messages(alice.chat) if m.buttons][-1]
        last = api.bot_messages(alice.chat)[-1].message_id
        query = api.press_button(alice.chat, alice.user, prompt.message_id, "next")
        (first_rate,) = await api.wait_for_messages(alice.chat, 1, after=last)
        assert "Rate at least one face" in (first_rate.text or "")
        assert api.callback_answer(query) is not None
        await alice.say("#1 5")
        last = api.bot_messages(alice.chat)[-1].message_id
        api.press_button(alice.chat, alice.user, prompt.message_id, "next")
        third, _ = album_of(await api.wait_for_messages(alice.chat, 5, after=last, timeout=60))
        assert len(third) == 4


async def test_photo_upload_goes_into_the_next_album(tmp_path: Path) -> None:
    api = FakeBotAPI()
    async with running_bot(api, bot_settings(tmp_path, api.token)) as app:
        conn = app.bot_data.require().engine.conn
        alice = Person(api)
        first, _ = album_of((await alice.start())[1:])
        face = api.file_bytes(first[1].file_id or "")
        upload = api.send_photo(alice.chat, alice.user, face)
        (queued,) = await alice.answers_after(upload)
        assert "next album" in (queued.text or "")
        photos, _ = album_of(await alice.rate_all("3 9 4 5"))
        assert len(photos) == 4
        round_ = await storage.open_round(conn, alice.chat.id)
        assert round_ is not None
        sources = [f.source for f in round_.faces]
        assert sources.count("upload") == 1
        uploaded = round_.faces[sources.index("upload")]
        # The encoded face is close to face #2 of the first album, far from a random face.
        first_round = await storage.session_history(conn, round_.session_id)
        dist = np.linalg.norm(first_round.latents[:4] - uploaded.latent, axis=1)
        assert int(np.argmin(dist)) == 1


async def test_language_switch(tmp_path: Path) -> None:
    api = FakeBotAPI()
    async with running_bot(api, bot_settings(tmp_path, api.token)):
        boris = Person(api, "Boris", language="ru")
        greeting = (await boris.start())[0]
        assert "Привет" in (greeting.text or "")
        (switched,) = await boris.say("/lang en")
        assert "English" in (switched.text or "")
        (helped,) = await boris.say("/help")
        assert "ratings" in (helped.text or "")


async def test_restart_mid_round_continues_the_same_search(tmp_path: Path) -> None:
    api = FakeBotAPI()
    settings = bot_settings(tmp_path, api.token)
    alice = Person(api)
    async with running_bot(api, settings) as app:
        first, _ = album_of((await alice.start())[1:])
        await alice.say("#1 8")
        upload = api.send_photo(alice.chat, alice.user, api.file_bytes(first[3].file_id or ""))
        await alice.answers_after(upload)  # queued for the next album
        conn = app.bot_data.require().engine.conn
        before = await storage.open_session(conn, alice.chat.id)
    assert before is not None
    async with running_bot(api, settings) as app:
        photos, _ = album_of(await alice.rate_all("#2 3 #3 5 #4 6"))
        assert len(photos) == 4
        conn = app.bot_data.require().engine.conn
        after = await storage.open_session(conn, alice.chat.id)
        assert after is not None and after.id == before.id
        history = await storage.session_history(conn, after.id)
        assert len(history) == 8
        assert sorted(v for _i, _u, v in history.votes) == [3.0, 5.0, 6.0, 8.0]
        assert history.sources[4:].count("upload") == 1  # the queued upload survived too


async def test_forbidden_marks_the_chat_inactive(tmp_path: Path) -> None:
    api = FakeBotAPI()
    async with running_bot(api, bot_settings(tmp_path, api.token)) as app:
        conn = app.bot_data.require().engine.conn
        alice = Person(api)
        await alice.start()
        injection = api.fail_next("sendMessage", code=403, chat=alice.chat)
        sent = api.send_text(alice.chat, alice.user, "/help")

        async def inactive() -> bool:
            chat = await storage.get_chat(conn, alice.chat.id)
            return chat is not None and not chat.active

        await api.wait_idle(quiet=0.3, timeout=30)
        assert injection.hits == ["sendmessage"]
        assert await inactive()
        assert api.bot_messages(alice.chat, after=sent.message_id) == []


async def test_rate_limited_message_is_delivered_after_retry(tmp_path: Path) -> None:
    api = FakeBotAPI()
    async with running_bot(api, bot_settings(tmp_path, api.token)):
        alice = Person(api)
        injection = api.fail_next("sendMediaGroup", code=429, retry_after=1)
        messages = await alice.start()
        photos, _ = album_of(messages[1:])
        assert len(photos) == 4
        assert injection.hits == ["sendmediagroup"]
        assert len(api.calls_to("sendMediaGroup")) == 2


async def test_group_rates_by_replying_to_the_prompt(tmp_path: Path) -> None:
    api = FakeBotAPI()
    async with running_bot(api, bot_settings(tmp_path, api.token)):
        alice = api.user(first_name="Alice")
        bob = api.user(first_name="Bob")
        group = api.group("Friends", [alice, bob])
        start = api.send_text(group, alice, "/start")  # greeting, album, poll, tally prompt
        first, prompt = album_of(await api.wait_for_messages(group, 7, after=start.message_id))
        # Privacy mode: bare chatter never reaches the bot; a reply to its prompt does. Both
        # members' votes make the quorum (everyone but the bot in a group of two).
        api.send_text(group, bob, "nice faces lol")
        api.send_text(group, bob, "8 3 5 6", reply_to=prompt.message_id)
        rated = api.send_text(group, alice, "#2 9", reply_to=prompt.message_id)
        second, _ = album_of(await api.wait_for_messages(group, 6, after=rated.message_id))
        assert len(second) == 4 and second[0].media_group_id != first[0].media_group_id


async def test_group_photos_count_only_as_replies_to_the_bot(tmp_path: Path) -> None:
    api = FakeBotAPI()
    async with running_bot(api, bot_settings(tmp_path, api.token)):
        alice = api.user(first_name="Alice")
        bob = api.user(first_name="Bob")
        group = api.group("Friends", [alice, bob], bot_admin=True)  # the bot sees everything
        start = api.send_text(group, alice, "/start")
        first, prompt = album_of(await api.wait_for_messages(group, 7, after=start.message_id))
        face = api.file_bytes(first[0].file_id or "")
        holiday = api.send_photo(group, bob, face)  # people sharing pictures with each other
        await api.wait_idle(quiet=0.3, timeout=WAIT)
        assert api.bot_messages(group, after=holiday.message_id) == []
        upload = api.send_photo(group, bob, face, reply_to=prompt.message_id)
        (queued,) = await api.wait_for_messages(group, 1, after=upload.message_id)
        assert "next album" in (queued.text or "")


async def test_bare_group_messages_get_no_answer(tmp_path: Path) -> None:
    api = FakeBotAPI()
    async with running_bot(api, bot_settings(tmp_path, api.token)):
        alice = api.user(first_name="Alice")
        bob = api.user(first_name="Bob")
        # An admin bot sees every message of the group, so silence is the bot's own choice.
        group = api.group("Friends", [alice, bob], bot_admin=True)
        await api.wait_idle(quiet=0.3, timeout=WAIT)
        chatter = [
            api.send_text(group, bob, "hello everyone"),  # no search yet
            api.send_text(group, bob, "/weather"),  # another bot's command
            api.send_sticker(group, bob),
        ]
        await api.wait_idle(quiet=0.3, timeout=WAIT)
        assert api.pending_updates() == 0  # the bot received them all
        assert api.bot_messages(group, after=chatter[0].message_id) == []
        start = api.send_text(group, alice, "/start")
        _, prompt = album_of(await api.wait_for_messages(group, 7, after=start.message_id))
        talk = api.send_text(group, bob, "nice faces lol")  # unreadable, and not to the bot
        await api.wait_idle(quiet=0.3, timeout=WAIT)
        assert api.bot_messages(group, after=talk.message_id) == []
        # The same words in reply to the bot are meant for it: they get an answer.
        asked = api.send_text(group, bob, "nice faces lol", reply_to=prompt.message_id)
        (answer,) = await api.wait_for_messages(group, 1, after=asked.message_id)
        assert "8 3 5 6" in (answer.text or "")


async def test_album_size_and_rating_scale_follow_the_settings(tmp_path: Path) -> None:
    api = FakeBotAPI()
    settings = bot_settings(tmp_path, api.token, album_size=3, rating_scale=RatingScale(1, 5))
    async with running_bot(api, settings):
        alice = Person(api)
        photos, prompt = album_of((await alice.say("/start", 5))[1:])
        assert [m.caption for m in photos] == ["#1", "#2", "#3"]
        assert "1-5" in (prompt.text or "")
        (refused,) = await alice.say("#2 7")
        assert "1 to 5" in (refused.text or "")
        second, _ = album_of(await alice.say("5 ⭐⭐ 🔥", 4))
        assert len(second) == 3
