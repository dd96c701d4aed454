"""Faults a real Telegram shows that the bot must survive: a slow answer to a call that worked,
a download failing with an error that echoes its path, a forwarded message."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from telegram import Bot, InputMediaPhoto, Update
from telegram.error import BadRequest, TimedOut

from telegram_fake import FakeBotAPI, FakeRequest, serve_http
from tests.telegram_fake.test_api import png

pytestmark = pytest.mark.timeout(60)


async def test_a_slow_answer_times_the_client_out_but_the_album_was_sent() -> None:
    api = FakeBotAPI()
    chat = api.private_chat(api.user())
    async with Bot(api.token, request=FakeRequest(api, read_timeout=0.2)) as bot:
        slow = api.slow_next("sendMediaGroup", delay=1.0, chat=chat)
        media = [InputMediaPhoto(png((9 * i, 0, 0), 32)) for i in range(2)]
        with pytest.raises(TimedOut):
            await bot.send_media_group(chat.id, media)
        assert [m.caption for m in api.bot_messages(chat)] == [None, None]  # delivered anyway
        assert slow.hits == ["sendmediagroup"] and slow.times == 0
        # Only the next call was slow: the same album again is answered at once.
        again = await bot.send_media_group(chat.id, media)
        assert [m.message_id for m in again] == [3, 4]


async def test_a_slow_answer_over_http_still_delivers() -> None:
    api = FakeBotAPI()
    chat = api.private_chat(api.user())
    async with serve_http(api) as url:
        bot = Bot(api.token, base_url=f"{url}/bot", base_file_url=f"{url}/file/bot")
        async with bot:
            api.slow_next("sendMessage", delay=2.0)
            with pytest.raises(TimedOut):
                await bot.send_message(chat.id, "late", read_timeout=0.3)
            assert [m.text for m in api.bot_messages(chat)] == ["late"]


async def test_a_failed_download_can_echo_its_path_with_the_token() -> None:
    api = FakeBotAPI()
    alice = api.user()
    chat = api.private_chat(alice)
    sent = api.send_photo(chat, alice, png((1, 2, 3), 64))
    async with Bot(api.token, request=FakeRequest(api)) as bot:
        file = await bot.get_file(sent.file_id or "")
        api.fail_next("download", code=400, description="Bad Request: no file at {path}")
        with pytest.raises(BadRequest) as failed:
            await file.download_as_bytearray()
        assert quote(api.token, safe="") in str(failed.value)  # the server echoed it
        assert bytes(await file.download_as_bytearray()) == api.file_bytes(sent.file_id or "")
        api.fail_next(code=400)  # an injection for any *method* leaves downloads alone
        assert bytes(await file.download_as_bytearray()) == api.file_bytes(sent.file_id or "")


async def test_a_forwarded_message_names_its_first_sender() -> None:
    api = FakeBotAPI()
    alice, bob = api.user(first_name="Alice"), api.user(first_name="Bob")
    said = api.send_text(api.private_chat(bob), bob, "8 3 5 6")
    forwarded = api.forward(api.private_chat(alice), alice, said)
    with api.lock:
        update = dict(api.updates[-1])
    async with Bot(api.token, request=FakeRequest(api)) as bot:
        message = Update.de_json(update, bot).message
    assert message is not None and message.text == "8 3 5 6"
    assert message.from_user is not None and message.from_user.id == alice.id
    assert message.forward_origin is not None
    assert message.forward_origin.sender_user.id == bob.id  # type: ignore[attr-defined]
    assert forwarded.message_id == message.message_id
