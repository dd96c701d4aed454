"""Bot API methods that send messages: text, photos, albums, animations, documents, polls."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from telegram_fake.errors import bad_request
from telegram_fake.files import media_object
from telegram_fake.markup import check_inline_keyboard, format_text, utf16_len
from telegram_fake.objects import JSON, FakeChat
from telegram_fake.params import Upload, as_bool, as_int, as_list, input_file, require
from telegram_fake.registry import method
from telegram_fake.world import World

MAX_TEXT = 4096
MAX_CAPTION = 1024
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)


def _reply_target(state: World, chat: FakeChat, params: Mapping[str, Any]) -> JSON | None:
    """The message replied to (reply_parameters or the older reply_to_message_id)."""
    reply = params.get("reply_parameters")
    allow_missing = as_bool(params, "allow_sending_without_reply")
    if isinstance(reply, dict):
        message_id = reply.get("message_id")
        allow_missing = bool(reply.get("allow_sending_without_reply", allow_missing))
        if reply.get("chat_id") not in (None, chat.id):
            raise bad_request("replies to other chats are not supported by the fake")
    else:
        message_id = params.get("reply_to_message_id")
    if message_id is None:
        return None
    found = chat.messages.get(as_int({"id": message_id}, "id") or 0)
    if found is None and not allow_missing:
        raise bad_request("message to be replied not found")
    return found


def caption_content(params: Mapping[str, Any], prefix: str = "") -> JSON:
    """caption + caption_entities content fields (empty dict for no caption)."""
    raw = params.get(prefix + "caption")
    if raw is None or raw == "":
        return {}
    text, entities = format_text(
        str(raw), params.get(prefix + "parse_mode"), params.get(prefix + "caption_entities")
    )
    if utf16_len(text) > MAX_CAPTION:
        raise bad_request("message caption is too long")
    content: JSON = {"caption": text} if text else {}
    if entities and text:
        content["caption_entities"] = entities
    return content


def _send(state: World, params: Mapping[str, Any], content: JSON) -> JSON:
    """Common tail of every send: target chat, reply, keyboard, store the message."""
    chat = state.target_chat(params.get("chat_id"))
    reply_to = _reply_target(state, chat, params)
    markup = check_inline_keyboard(params.get("reply_markup"))
    if markup is not None:
        content = {**content, "reply_markup": markup}
    if as_bool(params, "protect_content"):
        content = {**content, "has_protected_content": True}
    return state.new_message(chat, state.bot, content, reply_to)


def text_content(params: Mapping[str, Any]) -> JSON:
    """text + entities of a sendMessage/editMessageText call, validated like Telegram."""
    raw = params.get("text")
    if raw is None:
        raise bad_request("message text is empty")
    text, entities = format_text(str(raw), params.get("parse_mode"), params.get("entities"))
    if not text:
        raise bad_request("message text is empty")
    if utf16_len(text) > MAX_TEXT:
        raise bad_request("message is too long")
    content: JSON = {"text": text}
    if entities:
        content["entities"] = entities
    return content


@method("sendMessage")
def send_message(state: World, params: dict[str, Any], uploads: Mapping[str, Upload]) -> JSON:
    """sendMessage."""
    state.target_chat(params.get("chat_id"))  # chat errors come before text errors
    return _send(state, params, text_content(params))


def photo_sizes(state: World, value: Any, field: str, uploads: Mapping[str, Upload]) -> list[JSON]:
    """PhotoSize list for an uploaded photo or a reused photo file_id."""
    upload, file_id = input_file(value, field, uploads)
    if upload is not None:
        return state.files.photo(upload.data)
    ladder = state.files.ladder(file_id or "")
    if ladder is None:
        stored = state.files.get(file_id or "")
        if stored is None:
            raise bad_request("wrong file identifier/HTTP URL specified")
        raise bad_request(f"can't use file of type {stored.kind.capitalize()} as Photo")
    return ladder


def file_object(
    state: World,
    value: Any,
    field: str,
    kind: str,
    uploads: Mapping[str, Upload],
    params: Mapping[str, Any],
) -> JSON:
    """Animation/Document/... object for an upload or a reused file_id of the right kind."""
    upload, file_id = input_file(value, field, uploads)
    if upload is None:
        stored = state.files.get(file_id or "")
        if stored is None:
            raise bad_request("wrong file identifier/HTTP URL specified")
        if stored.kind != kind and not (kind == "document" and stored.kind != "photo"):
            raise bad_request(
                f"can't use file of type {stored.kind.capitalize()} as {kind.capitalize()}"
            )
        return media_object(stored)
    meta: dict[str, Any] = {"mime_type": upload.mime_type, "file_name": upload.filename}
    if kind in ("animation", "video"):
        from telegram_fake.files import image_size

        info = image_size(upload.data)
        width, height = (info[0], info[1]) if info else (0, 0)
        meta["width"] = as_int(params, "width") or width
        meta["height"] = as_int(params, "height") or height
        meta["duration"] = as_int(params, "duration") or 0
    return media_object(state.files.add(upload.data, kind, **meta))


@method("sendPhoto")
def send_photo(state: World, params: dict[str, Any], uploads: Mapping[str, Upload]) -> JSON:
    """sendPhoto (upload or file_id)."""
    state.target_chat(params.get("chat_id"))
    content: JSON = {
        **caption_content(params),
        "photo": photo_sizes(state, params.get("photo"), "photo", uploads),
    }
    if as_bool(params, "has_spoiler"):
        content["has_media_spoiler"] = True
    return _send(state, params, content)


@method("sendAnimation")
def send_animation(state: World, params: dict[str, Any], uploads: Mapping[str, Upload]) -> JSON:
    """sendAnimation: Telegram sets both `animation` and `document` on the message."""
    state.target_chat(params.get("chat_id"))
    obj = file_object(state, params.get("animation"), "animation", "animation", uploads, params)
    document = {k: obj[k] for k in obj if k not in ("width", "height", "duration")}
    return _send(state, params, {**caption_content(params), "animation": obj, "document": document})


@method("sendVideo")
def send_video(state: World, params: dict[str, Any], uploads: Mapping[str, Upload]) -> JSON:
    """sendVideo (MP4 is not decoded: width/height/duration come from the parameters)."""
    state.target_chat(params.get("chat_id"))
    obj = file_object(state, params.get("video"), "video", "video", uploads, params)
    return _send(state, params, {**caption_content(params), "video": obj})


@method("sendDocument")
def send_document(state: World, params: dict[str, Any], uploads: Mapping[str, Upload]) -> JSON:
    """sendDocument."""
    state.target_chat(params.get("chat_id"))
    obj = file_object(state, params.get("document"), "document", "document", uploads, params)
    return _send(state, params, {**caption_content(params), "document": obj})


@method("sendSticker")
def send_sticker(state: World, params: dict[str, Any], uploads: Mapping[str, Upload]) -> JSON:
    """sendSticker (an uploaded WEBP/PNG or a sticker file_id)."""
    state.target_chat(params.get("chat_id"))
    obj = file_object(state, params.get("sticker"), "sticker", "sticker", uploads, params)
    obj.setdefault("width", 512)
    obj.setdefault("height", 512)
    sticker = {**obj, "type": "regular", "is_animated": False, "is_video": False}
    if params.get("emoji"):
        sticker["emoji"] = params["emoji"]
    return _send(state, params, {"sticker": sticker})


@method("sendMediaGroup")
def send_media_group(
    state: World, params: dict[str, Any], uploads: Mapping[str, Upload]
) -> list[JSON]:
    """sendMediaGroup: each item its own message sharing one media_group_id."""
    chat = state.target_chat(params.get("chat_id"))
    media = as_list(params, "media")
    if not media:
        raise bad_request("there are no messages to send")
    if len(media) > 10:
        raise bad_request("Too much messages to send as an album")
    if len(media) < 2:
        raise bad_request("an album must have 2-10 items (sendMediaGroup)")
    kinds = {item.get("type") if isinstance(item, dict) else None for item in media}
    if not kinds <= {"photo", "video"} and len(kinds) > 1:
        raise bad_request("documents and audio can't be mixed with other media in an album")
    if kinds & {"animation", None} or not kinds <= {"photo", "video", "document", "audio"}:
        raise bad_request("can't parse InputMedia: unsupported media type")
    reply_to = _reply_target(state, chat, params)
    contents: list[JSON] = []
    for item in media:  # validate everything before storing anything: all-or-nothing
        content = caption_content(item)
        if item["type"] == "photo":
            content["photo"] = photo_sizes(state, item.get("media"), "media", uploads)
        else:
            content[item["type"]] = file_object(
                state, item.get("media"), "media", item["type"], uploads, item
            )
        contents.append(content)
    group_id = state.new_media_group_id()
    return [
        state.new_message(chat, state.bot, {"media_group_id": group_id, **content}, reply_to)
        for content in contents
    ]


@method("sendChatAction")
def send_chat_action(state: World, params: dict[str, Any], uploads: Mapping[str, Upload]) -> bool:
    """sendChatAction: recorded in `chat_actions` for tests."""
    chat = state.target_chat(params.get("chat_id"))
    action = require(params, "action")
    if action not in CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    state.chat_actions.append((chat.id, str(action)))
    return True


# What an option's media may be (Bot API 10.0 InputPollOptionMedia); the fake stores photos.
OPTION_MEDIA = frozenset(
    {"animation", "live_photo", "location", "photo", "sticker", "venue", "video"}
)


def _option_media(state: World, option: Any, uploads: Mapping[str, Upload]) -> JSON | None:
    """PollMedia for an InputPollOption's `media` (a photo by file_id or attach://)."""
    media = option.get("media") if isinstance(option, dict) else None
    if media is None:
        return None
    if not isinstance(media, dict) or media.get("type") not in OPTION_MEDIA:
        raise bad_request("can't parse InputPollOptionMedia: unsupported media type")
    if media["type"] != "photo":
        raise bad_request(f"poll option media of type {media['type']} is not modelled by the fake")
    return {"photo": photo_sizes(state, media.get("media"), "media", uploads)}


