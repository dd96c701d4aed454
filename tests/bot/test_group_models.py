"""Group rounds with model versions: a group's search keeps the model it started with through a
switch of the active model and a supergroup migration, and a group whose model is gone is told
so in the group (a poll answer or a migration has no chat the error handler could tell)."""

from __future__ import annotations

from pathlib import Path

import pytest

import storage
from telegram_fake import FakeBotAPI
from tests.bot.test_admin import register, tiny_checkpoint
from tests.bot.test_groups import Group
from tests.botkit import WAIT, bot_settings, running_bot

GONE = "This search was started with a face model that is"


@pytest.mark.slow
async def test_a_group_search_keeps_its_model_through_a_switch_and_a_migration(
    tmp_path: Path,
) -> None:
    api = FakeBotAPI()
    async with running_bot(api, bot_settings(tmp_path, api.token)) as app:
        engine = app.bot_data.require().engine
        tiny = await register(engine.conn, tiny_checkpoint(tmp_path / "tiny.pt"))
        assert (await engine.models.use(tiny, by=None)).status == "switched"
        group = Group(api, ["Ann", "Bob", "Cid"])
        _photos, poll, tally = await group.start()
        assert (await engine.models.rollback(by=None)).status == "switched"
        assert engine.models.active_model.version != tiny  # new searches: the configured one
        for member in group.users:  # the quorum of three closes the round
            api.vote_poll(group.chat, member, poll.message_id, [1])
        _photos, _poll, _tally = await group.round_after(tally.message_id)
        round_ = await engine.open_round(group.chat.id)
        assert round_ is not None and round_.number == 2
        assert {f.model_version for f in round_.faces} == {tiny}
        assert {f.latent.shape for f in round_.faces} == {(6,)}  # the tiny model's latents
        await group.settle()
        # After a migration the same faces are drawn again from their latents, by their model.
        supergroup = api.migrate(group.chat)
        note, *rest = await api.wait_for_messages(supergroup, 7, timeout=WAIT)
        assert "supergroup" in (note.text or "")
        assert [m.caption for m in rest if m.kind == "photo"] == ["#1", "#2", "#3", "#4"]
        moved = await engine.open_round(supergroup.id)
        assert moved is not None and moved.id == round_.id
        assert all(m is not None for m in moved.message_ids)


async def test_a_group_whose_model_is_gone_is_told_when_its_poll_closes(tmp_path: Path) -> None:
    api = FakeBotAPI()
    async with running_bot(api, bot_settings(tmp_path, api.token)) as app:
        engine = app.bot_data.require().engine
        path = tiny_checkpoint(tmp_path / "gone.pt")
        tiny = await register(engine.conn, path)
        await engine.models.use(tiny, by=None)
        group = Group(api, ["Ann", "Bob", "Cid"])
        _photos, poll, tally = await group.start()
        await engine.models.rollback(by=None)
        path.unlink()  # e.g. discarded
        for member in group.users:
            api.vote_poll(group.chat, member, poll.message_id, [2])
        (gone,) = await api.wait_for_messages(group.chat, 1, after=tally.message_id, timeout=WAIT)
        assert (gone.text or "").startswith(GONE)
        assert gone.buttons == [("Start a new search", "new")]
        await group.settle()
        assert await storage.open_session(engine.conn, group.chat.id) is None
        assert poll.raw["poll"]["is_closed"] and not tally.buttons  # the round was wrapped up
        # The button starts a new search with the model that serves now.
        api.press_button(group.chat, group.users[0], gone.message_id, "new")
        photos, _poll, _tally = await group.round_after(gone.message_id, greeting=True)
        assert len(photos) == 4
        session = await storage.open_session(engine.conn, group.chat.id)
        assert session is not None and session.model_version != tiny


async def test_a_migrated_group_whose_model_is_gone_is_told_in_the_supergroup(
    tmp_path: Path,
) -> None:
    api = FakeBotAPI()
    async with running_bot(api, bot_settings(tmp_path, api.token)) as app:
        engine = app.bot_data.require().engine
        path = tiny_checkpoint(tmp_path / "gone.pt")
        await engine.models.use(await register(engine.conn, path), by=None)
        group = Group(api, ["Ann", "Bob", "Cid"])
        _photos, poll, tally = await group.start()
        api.vote_poll(group.chat, group.user("Bob"), poll.message_id, [0])
        await api.wait_until(lambda: "1 of 3 voted" in (tally.text or ""), timeout=WAIT)
        await engine.models.rollback(by=None)
        path.unlink()
        supergroup = api.migrate(group.chat)
        (gone,) = await api.wait_for_messages(supergroup, 1, timeout=WAIT)
        assert (gone.text or "").startswith(GONE)
        await group.settle()
        assert await storage.open_session(engine.conn, supergroup.id) is None
