"""Photo uploads to a model of aligned real faces: the face is found, or the person is told."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import storage
from model.checkpoint import atomic_save
from model.config import VAEConfig
from model.face_model import FaceModel
from model.vae import VAE
from telegram_fake import FakeBotAPI
from tests.botkit import Person, album_of, bot_settings, running_bot

ASTRONAUT = Path(__file__).resolve().parents[1] / "data" / "astronaut.jpg"


@pytest.fixture(scope="module")
def aligned_model(tmp_path_factory: pytest.TempPathFactory) -> FaceModel:
    """A tiny untrained VAE that says it was trained on aligned photos."""
    cfg = VAEConfig(
        image_size=32,
        latent_dim=6,
        enc_channels=(8, 8, 16, 16),
        dec_channels=(16, 8, 8, 8),
        aligned=True,
    )
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("m") / "aligned.pt"
    atomic_save({"config": cfg.to_dict(), "model": VAE(cfg).state_dict()}, path)
    return FaceModel.load(path)


def _jpeg(pixels: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format="JPEG", quality=90)
    return out.getvalue()


async def test_a_selfie_is_aligned_and_a_faceless_photo_is_refused_kindly(
    tmp_path: Path, aligned_model: FaceModel
) -> None:
    api = FakeBotAPI()
    settings = bot_settings(tmp_path, api.token, search_dim=4)
    async with running_bot(api, settings, model=aligned_model) as app:
        conn = app.bot_data.require().engine.conn
        alice = Person(api)
        await alice.start()
        wall = np.full((300, 400, 3), (180, 170, 160), np.uint8)
        sent = api.send_photo(alice.chat, alice.user, _jpeg(wall))
        (refusal,) = await alice.answers_after(sent)
        assert "couldn't find a face" in (refusal.text or "")
        round_ = await storage.open_round(conn, alice.chat.id)
        assert round_ is not None and len(round_.faces) == 4  # nothing was queued

        # A portrait on a larger canvas, off-centre: found, aligned and queued.
        photo = np.asarray(Image.open(ASTRONAUT).convert("RGB"))
        canvas = np.full((600, 900, 3), 90, np.uint8)
        canvas[200:520, 500:820] = photo
        sent = api.send_photo(alice.chat, alice.user, _jpeg(canvas))
        (queued,) = await alice.answers_after(sent)
        assert "next album" in (queued.text or "")
        photos, _ = album_of(await alice.rate_all("3 9 4 5"))
        assert len(photos) == 4
        round_ = await storage.open_round(conn, alice.chat.id)
        assert round_ is not None
        assert [f.source for f in round_.faces].count("upload") == 1
        # What was encoded is the aligned face, as the model would align it itself.
        face = aligned_model.face_from_photo(_jpeg(canvas))
        expected = aligned_model.encode(face[None])[0]
        uploaded = round_.faces[[f.source for f in round_.faces].index("upload")]
        np.testing.assert_allclose(uploaded.latent, expected, atol=1e-4)


async def test_russian_speakers_hear_the_no_face_answer_in_russian(
    tmp_path: Path, aligned_model: FaceModel
) -> None:
    api = FakeBotAPI()
    async with running_bot(api, bot_settings(tmp_path, api.token), model=aligned_model):
        boris = Person(api, "Boris", language="ru")
        await boris.start()
        sent = api.send_photo(boris.chat, boris.user, _jpeg(np.zeros((64, 64, 3), np.uint8)))
        (refusal,) = await boris.answers_after(sent)
        assert "не нашёл" in (refusal.text or "")
