"""Bot API methods that change what was sent: edits, deletes, callback answers, reactions."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from telegram_fake.errors import bad_request
from telegram_fake.markup import check_inline_keyboard
from telegram_fake.methods_send import caption_content, file_object, photo_sizes, text_content
from telegram_fake.objects import JSON, FakeChat
from telegram_fake.params import Upload, as_list, require
from telegram_fake.registry import method
from telegram_fake.world import World

NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
_MEDIA_KEYS = ("photo", "animation", "document", "video", "audio", "voice")


def _editable(state: World, params: Mapping[str, Any]) -> tuple[FakeChat, JSON]:
    if params.get("inline_message_id"):
        raise bad_request("inline messages are not supported by the fake")
    chat = state.target_chat(params.get("chat_id"))
    message = state.stored_message(chat, require(params, "message_id"), "edit")
    if (message.get("from") or {}).get("id") != state.bot.id:
        raise bad_request("message can't be edited")
    return chat, message


def _apply_edit(state: World, message: JSON, changes: JSON) -> JSON:
    """Apply changes (None removes a field); refuse a no-op like Telegram."""
    if all(message.get(k) == v for k, v in changes.items()):
        raise bad_request(NOT_MODIFIED)
    for key, value in changes.items():
        if value is None:
            message.pop(key, None)
        else:
            message[key] = value
    message["edit_date"] = state.now()
    return message


@method("editMessageText")
def edit_message_text(state: World, params: dict[str, Any], uploads: Mapping[str, Upload]) -> JSON:
    """editMessageText; omitting reply_markup removes the inline keyboard, as on Telegram."""
    _chat, message = _editable(state, params)
    if "text" not in message:
        raise bad_request("there is no text in the message to edit")
    content = text_content(params)
    changes: JSON = {
        "text": content["text"],
        "entities": content.get("entities"),
        "reply_markup": check_inline_keyboard(params.get("reply_markup")),
    }
    return _apply_edit(state, message, changes)


@method("editMessageCaption")
def edit_message_caption(
    state: World, params: dict[str, Any], uploads: Mapping[str, Upload]
) -> JSON:
    """editMessageCaption of a media message."""
    _chat, message = _editable(state, params)
    if not any(k in message for k in _MEDIA_KEYS):
        raise bad_request("there is no caption in the message to edit")
    content = caption_content(params)
    changes: JSON = {
        "caption": content.get("caption"),
        "caption_entities": content.get("caption_entities"),
        "reply_markup": check_inline_keyboard(params.get("reply_markup")),
    }
    return _apply_edit(state, message, changes)


@method("editMessageReplyMarkup")
def edit_message_reply_markup(
    state: World, params: dict[str, Any], uploads: Mapping[str, Upload]
) -> JSON:
    """editMessageReplyMarkup (no reply_markup: remove the keyboard)."""
    _chat, message = _editable(state, params)
    changes = {"reply_markup": check_inline_keyboard(params.get("reply_markup"))}
    return _apply_edit(state, message, changes)


@method("editMessageMedia")
def edit_message_media(state: World, params: dict[str, Any], uploads: Mapping[str, Upload]) -> JSON:
    """editMessageMedia: replace a media message's photo/animation/document (and caption)."""
    _chat, message = _editable(state, params)
    if not any(k in message for k in _MEDIA_KEYS):
        raise bad_request("there is no media in the message to edit")
    media = params.get("media")
    if not isinstance(media, dict) or media.get("type") not in _MEDIA_KEYS:
        raise bad_request("can't parse InputMedia JSON object")
    kind = str(media["type"])
    if "media_group_id" in message and kind not in ("photo", "video") and "photo" in message:
        raise bad_request("can't edit a photo of an album into a " + kind)
    if kind == "photo":
        new_media: Any = photo_sizes(state, media.get("media"), "media", uploads)
    else:
        new_media = file_object(state, media.get("media"), "media", kind, uploads, media)
    changes: JSON = {key: None for key in _MEDIA_KEYS}
    changes.update({kind: new_media, **caption_content(media)})
    changes.setdefault("caption", None)
    changes.setdefault("caption_entities", None)
    changes["reply_markup"] = check_inline_keyboard(params.get("reply_markup"))
    return _apply_edit(state, message, changes)


@method("deleteMessage")
def delete_message(state: World, params: dict[str, Any], uploads: Mapping[str, Upload]) -> bool:
    """deleteMessage: own messages anywhere, others' only in private chats or as an admin."""
    chat = state.target_chat(params.get("chat_id"))
    message = state.stored_message(chat, require(params, "message_id"), "delete")
    own = (message.get("from") or {}).get("id") == state.bot.id
    if not own and chat.type != "private" and not chat.bot_admin:
        raise bad_request("message can't be deleted")
    del chat.messages[message["message_id"]]
    state.deleted.setdefault(chat.id, []).append(message)
    return True


@method("deleteMessages")
def delete_messages(state: World, params: dict[str, Any], uploads: Mapping[str, Upload]) -> bool:
    """deleteMessages: deletes those it can, silently skipping missing ones (as Telegram)."""
    chat = state.target_chat(params.get("chat_id"))
    for message_id in as_list(params, "message_ids") or []:
        if int(message_id) in chat.messages:
            delete_message(state, {"chat_id": chat.id, "message_id": message_id}, uploads)
    return True


@method("answerCallbackQuery")
def answer_callback_query(
    state: World, params: dict[str, Any], uploads: Mapping[str, Upload]
) -> bool:
    """answerCallbackQuery: each query can be answered once."""
    query_id = str(params.get("callback_query_id") or "")
    if query_id not in state.callback_queries or query_id in state.callback_answers:
        raise bad_request("query is too old and response timeout expired or query ID is invalid")
    text = params.get("text")
    if text is not None and len(str(text)) > 200:
        raise bad_request("MESSAGE_TOO_LONG")
    state.callback_answers[query_id] = {
        k: params[k] for k in ("text", "show_alert", "url", "cache_time") if k in params
    }
    return True


@method("setMessageReaction")
def set_message_reaction(
    state: World, params: dict[str, Any], uploads: Mapping[str, Upload]
) -> bool:
    """setMessageReaction: the bot's own reaction on a message (kept in `bot_reactions`)."""
    chat = state.target_chat(params.get("chat_id"))
    message = state.stored_message(chat, require(params, "message_id"), "react")
    reaction = as_list(params, "reaction") or []
    if any(
        not isinstance(r, dict) or r.get("type") not in ("emoji", "custom_emoji", "paid")
        for r in reaction
    ):
        raise bad_request("REACTION_INVALID")
    state.bot_reactions[(chat.id, message["message_id"])] = reaction
    return True


@method("stopPoll")
def stop_poll(state: World, params: dict[str, Any], uploads: Mapping[str, Upload]) -> JSON:
    """stopPoll: closes a poll the bot sent and returns it."""
    chat = state.target_chat(params.get("chat_id"))
    message = state.stored_message(chat, require(params, "message_id"), "stop")
    poll = message.get("poll")
    if poll is None or (message.get("from") or {}).get("id") != state.bot.id:
        raise bad_request("poll can't be stopped")
    if poll["is_closed"]:
        raise bad_request("poll has already been closed")
    poll["is_closed"] = True
    return dict(poll)
