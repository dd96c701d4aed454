"""`fotorobot bench search`: flags checked, the face model loaded, a tiny run reported."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fotorobot.cli import main
from model import default_model_path


@pytest.mark.slow
def test_bench_search_cli_small_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "search", "--strategies", "random,nope"]) == 2
    assert "unknown strategy 'nope'" in capsys.readouterr().err
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a checkpoint")
    assert main(["bench", "search", "--model", str(junk)]) == 1
    assert "cannot use the face model" in capsys.readouterr().err
    if not default_model_path().is_file():
        pytest.skip("no bundled face model")
    out = tmp_path / "s.json"
    args = ["bench", "search", "--n-targets", "2", "--budget", "8", "--strategies", "random,ours"]
    plot = tmp_path / "plots" / "s"
    latency = ["--latency-reps", "1", "--latency-sizes", "12"]
    assert main([*args, *latency, "--json", str(out), "--plot", str(plot)]) == 0
    captured = capsys.readouterr()
    text = captured.out
    assert "| ours |" in text and "round p50" in text
    # The bundled real-face model's photos are not shipped: its own faces are the targets.
    assert "its own prior samples" in captured.err
    # ... searched as the bot searches it: along its identity axes, from its opening faces.
    assert "search space: 16 identity axes" in text
    report = json.loads(out.read_text())
    rows = report["raters"]["pixel"]["similarity"]
    assert [r["strategy"] for r in rows] == ["random", "ours"]
    assert set(report["latency"]) == {"numeric", "preference"}
    assert set(report["latency"]["numeric"]) == {"12"}
    # A photo model has descriptors: closest-face curves, by faces and by answers.
    names = sorted(p.name for p in plot.parent.iterdir())
    assert names == ["s-pixel-answers.png", "s-pixel-faces.png"]
    # A synthetic model has none: the rater's similarity by faces is all there is to draw.
    plain = tmp_path / "synthetic" / "s"
    assert main([*args, "--model", "synthetic", "--no-latency", "--plot", str(plain)]) == 0
    assert sorted(p.name for p in plain.parent.iterdir()) == ["s-pixel-faces.png"]
    assert (plain.parent / "s-pixel-faces.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_missing_bench_extra_is_named(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "cma" else real(name, *a)
    )
    assert main(["bench", "search", "--strategies", "random,cma"]) == 2
    assert "pip install 'fotorobot[bench]'" in capsys.readouterr().err
