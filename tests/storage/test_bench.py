"""`fotorobot bench storage`: the storage figures, on a tiny run."""

from __future__ import annotations

import json
import pathlib

import pytest

from fotorobot.cli import main


def test_bench_storage_writes_figures(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "bench.json"
    args = ["--votes", "8", "--faces", "8", "--repeats", "2", "--size-faces", "100"]
    assert main(["bench", "storage", *args, "--dir", str(tmp_path), "--json", str(out)]) == 0
    figures = json.loads(out.read_text(encoding="utf-8"))
    assert figures["history_faces"] == 8 and figures["history_votes"] == 24
    assert figures["single_votes_per_s_full"] > 0 and figures["bytes_per_1000_faces_no_votes"] > 0
    assert "history_load_ms_median" in capsys.readouterr().out
