"""Training: a short run lowers the loss, checkpoints round-trip bit-exactly, resume reproduces."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from model.checkpoint import load_checkpoint
from model.config import TrainConfig, VAEConfig
from model.data import load_data
from model.face_model import FaceModel
from model.train import evaluate, split_indices, state_path, train, weights_digest
from model.vae import VAE

TINY = {
    "image_size": 32,
    "latent_dim": 8,
    "enc_channels": (8, 16, 16, 32),
    "dec_channels": (16, 16, 8, 8),
}


def _configs(out: Path, epochs: int = 1, **kw: object) -> tuple[TrainConfig, VAEConfig]:
    tc = TrainConfig(
        data="synthetic:256",
        out=str(out),
        epochs=epochs,
        batch_size=16,
        lr=3e-3,
        holdout=0.125,
        seed=3,
    )
    return tc, VAEConfig(**{**TINY, **kw})  # type: ignore[arg-type]


@pytest.mark.slow
def test_one_epoch_lowers_the_held_out_loss(tmp_path: Path) -> None:
    tc, vc = _configs(tmp_path / "m.pt")
    images = torch.from_numpy(load_data(tc.data, vc.image_size).images).permute(0, 3, 1, 2)
    _, hold = split_indices(len(images), tc.holdout, tc.seed)
    torch.manual_seed(tc.seed)  # the trainer's initial weights
    before = evaluate(VAE(vc), images[hold], vc, torch.device("cpu"))
    result = train(tc, vc, progress=False)
    after = result["metrics"]
    assert after["loss"] < 0.9 * before["loss"]
    assert after["psnr"] > before["psnr"]
    ckpt = load_checkpoint(tc.out)
    assert ckpt["config"]["epoch"] == 1
    assert ckpt["config"]["dataset"] == "synthetic:256"
    assert ckpt["config"]["metrics"]["psnr"] == pytest.approx(after["psnr"], abs=1e-4)
    assert ckpt["data"]["images"] == 256
    assert state_path(tc.out).exists()


@pytest.mark.slow
def test_checkpoint_survives_save_and_load_bit_exactly(tmp_path: Path) -> None:
    tc, vc = _configs(tmp_path / "m.pt")
    train(tc, vc, progress=False, digest_path=str(tmp_path / "digest"))
    trained = (tmp_path / "digest.rank0").read_text().strip()
    fm = FaceModel.load(tc.out)
    assert weights_digest(fm.net) == trained
    assert fm.latent_dim == 8 and fm.image_size == 32 and fm.config.epoch == 1
    assert fm.latent_basis is not None and fm.latent_basis.axes.shape == (8, 8)
    z = np.random.default_rng(0).standard_normal((5, 8)).astype(np.float32)
    again = FaceModel.load(tc.out)
    assert np.array_equal(fm.decode(z), again.decode(z))
    assert fm.version == again.version and len(fm.version) == 12


@pytest.mark.slow
def test_resume_reproduces_an_uninterrupted_run(tmp_path: Path) -> None:
    tc, vc = _configs(tmp_path / "straight.pt", epochs=2)
    train(tc, vc, progress=False, digest_path=str(tmp_path / "straight"))
    tc1, vc1 = _configs(tmp_path / "resumed.pt", epochs=1)
    train(tc1, vc1, progress=False)
    tc2, vc2 = _configs(tmp_path / "resumed.pt", epochs=2)
    train(tc2, vc2, resume=True, progress=False, digest_path=str(tmp_path / "resumed"))
    assert (tmp_path / "resumed.rank0").read_text() == (tmp_path / "straight.rank0").read_text()
    assert load_checkpoint(tc2.out)["config"]["epoch"] == 2
