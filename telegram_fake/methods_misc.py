"""Bot API methods about the bot itself, webhooks, commands, files and chats."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from telegram_fake.errors import bad_request
from telegram_fake.files import MAX_DOWNLOAD
from telegram_fake.objects import JSON
from telegram_fake.params import Upload, as_bool, as_int, as_list, require
from telegram_fake.registry import method
from telegram_fake.world import World

_COMMAND = re.compile(r"^[a-z0-9_]{1,32}$")


@method("getMe")
def get_me(state: World, params: dict[str, Any], uploads: Mapping[str, Upload]) -> JSON:
    """getMe: the bot's own User with its capabilities."""
    return {
        **state.bot.to_dict(),
        "can_join_groups": True,
        "can_read_all_group_messages": not state.privacy_mode,
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }


@method("deleteWebhook")
def delete_webhook(state: World, params: dict[str, Any], uploads: Mapping[str, Upload]) -> bool:
    """deleteWebhook (drop_pending_updates clears the queue)."""
    state.webhook_url = ""
    if as_bool(params, "drop_pending_updates"):
        state.updates.clear()
    return True


@method("setWebhook")
def set_webhook(state: World, params: dict[str, Any], uploads: Mapping[str, Upload]) -> bool:
    """setWebhook: stored only (the fake delivers by getUpdates); getUpdates then conflicts."""
    url = str(params.get("url") or "")
    if url and not url.startswith("https://"):
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    state.webhook_url = url
    if as_bool(params, "drop_pending_updates"):
        state.updates.clear()
    return True


@method("getWebhookInfo")
def get_webhook_info(state: World, params: dict[str, Any], uploads: Mapping[str, Upload]) -> JSON:
    """getWebhookInfo."""
    return {
        "url": state.webhook_url,
        "has_custom_certificate": False,
        "pending_update_count": len(state.updates),
    }


def _scope_key(params: Mapping[str, Any]) -> tuple[str, str]:
    scope = params.get("scope") or {"type": "default"}
    if not isinstance(scope, dict) or "type" not in scope:
        raise bad_request("can't parse BotCommandScope JSON object")
    language = str(params.get("language_code") or "")
    if language and not re.fullmatch(r"[a-z]{2}", language):
        raise bad_request("invalid language code specified")
    return json.dumps(scope, sort_keys=True), language


@method("setMyCommands")
def set_my_commands(state: World, params: dict[str, Any], uploads: Mapping[str, Upload]) -> bool:
    """setMyCommands per (scope, language_code)."""
    commands = as_list(params, "commands")
    if commands is None:
        raise bad_request('parameter "commands" is required')
    if len(commands) > 100:
        raise bad_request("too many bot commands")
    for command in commands:
        if not isinstance(command, dict) or not _COMMAND.match(str(command.get("command", ""))):
            raise bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(str(command.get("description", "")).strip()) <= 256:
            raise bad_request("command description must be 1-256 characters")
    state.commands[_scope_key(params)] = [
        {"command": c["command"], "description": c["description"]} for c in commands
    ]
    return True


@method("getMyCommands")
def get_my_commands(
    state: World, params: dict[str, Any], uploads: Mapping[str, Upload]
) -> list[JSON]:
    """getMyCommands for exactly that scope and language (no fallback, as Telegram)."""
    return list(state.commands.get(_scope_key(params), []))


@method("deleteMyCommands")
def delete_my_commands(state: World, params: dict[str, Any], uploads: Mapping[str, Upload]) -> bool:
    """deleteMyCommands."""
    state.commands.pop(_scope_key(params), None)
    return True


def _profile_setter(field: str, limit: int) -> None:
    setter = "setMy" + field[0].upper() + field[1:]
    getter = "getMy" + field[0].upper() + field[1:]

    def set_value(state: World, params: dict[str, Any], uploads: Mapping[str, Upload]) -> bool:
        value = str(params.get(field.replace("Description", "_description").lower()) or "")
        if len(value) > limit:
            raise bad_request(f"{field} is too long")
        state.bot_profile.setdefault(field, {})[str(params.get("language_code") or "")] = value
        return True

    def get_value(state: World, params: dict[str, Any], uploads: Mapping[str, Upload]) -> JSON:
        by_language = state.bot_profile.get(field, {})
        value = by_language.get(str(params.get("language_code") or ""), by_language.get("", ""))
        key = field.replace("Description", "_description").lower()
        return {key: value}

    method(setter)(set_value)
    method(getter)(get_value)


