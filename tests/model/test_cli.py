"""`fotorobot train`, `sample` and `bench model` through the real CLI router."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from fotorobot.cli import main
from model.config import TrainConfig, VAEConfig
from model.train import train


@pytest.fixture(scope="module")
def small_ckpt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cli") / "small.pt"
    tc = TrainConfig(data="synthetic:40", out=str(out), epochs=1, batch_size=8, holdout=0.2)
    vc = VAEConfig(
        image_size=32, latent_dim=6, enc_channels=(8, 8, 16, 16), dec_channels=(16, 8, 8, 8)
    )
    train(tc, vc, progress=False)
    return out


def test_train_refuses_bad_data_with_a_clear_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(["train", "--data", str(tmp_path / "nowhere"), "--out", str(tmp_path / "m.pt")]) == 2
    )
    assert "not a folder" in capsys.readouterr().err
    assert main(["train", "--data", "synthetic:1", "--out", str(tmp_path / "m.pt")]) == 2
    assert main(["train", "--out", str(tmp_path / "m.pt"), "--epochs", "0"]) == 2
    assert main(["train", "--out", str(tmp_path / "m.pt"), "--image-size", "50"]) == 2
    assert "multiple of 16" in capsys.readouterr().err
    assert not (tmp_path / "m.pt").exists()


@pytest.mark.slow
def test_sample_writes_prior_reconstruction_and_axes_grids(
    small_ckpt: Path, tmp_path: Path
) -> None:
    out, axes, faces = tmp_path / "grid.png", tmp_path / "axes.png", tmp_path / "faces.png"
    argv = [
        "sample",
        "--model",
        str(small_ckpt),
        "--out",
        str(out),
        "--samples",
        "8",
        "--recons",
        "4",
        "--cols",
        "4",
        "--scale",
        "1",
        "--axes-grid",
        str(axes),
        "--synthetic-grid",
        str(faces),
    ]
    assert main(argv) == 0
    grid = Image.open(out)
    # Two panels of 2 rows x 4 tiles of 32 px (prior samples, then 4 original/recon pairs).
    assert grid.width == 4 * 32 + 5 * 2 and grid.height > 4 * 32
    assert Image.open(axes).height > 6 * 32  # one row per axis, 6 latent dims
    assert Image.open(faces).size == (8 * 32 + 9 * 2,) * 2
    assert main(["sample", "--model", str(tmp_path / "none.pt"), "--out", str(out)]) == 2


@pytest.mark.slow
def test_bench_model_reports_its_figures(small_ckpt: Path, tmp_path: Path) -> None:
    path = tmp_path / "bench.json"
    argv = [
        "bench",
        "model",
        "--model",
        str(small_ckpt),
        "--faces",
        "20",
        "--train-steps",
        "1",
        "--decode-calls",
        "10",
        "--heldout",
        "8",
        "--json",
        str(path),
    ]
    assert main(argv) == 0
    report = json.loads(path.read_text())
    assert report["generator"]["faces_per_s"] > 0
    assert report["training"]["images_per_s"] > 0
    assert (
        report["album_latency"]["decode"]["p99_ms"] >= report["album_latency"]["decode"]["p50_ms"]
    )
    assert report["quality"]["heldout"] == 8 and report["quality"]["psnr_db"] > 5
    assert report["checkpoint_bytes"] == small_ckpt.stat().st_size
