"""`fotorobot bench chaos`: a short run through the command line, figures checked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fotorobot.cli import main


@pytest.mark.slow
def test_bench_chaos_kills_and_counts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "chaos.json"
    args = ["bench", "chaos", "--kills", "3", "--users", "2", "--search-dim", "4"]
    assert main([*args, "--settle", "90", "--keep", str(tmp_path / "run"), "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "3 SIGKILLs" in printed and "lost" in printed and "waiting" in printed
    figures = json.loads(out.read_text())
    assert figures["kills"] == 3 and figures["integrity"] == "ok"
    assert figures["votes_stored"] == figures["votes_sent"] - figures["votes_lost"]
    assert figures["votes_lost"] == 0 and figures["votes_doubled"] == 0
    assert figures["chats_waiting"] == 0
    assert len(figures["first_answers_s"]) == 4  # every restart answered, and the first start
    assert (tmp_path / "run" / "data" / "fotorobot.sqlite3").exists()


def test_bench_chaos_refuses_nonsense(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "chaos", "--users", "0"]) == 2
    assert "--users" in capsys.readouterr().err
