"""`fotorobot train --progress-json --keep-epochs`: the lines a supervisor follows."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from fotorobot.cli import main
from model.checkpoint import file_version, load_checkpoint
from model.progress import ProgressWriter, epoch_checkpoint_path, keep_checkpoint

TINY = [
    "--image-size", "32", "--latent-dim", "6", "--enc-channels", "8,8,16,16",
    "--dec-channels", "16,8,8,8", "--batch-size", "8", "--holdout", "0.2", "--no-progress",
    "--threads", "1",
]  # fmt: skip


def read_events(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.mark.slow
def test_progress_lines_and_kept_epochs(tmp_path: Path) -> None:
    out, progress = tmp_path / "run" / "model.pt", tmp_path / "run" / "progress.jsonl"
    args = ["train", "--data", "synthetic:48", "--out", str(out), *TINY]
    assert main([*args, "--epochs", "2", "--progress-json", str(progress), "--keep-epochs"]) == 0
    events = read_events(progress)
    kinds = [e["event"] for e in events]
    assert kinds[-1] == "done" and kinds.count("epoch") == 2
    # The last step of every epoch is always written, whatever the interval.
    steps = [e for e in events if e["event"] == "step"]
    assert {e["epoch"] for e in steps if e["step"] == e["steps"]} == {1, 2}
    for e in steps:
        assert float(e["loss"]) > 0 and float(e["images_per_s"]) > 0 and float(e["eta_s"]) >= 0
    assert steps[-1]["eta_s"] == 0
    epochs = [e for e in events if e["event"] == "epoch"]
    for number, e in enumerate(epochs, start=1):
        kept = Path(str(e["checkpoint"]))
        assert kept == epoch_checkpoint_path(out, number) and kept.exists()
        assert load_checkpoint(kept)["config"]["epoch"] == number
        assert "psnr" in e["metrics"]
    # Epoch 1's file is its own: epoch 2's atomic write replaced model.pt, not the link.
    assert file_version(epochs[1]["checkpoint"]) == file_version(out)
    assert file_version(epochs[0]["checkpoint"]) != file_version(out)


def test_writer_throttles_steps_but_never_epochs(tmp_path: Path) -> None:
    ckpt = tmp_path / "m.pt"
    ckpt.write_bytes(b"weights of epoch 1")
    writer = ProgressWriter(tmp_path / "p.jsonl", keep_epochs=True, interval=3600)
    for step in range(1, 6):
        writer({"event": "step", "epoch": 1, "step": step, "steps": 5, "loss": 1.0})
    writer({"event": "epoch", "epoch": 1, "checkpoint": str(ckpt), "metrics": {}})
    events = read_events(tmp_path / "p.jsonl")
    assert [(e["event"], e.get("step")) for e in events] == [
        ("step", 1),
        ("step", 5),
        ("epoch", None),
    ]
    assert events[-1]["checkpoint"] == str(tmp_path / "m.epoch1.pt")
    (tmp_path / "next.tmp").write_bytes(b"weights of epoch 2")
    os.replace(tmp_path / "next.tmp", ckpt)  # the trainer's next (atomic) write
    assert (tmp_path / "m.epoch1.pt").read_bytes() == b"weights of epoch 1"


def test_keep_checkpoint_replaces_an_old_copy(tmp_path: Path) -> None:
    ckpt = tmp_path / "m.pt"
    ckpt.write_bytes(b"first")
    keep_checkpoint(ckpt, 1)
    ckpt.unlink()
    ckpt.write_bytes(b"again")  # a resumed run redoing epoch 1
    assert keep_checkpoint(ckpt, 1).read_bytes() == b"again"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.epoch1.pt", "m.pt"]
