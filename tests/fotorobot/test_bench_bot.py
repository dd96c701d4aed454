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


@pytest.mark.slow
def test_bench_bot_group_reports_rounds_latency_and_no_429(tmp_path: Path) -> None:
    parser = argparse.ArgumentParser()
    bench_bot.add_arguments(parser)
    out = tmp_path / "group.json"
    args = parser.parse_args(
        ["--group", "6", "--groups", "2", "--rounds", "1", "--search-dim", "4", "--json", str(out)]
    )
    assert bench_bot.run(args) == 0
    figures = json.loads(out.read_text())
    # One round each: a second would wait out the group's minute (20 messages), as it should.
    assert figures["rounds"] == 2 and figures["members"] == 6 and figures["groups"] == 2
    assert figures["retry_afters"] == 0  # under Telegram's limits, with them enforced
    assert 0 < figures["close_to_album_p50_ms"] <= figures["close_to_album_max_ms"]
    assert figures["close_to_album_max_ms"] <= figures["close_to_poll_max_ms"]
    assert figures["rounds_per_min_per_group"] > 0
    # Album of 4, poll, tally, stopPoll and the closing edit (plus live tally edits).
    assert 7 <= figures["messages_per_round"] <= 12
