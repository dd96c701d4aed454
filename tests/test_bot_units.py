"""The bot's small pure pieces: chat locks, rating means, morph path, bench figures."""

from __future__ import annotations

import asyncio
import gc
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from telegram import Update
from telegram.ext import ApplicationHandlerStop

from bot.app import ChatLocks
from bot.handlers.system import drop_bots
from bot.views import history_labels, mean_ratings, morph_endpoints, slerp
from storage import History


def history(rounds: list[int], votes: list[tuple[int, int, float]], dim: int = 3) -> History:
    n = len(rounds)
    rng = np.random.default_rng(0)
    return History(
        face_ids=np.arange(1, n + 1, dtype=np.int64),
        points=rng.random((n, dim)).astype(np.float32),
        latents=rng.standard_normal((n, 5)).astype(np.float32),
        rounds=np.array(rounds, dtype=np.int64),
        positions=np.array([(i % 4) + 1 for i in range(n)], dtype=np.int64),
        sources=["initial"] * n,
        votes=votes,
    )


async def test_chat_locks_are_shared_while_held_and_dropped_after() -> None:
    locks = ChatLocks()
    lock = locks.get(7)
    assert locks.get(7) is lock and locks.get(8) is not lock
    async with lock:
        assert locks.get(7).locked()
    del lock
    gc.collect()
    assert len(locks) == 0  # no lock kept for chats nobody is waiting on


async def test_chat_lock_serves_waiters_in_arrival_order() -> None:
    locks = ChatLocks()
    order: list[int] = []

    async def job(i: int) -> None:
        async with locks.get(1):
            await asyncio.sleep(0)
            order.append(i)

    await asyncio.gather(*(job(i) for i in range(5)))
    assert order == [0, 1, 2, 3, 4]


def group_message(sender: dict[str, object], sender_chat: dict[str, object] | None) -> Update:
    group = {"id": -100, "type": "supergroup", "title": "Friends"}
    message: dict[str, object] = {
        "message_id": 5, "date": 0, "chat": group, "from": sender, "text": "8 3 5 6"
    }  # fmt: skip
    if sender_chat is not None:
        message["sender_chat"] = sender_chat
    return Update.de_json({"update_id": 1, "message": message}, None)


async def test_other_bots_are_dropped_but_anonymous_admins_are_people() -> None:
    context: Any = None  # drop_bots looks only at the update
    other_bot = {"id": 42, "is_bot": True, "first_name": "Echo"}
    with pytest.raises(ApplicationHandlerStop):
        await drop_bots(group_message(other_bot, None), context)
    anonymous = {"id": 1087968824, "is_bot": True, "first_name": "Group"}
    group = {"id": -100, "type": "supergroup", "title": "Friends"}
    await drop_bots(group_message(anonymous, group), context)  # not raised: handled as a person
    person = {"id": 7, "is_bot": False, "first_name": "Alice"}
    await drop_bots(group_message(person, None), context)


def test_mean_ratings_average_raw_votes_and_leave_unrated_nan() -> None:
    h = history([1, 1, 1, 1], [(0, 1, 8.0), (0, 2, 6.0), (2, 1, 3.0)])
    means = mean_ratings(h)
    assert means[0] == 7.0 and means[2] == 3.0
    assert np.isnan(means[1]) and np.isnan(means[3])
    assert history_labels(h, means) == ["1#1 7", "1#2 -", "1#3 3", "1#4 -"]


def test_slerp_runs_from_start_to_end_at_a_typical_norm() -> None:
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal(32), rng.standard_normal(32)
    path = slerp(a, b, 9)
    assert path.shape == (9, 32)
    np.testing.assert_allclose(path[0], a, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(path[-1], b, rtol=1e-5, atol=1e-5)
    # Linear interpolation would shrink the middle frame towards the origin; slerp does not.
    middle = float(np.linalg.norm(path[4]))
    assert middle > 0.9 * min(np.linalg.norm(a), np.linalg.norm(b))
    assert middle > float(np.linalg.norm((a + b) / 2))
    np.testing.assert_allclose(slerp(a, a, 3), np.stack([a, a, a]), rtol=1e-5, atol=1e-5)


def test_morph_starts_at_the_first_albums_favourite() -> None:
    settings: dict[str, object] = {"dim": 3, "album_size": 4, "seed": 0, "min_observations": 100}
    # Round 1: face 2 is the favourite; round 2: face 5 beats everything.
    h = history([1, 1, 1, 1, 2, 2, 2, 2], [(0, 1, 2.0), (2, 1, 6.0), (5, 1, 9.0), (6, 1, 1.0)])
    assert morph_endpoints(settings, h) == (2, 5)
    assert morph_endpoints(settings, history([1, 1, 1, 1], [])) is None


@pytest.mark.slow
def test_bench_bot_reports_every_round(tmp_path: Path) -> None:
    import argparse

    from bot import bench

    parser = argparse.ArgumentParser()
    bench.add_arguments(parser)
    out = tmp_path / "bench.json"
    args = parser.parse_args(
        ["--users", "2", "--rounds", "2", "--search-dim", "4", "--json", str(out)]
    )
    assert bench.run(args) == 0
    figures = json.loads(out.read_text())
    assert figures["rounds"] == 4 and figures["users"] == 2
    assert 0 < figures["latency_p50_ms"] <= figures["latency_p99_ms"] <= figures["latency_max_ms"]
    assert figures["rounds_per_s"] > 0 and figures["peak_rss_mb"] > 50
    assert figures["messages_per_s"] == pytest.approx(5 * figures["rounds_per_s"])
