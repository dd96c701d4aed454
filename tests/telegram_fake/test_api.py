"""The fake Bot API driven by the real python-telegram-bot, in-process (FakeRequest)."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import pytest
from PIL import Image
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaPhoto,
    Message,
    TelegramObject,
    Update,
)
from telegram.error import BadRequest, ChatMigrated, Forbidden, InvalidToken, RetryAfter, TimedOut
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from telegram_fake import FakeBotAPI, FakeRequest, Msg, fake_application_builder, polling

pytestmark = pytest.mark.timeout(30)


def png(color: tuple[int, int, int], size: int = 256) -> bytes:
    """A small in-memory PNG of one colour."""
    out = io.BytesIO()
    Image.new("RGB", (size, size), color).save(out, format="PNG")
    return out.getvalue()


def seconds(value: int | timedelta) -> float:
    """RetryAfter.retry_after is an int or a timedelta depending on PTB settings."""
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


@pytest.fixture
def api() -> FakeBotAPI:
    return FakeBotAPI()


@pytest.fixture
async def bot(api: FakeBotAPI) -> AsyncIterator[Bot]:
    fake = FakeRequest(api)
    async with Bot(api.token, request=fake, get_updates_request=FakeRequest(api)) as real_bot:
        yield real_bot


Handlers = list[Any]


@pytest.fixture
def run_app(api: FakeBotAPI) -> Callable[[Handlers], Any]:
    """Start a polling Application with the given handlers against the fake."""

    def factory(handlers: Handlers) -> Any:
        app = fake_application_builder(api).build()
        for handler in handlers:
            app.add_handler(handler)
        return polling(app)

    return factory


async def test_get_me_and_token_check(api: FakeBotAPI, bot: Bot) -> None:
    me = await bot.get_me()
    assert me.is_bot and me.username == "fotorobot_test_bot" and me.id == 123456789
    with pytest.raises(InvalidToken, match="rejected by the server"):
        async with Bot("123456789:wrong-secret", request=FakeRequest(api)):
            pass
    status, body = await api.handle(api.token, "noSuchMethod", {})
    assert (status, body) == (404, b'{"ok": false, "error_code": 404, "description": "Not Found"}')
    status, _ = await api.handle(api.token, "GETME", {})  # method names are case-insensitive
    assert status == 200


async def test_user_command_reaches_handler_and_reply_is_seen(
    api: FakeBotAPI, run_app: Callable[[Handlers], Any]
) -> None:
    seen: list[tuple[str, list[str]]] = []

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.effective_user is not None
        seen.append((update.message.text or "", list(context.args or [])))
        await update.message.reply_text(f"hi {update.effective_user.first_name}")

    alice = api.user(first_name="Alice", language_code="ru")
    chat = api.private_chat(alice)
    async with run_app([CommandHandler("start", start)]):
        sent = api.send_text(chat, alice, "/start hello")
        assert sent.entities == [{"type": "bot_command", "offset": 0, "length": 6}]
        reply = await api.wait_for_message(chat, after=sent.message_id, timeout=5)
    assert seen == [("/start hello", ["hello"])]
    assert reply.text == "hi Alice" and reply.message_id == sent.message_id + 1
    assert [c.method for c in api.calls][:2] == ["getMe", "deleteWebhook"]
    assert api.pending_updates() == 0  # the final getUpdates confirmed it


async def test_media_group_of_four_photos(api: FakeBotAPI, bot: Bot) -> None:
    alice = api.user()
    chat = api.private_chat(alice)
    api.send_text(chat, alice, "/start")
    images = [png((60 * i, 10, 200 - 40 * i)) for i in range(4)]
    media = [InputMediaPhoto(img, caption=f"#{i + 1}") for i, img in enumerate(images)]
    messages = await bot.send_media_group(chat.id, media)
    ids = [m.message_id for m in messages]
    assert ids == [2, 3, 4, 5]
    assert len({m.media_group_id for m in messages}) == 1 and messages[0].media_group_id
    assert [m.caption for m in messages] == ["#1", "#2", "#3", "#4"]
    for message, image in zip(messages, images, strict=True):
        sizes = message.photo
        assert [(s.width, s.height) for s in sizes] == [(90, 90), (256, 256)]
        file = await bot.get_file(sizes[-1].file_id)
        assert bytes(await file.download_as_bytearray()) == image
        thumb = await (await bot.get_file(sizes[0].file_id)).download_as_bytearray()
        with Image.open(io.BytesIO(bytes(thumb))) as small:
            assert small.size == (90, 90)
    stored = api.bot_messages(chat)
    assert [m.message_id for m in stored] == ids and all(m.kind == "photo" for m in stored)
    assert api.file_bytes(stored[2].file_id or "") == images[2]
    # A file_id is reusable: the same photo sent again needs no upload.
    again = await bot.send_photo(chat.id, messages[0].photo[-1].file_id, caption="again")
    assert again.photo[-1].file_id == messages[0].photo[-1].file_id and again.message_id == 6


async def test_reply_to_message_both_ways(
    api: FakeBotAPI, run_app: Callable[[Handlers], Any]
) -> None:
    replies: list[int | None] = []

    async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        replied = update.message.reply_to_message
        replies.append(replied.message_id if replied else None)
        await update.message.reply_text("noted", do_quote=True)

    alice = api.user()
    chat = api.private_chat(alice)
    async with run_app([MessageHandler(filters.TEXT & ~filters.COMMAND, on_text)]):
        async with Bot(api.token, request=FakeRequest(api)) as bot:
            photo = await bot.send_photo(chat.id, png((1, 2, 3)), caption="#1")
        answer = api.send_text(chat, alice, "9", reply_to=photo.message_id)
        assert answer.reply_to == photo.message_id
        noted = await api.wait_for_message(chat, after=answer.message_id)
    assert replies == [photo.message_id]
    assert noted.reply_to == answer.message_id
    assert "reply_to_message" not in noted.raw["reply_to_message"]  # embedded one level deep


async def test_edited_message_and_callback_query(
    api: FakeBotAPI, run_app: Callable[[Handlers], Any]
) -> None:
    edits: list[str] = []

    async def on_edit(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.edited_message is not None
        edits.append(update.edited_message.text or "")

    async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None and query.message is not None
        await query.answer(f"got {query.data}")
        await query.edit_message_text("pressed")

    alice = api.user()
    chat = api.private_chat(alice)
    handlers = [
        MessageHandler(filters.UpdateType.EDITED_MESSAGE, on_edit),
        CallbackQueryHandler(on_button),
    ]
    async with run_app(handlers):
        first = api.send_text(chat, alice, "8 3 5 6")
        api.edit_text(chat, first.message_id, "8 3 5 7")
        await api.wait_until(lambda: edits, timeout=5)
        async with Bot(api.token, request=FakeRequest(api)) as bot:
            keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Next", callback_data="next")]])
            prompt = await bot.send_message(chat.id, "Rate them", reply_markup=keyboard)
        assert api.bot_messages(chat)[-1].buttons == [("Next", "next")]
        query_id = api.press_button(chat, alice, prompt.message_id, "next")
        answer = await api.wait_until(lambda: api.callback_answer(query_id), timeout=5)
        await api.wait_until(lambda: api.bot_messages(chat)[-1].text == "pressed", timeout=5)
    assert edits == ["8 3 5 7"]
    assert answer == {"text": "got next"}
    edited = api.bot_messages(chat)[-1]
    assert edited.edited and edited.reply_markup is None  # editing without markup drops it
    with pytest.raises(ValueError, match="no button"):
        api.press_button(chat, alice, prompt.message_id, "missing")


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
async def test_injected_429_then_success(api: FakeBotAPI, bot: Bot) -> None:
    chat = api.private_chat(api.user())
    injection = api.fail_next("sendMessage", code=429, retry_after=3, times=2, chat=chat)
    for _ in range(2):
        with pytest.raises(RetryAfter) as caught:
            await bot.send_message(chat.id, "hello")
        assert seconds(caught.value.retry_after) == 3
    assert (await bot.send_message(chat.id, "hello")).message_id == 1
    assert injection.times == 0 and injection.hits == ["sendmessage", "sendmessage"]
    assert [c.status for c in api.calls_to("sendMessage")] == [429, 429, 200]


async def test_blocked_user_is_forbidden_and_writing_again_unblocks(
    api: FakeBotAPI, bot: Bot
) -> None:
    alice = api.user()
    chat = api.private_chat(alice)
    api.block(alice)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(chat.id, "hello")
    api.send_text(chat, alice, "/start")
    assert (await bot.send_message(chat.id, "welcome back")).text == "welcome back"


async def test_migrated_group_raises_chat_migrated(api: FakeBotAPI, bot: Bot) -> None:
    alice, bob = api.user(first_name="Alice"), api.user(first_name="Bob")
    group = api.group("Faces", [alice, bob])
    await bot.send_message(group.id, "hello group")
    supergroup = api.migrate(group)
    with pytest.raises(ChatMigrated) as caught:
        await bot.send_message(group.id, "still there?")
    assert caught.value.new_chat_id == supergroup.id and str(supergroup.id).startswith("-100")
    moved = await bot.send_message(supergroup.id, "moved")
    assert moved.chat.type == "supergroup" and moved.message_id == 2  # after the service message
    updates = await bot.get_updates()
    migrations = [u.message for u in updates if u.message]
    assert [m.migrate_to_chat_id for m in migrations] == [supergroup.id, None]
    assert migrations[1].migrate_from_chat_id == group.id


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("x" * 4097, "Message is too long"),
        ("   ", "Message text is empty"),
    ],
)
async def test_text_validation(api: FakeBotAPI, bot: Bot, text: str, error: str) -> None:
    chat = api.private_chat(api.user())
    with pytest.raises(BadRequest, match=error):
        await bot.send_message(chat.id, text)
    assert (await bot.send_message(chat.id, "x" * 4096)).message_id == 1  # nothing was stored


async def test_other_bad_requests(api: FakeBotAPI, bot: Bot) -> None:
    chat = api.private_chat(api.user())
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(987654, "hi")
    with pytest.raises(BadRequest, match="caption is too long"):
        await bot.send_photo(chat.id, png((0, 0, 0), 32), caption="c" * 1025)
    with pytest.raises(BadRequest, match="Button_data_invalid"):
        markup = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="d" * 65)]])
        await bot.send_message(chat.id, "hi", reply_markup=markup)
    with pytest.raises(BadRequest, match="Too much messages"):
        await bot.send_media_group(
            chat.id, [InputMediaPhoto(png((0, 0, i), 32)) for i in range(11)]
        )
    with pytest.raises(BadRequest, match="2-10 items"):
        await bot.send_media_group(chat.id, [InputMediaPhoto(png((0, 0, 0), 32))])
    with pytest.raises(BadRequest, match="Image_process_failed"):
        await bot.send_photo(chat.id, b"not an image")
    sent = await bot.send_message(chat.id, "same")
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_text("same", chat.id, sent.message_id)
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.edit_message_text("other", chat.id, 999)
    with pytest.raises(BadRequest, match="Message to be replied not found"):
        await bot.send_message(chat.id, "hi", reply_to_message_id=999)
    with pytest.raises(BadRequest, match="Message to delete not found"):
        await bot.delete_message(chat.id, 999)
    with pytest.raises(BadRequest, match="Wrong file identifier"):
        await bot.send_photo(chat.id, "no-such-file-id")
    assert [m.message_id for m in api.bot_messages(chat)] == [sent.message_id] == [1]


async def test_formatting_edits_and_deletes(api: FakeBotAPI, bot: Bot) -> None:
    chat = api.private_chat(api.user())
    html = await bot.send_message(chat.id, "Rate <b>each</b> face 1-10 😀 <i>#2 9</i>", "HTML")
    assert html.text == "Rate each face 1-10 😀 #2 9"
    assert [(e.type, e.offset, e.length) for e in html.entities] == [
        ("bold", 5, 4),
        ("italic", 23, 4),
    ]
    with pytest.raises(BadRequest, match=r"(?i)character '\.' is reserved"):
        await bot.send_message(chat.id, "Done. Next", parse_mode="MarkdownV2")
    md = await bot.send_message(chat.id, r"*Done*\. Next", parse_mode="MarkdownV2")
    assert md.text == "Done. Next" and md.entities[0].type == "bold"
    edited = await bot.edit_message_text("Rate again", chat.id, html.message_id)
    assert isinstance(edited, Message) and edited.text == "Rate again" and edited.edit_date
    assert api.bot_messages(chat)[0].text == "Rate again"
    assert await bot.delete_message(chat.id, md.message_id)
    assert [m.message_id for m in api.bot_messages(chat)] == [html.message_id]
    assert [m.text for m in api.deleted_messages(chat)] == ["Done. Next"]


async def test_commands_per_language(api: FakeBotAPI, bot: Bot) -> None:
    await bot.set_my_commands([("start", "Start"), ("best", "Best face")])
    await bot.set_my_commands([("start", "Начать"), ("best", "Лучшее")], language_code="ru")
    assert [c.description for c in await bot.get_my_commands(language_code="ru")] == [
        "Начать",
        "Лучшее",
    ]
    assert api.commands_for("") == ["start", "best"] and api.commands_for("de") == []
    assert len(api.calls_to("setMyCommands")) == 2
    with pytest.raises(BadRequest, match="Bot_command_invalid"):
        await bot.set_my_commands([("Start!", "bad")])


async def test_group_privacy_mode(api: FakeBotAPI, bot: Bot) -> None:
    alice = api.user()
    group = api.group("Friends", [alice])
    api.send_text(group, alice, "8 3 5 6")  # bare text: a bot in privacy mode does not see it
    api.send_text(group, alice, "/start@fotorobot_test_bot")
    prompt = await bot.send_message(group.id, "Rate these")
    api.send_text(group, alice, "9 9 9 9", reply_to=prompt.message_id)
    api.send_text(group, alice, "/start@other_bot")
    updates = await bot.get_updates()
    kinds = [(u.message.text if u.message else "my_chat_member") for u in updates]
    assert kinds == ["my_chat_member", "/start@fotorobot_test_bot", "9 9 9 9"]
    assert [m.message_id for m in api.messages(group)] == [1, 2, 3, 4, 5]
    bob = api.user(first_name="Bob")
    joined = api.join(group, bob)
    assert joined.kind == "service"
    api.kick_bot(group)
    api.send_text(group, bob, "/start")  # the bot is gone: nothing reaches it
    updates = await bot.get_updates(offset=updates[-1].update_id + 1)
    assert [u.message.new_chat_members[0].first_name for u in updates if u.message] == ["Bob"]
    with pytest.raises(Forbidden, match="kicked"):
        await bot.send_message(group.id, "still here?")


async def test_long_poll_wakes_on_update_and_offset_confirms(api: FakeBotAPI, bot: Bot) -> None:
    alice = api.user()
    chat = api.private_chat(alice)
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.05)
    assert not poll.done()  # long polling: waits for something to happen
    api.send_text(chat, alice, "hello")
    updates = await asyncio.wait_for(poll, 2)
    assert [u.message.text for u in updates if u.message] == ["hello"]
    assert len(await bot.get_updates()) == 1  # not confirmed yet
    assert await bot.get_updates(offset=updates[-1].update_id + 1) == ()
    assert api.pending_updates() == 0


async def test_wait_for_messages_times_out_with_a_useful_message(api: FakeBotAPI) -> None:
    chat = api.private_chat(api.user())
    with pytest.raises(TimeoutError, match=r"waited 0\.1s for 1 bot messages"):
        await api.wait_for_messages(chat, 1, timeout=0.1)


def test_message_view_reads_through_edits(api: FakeBotAPI) -> None:
    alice = api.user()
    chat = api.private_chat(alice)
    sent = api.send_text(chat, alice, "first")
    view: Msg = api.messages(chat)[0]
    api.edit_text(chat, sent.message_id, "second")
    assert view.text == "second" and view.edited and view.kind == "text"


async def test_animation_and_edit_media(api: FakeBotAPI, bot: Bot) -> None:
    chat = api.private_chat(api.user())
    frames = [Image.new("RGB", (64, 64), (i * 60, 0, 0)) for i in range(4)]
    gif = io.BytesIO()
    frames[0].save(gif, format="GIF", save_all=True, append_images=frames[1:], duration=100)
    sent = await bot.send_animation(chat.id, gif.getvalue(), caption="morph", filename="m.gif")
    assert sent.animation is not None and sent.document is not None
    assert (sent.animation.width, sent.animation.height) == (64, 64)
    assert api.bot_messages(chat)[0].kind == "animation"
    assert api.file_bytes(sent.animation.file_id) == gif.getvalue()
    photo = await bot.send_photo(chat.id, png((0, 0, 0), 64), caption="#1")
    new_image = png((255, 255, 255), 64)
    edited = await bot.edit_message_media(
        InputMediaPhoto(new_image, caption="#1 (new)"), chat.id, photo.message_id
    )
    assert isinstance(edited, Message) and edited.photo[-1].width == 64
    view = api.bot_messages(chat)[-1]
    assert view.caption == "#1 (new)" and view.edited
    assert api.file_bytes(view.file_id or "") == new_image


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
async def test_optional_flood_control(api: FakeBotAPI, bot: Bot) -> None:
    now = [1000.0]
    api.flood_control(clock=lambda: now[0])
    group = api.group("Busy", [api.user()])
    for i in range(20):  # 20 messages per minute in a group
        await bot.send_message(group.id, f"m{i}")
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(group.id, "one too many")
    assert seconds(caught.value.retry_after) == 3  # one message per 3 s refills
    now[0] += 3
    assert (await bot.send_message(group.id, "after the wait")).text == "after the wait"
    chat = api.private_chat(api.user())
    album = [InputMediaPhoto(png((0, 0, i), 16)) for i in range(4)]
    assert len(await bot.send_media_group(chat.id, album)) == 4  # a burst of 4 is fine
    api.flood_control(enabled=False)
    for i in range(40):
        await bot.send_message(group.id, f"free {i}")


async def test_allowed_updates_filter_reactions(api: FakeBotAPI, bot: Bot) -> None:
    alice = api.user()
    chat = api.private_chat(alice)
    sent = await bot.send_message(chat.id, "rate me")
    api.react(chat, alice, sent.message_id, "🔥")  # not asked for: Telegram drops it
    assert await bot.get_updates(allowed_updates=["message", "message_reaction"]) == ()
    api.react(chat, alice, sent.message_id, ["🔥", "👍"])
    updates = await bot.get_updates()  # allowed_updates is remembered
    reaction = updates[0].message_reaction
    assert reaction is not None and reaction.message_id == sent.message_id
    assert [getattr(r, "emoji", None) for r in reaction.new_reaction] == ["🔥", "👍"]


async def test_restart_delivers_what_came_while_down(api: FakeBotAPI) -> None:
    seen: list[str] = []

    async def record(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        seen.append(update.message.text or "")

    alice = api.user()
    chat = api.private_chat(alice)
    for round_ in ("before", "after"):
        app = fake_application_builder(api).build()
        app.add_handler(MessageHandler(filters.TEXT, record))
        expected = f"{round_} restart"
        async with polling(app):
            api.send_text(chat, alice, expected)
            await api.wait_until(lambda: expected in seen, timeout=5)  # noqa: B023
        api.send_text(chat, alice, f"while down ({round_})")
    assert seen == ["before restart", "while down (before)", "after restart"]
    assert api.pending_updates() == 1  # the last message waits for the next start


def unknown_fields(obj: object, path: str = "") -> list[str]:
    """Fields PTB did not recognise (api_kwargs) anywhere inside a parsed Telegram object."""
    found: list[str] = []
    if isinstance(obj, TelegramObject):
        found += [f"{path}.{key}" for key in obj.api_kwargs]
        for name in obj.__slots__ if hasattr(obj, "__slots__") else ():
            found += unknown_fields(getattr(obj, name, None), f"{path}.{name}")
    elif isinstance(obj, tuple | list):
        for i, item in enumerate(obj):
            found += unknown_fields(item, f"{path}[{i}]")
    return found


async def test_every_object_parses_without_unknown_fields(api: FakeBotAPI, bot: Bot) -> None:
    alice = api.user(first_name="Alice", username="alice_a")
    chat = api.private_chat(alice)
    group = api.group("Group", [alice], bot_admin=True)
    sent: list[object] = [
        await bot.send_message(chat.id, "<b>hi</b> /start", parse_mode="HTML"),
        *await bot.send_media_group(
            chat.id, [InputMediaPhoto(png((i, 0, 0), 400)) for i in range(2)]
        ),
        await bot.send_animation(chat.id, png((0, 9, 0), 32), filename="a.gif"),
        await bot.send_document(chat.id, b"x", filename="x.txt"),
        await bot.send_poll(group.id, "Best?", ["#1", "#2"], is_anonymous=False),
        await bot.get_chat(group.id),
        await bot.get_chat_member(group.id, alice.id),
        await bot.get_webhook_info(),
        await bot.get_me(),
    ]
    photo = api.send_photo(chat, alice, png((1, 1, 1), 1000), caption="me")
    api.send_sticker(chat, alice, "🔥")
    api.send_voice(chat, alice)
    api.send_document(chat, alice, b"doc", file_name="d.pdf", mime_type="application/pdf")
    api.send_album(chat, alice, [png((2, 2, 2), 50), png((3, 3, 3), 50)], caption="two")
    text = api.send_text(chat, alice, "8 3 5 6", reply_to=photo.message_id)
    api.edit_text(chat, text.message_id, "8 3 5 7")
    poll_message = api.bot_messages(group)[-1]
    api.vote_poll(group, alice, poll_message.message_id, [0])
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Next", callback_data="next")]])
    prompt = await bot.send_message(chat.id, "Rate", reply_markup=keyboard)
    api.press_button(chat, alice, prompt.message_id, "next")
    api.migrate(api.group("Old", [alice]))
    updates = await bot.get_updates(allowed_updates=[])
    assert len(updates) >= 10 and len(photo.raw["photo"]) == 4
    assert unknown_fields(sent) + unknown_fields(list(updates)) == []


async def test_malformed_requests_get_400_not_a_crash(api: FakeBotAPI) -> None:
    chat = api.private_chat(api.user())
    cases: list[tuple[str, dict[str, str]]] = [
        ("sendMediaGroup", {"chat_id": str(chat.id), "media": '[{"media": "x"}, 5]'}),
        ("sendMediaGroup", {"chat_id": str(chat.id), "media": '{"not": "a list"}'}),
        (
            "sendMessage",
            {
                "chat_id": str(chat.id),
                "text": "hi",
                "reply_markup": '{"inline_keyboard": [[{"text": "a"}]]}',
            },
        ),
        ("sendMessage", {"chat_id": "[1, 2]", "text": "hi"}),
        ("editMessageText", {"chat_id": str(chat.id), "message_id": "x", "text": "hi"}),
        ("getUpdates", {"offset": "soon"}),
        ("sendPoll", {"chat_id": str(chat.id), "question": "q", "options": "[{}, {}]"}),
    ]
    for method, form in cases:
        status, body = await api.handle(api.token, method, form)
        assert status == 400, (method, form, body)
        assert body.startswith(b'{"ok": false, "error_code": 400, "description": "Bad Request: ')
    assert api.bot_messages(chat) == []


async def test_read_timeout_is_respected(api: FakeBotAPI) -> None:
    chat = api.private_chat(api.user())
    async with Bot(api.token, request=FakeRequest(api, read_timeout=0.05)) as slow:
        api.latency = 0.3  # a slow network
        with pytest.raises(TimedOut):
            await slow.send_message(chat.id, "hello")
        assert (await slow.send_message(chat.id, "hello", read_timeout=2)).message_id == 1
