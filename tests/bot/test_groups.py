"""Group chats vote together: polls of the faces, ratings by reply, quorum, deadline, Next,
the coalesced tally, /settings and /new, a supergroup migration — the real Application
against the fake Bot API."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import numpy as np
import pytest

import storage
from optimization import aggregate_votes, all_votes
from telegram_fake import FakeBotAPI, FakeChat, FakeUser, Msg
from tests.botkit import WAIT, bot_settings, running_bot, wait_inbox_finished


class Group:
    """A group chat of fake users; the first is its owner and starts the searches."""

    def __init__(self, api: FakeBotAPI, names: list[str]) -> None:
        self.api = api
        self.users: list[FakeUser] = [api.user(first_name=name) for name in names]
        self.chat: FakeChat = api.group("Friends", self.users)
        api.promote(self.chat, self.users[0], owner=True)

    def user(self, name: str) -> FakeUser:
        return next(u for u in self.users if u.first_name == name)

    async def start(self) -> tuple[list[Msg], Msg, Msg]:
        """/start by the owner: (the album's photos, its poll, its tally prompt)."""
        sent = self.api.send_text(self.chat, self.users[0], "/start")
        return await self.round_after(sent.message_id, greeting=True)

    async def round_after(
        self, after: int, *, greeting: bool = False, chat: FakeChat | None = None
    ) -> tuple[list[Msg], Msg, Msg]:
        """The next round's messages after a message id: photos, poll, tally."""
        n = 7 if greeting else 6
        messages = await self.api.wait_for_messages(chat or self.chat, n, after=after, timeout=WAIT)
        photos = [m for m in messages if m.kind == "photo"]
        poll = next(m for m in messages if m.kind == "poll")
        tally = next(m for m in messages if m.kind == "text" and m.buttons)
        return photos, poll, tally

    async def settle(self) -> None:
        await self.api.wait_idle(quiet=0.5, timeout=WAIT)


def sends(api: FakeBotAPI, method: str, chat: FakeChat) -> int:
    return sum(1 for c in api.calls_to(method) if c.chat_id == chat.id and c.status == 200)


@pytest.mark.slow
async def test_three_members_on_different_scales_are_standardised(tmp_path: Path) -> None:
    api = FakeBotAPI()
    async with running_bot(api, bot_settings(tmp_path, api.token)) as app:
        conn = app.bot_data.require().engine.conn
        group = Group(api, ["Ann", "Bob", "Cid"])
        photos, poll, tally = await group.start()
        # The poll's options are the faces: each shows its album photo.
        options = poll.raw["poll"]["options"]
        assert [o["text"] for o in options] == ["#1", "#2", "#3", "#4"]
        assert [o["media"]["photo"][-1]["file_id"] for o in options] == [p.file_id for p in photos]
        assert not poll.raw["poll"]["is_anonymous"] and poll.raw["poll"]["allows_multiple_answers"]
        # Generous, harsh and middling raters who agree on the order (and one who doesn't).
        generous = api.send_text(
            group.chat, group.user("Ann"), "10 8 9 7", reply_to=tally.message_id
        )
        api.send_text(group.chat, group.user("Bob"), "4 2 3 1", reply_to=tally.message_id)
        await group.settle()
        assert api.bot_messages(group.chat, after=generous.message_id) == []  # no answer per vote
        wrong = api.send_text(group.chat, group.user("Cid"), "11", reply_to=photos[0].message_id)
        # A wrong vote still gets a short answer, to its sender.
        (refusal,) = await api.wait_for_messages(group.chat, 1, after=wrong.message_id)
        assert refusal.reply_to == wrong.message_id and "1 to 10" in (refusal.text or "")
        last = api.send_text(group.chat, group.user("Cid"), "1 3 2 4", reply_to=tally.message_id)
        await group.round_after(last.message_id)  # the third voter made the quorum
        session = await storage.open_session(conn, group.chat.id)
        assert session is not None
        history = await storage.session_history(conn, session.id)
        scores, counts = aggregate_votes(len(history), all_votes(history.votes, history.rounds, []))
        z = {
            name: (np.array(v) - np.mean(v)) / np.std(v)
            for name, v in {"Ann": [10, 8, 9, 7], "Bob": [4, 2, 3, 1], "Cid": [1, 3, 2, 4]}.items()
        }
        np.testing.assert_allclose(scores[:4], (z["Ann"] + z["Bob"] + z["Cid"]) / 3)
        np.testing.assert_allclose(z["Ann"], z["Bob"])  # the harsh one weighs the same
        assert list(counts[:4]) == [3, 3, 3, 3]
        await group.settle()
        assert "Round 1 closed: 3 took part" in (tally.text or "") and not tally.buttons
        assert poll.raw["poll"]["is_closed"]


@pytest.mark.slow
async def test_a_poll_answer_and_its_retraction(tmp_path: Path) -> None:
    api = FakeBotAPI()
    async with running_bot(api, bot_settings(tmp_path, api.token)) as app:
        engine = app.bot_data.require().engine
        group = Group(api, ["Ann", "Bob", "Cid", "Dee"])
        _photos, poll, tally = await group.start()
        assert "No votes yet" in (tally.text or "") and "3 have voted" in (tally.text or "")
        bob = group.user("Bob")
        api.vote_poll(group.chat, bob, poll.message_id, [0, 2])
        await api.wait_until(lambda: "1 of 3 voted" in (tally.text or ""), timeout=WAIT)
        assert "closest so far: #1" in (tally.text or "")
        round_ = await engine.open_round(group.chat.id)
        assert round_ is not None
        picked = await storage.round_tally(engine.conn, round_.id)
        assert picked is not None and picked.picks == [(1, bob.id), (3, bob.id)]
        api.vote_poll(group.chat, bob, poll.message_id, [])  # takes the vote back
        await api.wait_until(lambda: "No votes yet" in (tally.text or ""), timeout=WAIT)
        gone = await storage.round_tally(engine.conn, round_.id)
        assert gone is not None and gone.picks == [] and gone.is_open
        # Two more voters are not a quorum of three any more: the round stays open.
        api.vote_poll(group.chat, group.user("Cid"), poll.message_id, [1])
        api.vote_poll(group.chat, group.user("Dee"), poll.message_id, [1])
        await group.settle()
        assert sends(api, "sendMediaGroup", group.chat) == 1
        api.vote_poll(group.chat, bob, poll.message_id, [3])
        await group.round_after(tally.message_id)


async def test_the_quorum_closes_once_while_fifty_vote_at_once(tmp_path: Path) -> None:
    api = FakeBotAPI()
    async with running_bot(api, bot_settings(tmp_path, api.token)) as app:
        engine = app.bot_data.require().engine
        group = Group(api, ["Owner"] + [f"M{i}" for i in range(50)])
        _photos, poll, tally = await group.start()
        round_ = await engine.open_round(group.chat.id)
        assert round_ is not None
        for i, member in enumerate(group.users[1:]):  # one burst: 50 updates at once
            api.vote_poll(group.chat, member, poll.message_id, [i % 4])
        await group.round_after(tally.message_id)
        await group.settle()
        assert sends(api, "sendMediaGroup", group.chat) == 2  # exactly one next album
        assert sends(api, "sendPoll", group.chat) == 2
        assert sends(api, "stopPoll", group.chat) == 1
        closing = [
            c
            for c in api.calls_to("editMessageText")
            if c.params.get("message_id") == tally.message_id and "closed" in c.params["text"]
        ]
        assert len(closing) == 1
        await wait_inbox_finished(engine.conn)  # late answers change nothing one could see
        closed = await storage.round_tally(engine.conn, round_.id)
        # Every answer Telegram took before the poll stopped is kept as search data.
        assert closed is not None and not closed.is_open and len(closed.voters) == 50


async def test_the_deadline_closes_a_round(tmp_path: Path) -> None:
    api = FakeBotAPI()
    async with running_bot(api, bot_settings(tmp_path, api.token)) as app:
        engine = app.bot_data.require().engine
        group = Group(api, ["Ann", "Bob", "Cid", "Dee"])
        _photos, poll, tally = await group.start()
        await storage.update_chat_settings(engine.conn, group.chat.id, {"deadline_s": 1})
        api.vote_poll(group.chat, group.user("Bob"), poll.message_id, [2])
        await group.round_after(tally.message_id)  # 1 of 3 voted: the deadline moved on
        await group.settle()
        assert "Round 1 closed: 1 took part" in (tally.text or "")
        assert sends(api, "sendMediaGroup", group.chat) == 2
        # A group that only voted in polls has a best face and a morph all the same.
        asked = api.send_text(group.chat, group.user("Bob"), "/best")
        (best,) = await api.wait_for_messages(group.chat, 1, after=asked.message_id)
        assert best.kind == "photo" and "round 1, face #3" in (best.caption or "")
        asked = api.send_text(group.chat, group.user("Bob"), "/morph")
        (morph,) = await api.wait_for_messages(group.chat, 1, after=asked.message_id)
        assert morph.kind == "animation"


@pytest.mark.slow
async def test_the_deadline_closes_a_round_after_a_restart(tmp_path: Path) -> None:
    api = FakeBotAPI()
    settings = bot_settings(tmp_path, api.token)
    group = Group(api, ["Ann", "Bob", "Cid", "Dee"])
    async with running_bot(api, settings) as app:
        engine = app.bot_data.require().engine
        _photos, poll, tally = await group.start()
        api.vote_poll(group.chat, group.user("Bob"), poll.message_id, [2])
        await api.wait_until(lambda: "1 of 3 voted" in (tally.text or ""), timeout=WAIT)
        round_ = await engine.open_round(group.chat.id)
        assert round_ is not None and round_.deadline is not None
        assert round_.deadline == pytest.approx(time.time() + 120, abs=30)  # 2 min by default
        assert engine.groups.timers.armed() == [round_.id]
    # Down for a while: the time left ran short meanwhile (moved in the database by hand).
    deadline = time.time() + 4.0
    conn = await storage.connect(settings.db_path)
    await storage.set_round_deadline(conn, round_.id, deadline)
    await conn.close()
    assert sends(api, "sendMediaGroup", group.chat) == 1
    async with running_bot(api, settings):  # re-arms the stored deadline at start-up
        await group.round_after(tally.message_id)
        await group.settle()
        albums = [c for c in api.calls_to("sendMediaGroup") if c.chat_id == group.chat.id]
        assert len(albums) == 2 and albums[1].at >= deadline - 0.6  # at its time, not before
        assert "Round 1 closed: 1 took part" in (tally.text or "")


async def test_settings_are_for_group_admins_only(tmp_path: Path) -> None:
    api = FakeBotAPI()
    async with running_bot(api, bot_settings(tmp_path, api.token)) as app:
        engine = app.bot_data.require().engine
        group = Group(api, ["Ann", "Bob", "Cid"])
        await group.start()
        asked = api.send_text(group.chat, group.user("Bob"), "/settings quorum 2")
        (refused,) = await api.wait_for_messages(group.chat, 1, after=asked.message_id)
        assert "Only the group's admins" in (refused.text or "")
        assert (await engine.groups.settings_for(group.chat.id)).quorum == 3
        shown = api.send_text(group.chat, group.user("Ann"), "/settings")
        (panel,) = await api.wait_for_messages(group.chat, 1, after=shown.message_id)
        assert "quorum: 3" in (panel.text or "")
        query = api.press_button(group.chat, group.user("Bob"), panel.message_id, "gs:quorum:+")
        answer = await api.wait_until(lambda: api.callback_answer(query), timeout=WAIT)
        assert answer["show_alert"]
        query = api.press_button(group.chat, group.user("Ann"), panel.message_id, "gs:quorum:-")
        await api.wait_until(lambda: "quorum: 2" in (panel.text or ""), timeout=WAIT)
        changed = api.send_text(group.chat, group.user("Ann"), "/settings deadline 3m")
        (done,) = await api.wait_for_messages(group.chat, 1, after=changed.message_id)
        assert "3 min" in (done.text or "")
        settings = await engine.groups.settings_for(group.chat.id)
        assert settings.quorum == 2 and settings.deadline_s == 180
        audit = await storage.audit_log(engine.conn)
        assert [(a.action, a.admin_user_id) for a in audit] == [
            ("chat_settings", group.user("Ann").id),
            ("chat_settings", group.user("Ann").id),
        ]
        nonsense = api.send_text(group.chat, group.user("Ann"), "/settings album 40")
        (usage,) = await api.wait_for_messages(group.chat, 1, after=nonsense.message_id)
        assert "album 6 (2-10)" in (usage.text or "")


async def test_an_anonymous_admins_next_works_a_members_does_not(tmp_path: Path) -> None:
    api = FakeBotAPI()
    async with running_bot(api, bot_settings(tmp_path, api.token)) as app:
        engine = app.bot_data.require().engine
        group = Group(api, ["Ann", "Bob", "Cid", "Dee"])
        api.promote(group.chat, group.user("Dee"), anonymous=True)
        _photos, poll, tally = await group.start()
        api.vote_poll(group.chat, group.user("Cid"), poll.message_id, [1])
        await api.wait_until(lambda: "1 of 3 voted" in (tally.text or ""), timeout=WAIT)
        asked = api.send_text(group.chat, group.user("Bob"), "/next")
        (refused,) = await api.wait_for_messages(group.chat, 1, after=asked.message_id)
        assert "Only the group's admins or whoever started" in (refused.text or "")
        query = api.press_button(group.chat, group.user("Bob"), tally.message_id, "next")
        answer = await api.wait_until(lambda: api.callback_answer(query), timeout=WAIT)
        assert answer["show_alert"]
        moved = api.send_text(group.chat, group.user("Dee"), "/next")
        assert moved.raw["from"]["username"] == "GroupAnonymousBot"  # posted as the group
        assert moved.raw["sender_chat"]["id"] == group.chat.id
        await group.round_after(moved.message_id)
        audit = await storage.audit_log(engine.conn)
        assert [(a.action, a.details["as"]) for a in audit] == [("group_next", "anonymous_admin")]


@pytest.mark.slow
async def test_a_members_new_needs_others_to_agree(tmp_path: Path) -> None:
    api = FakeBotAPI()
    # Three albums in a few seconds are more than a group's 20 messages a minute: the rate
    # limiter would hold the third for a minute (as it should), which is not this test's point.
    async with running_bot(api, bot_settings(tmp_path, api.token), rate_limiter=False):
        group = Group(api, ["Ann", "Bob", "Cid", "Dee"])
        await group.start()
        for name, count in (("Bob", 1), ("Cid", 2)):
            asked = api.send_text(group.chat, group.user(name), "/new")
            (pending,) = await api.wait_for_messages(group.chat, 1, after=asked.message_id)
            assert f"{count} of 3 agree" in (pending.text or "")
        assert sends(api, "sendMediaGroup", group.chat) == 1  # nobody's votes thrown away yet
        asked = api.send_text(group.chat, group.user("Dee"), "/new")
        _photos, _poll, _tally = await group.round_after(asked.message_id, greeting=True)
        # Dee's /new started this search; Ann did not, but she owns the group: at once.
        restarted = api.send_text(group.chat, group.user("Ann"), "/new")
        await group.round_after(restarted.message_id, greeting=True)


@pytest.mark.slow
async def test_a_supergroup_migration_mid_round_keeps_every_vote(tmp_path: Path) -> None:
    api = FakeBotAPI()
    async with running_bot(api, bot_settings(tmp_path, api.token)) as app:
        engine = app.bot_data.require().engine
        group = Group(api, ["Ann", "Bob", "Cid"])
        photos, poll, tally = await group.start()
        round_ = await engine.open_round(group.chat.id)
        assert round_ is not None
        api.vote_poll(group.chat, group.user("Bob"), poll.message_id, [3])
        api.send_text(group.chat, group.user("Ann"), "9", reply_to=photos[1].message_id)
        await api.wait_until(lambda: "2 of 3 voted" in (tally.text or ""), timeout=WAIT)
        supergroup = api.migrate(group.chat)
        note, *rest = await api.wait_for_messages(supergroup, 7, timeout=WAIT)
        assert "supergroup" in (note.text or "") and "(2)" in (note.text or "")
        new_poll = next(m for m in rest if m.kind == "poll")
        new_tally = next(m for m in rest if m.kind == "text" and m.buttons)
        # The same faces: the stored latents drawn again.
        assert [m.caption for m in rest if m.kind == "photo"] == ["#1", "#2", "#3", "#4"]
        api.vote_poll(supergroup, group.user("Cid"), new_poll.message_id, [0])
        await group.round_after(new_tally.message_id, chat=supergroup)
        closed = await storage.round_tally(engine.conn, round_.id)
        assert closed is not None and closed.chat_id == supergroup.id and not closed.is_open
        assert closed.votes == [(2, group.user("Ann").id, 9.0)]
        assert sorted(closed.picks) == sorted(
            [(4, group.user("Bob").id), (1, group.user("Cid").id)]
        )
        assert (await engine.groups.settings_for(supergroup.id)).quorum == 3


async def test_a_live_training_run_follows_its_group_into_the_supergroup(tmp_path: Path) -> None:
    api = FakeBotAPI()
    group = Group(api, ["Olga", "Bob"])
    owner = group.users[0]
    settings = bot_settings(tmp_path, api.token, admin_ids=frozenset({owner.id}))
    async with running_bot(api, settings) as app:
        deps = app.bot_data.require()
        assert deps.admin is not None  # the bot has an owner
        engine, trainer = deps.engine, deps.admin.trainer
        await group.start()
        run = await storage.create_training_run(
            engine.conn, owner.id, group.chat.id, {"data": "synthetic:64"}, 1
        )
        await storage.set_training_message(engine.conn, run.id, group.chat.id, 5)
        trainer.run = await storage.get_training_run(engine.conn, run.id)  # as if it ran
        supergroup = api.migrate(group.chat)
        await api.wait_until(
            lambda: trainer.run is not None and trainer.run.chat_id == supergroup.id,
            timeout=WAIT,
            what="the run to follow the group",
        )
        # Reports go to the supergroup; the group's progress message cannot be edited there.
        assert trainer.run is not None and trainer.run.message_id is None
        stored = await storage.get_training_run(engine.conn, run.id)
        assert stored is not None and (stored.chat_id, stored.message_id) == (supergroup.id, None)
        trainer.run = None


@pytest.mark.slow
async def test_the_tally_is_never_edited_more_often_than_the_limit_allows(
    tmp_path: Path,
) -> None:
    api = FakeBotAPI()
    api.flood_control()  # Telegram's limits: 20 messages a minute in a group, edits too
    async with running_bot(api, bot_settings(tmp_path, api.token)) as app:
        engine = app.bot_data.require().engine
        group = Group(api, ["Owner"] + [f"M{i}" for i in range(49)])
        _photos, poll, tally = await group.start()
        await storage.update_chat_settings(engine.conn, group.chat.id, {"quorum": 50})
        started = time.monotonic()
        for wave in range(4):  # 40 votes in four bursts
            for member in group.users[1 + 10 * wave : 11 + 10 * wave]:
                api.vote_poll(group.chat, member, poll.message_id, [wave])
            await asyncio.sleep(1.0)
        await api.wait_until(lambda: "40 of 50 voted" in (tally.text or ""), timeout=WAIT)
        await group.settle()
        assert time.monotonic() - started < 60  # all of it within one minute's budget
        assert [c for c in api.calls if c.status == 429] == []
        edits = [
            c
            for c in api.calls_to("editMessageText")
            if c.chat_id == group.chat.id and c.status == 200
        ]
        assert 1 <= len(edits) <= 4  # 40 votes, a handful of edits
        gaps = np.diff([c.at for c in edits])
        assert np.all(gaps >= 2.9)
        sent = sum(
            len(c.params.get("media") or []) or 1
            for c in api.calls
            if c.chat_id == group.chat.id
            and c.status == 200
            and c.method.lower().startswith(("send", "edit", "stop"))
            and c.method.lower() != "sendchataction"
        )
        assert sent <= 20
