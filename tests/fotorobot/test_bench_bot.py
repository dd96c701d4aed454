"""`fotorobot bench bot`: simulated users through the fake Bot API over HTTP."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from fotorobot import bench_bot


def test_bench_bot_reports_every_round(tmp_path: Path) -> None:
    parser = argparse.ArgumentParser()
    bench_bot.add_arguments(parser)
    out = tmp_path / "bench.json"
    args = parser.parse_args(
        ["--users", "2", "--rounds", "2", "--search-dim", "4", "--json", str(out)]
    )
    assert bench_bot.run(args) == 0
    figures = json.loads(out.read_text())
    assert figures["rounds"] == 4 and figures["users"] == 2
    assert 0 < figures["latency_p50_ms"] <= figures["latency_p99_ms"] <= figures["latency_max_ms"]
    assert figures["rounds_per_s"] > 0 and figures["peak_rss_mb"] > 50
    assert figures["messages_per_s"] == pytest.approx(5 * figures["rounds_per_s"])
