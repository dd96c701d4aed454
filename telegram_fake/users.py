"""The user side of the fake: people, chats and what they do, plus ways to watch the bot."""

from __future__ import annotations

import io
from collections.abc import Sequence

from PIL import Image

from telegram_fake.files import media_object
from telegram_fake.markup import format_text
from telegram_fake.objects import JSON, FakeChat, FakeUser, Msg
from telegram_fake.watch import Watching

ChatRef = FakeChat | int

# The accounts Telegram shows for an anonymous group admin's messages and poll votes.
ANONYMOUS_ADMIN = FakeUser(1087968824, "Group", username="GroupAnonymousBot", is_bot=True)
FAKE_CHANNEL = FakeUser(136817688, "Channel", username="Channel_Bot", is_bot=True)


class UserSide(Watching):
    """Synchronous actions of users (each queues the update Telegram would send) and async waits."""

    # ---- people and chats ----------------------------------------------------------------

    def user(
        self,
        id: int | None = None,
        first_name: str = "Alice",
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "en",
        is_bot: bool = False,
    ) -> FakeUser:
        """A new user (id auto-assigned when None); an existing id is updated and returned."""
        with self.lock:
            if id is None:
                id = self._next_user_id
                self._next_user_id += 1
            user = FakeUser(id, first_name, last_name, username, language_code, is_bot)
            self.users[id] = user
            return user

    def private_chat(self, user: FakeUser) -> FakeChat:
        """The user's private chat with the bot (its id is the user's id)."""
        with self.lock:
            chat = self.chats.get(user.id)
            if chat is None:
                chat = FakeChat(user.id, "private", user=user, members={user.id: user})
                self.chats[user.id] = chat
            return chat

    def group(
        self,
        title: str,
        members: Sequence[FakeUser] = (),
        *,
        supergroup: bool = False,
        bot_admin: bool = False,
    ) -> FakeChat:
        """A group (or supergroup) with these members; the bot is added (my_chat_member update)."""
        with self.lock:
            if supergroup:
                chat_id = -self._next_supergroup_id
                self._next_supergroup_id += 1
            else:
                chat_id = -(self._next_group_id % 1_000_000_000_000)
                self._next_group_id += 1
            chat = FakeChat(
                chat_id,
                "supergroup" if supergroup else "group",
                title=title,
                members={m.id: m for m in members},
                bot_admin=bot_admin,
            )
            self.chats[chat_id] = chat
            adder = members[0] if members else self.user(first_name="Admin")
            self.push_update(
                "my_chat_member",
                {
                    "chat": chat.to_dict(),
                    "from": adder.to_dict(),
                    "date": self.now(),
                    "old_chat_member": {"status": "left", "user": self.bot.to_dict()},
                    "new_chat_member": {"status": "member", "user": self.bot.to_dict()},
                },
            )
        self.notify()
        return chat

    def promote(
        self, chat: ChatRef, user: FakeUser, *, anonymous: bool = False, owner: bool = False
    ) -> None:
        """Make a member an administrator (or the owner) of a group. An anonymous one posts in
        the group's own name: from @GroupAnonymousBot with sender_chat = the group."""
        with self.lock:
            target = self.chat_of(chat)
            if target.type == "private":
                raise ValueError("private chats have no administrators")
            target.members.setdefault(user.id, user)
            self.users.setdefault(user.id, user)
            target.admins[user.id] = anonymous
            if owner:
                target.owner_id = user.id

    def join(self, chat: ChatRef, user: FakeUser) -> Msg:
        """A user joins a group: a new_chat_members service message (seen even in privacy mode)."""
        with self.lock:
            target = self.chat_of(chat)
            target.members[user.id] = user
            self.users.setdefault(user.id, user)
            message = self.new_message(target, user, {"new_chat_members": [user.to_dict()]})
            if not target.bot_removed:
                self.push_update("message", message)
        self.notify()
        return Msg(message)

    def block(self, user: FakeUser) -> None:
        """The user blocks the bot: sends to their private chat get 403 Forbidden."""
        with self.lock:
            self.blocked.add(user.id)

    def unblock(self, user: FakeUser) -> None:
        """The user unblocks the bot (also happens when they write to it again)."""
        with self.lock:
            self.blocked.discard(user.id)

    def kick_bot(self, chat: ChatRef) -> None:
        """The bot is removed from a group: sends there get 403 Forbidden."""
        with self.lock:
            self.chat_of(chat).bot_removed = True

    def migrate(self, chat: ChatRef) -> FakeChat:
        """A basic group becomes a supergroup: the old id answers 400 with migrate_to_chat_id."""
        with self.lock:
            old = self.chat_of(chat)
            if old.type != "group":
                raise ValueError("only a basic group can be upgraded to a supergroup")
            new_id = -self._next_supergroup_id
            self._next_supergroup_id += 1
            new = FakeChat(
                new_id,
                "supergroup",
                title=old.title,
                members=dict(old.members),
                bot_admin=old.bot_admin,
                admins=dict(old.admins),
                owner_id=old.owner_id,
                migrated_from=old.id,
            )
            self.chats[new_id] = new
            actor = next(iter(old.members.values()), self.bot)
            self._service(old, actor, {"migrate_to_chat_id": new_id})
            old.migrated_to = new_id
            self._service(new, actor, {"migrate_from_chat_id": old.id})
        self.notify()
        return new

    def _service(self, chat: FakeChat, actor: FakeUser, content: JSON) -> None:
        message = self.new_message(chat, actor, content)
        self.push_update("message", message)

    # ---- what users do -------------------------------------------------------------------

    def _user_message(
        self, chat: ChatRef, user: FakeUser, content: JSON, reply_to: int | None
    ) -> Msg:
        with self.lock:
            target = self.chat_of(chat)
            if target.type == "private":
                self.blocked.discard(user.id)  # writing to the bot again restarts it
            else:
                target.members.setdefault(user.id, user)
            self.users.setdefault(user.id, user)
            replied = None
            if reply_to is not None:
                replied = target.messages.get(reply_to)
                if replied is None:
                    raise KeyError(f"no message {reply_to} in chat {target.id} to reply to")
            if target.migrated_to is not None:
                raise ValueError(f"chat {target.id} became supergroup {target.migrated_to}")
            if target.admins.get(user.id):  # an anonymous admin speaks as the group
                content = {**content, "sender_chat": target.to_dict()}
                user = ANONYMOUS_ADMIN
            message = self.new_message(target, user, content, replied)
            if not target.bot_removed and self.bot_sees(target, message):
                self.push_update("message", message)
        self.notify()
        return Msg(message)

    def send_text(
        self, chat: ChatRef, user: FakeUser, text: str, *, reply_to: int | None = None
    ) -> Msg:
        """A text message (commands get bot_command entities); returns the stored message."""
        plain, entities = format_text(text, None, None)
        if not plain:
            raise ValueError("Telegram clients do not send empty messages")
        content: JSON = {"text": plain}
        if entities:
            content["entities"] = entities
        return self._user_message(chat, user, content, reply_to)

    def send_photo(
        self,
        chat: ChatRef,
        user: FakeUser,
        image: bytes,
        *,
        caption: str | None = None,
        reply_to: int | None = None,
    ) -> Msg:
        """A photo (stored with a Telegram-like size ladder), optionally captioned."""
        with self.lock:
            sizes = self.files.photo(image)
        return self._user_message(chat, user, {"photo": sizes, **_caption(caption)}, reply_to)

    def send_album(
        self, chat: ChatRef, user: FakeUser, images: Sequence[bytes], *, caption: str | None = None
    ) -> list[Msg]:
        """Several photos as one album: one message per photo sharing a media_group_id."""
        with self.lock:
            group_id = self.new_media_group_id()
            sent = []
            for index, image in enumerate(images):
                content = {"media_group_id": group_id, "photo": self.files.photo(image)}
                if index == 0:
                    content.update(_caption(caption))
                sent.append(self._user_message(chat, user, content, None))
        return sent

    def send_document(
        self,
        chat: ChatRef,
        user: FakeUser,
        data: bytes,
        *,
        file_name: str = "file.bin",
        mime_type: str = "application/octet-stream",
        caption: str | None = None,
        reply_to: int | None = None,
    ) -> Msg:
        """A file sent as a document (no compression: a photo sent this way stays a document)."""
        with self.lock:
            stored = self.files.add(data, "document", file_name=file_name, mime_type=mime_type)
        content = {"document": media_object(stored), **_caption(caption)}
        return self._user_message(chat, user, content, reply_to)

    def send_sticker(
        self, chat: ChatRef, user: FakeUser, emoji: str = "👍", *, reply_to: int | None = None
    ) -> Msg:
        """A static sticker with its emoji."""
        with self.lock:
            stored = self.files.add(
                _sticker_bytes(), "sticker", width=512, height=512, mime_type="image/webp"
            )
        sticker = {
            **media_object(stored),
            "type": "regular",
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
        }
        return self._user_message(chat, user, {"sticker": sticker}, reply_to)

    def send_voice(
        self,
        chat: ChatRef,
        user: FakeUser,
        duration: int = 2,
        *,
        data: bytes = b"OggS\x00fake-voice",
        reply_to: int | None = None,
    ) -> Msg:
        """A voice note."""
        with self.lock:
            stored = self.files.add(data, "voice", duration=duration, mime_type="audio/ogg")
        return self._user_message(chat, user, {"voice": media_object(stored)}, reply_to)

    def edit_text(self, chat: ChatRef, message_id: int, new_text: str) -> Msg:
        """The author edits a text message: an edited_message update, if the bot saw it."""
        with self.lock:
            target = self.chat_of(chat)
            message = target.messages[message_id]
            if "text" not in message:
                raise ValueError("only text messages can be edited this way")
            plain, entities = format_text(new_text, None, None)
            message["text"] = plain
            message.pop("entities", None)
            if entities:
                message["entities"] = entities
            message["edit_date"] = self.now()
            if self.bot_sees(target, message):
                self.push_update("edited_message", message)
        self.notify()
        return Msg(message)

    def press_button(
        self, chat: ChatRef, user: FakeUser, message_id: int, callback_data: str
    ) -> str:
        """Press an inline button of a bot message; returns the callback query id."""
        with self.lock:
            target = self.chat_of(chat)
            message = target.messages[message_id]
            datas = [d for _t, d in Msg(message).buttons]
            if callback_data not in datas:
                raise ValueError(
                    f"message {message_id} has no button with data {callback_data!r}; "
                    f"it has {datas}"
                )
            query_id = self.new_callback_id()
            query = {
                "id": query_id,
                "from": user.to_dict(),
                "message": message,
                "chat_instance": str(abs(target.id) * 7919 % 10**18),
                "data": callback_data,
            }
            self.callback_queries[query_id] = query
            self.push_update("callback_query", query)
        self.notify()
        return query_id

    def react(
        self, chat: ChatRef, user: FakeUser, message_id: int, emoji: str | Sequence[str]
    ) -> None:
        """A reaction (message_reaction update; Telegram sends it only if allowed_updates asks)."""
        emojis = [emoji] if isinstance(emoji, str) else list(emoji)
        with self.lock:
            target = self.chat_of(chat)
            if message_id not in target.messages:
                raise KeyError(f"no message {message_id} in chat {target.id}")
            self.push_update(
                "message_reaction",
                {
                    "chat": target.to_dict(),
                    "message_id": message_id,
                    "user": user.to_dict(),
                    "date": self.now(),
                    "old_reaction": [],
                    "new_reaction": [{"type": "emoji", "emoji": e} for e in emojis],
                },
            )
        self.notify()

    def vote_poll(
        self, chat: ChatRef, user: FakeUser, message_id: int, option_ids: Sequence[int]
    ) -> None:
        """A vote in a bot's poll (an empty list takes it back): a `poll` update with the new
        counts, and `poll_answer` (who chose what) when the poll is not anonymous. As Telegram's
        clients: a closed poll takes no votes, several options only where allowed, a change or
        retraction only where re-voting is allowed. An anonymous admin's answer comes from
        @Channel_Bot with voter_chat = the group."""
        chosen = sorted(set(option_ids))
        with self.lock:
            target = self.chat_of(chat)
            poll = target.messages[message_id]["poll"]
            if poll["is_closed"]:
                raise ValueError("the poll is closed")
            if any(not 0 <= i < len(poll["options"]) for i in chosen):
                raise ValueError(f"the poll has options 0..{len(poll['options']) - 1}")
            if len(chosen) > 1 and not poll["allows_multiple_answers"]:
                raise ValueError("the poll allows one answer")
            answers = self.poll_answers.setdefault(poll["id"], {})
            before = answers.get(user.id)
            if before is not None and not poll["allows_revoting"]:
                raise ValueError("the poll does not allow changing a vote")
            if before is None and not chosen:
                raise ValueError("nothing to take back: no vote yet")
            for i in before or []:
                poll["options"][i]["voter_count"] -= 1
            for i in chosen:
                poll["options"][i]["voter_count"] += 1
            if chosen:
                answers[user.id] = chosen
            else:
                answers.pop(user.id, None)
            poll["total_voter_count"] = len(answers)
            self.push_update("poll", poll)
            if not poll["is_anonymous"]:
                answer: JSON = {
                    "poll_id": poll["id"],
                    "user": user.to_dict(),
                    "option_ids": chosen,
                    "option_persistent_ids": [poll["options"][i]["persistent_id"] for i in chosen],
                }
                if target.admins.get(user.id):
                    answer["user"] = FAKE_CHANNEL.to_dict()
                    answer["voter_chat"] = target.to_dict()
                self.push_update("poll_answer", answer)
        self.notify()

    def poll_choice(self, poll_id: str, user: FakeUser) -> list[int]:
        """The options a user has chosen in a poll now (empty: none)."""
        with self.lock:
            return list(self.poll_answers.get(poll_id, {}).get(user.id, []))

    def send_as_group(self, chat: ChatRef, text: str, *, reply_to: int | None = None) -> Msg:
        """A text an anonymous group admin posts "as the group": Telegram sends it from
        @GroupAnonymousBot (a bot account) with `sender_chat` set to the group itself."""
        with self.lock:
            target = self.chat_of(chat)
            if target.type == "private":
                raise ValueError("only group admins can post as the group")
            sender_chat = target.to_dict()
        plain, entities = format_text(text, None, None)
        content: JSON = {"text": plain, "sender_chat": sender_chat}
        if entities:
            content["entities"] = entities
        return self._user_message(chat, ANONYMOUS_ADMIN, content, reply_to)


def _caption(caption: str | None) -> JSON:
    if not caption:
        return {}
    text, entities = format_text(caption, None, None)
    content: JSON = {"caption": text}
    if entities:
        content["caption_entities"] = entities
    return content


_STICKER: list[bytes] = []


def _sticker_bytes() -> bytes:
    if not _STICKER:
        out = io.BytesIO()
        Image.new("RGBA", (512, 512), (255, 200, 0, 255)).save(out, format="WEBP")
        _STICKER.append(out.getvalue())
    return _STICKER[0]
