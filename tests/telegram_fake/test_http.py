"""The fake Bot API over real HTTP: PTB's own httpx transport, raw requests, a bot subprocess."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator

import httpx
import pytest
from PIL import Image
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputMediaPhoto, Update
from telegram.error import InvalidToken, NetworkError
from telegram.ext import Application, ContextTypes, MessageHandler, filters

from telegram_fake import FakeBotAPI, ServerThread, serve_http

pytestmark = pytest.mark.timeout(60)


def png(color: tuple[int, int, int], size: int = 128) -> bytes:
    """A small in-memory PNG of one colour."""
    out = io.BytesIO()
    Image.new("RGB", (size, size), color).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def api() -> FakeBotAPI:
    return FakeBotAPI()


@pytest.fixture
async def url(api: FakeBotAPI) -> AsyncIterator[str]:
    async with serve_http(api) as base:
        yield base


def http_bot(api: FakeBotAPI, url: str, token: str | None = None) -> Bot:
    return Bot(token or api.token, base_url=f"{url}/bot", base_file_url=f"{url}/file/bot")


async def test_bot_over_http_album_and_downloads(api: FakeBotAPI, url: str) -> None:
    chat = api.private_chat(api.user())
    images = [png((50 * i, 100, 0)) for i in range(4)]
    async with http_bot(api, url) as bot:
        assert (await bot.get_me()).username == api.username
        album = await bot.send_media_group(chat.id, [InputMediaPhoto(i) for i in images])
        assert [m.message_id for m in album] == [1, 2, 3, 4]
        assert len({m.media_group_id for m in album}) == 1
        for message, image in zip(album, images, strict=True):
            file = await bot.get_file(message.photo[-1].file_id)
            assert bytes(await file.download_as_bytearray()) == image
    with pytest.raises(InvalidToken):
        async with http_bot(api, url, token="123456789:not-the-token"):
            pass


async def test_raw_requests_like_telegram(api: FakeBotAPI, url: str) -> None:
    chat = api.private_chat(api.user())
    async with httpx.AsyncClient(base_url=url) as client:
        missing = await client.post(f"/bot{api.token}/sendNothing")
        assert missing.status_code == 404
        assert missing.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
        wrong = await client.get("/bot1:bad/getMe")
        assert wrong.status_code == 401 and wrong.json()["description"] == "Unauthorized"
        form = await client.post(
            f"/bot{api.token}/sendMessage", data={"chat_id": str(chat.id), "text": "42"}
        )
        assert form.json()["result"]["text"] == "42"  # a numeric-looking text stays a string
        as_json = await client.post(
            f"/bot{api.token}/sendMessage", json={"chat_id": chat.id, "text": "x" * 5000}
        )
        assert as_json.status_code == 400
        assert as_json.json() == {
            "ok": False,
            "error_code": 400,
            "description": "Bad Request: message is too long",
        }
        query = await client.get(f"/bot{api.token}/getChat", params={"chat_id": chat.id})
        assert query.json()["result"]["type"] == "private"
        photo = await client.post(
            f"/bot{api.token}/sendPhoto",
            data={"chat_id": str(chat.id), "caption": "#1"},
            files={"photo": ("face.png", png((9, 9, 9)), "image/png")},
        )
        path = (
            await client.get(
                f"/bot{api.token}/getFile",
                params={"file_id": photo.json()["result"]["photo"][-1]["file_id"]},
            )
        ).json()["result"]
        download = await client.get(f"/file/bot{api.token}/{path['file_path']}")
        assert download.content == png((9, 9, 9))
        assert (await client.get(f"/file/bot{api.token}/photos/none.jpg")).status_code == 404


async def test_server_errors_surface_as_network_errors(api: FakeBotAPI, url: str) -> None:
    chat = api.private_chat(api.user())
    api.fail_next("sendMessage", code=502)
    api.fail_next("sendMessage", code=500)
    async with http_bot(api, url) as bot:
        with pytest.raises(NetworkError, match="Bad Gateway"):
            await bot.send_message(chat.id, "a")
        with pytest.raises(NetworkError, match="Internal Server Error"):
            await bot.send_message(chat.id, "b")
        assert (await bot.send_message(chat.id, "c")).message_id == 1


async def test_application_polls_over_http(api: FakeBotAPI, url: str) -> None:
    async def shout(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        await update.message.reply_text((update.message.text or "").upper())

    app = (
        Application.builder()
        .token(api.token)
        .base_url(f"{url}/bot")
        .base_file_url(f"{url}/file/bot")
        .build()
    )
    app.add_handler(MessageHandler(filters.TEXT, shout))
    alice = api.user()
    chat = api.private_chat(alice)
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=2)
        sent = api.send_text(chat, alice, "hello")
        reply = await api.wait_for_message(chat, after=sent.message_id, timeout=10)
        await app.updater.stop()
        await app.stop()
    assert reply.text == "HELLO"


_ECHO_BOT = """
import os
from telegram.ext import Application, MessageHandler, filters

