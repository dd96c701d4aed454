"""Handlers in isolation: other bots are dropped before anything answers."""

from __future__ import annotations

from typing import Any

import pytest
from telegram import Update
from telegram.ext import ApplicationHandlerStop

from bot.handlers.system import drop_bots


def group_message(sender: dict[str, object], sender_chat: dict[str, object] | None) -> Update:
    group = {"id": -100, "type": "supergroup", "title": "Friends"}
    message: dict[str, object] = {
        "message_id": 5, "date": 0, "chat": group, "from": sender, "text": "8 3 5 6"
    }  # fmt: skip
    if sender_chat is not None:
        message["sender_chat"] = sender_chat
    return Update.de_json({"update_id": 1, "message": message}, None)


async def test_other_bots_are_dropped_but_anonymous_admins_are_people() -> None:
    context: Any = None  # drop_bots looks only at the update
    other_bot = {"id": 42, "is_bot": True, "first_name": "Echo"}
    with pytest.raises(ApplicationHandlerStop):
        await drop_bots(group_message(other_bot, None), context)
    anonymous = {"id": 1087968824, "is_bot": True, "first_name": "Group"}
    group = {"id": -100, "type": "supergroup", "title": "Friends"}
    await drop_bots(group_message(anonymous, group), context)  # not raised: handled as a person
    person = {"id": 7, "is_bot": False, "first_name": "Alice"}
    await drop_bots(group_message(person, None), context)
