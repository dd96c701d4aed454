"""`fotorobot bench bot --group N`: group chats of N members vote through the fake Bot API.

The real Application (its rate limiter, handlers, SQLite, GP, decoder) long-polls the fake over
HTTP, with the fake's flood control on: Telegram's ~30 messages/s per bot and 20 messages a
minute per group, album photos and edits counted. In each of G groups the owner sends /start;
then, every round, all N members answer the round's poll at the same moment (one or two faces
each) and the quorum closes it. Measured: rounds per minute per group and overall, the latency
from the closing votes to the next album arriving, and the 429s Telegram would have answered
(the goal: none).
"""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from fotorobot.bench_bot import percentile_ms, served_bot


@dataclass
class GroupBenchResult:
    """Figures of one group run (also written as JSON)."""

    groups: int
    members: int
    rounds_per_group: int
    search_dim: int
    album_size: int
    rounds: int
    wall_s: float
    rounds_per_min_per_group: float  # mean over groups, each from its first vote to its end
    rounds_per_min: float  # all groups together
    close_to_album_p50_ms: float
    close_to_album_p90_ms: float
    close_to_album_max_ms: float
    close_to_poll_p50_ms: float  # ... to its poll: later when the group's minute is used up
    close_to_poll_max_ms: float
    messages_per_round: float  # group messages per round, as Telegram counts (edits too)
    tally_edits: int
    retry_afters: int  # 429s the fake answered (the bot's limiter should leave none)
    cpus: int
    load_average_1m: float


def _photos(api: Any, chat: Any) -> int:
    return sum(1 for m in api.bot_messages(chat) if m.kind == "photo")


def _polls(api: Any, chat: Any) -> list[Any]:
    return [m for m in api.bot_messages(chat) if m.kind == "poll"]


async def _group(
    api: Any, index: int, members: int, rounds: int, rng: np.random.Generator, timeout: float
) -> tuple[float, list[float], list[float]]:
    """One group's search: its wall time from the first vote, and the latencies from the
    closing votes to the next album and to its poll."""
    people = [api.user(first_name=f"G{index}M{i}") for i in range(members)]
    chat = api.group(f"Bench {index}", people)
    api.promote(chat, people[0], owner=True)
    api.send_text(chat, people[0], "/start")
    await api.wait_until(lambda: _polls(api, chat), timeout=timeout, what="the first poll")
    latencies, to_poll = [], []
    t0 = time.perf_counter()
    for done in range(1, rounds + 1):
        poll = _polls(api, chat)[-1]
        size = len(poll.raw["poll"]["options"])
        for person in people:  # everyone at the same moment
            picks = rng.choice(size, size=int(rng.integers(1, 3)), replace=False)
            api.vote_poll(chat, person, poll.message_id, sorted(int(p) for p in picks))
        closing = time.perf_counter()
        photos = size * (done + 1)
        await api.wait_until(
            lambda n=photos: _photos(api, chat) >= n, timeout=timeout, what="the next album"
        )
        latencies.append(time.perf_counter() - closing)
        await api.wait_until(
            lambda n=done + 1: len(_polls(api, chat)) >= n, timeout=timeout, what="its poll"
        )
        to_poll.append(time.perf_counter() - closing)
    return time.perf_counter() - t0, latencies, to_poll