@method("sendPoll")
def send_poll(state: World, params: dict[str, Any], uploads: Mapping[str, Upload]) -> JSON:
    """sendPoll (regular polls; options as InputPollOption objects, with a photo each if
    given, or strings)."""
    state.target_chat(params.get("chat_id"))
    question = str(params.get("question") or "").strip()
    if not question:
        raise bad_request("poll question must be non-empty")
    if utf16_len(question) > 300:
        raise bad_request("poll question length must not exceed 300")
    options = as_list(params, "options") or []
    if len(options) < 2:
        raise bad_request("poll must have at least 2 option")
    if len(options) > 12:
        raise bad_request("poll can't have more than 12 options")
    texts = [str(o.get("text", "") if isinstance(o, dict) else o).strip() for o in options]
    if not all(texts):
        raise bad_request("poll options must be non-empty")
    if any(utf16_len(t) > 100 for t in texts):
        raise bad_request("poll options length must not exceed 100")
    media = [_option_media(state, o, uploads) for o in options]
    poll_id = state.new_poll_id()
    poll: JSON = {
        "id": poll_id,
        "question": question,
        "options": [
            {"text": t, "voter_count": 0, "persistent_id": f"{poll_id}-{i}"}
            | ({"media": m} if m is not None else {})
            for i, (t, m) in enumerate(zip(texts, media, strict=True))
        ],
        "total_voter_count": 0,
        "is_closed": False,
        "is_anonymous": params.get("is_anonymous", True) is not False,
        "type": params.get("type") or "regular",
        "allows_multiple_answers": as_bool(params, "allows_multiple_answers"),
        "allows_revoting": params.get("allows_revoting", True) is not False,
        "members_only": as_bool(params, "members_only"),
    }
    message = _send(state, params, {"poll": poll})
    state.polls[poll_id] = {"chat_id": message["chat"]["id"], "message_id": message["message_id"]}
    return message
