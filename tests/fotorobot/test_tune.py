"""`fotorobot tune`: random points, then EI from the project's GP; the best trained in full."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from fotorobot.cli import main
from fotorobot.tune import AXES, Trial, best_trial, decode_point, next_point, scaled_channels
from model.checkpoint import load_checkpoint

TINY = [
    "--data", "synthetic:48", "--image-size", "32", "--enc-channels", "8,8,16,16",
    "--dec-channels", "16,8,8,8", "--batch-size", "8", "--holdout", "0.25", "--threads", "1",
    "--no-progress",
]  # fmt: skip


@pytest.mark.slow
def test_a_tiny_budget_returns_the_best_trial_it_saw(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, progress = tmp_path / "best.pt", tmp_path / "progress.jsonl"
    argv = ["tune", *TINY, "--out", str(out), "--trials", "3", "--random", "2"]
    argv += ["--trial-epochs", "1", "--epochs", "2", "--progress-json", str(progress)]
    assert main(argv) == 0
    workdir = tmp_path / "best.tune"
    record = json.loads((workdir / "trials.json").read_text())
    trials = [Trial.from_dict(d) for d in record["trials"]]
    assert [t.source for t in trials] == ["random", "random", "ei"]
    assert all(np.isfinite(t.loss) and t.loss > 0 for t in trials)
    best = min(trials, key=lambda t: t.loss)
    # The full run is the best trial's configuration, for --epochs.
    cfg = load_checkpoint(out)["config"]
    assert cfg["latent_dim"] == best.hyper.latent_dim and cfg["epoch"] == 2
    assert cfg["beta"] == pytest.approx(best.hyper.beta)
    assert tuple(cfg["dec_channels"]) == scaled_channels((16, 8, 8, 8), best.hyper.dec_width)
    assert load_checkpoint(out)["train"]["lr"] == pytest.approx(best.hyper.lr)
    table = (workdir / "trials.md").read_text()
    assert f"| {best.index} **best** |" in table and table.count("\n") == 2 + 3
    assert capsys.readouterr().out.strip() == table.strip()
    with Image.open(workdir / "trials.png") as plot:
        assert plot.size == (720, 420)
    events = [json.loads(line) for line in progress.read_text().splitlines()]
    kinds = [e["event"] for e in events]
    assert kinds[:3] == ["trial"] * 3 and kinds[3] == "tuned" and kinds[-1] == "done"
    assert events[3]["best_trial"] == best.index and kinds.count("epoch") == 2
    assert not list(workdir.glob("trial*.pt"))  # short runs leave no checkpoints behind
    # --resume: the trials are not run again; the full run is already complete.
    assert main([*argv, "--resume"]) == 0
    again = json.loads((workdir / "trials.json").read_text())["trials"]
    assert [t["loss"] for t in again] == [t.loss for t in trials]


def test_points_map_onto_log_axes() -> None:
    low = decode_point(np.zeros(len(AXES)))
    high = decode_point(np.ones(len(AXES)))
    assert (low.latent_dim, low.dec_width, low.beta, low.lr) == (8, 0.5, 0.1, 3e-4)
    assert (high.latent_dim, high.dec_width, high.beta, high.lr) == (64, 2.0, 4.0, 1e-2)
    mid = decode_point(np.full(len(AXES), 0.5))
    assert mid.latent_dim == round((8 * 64) ** 0.5) and mid.beta == pytest.approx(0.632, abs=1e-3)
    assert scaled_channels((128, 64, 32, 32), 0.5) == (64, 32, 16, 16)
    assert scaled_channels((16, 8), 0.3) == (8, 8)


def _trial(index: int, point: list[float], loss: float) -> Trial:
    return Trial(index, "random", point, decode_point(np.array(point)), loss, loss, 0, 20, 1)


def test_ei_follows_the_gp_toward_the_better_region() -> None:
    rng = np.random.default_rng(0)
    # Loss grows with the distance from (0.8, 0.8, 0.8, 0.8): EI should look near there.
    points = rng.random((10, len(AXES)))
    trials = [
        _trial(i + 1, list(p), float(np.sum((p - 0.8) ** 2)) * 100) for i, p in enumerate(points)
    ]
    point, source = next_point(trials, 10, np.random.default_rng(1), seed=0)
    assert source == "ei"
    nearest = min(np.sum((p - 0.8) ** 2) for p in points)
    assert np.sum((point - 0.8) ** 2) < 2 * nearest + 0.05
    # Before 10 trials: random points from the generator.
    point, source = next_point(trials[:3], 10, np.random.default_rng(1), seed=0)
    assert source == "random" and np.allclose(point, np.random.default_rng(1).random(len(AXES)))
    assert best_trial(trials).loss == min(t.loss for t in trials)
    assert best_trial([_trial(1, [0.1] * 4, 5.0), _trial(2, [0.2] * 4, 5.0)]).index == 1
