"""A model with identity assets (NAME.pt.search.npz beside it): new chats search its identity
axes, start with its opening faces, and feed within-album comparisons to the preference GP."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

import storage
from bot.fakeapi import FakeBotAPI
from tests.botkit import Person, album_of, bot_config, face_model, running_bot


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


async def test_identity_sessions_open_with_openers_and_store_comparisons(tmp_path: Path) -> None:
    api = FakeBotAPI()
    config = bot_config(tmp_path, api.token, model_path=_model_with_assets(tmp_path))
    async with running_bot(api, config) as app:
        conn = app.bot_data.require().conn
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
