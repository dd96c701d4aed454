"""A model with identity assets (NAME.pt.search.npz beside it): new chats search its identity
axes, start with its opening faces, and feed within-album comparisons to the preference GP."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import numpy as np
import pytest

import storage
from telegram_fake import FakeBotAPI
from tests.botkit import Person, album_of, bot_settings, face_model, running_bot


def _model_with_assets(tmp_path: Path) -> Path:
    """A copy of the bundled checkpoint with made-up identity axes and 8 openers beside it."""
    from model import default_model_path
    from model.config import LatentBasis
    from model.search_assets import sidecar_path, write_assets

    path = tmp_path / "model.pt"
    shutil.copy(default_model_path(), path)
    fm = face_model()
    d = fm.latent_dim
    rng = np.random.default_rng(0)
    axes, _ = np.linalg.qr(rng.normal(size=(d, d)))
    basis = LatentBasis(np.zeros(d, np.float32), axes.astype(np.float32), np.ones(d, np.float32))
    t = rng.normal(size=(8, 4)) * 0.8  # openers inside the 4-d search space
    openers = (t @ axes[:, :4].T).astype(np.float32)
    write_assets(sidecar_path(path), fm, basis, openers)
    return path


@pytest.mark.slow
async def test_identity_sessions_open_with_openers_and_store_comparisons(tmp_path: Path) -> None:
    api = FakeBotAPI()
    settings = bot_settings(tmp_path, api.token, model=str(_model_with_assets(tmp_path)))
    async with running_bot(api, settings) as app:
        conn = app.bot_data.require().engine.conn
        alice = Person(api, "Alice")
        _greeting, *rest = await alice.start()
        album_of(rest)
        session = await storage.open_session(conn, alice.chat.id)
        assert session is not None
        assert session.settings["axes"] == "identity"
        for _ in range(3):
            await alice.rate_all("8 3 5 6")
        history = await storage.session_history(conn, session.id)
        assert history.sources[:8] == ["initial"] * 8
        assert len(history) >= 12 and "initial" not in history.sources[8:12]
        from optimization import preferences_from_votes

        pairs = preferences_from_votes(history.rounds, history.votes)
        assert len(pairs) == 3 * 6  # three rated albums of 4, no ties


@pytest.mark.slow  # ~60 s: the group's message budget (20 a minute) holds the third album
async def test_a_groups_poll_picks_go_to_the_preference_gp(tmp_path: Path) -> None:
    from tests.bot.test_groups import Group

    api = FakeBotAPI()
    settings = bot_settings(tmp_path, api.token, model=str(_model_with_assets(tmp_path)))
    async with running_bot(api, settings) as app:
        engine = app.bot_data.require().engine
        group = Group(api, ["Ann", "Bob", "Cid"])
        _photos, poll, tally = await group.start()
        session = await storage.open_session(engine.conn, group.chat.id)
        assert session is not None and session.settings["surrogate"] == "auto"
        assert session.settings["axes"] == "identity"
        for round_number in (1, 2):  # the two albums of opening faces, answered by poll only
            round_ = await engine.open_round(group.chat.id)
            assert round_ is not None and round_.number == round_number
            for member, choice in zip(group.users, ([0], [0, 2], [1]), strict=True):
                api.vote_poll(group.chat, member, poll.message_id, choice)
            if round_number == 1:
                _photos, poll, tally = await group.round_after(tally.message_id)
        # The quorum closed the second round; its next album is the search's own (the fake's
        # group flood limit holds its sending back for a while, so it is planned here).
        assert round_ is not None
        for _ in range(200):
            closed = await storage.get_round(engine.conn, round_.id)
            if closed is not None and not closed.is_open:
                break
            await asyncio.sleep(0.05)
        history = await storage.session_history(engine.conn, session.id)
        assert history.sources == ["initial"] * 8
        assert len(history.picks) == 8 and not history.votes
        plan = await engine.plan_album(group.chat.id)
        assert plan is not None
        assert plan.state["search"]["fit"] == "preference"
        assert "initial" not in [face.source for face in plan.faces]


async def test_a_model_without_its_sidecar_is_searched_on_principal_axes(tmp_path: Path) -> None:
    from model.search_assets import sidecar_path

    api = FakeBotAPI()
    path = _model_with_assets(tmp_path)
    settings = bot_settings(tmp_path, api.token, model=str(path))
    async with running_bot(api, settings) as app:
        conn = app.bot_data.require().engine.conn
        alice = Person(api, "Alice")
        await alice.start()
        session = await storage.open_session(conn, alice.chat.id)
        assert session is not None and session.settings["axes"] == "identity"
    sidecar_path(path).unlink()  # e.g. a checkpoint copied without it; then a restart
    async with running_bot(api, settings) as app:
        conn = app.bot_data.require().engine.conn
        # the identity search cannot go on: its points are identity-axis coordinates
        (gone,) = await alice.say("8 3 5 6")
        assert (gone.text or "").startswith("This search was started with a face model")
        bob = Person(api, "Bob")
        _greeting, *rest = await bob.start()
        album_of(rest)
        session = await storage.open_session(conn, bob.chat.id)
        assert session is not None
        assert session.settings["axes"] == "variance"
        assert session.settings["surrogate"] == "numeric"