async def echo(update, context):
    await update.message.reply_text("echo: " + update.message.text)

url = os.environ["FAKE_URL"]
app = (Application.builder().token(os.environ["FAKE_TOKEN"]).base_url(url + "/bot")
       .base_file_url(url + "/file/bot").build())
app.add_handler(MessageHandler(filters.TEXT, echo))
app.run_polling(poll_interval=0, timeout=2)
"""


async def test_bot_subprocess_against_server_thread(api: FakeBotAPI) -> None:
    alice = api.user()
    chat = api.private_chat(alice)
    with ServerThread(api) as base:
        env = {**os.environ, "FAKE_URL": base, "FAKE_TOKEN": api.token}
        proc = subprocess.Popen([sys.executable, "-c", _ECHO_BOT], env=env)
        try:
            sent = api.send_text(chat, alice, "ping")
            reply = await api.wait_for_message(chat, after=sent.message_id, timeout=30)
        finally:
            proc.terminate()
            proc.wait(15)
    assert reply.text == "echo: ping"


def test_module_entry_serves_get_me() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "telegram_fake", "--port", "0", "--token", "42:secret"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        base = first.split("listening on ")[1].strip()
        response = httpx.get(f"{base}/bot42:secret/getMe", timeout=5)
        assert response.json()["result"]["id"] == 42
        page = httpx.get(f"{base}/", timeout=5)
        assert page.status_code == 200 and "<html" in page.text.lower()
        assert json.loads(httpx.get(f"{base}/bot42:other/getMe").text)["error_code"] == 401
    finally:
        proc.terminate()
        proc.wait(10)


async def test_web_ui_chat(api: FakeBotAPI) -> None:
    async with serve_http(api, web_ui=True) as base, httpx.AsyncClient(base_url=base) as client:
        assert "<html" in (await client.get("/")).text.lower()
        sent = await client.post("/ui/send", json={"text": "/start", "language": "ru"})
        assert sent.status_code == 200
        user = api.users[10_001]
        assert user.language_code == "ru"
        async with http_bot(api, base) as bot:
            updates = await bot.get_updates()
            assert updates[0].message is not None and updates[0].message.text == "/start"
            await bot.send_photo(user.id, png((5, 6, 7), 32), caption="#1")
            keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Next", callback_data="next")]])
            await bot.send_message(user.id, "Rate", reply_markup=keyboard)
        state = (await client.get("/ui/messages")).json()
        assert [m.get("text", m.get("caption")) for m in state["messages"]] == [
            "/start",
            "#1",
            "Rate",
        ]
        file_id = state["messages"][1]["photo"][-1]["file_id"]
        assert (await client.get(f"/ui/file/{file_id}")).content == png((5, 6, 7), 32)
        pressed = await client.post("/ui/press", json={"message_id": 3, "data": "next"})
        assert pressed.json()["query_id"] in api.callback_queries
        upload = await client.post("/ui/photo", files={"photo": ("me.png", png((1, 1, 1), 40))})
        assert upload.status_code == 200 and api.messages(user.id)[-1].kind == "photo"
        refused = await client.post("/ui/photo", files={"photo": ("x.png", b"not an image")})
        assert refused.status_code == 400


async def test_web_ui_acts_as_several_members_of_one_group(api: FakeBotAPI) -> None:
    async with serve_http(api, web_ui=True) as base, httpx.AsyncClient(base_url=base) as client:
        as_bob: dict[str, str | int] = {"chat": "group", "member": 10_002}
        sent = await client.post("/ui/send", json={"text": "/start", **as_bob})
        assert sent.status_code == 200
        group = next(c for c in api.chats.values() if c.type == "group")
        bob = api.users[10_002]
        assert api.messages(group)[-1].from_id == bob.id and len(group.members) == 4
        async with http_bot(api, base) as bot:
            poll = await bot.send_poll(group.id, "Closest?", ["#1", "#2"], is_anonymous=False)
            voted = await client.post(
                "/ui/vote", json={"message_id": poll.message_id, "options": [1], **as_bob}
            )
            assert voted.status_code == 200
            updates = await bot.get_updates()
            answer = next(u.poll_answer for u in updates if u.poll_answer is not None)
            assert answer.user is not None and answer.user.id == bob.id
            assert answer.option_ids == (1,)
        seen = (await client.get("/ui/messages", params=as_bob)).json()
        assert seen["user_id"] == bob.id and seen["choices"] == {poll.poll.id: [1]}  # type: ignore[union-attr]
        assert [m["name"] for m in seen["members"]] == ["You", "Bob", "Cid", "Dee"]
        as_cid = {"chat": "group", "member": "10003"}
        cid_view = (await client.get("/ui/messages", params=as_cid)).json()
        assert cid_view["choices"] == {poll.poll.id: []}  # type: ignore[union-attr]
        stranger = await client.post("/ui/send", json={"text": "hi", "chat": "group", "member": 1})
        assert stranger.status_code == 400
        private = (await client.get("/ui/messages")).json()
        assert private["user_id"] == 10_001 and private["messages"] == []
