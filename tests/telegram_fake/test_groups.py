"""The fake's group chats as Telegram has them: polls with photo options, poll answers,
stopPoll, admins (anonymous ones too), member counts, and the group message limit with edits."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator

import pytest
from PIL import Image
from telegram import Bot, InputMediaPhoto, InputPollOption
from telegram.constants import ChatMemberStatus
from telegram.error import BadRequest, RetryAfter

from telegram_fake import FakeBotAPI, FakeRequest

pytestmark = pytest.mark.timeout(30)


def png(shade: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 64), (shade, 0, 0)).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def api() -> FakeBotAPI:
    return FakeBotAPI()


@pytest.fixture
async def bot(api: FakeBotAPI) -> AsyncIterator[Bot]:
    async with Bot(
        api.token, request=FakeRequest(api), get_updates_request=FakeRequest(api)
    ) as real_bot:
        yield real_bot


async def test_a_poll_whose_options_are_the_album_photos(api: FakeBotAPI, bot: Bot) -> None:
    ann, bob = api.user(first_name="Ann"), api.user(first_name="Bob")
    group = api.group("Friends", [ann, bob])
    album = await bot.send_media_group(group.id, [InputMediaPhoto(png(i)) for i in range(3)])
    options = [
        InputPollOption(f"#{i + 1}", media=InputMediaPhoto(m.photo[-1].file_id))
        for i, m in enumerate(album)
    ]
    sent = await bot.send_poll(
        group.id, "Closest?", options, is_anonymous=False, allows_multiple_answers=True,
        allows_revoting=True,
    )  # fmt: skip
    assert sent.poll is not None
    shown = [o.media.photo[-1].file_id for o in sent.poll.options if o.media and o.media.photo]
    assert shown == [m.photo[-1].file_id for m in album]
    # A document's file id is not a photo; other media kinds are refused by name.
    document = await bot.send_document(group.id, b"x", filename="x.txt")
    assert document.document is not None
    with pytest.raises(BadRequest, match=r"(?i)can't use file of type document as photo"):
        await bot.send_poll(
            group.id,
            "?",
            [InputPollOption("a", media=InputMediaPhoto(document.document.file_id)), "b"],
        )
    with pytest.raises(BadRequest, match="options length"):
        await bot.send_poll(group.id, "?", ["x" * 101, "b"])

    api.vote_poll(group, ann, sent.message_id, [0, 2])
    api.vote_poll(group, bob, sent.message_id, [1])
    api.vote_poll(group, ann, sent.message_id, [1])  # a changed vote replaces the old one
    poll = next(m for m in api.bot_messages(group) if m.kind == "poll").raw["poll"]
    assert [o["voter_count"] for o in poll["options"]] == [0, 2, 0]
    assert poll["total_voter_count"] == 2
    api.vote_poll(group, bob, sent.message_id, [])  # retracted
    assert api.poll_choice(sent.poll.id, bob) == [] and poll["total_voter_count"] == 1
    updates = await bot.get_updates()
    answers = [u.poll_answer for u in updates if u.poll_answer is not None]
    assert [(a.user.first_name if a.user else None, a.option_ids) for a in answers] == [
        ("Ann", (0, 2)),
        ("Bob", (1,)),
        ("Ann", (1,)),
        ("Bob", ()),
    ]
    assert answers[0].option_persistent_ids == (f"{sent.poll.id}-0", f"{sent.poll.id}-2")
    stopped = await bot.stop_poll(group.id, sent.message_id)
    assert stopped.is_closed
    with pytest.raises(ValueError, match="closed"):
        api.vote_poll(group, bob, sent.message_id, [0])


async def test_poll_rules_like_telegrams_clients(api: FakeBotAPI, bot: Bot) -> None:
    ann = api.user(first_name="Ann")
    group = api.group("Friends", [ann])
    single = await bot.send_poll(group.id, "One?", ["a", "b"], is_anonymous=False)
    with pytest.raises(ValueError, match="one answer"):
        api.vote_poll(group, ann, single.message_id, [0, 1])
    fixed = await bot.send_poll(
        group.id, "Once?", ["a", "b"], is_anonymous=False, allows_revoting=False
    )
    api.vote_poll(group, ann, fixed.message_id, [0])
    with pytest.raises(ValueError, match="changing a vote"):
        api.vote_poll(group, ann, fixed.message_id, [1])
    anonymous = await bot.send_poll(group.id, "Secret?", ["a", "b"])
    api.vote_poll(group, ann, anonymous.message_id, [1])
    kinds = [next(k for k in u.to_dict() if k != "update_id") for u in await bot.get_updates()]
    # Only the non-anonymous poll tells who voted; every vote changes the poll's state.
    assert kinds == ["my_chat_member", "poll", "poll_answer", "poll"]


async def test_admins_and_anonymous_admins(api: FakeBotAPI, bot: Bot) -> None:
    ann, bob, cid = (api.user(first_name=n) for n in ("Ann", "Bob", "Cid"))
    group = api.group("Friends", [ann, bob, cid])
    api.promote(group, ann, owner=True)
    api.promote(group, cid, anonymous=True)
    owner = await bot.get_chat_member(group.id, ann.id)
    admin = await bot.get_chat_member(group.id, cid.id)
    member = await bot.get_chat_member(group.id, bob.id)
    assert owner.status == ChatMemberStatus.OWNER
    assert admin.status == ChatMemberStatus.ADMINISTRATOR and admin.is_anonymous  # type: ignore[attr-defined]
    assert member.status == ChatMemberStatus.MEMBER
    assert await bot.get_chat_member_count(group.id) == 4  # with the bot
    # An anonymous admin writes in the group's name; the bot sees it even in privacy mode.
    sent = api.send_text(group, cid, "/next")
    assert sent.raw["from"]["id"] == 1087968824 and sent.raw["sender_chat"]["id"] == group.id
    poll = await bot.send_poll(group.id, "?", ["a", "b"], is_anonymous=False)
    api.vote_poll(group, cid, poll.message_id, [1])
    updates = await bot.get_updates()
    message = next(u.message for u in updates if u.message is not None)
    assert message.sender_chat is not None and message.sender_chat.id == group.id
    answer = next(u.poll_answer for u in updates if u.poll_answer is not None)
    assert answer.voter_chat is not None and answer.voter_chat.id == group.id
    assert answer.user is not None and answer.user.id == 136817688  # @Channel_Bot
    supergroup = api.migrate(group)  # admins stay admins
    assert (await bot.get_chat_member(supergroup.id, cid.id)).status == "administrator"


async def test_a_group_limit_counts_album_photos_and_edits(api: FakeBotAPI, bot: Bot) -> None:
    now = [1000.0]
    api.flood_control(clock=lambda: now[0])
    group = api.group("Busy", [api.user()])
    await bot.send_media_group(group.id, [InputMediaPhoto(png(i)) for i in range(10)])
    poll = await bot.send_poll(group.id, "?", ["a", "b"])
    text = await bot.send_message(group.id, "tally")
    for i in range(8):
        await bot.edit_message_text(f"tally {i}", chat_id=group.id, message_id=text.message_id)
    with pytest.raises(RetryAfter):  # 10 photos, a poll, a message and 8 edits: the minute's 20
        await bot.stop_poll(group.id, poll.message_id)
    now[0] += 3
    assert (await bot.stop_poll(group.id, poll.message_id)).is_closed
    private = api.private_chat(api.user())
    note = await bot.send_message(private.id, "note")
    for i in range(15):  # edits in a private chat are not counted
        await bot.edit_message_text(f"note {i}", chat_id=private.id, message_id=note.message_id)
