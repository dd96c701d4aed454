"""Anonymous group admins: posts "as the group" reach the bot from @GroupAnonymousBot."""

from __future__ import annotations

import pytest
from telegram import Update
from telegram.ext import ContextTypes, MessageHandler, filters

from telegram_fake import FakeBotAPI, fake_application_builder, polling


async def test_a_post_as_the_group_is_delivered_with_its_sender_chat() -> None:
    api = FakeBotAPI()
    app = fake_application_builder(api).build()
    seen: list[Update] = []

    async def record(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        seen.append(update)

    app.add_handler(MessageHandler(filters.ALL, record))
    async with polling(app):
        alice = api.user(first_name="Alice")
        group = api.group("Friends", [alice])
        sent = api.send_as_group(group, "/train synthetic:256")
        other_bot = api.user(first_name="Other", is_bot=True)
        api.send_text(group, other_bot, "/train from a bot")  # never delivered
        await api.wait_idle()
    (update,) = [u for u in seen if u.message is not None and u.message.text]
    msg = update.message
    assert msg is not None and msg.message_id == sent.message_id
    assert msg.from_user is not None and msg.from_user.id == 1087968824 and msg.from_user.is_bot
    assert msg.sender_chat is not None and msg.sender_chat.id == group.id
    assert msg.text == "/train synthetic:256" and msg.entities[0].type == "bot_command"
    with pytest.raises(ValueError):
        api.send_as_group(api.private_chat(alice), "hi")