async def bench_groups(
    groups: int, members: int, rounds: int, search_dim: int, seed: int
) -> GroupBenchResult:
    """Run the group benchmark once and return its figures."""
    async with served_bot("fotorobot-bench-group-", search_dim) as (api, app, _):
        deps = app.bot_data.require()
        engine = deps.engine
        searched_dim = engine.new_settings().dim
        album_size = int(deps.settings.album_size)
        # A round needs ~8 group messages of a group's 20 a minute: minutes, not seconds.
        timeout = 180.0 + 40.0 * rounds
        # Warm-up in a private chat: the first fit imports GPy and fills caches.
        warm = api.user(first_name="Warmup")
        sent = api.send_text(api.private_chat(warm), warm, "/start")
        await api.wait_for_messages(warm.id, 6, after=sent.message_id, timeout=timeout)
        sent = api.send_text(warm.id, warm, "5 6 7 8")
        await api.wait_for_messages(warm.id, 5, after=sent.message_id, timeout=timeout)
        api.flood_control()  # from now on Telegram's limits: the bot must stay under
        rngs = [np.random.default_rng([seed, g]) for g in range(groups)]
        t0 = time.perf_counter()
        results = await asyncio.gather(
            *(_group(api, g, members, rounds, rngs[g], timeout) for g in range(groups))
        )
        wall = time.perf_counter() - t0
        await api.wait_idle(quiet=0.5, timeout=60)
        edits = engine.groups.tallies.edits
    group_ids = {c.id for c in api.chats.values() if c.type != "private"}
    units = 0
    for call in api.calls:
        if call.status != 200 or call.chat_id not in group_ids:
            continue
        method = call.method.lower()
        if method.startswith(("send", "edit", "stop")) and method != "sendchataction":
            units += len(call.params.get("media") or []) or 1
    latencies = [x for _, lat, _ in results for x in lat]
    to_poll = [x for _, _, lat in results for x in lat]
    n_rounds = len(latencies)
    per_group = [len(lat) / (span / 60.0) for span, lat, _ in results if span > 0]
    return GroupBenchResult(
        groups=groups,
        members=members,
        rounds_per_group=rounds,
        search_dim=searched_dim,
        album_size=album_size,
        rounds=n_rounds,
        wall_s=wall,
        rounds_per_min_per_group=float(np.mean(per_group)) if per_group else float("nan"),
        rounds_per_min=n_rounds / (wall / 60.0),
        close_to_album_p50_ms=percentile_ms(latencies, 50),
        close_to_album_p90_ms=percentile_ms(latencies, 90),
        close_to_album_max_ms=max(latencies) * 1000.0 if latencies else float("nan"),
        close_to_poll_p50_ms=percentile_ms(to_poll, 50),
        close_to_poll_max_ms=max(to_poll) * 1000.0 if to_poll else float("nan"),
        messages_per_round=units / max(1, n_rounds + groups),
        tally_edits=edits,
        retry_afters=sum(1 for c in api.calls if c.status == 429),
        cpus=os.cpu_count() or 1,
        load_average_1m=os.getloadavg()[0],
    )


def report_groups(result: GroupBenchResult) -> str:
    """Human-readable summary."""
    verdict = "none, as it should be" if result.retry_afters == 0 else "SOME: the limiter leaks"
    return "\n".join(
        [
            f"bench bot --group: {result.groups} groups x {result.members} members x "
            f"{result.rounds_per_group} rounds (search dim {result.search_dim}, album "
            f"{result.album_size}; Telegram's limits on: 20 messages/min per group)",
            f"  rounds       {result.rounds_per_min_per_group:.2f}/min per group, "
            f"{result.rounds_per_min:.2f}/min overall ({result.rounds} rounds in "
            f"{result.wall_s:.1f} s)",
            f"  closing votes -> next album p50 {result.close_to_album_p50_ms:.0f} ms  p90 "
            f"{result.close_to_album_p90_ms:.0f} ms  max {result.close_to_album_max_ms:.0f} ms; "
            f"-> its poll p50 {result.close_to_poll_p50_ms:.0f} ms  max "
            f"{result.close_to_poll_max_ms:.0f} ms",
            f"  group messages per round {result.messages_per_round:.1f} (album, poll, tally, "
            f"stopPoll, closing edit; {result.tally_edits} live tally edits in all)",
            f"  429s seen    {result.retry_afters}: {verdict}",
            f"  machine      {result.cpus} CPUs, load average {result.load_average_1m:.1f}",
        ]
    )