_profile_setter("name", 64)
_profile_setter("description", 512)
_profile_setter("shortDescription", 120)


@method("getFile")
def get_file(state: World, params: dict[str, Any], uploads: Mapping[str, Upload]) -> JSON:
    """getFile: file_path for the download URL /file/bot<token>/<file_path>."""
    stored = state.files.get(str(require(params, "file_id")))
    if stored is None:
        raise bad_request("invalid file_id")
    if stored.size > MAX_DOWNLOAD:
        raise bad_request("file is too big")
    if stored.data is None and stored.render is not None:
        stored.size = len(stored.content())
    return {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": stored.size,
        "file_path": stored.file_path,
    }


@method("getChat")
def get_chat_full_info(state: World, params: dict[str, Any], uploads: Mapping[str, Upload]) -> JSON:
    """getChat: a ChatFullInfo with the fields PTB requires."""
    chat = state.target_chat(params.get("chat_id"))
    return {
        **chat.to_dict(),
        "accent_color_id": 0,
        "max_reaction_count": 11,
        "accepted_gift_types": {
            "unlimited_gifts": False,
            "limited_gifts": False,
            "unique_gifts": False,
            "premium_subscription": False,
            "gifts_from_channels": False,
        },
    }


@method("getChatMember")
def get_chat_member(state: World, params: dict[str, Any], uploads: Mapping[str, Upload]) -> JSON:
    """getChatMember: member/administrator/left for users the fake knows."""
    chat = state.target_chat(params.get("chat_id"))
    user_id = as_int(params, "user_id")
    if user_id == state.bot.id:
        status = "administrator" if chat.bot_admin else "member"
        return _member(status, state.bot.to_dict())
    user = state.users.get(user_id or 0)
    if user is None:
        raise bad_request("user not found")
    in_chat = user_id in chat.members or (chat.user is not None and chat.user.id == user_id)
    if in_chat and user.id == chat.owner_id:
        return {"status": "creator", "user": user.to_dict(), "is_anonymous": chat.admins[user.id]}
    if in_chat and user.id in chat.admins:
        return _member("administrator", user.to_dict(), anonymous=chat.admins[user.id])
    return _member("member" if in_chat else "left", user.to_dict())


def _member(status: str, user: JSON, *, anonymous: bool = False) -> JSON:
    if status != "administrator":
        return {"status": status, "user": user}
    rights = (
        "can_be_edited",
        "is_anonymous",
        "can_manage_chat",
        "can_delete_messages",
        "can_manage_video_chats",
        "can_restrict_members",
        "can_promote_members",
        "can_change_info",
        "can_invite_users",
        "can_post_stories",
        "can_edit_stories",
        "can_delete_stories",
    )
    granted = {r: r == "can_delete_messages" for r in rights}
    return {"status": status, "user": user, **granted, "is_anonymous": anonymous}


@method("getChatMemberCount")
def get_chat_member_count(
    state: World, params: dict[str, Any], uploads: Mapping[str, Upload]
) -> int:
    """getChatMemberCount (members plus the bot)."""
    chat = state.target_chat(params.get("chat_id"))
    return 2 if chat.type == "private" else len(chat.members) + 1


@method("leaveChat")
def leave_chat(state: World, params: dict[str, Any], uploads: Mapping[str, Upload]) -> bool:
    """leaveChat: the bot leaves a group; later sends there are Forbidden."""
    chat = state.target_chat(params.get("chat_id"))
    if chat.type == "private":
        raise bad_request("chat member status can't be changed in private chats")
    chat.bot_removed = True
    return True


@method("logOut")
def log_out(state: World, params: dict[str, Any], uploads: Mapping[str, Upload]) -> bool:
    """logOut (no-op)."""
    return True


@method("close")
def close(state: World, params: dict[str, Any], uploads: Mapping[str, Upload]) -> bool:
    """close (no-op)."""
    return True
