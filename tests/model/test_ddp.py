"""`fotorobot train` under torchrun: two CPU processes (gloo) end with identical weights."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from model.checkpoint import load_checkpoint
from model.face_model import FaceModel
from model.train import weights_digest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_two_process_ddp_run_ends_with_identical_weights(tmp_path: Path) -> None:
    out = tmp_path / "ddp.pt"
    digest = tmp_path / "digest"
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node=2",
        "-m",
        "fotorobot",
        "train",
        "--data",
        "synthetic:40",
        "--out",
        str(out),
        "--epochs",
        "1",
        "--image-size",
        "32",
        "--latent-dim",
        "4",
        "--batch-size",
        "4",
        "--holdout",
        "0.2",
        "--no-progress",
        "--weights-digest",
        str(digest),
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    proc = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rank0 = (tmp_path / "digest.rank0").read_text()
    rank1 = (tmp_path / "digest.rank1").read_text()
    assert rank0 == rank1
    # Only rank 0 wrote the checkpoint, and it holds exactly those weights.
    assert weights_digest(FaceModel.load(out).net) == rank0.strip()
    ckpt = load_checkpoint(out)
    assert ckpt["config"]["epoch"] == 1
    # 32 training faces split over 2 ranks, batches of 4 per rank: 8 images per global step.
    assert ckpt["history"][0]["images_per_s"] > 0
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".tmp") == []
