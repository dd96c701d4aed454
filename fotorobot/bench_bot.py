"""`fotorobot bench bot`: simulated users rate albums through the fake Bot API over HTTP.

The real Application (rate limiter, handlers, SQLite, GP, decoder, JPEG albums) runs in this
process and long-polls the fake's tornado server, which serves the same event loop. Each user sends
/start, then R full ratings; a round's latency is from the rating message reaching the fake
to the next album's prompt arriving there (4 photos + 1 prompt = 5 Telegram messages).
With `--group N`, group chats of N members vote in polls instead (fotorobot/bench_group.py).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from bot.context import BotApplication
    from fotorobot.bench_group import GroupBenchResult

# Telegram's own ceiling for one bot: about 30 messages per second overall.
TELEGRAM_MESSAGES_PER_SECOND = 30.0
MESSAGES_PER_ROUND = 5  # an album of 4 photos counts as 4 messages, plus the prompt


@dataclass
class BotBenchResult:
    """Figures of one run (also written as JSON)."""

    users: int
    rounds_per_user: int
    search_dim: int
    album_size: int
    rate_limiter: bool
    rounds: int
    wall_s: float
    rounds_per_s: float
    messages_per_s: float
    latency_p50_ms: float
    latency_p90_ms: float
    latency_p99_ms: float
    latency_max_ms: float
    start_p50_ms: float
    peak_rss_mb: float
    telegram_rounds_per_s: float
    headroom: float  # our rounds/s over Telegram's ceiling in rounds/s
    api_calls_per_round: float  # Bot API requests (getUpdates aside) per album, /start included
    cpus: int
    load_average_1m: float  # the machine's load when the run ended (shared boxes)
    while_training: str | None = None  # data of the training run going on meanwhile
    training_images_per_s: float | None = None  # its speed during the measured window


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of `fotorobot bench bot`."""
    parser.add_argument("--users", type=int, default=8, help="simulated users (default 8)")
    parser.add_argument("--rounds", type=int, default=5, help="rated albums per user (5)")
    parser.add_argument(
        "--search-dim", type=int, default=16, help="ceiling of the search dimension (16)"
    )
    parser.add_argument(
        "--no-rate-limiter",
        action="store_true",
        help="build the bot without its rate limiter (raw capacity)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the simulated ratings")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    parser.add_argument(
        "--while-training",
        metavar="DATA",
        default=None,
        help="measure while a training run on DATA (e.g. synthetic:20000) goes on, started as "
        "the bot's /train starts it: nice 19, one thread",
    )
    parser.add_argument(
        "--group",
        type=int,
        default=0,
        metavar="N",
        help="group chats of N members voting in polls instead (Telegram's limits on)",
    )
    parser.add_argument("--groups", type=int, default=2, help="with --group: how many (2)")


@contextlib.asynccontextmanager
async def served_bot(
    prefix: str, search_dim: int, rate_limiter: bool = True
) -> AsyncIterator[tuple[Any, BotApplication, Path]]:
    """The bot polling a fake Bot API over HTTP, its data in a temporary directory:
    (the fake, the running application, that directory)."""
    from bot.app import ALLOWED_UPDATES, build_application
    from fotorobot.logs import quiet_noisy_loggers
    from fotorobot.settings import load_settings
    from telegram_fake import FakeBotAPI, polling, serve_http

    quiet_noisy_loggers()
    api = FakeBotAPI(keep_file_bytes=False)
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        async with serve_http(api) as url:
            environ = {
                "TELEGRAM_BOT_TOKEN": api.token,
                "TELEGRAM_API_BASE_URL": url,
                "FOTOROBOT_DATA_DIR": tmp,
                "FOTOROBOT_SEARCH_DIM": str(search_dim),
            }
            settings = load_settings(environ=environ, env_file=None)
            app = build_application(settings, rate_limiter=rate_limiter)
            async with polling(app, timeout=10, allowed_updates=ALLOWED_UPDATES):
                yield api, app, Path(tmp)


def percentile_ms(values: list[float], q: float) -> float:
    """The q-th percentile of durations in seconds, in milliseconds (NaN when empty)."""
    return float(np.percentile(values, q) * 1000.0) if values else float("nan")


async def _user(
    api: Any, name: str, rounds: int, rng: np.random.Generator, timeout: float
) -> tuple[float, list[float]]:
    """One simulated user: /start, then `rounds` full ratings; (start latency, round latencies)."""
    user = api.user(first_name=name)
    chat = api.private_chat(user)
    t0 = time.perf_counter()
    sent = api.send_text(chat, user, "/start")
    await api.wait_for_messages(chat, 6, after=sent.message_id, timeout=timeout)
    start = time.perf_counter() - t0
    latencies = []
    for _ in range(rounds):
        values = " ".join(str(int(v)) for v in rng.integers(1, 11, size=4))
        t0 = time.perf_counter()
        sent = api.send_text(chat, user, values)
        await api.wait_for_messages(chat, 5, after=sent.message_id, timeout=timeout)
        latencies.append(time.perf_counter() - t0)
    return start, latencies


class BackgroundTraining:
    """A training run as the bot's /train starts it (bot.training_process), for the length of
    a block: it has begun its first epoch before the block starts."""

    def __init__(self, data: str, folder: Path) -> None:
        self.data, self.folder = data, folder
        self.proc: asyncio.subprocess.Process | None = None

    async def __aenter__(self) -> BackgroundTraining:
        from bot.train_options import TrainOptions
        from bot.training_process import RunFiles, child_environment, train_command

        files = RunFiles(self.folder)
        self.files = files
        self.folder.mkdir(parents=True, exist_ok=True)
        cmd = train_command(self.data, TrainOptions(epochs=100), files, resume=False)
        with files.log.open("ab") as log:
            self.proc = await asyncio.create_subprocess_exec(
                *cmd,
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
                env=child_environment(),
                start_new_session=True,
            )
        while not self.steps():  # importing torch and drawing the faces is not training yet
            if self.proc.returncode is not None:
                raise RuntimeError(f"the training run ended early; see {files.log}")
            await asyncio.sleep(0.5)
        return self

    def steps(self) -> list[dict[str, Any]]:
        """Its progress lines so far."""
        if not self.files.progress.exists():
            return []
        lines = self.files.progress.read_text().splitlines()
        events = [json.loads(line) for line in lines if line.strip()]
        return [e for e in events if e.get("event") == "step"]

    async def __aexit__(self, *exc: object) -> None:
        from bot.training_process import stop_group

        if self.proc is not None:
            await asyncio.to_thread(stop_group, self.proc.pid, str(self.folder))
            await self.proc.wait()


async def bench_bot(
    users: int,
    rounds: int,
    search_dim: int,
    rate_limiter: bool,
    seed: int,
    while_training: str | None = None,
) -> BotBenchResult:
    """Run the benchmark once (optionally while a training run goes on) and its figures."""
    async with served_bot("fotorobot-bench-", search_dim, rate_limiter) as (api, app, tmp):
        deps = app.bot_data.require()
        searched_dim = deps.engine.new_settings().dim
        album_size = int(deps.settings.album_size)
        timeout = 120.0 + 10.0 * users
        # Warm-up: the first fit imports GPy and fills caches; not measured.
        await _user(api, "Warmup", 1, np.random.default_rng(seed), timeout)
        rngs = [np.random.default_rng([seed, i]) for i in range(users)]
        async with contextlib.AsyncExitStack() as stack:
            training = None
            if while_training:
                training = await stack.enter_async_context(
                    BackgroundTraining(while_training, tmp / "training")
                )
            calls_before = sum(1 for c in api.calls if c.method.lower() != "getupdates")
            t0, started = time.perf_counter(), time.time()
            results = await asyncio.gather(
                *(_user(api, f"User{i}", rounds, rngs[i], timeout) for i in range(users))
            )
            wall = time.perf_counter() - t0
            steps = training.steps() if training else []
            speeds = [s["images_per_s"] for s in steps if s["time"] >= started]
        sends = sum(1 for c in api.calls if c.method.lower() != "getupdates")
        sends -= calls_before
    starts = [s for s, _ in results]
    latencies = [x for _, lat in results for x in lat]
    n_rounds = len(latencies)
    # The measured window also holds each user's /start album: count those rounds too.
    rounds_per_s = (n_rounds + users) / wall
    telegram_rounds = TELEGRAM_MESSAGES_PER_SECOND / MESSAGES_PER_ROUND
    return BotBenchResult(
        users=users,
        rounds_per_user=rounds,
        search_dim=searched_dim,
        album_size=album_size,
        rate_limiter=rate_limiter,
        rounds=n_rounds,
        wall_s=wall,
        rounds_per_s=rounds_per_s,
        messages_per_s=rounds_per_s * MESSAGES_PER_ROUND,
        latency_p50_ms=percentile_ms(latencies, 50),
        latency_p90_ms=percentile_ms(latencies, 90),
        latency_p99_ms=percentile_ms(latencies, 99),
        latency_max_ms=max(latencies) * 1000.0 if latencies else float("nan"),
        start_p50_ms=percentile_ms(starts, 50),
        peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        telegram_rounds_per_s=telegram_rounds,
        headroom=rounds_per_s / telegram_rounds,
        api_calls_per_round=sends / (n_rounds + users),
        cpus=os.cpu_count() or 1,
        load_average_1m=os.getloadavg()[0],
        while_training=while_training,
        training_images_per_s=float(np.median(speeds)) if speeds else None,
    )


def report(result: BotBenchResult) -> str:
    """Human-readable summary."""
    verdict = (
        "the bot is NOT the bottleneck below Telegram's limit"
        if result.headroom >= 1.0
        else "the bot IS slower than Telegram's limit on this machine"
    )
    return "\n".join(
        [
            f"bench bot: {result.users} users x {result.rounds_per_user} rounds "
            f"(search dim {result.search_dim}, album {result.album_size}, "
            f"rate limiter {'on' if result.rate_limiter else 'off'})",
            f"  throughput   {result.rounds_per_s:.2f} rounds/s = "
            f"{result.messages_per_s:.1f} messages/s  ({result.rounds} rated rounds "
            f"+ {result.users} first albums in {result.wall_s:.1f} s)",
            f"  round latency p50 {result.latency_p50_ms:.0f} ms  p90 "
            f"{result.latency_p90_ms:.0f} ms  p99 {result.latency_p99_ms:.0f} ms  max "
            f"{result.latency_max_ms:.0f} ms  (rating sent -> next prompt received)",
            f"  /start -> first album p50 {result.start_p50_ms:.0f} ms; "
            f"{result.api_calls_per_round:.1f} Bot API calls per round",
            f"  peak memory  {result.peak_rss_mb:.0f} MB RSS (bot + fake server, one process)",
            f"  machine      {result.cpus} CPUs, load average {result.load_average_1m:.1f}",
            *(
                [
                    f"  meanwhile    training on {result.while_training} at nice 19, 1 thread: "
                    f"{result.training_images_per_s or 0:.0f} images/s"
                ]
                if result.while_training
                else []
            ),
            f"  Telegram     ~{TELEGRAM_MESSAGES_PER_SECOND:.0f} messages/s = "
            f"{result.telegram_rounds_per_s:.1f} rounds/s -> headroom x{result.headroom:.2f}: "
            f"{verdict}",
        ]
    )


def run(args: argparse.Namespace) -> int:
    """Run the benchmark, print the figures, optionally write them as JSON."""
    if args.users < 1 or args.rounds < 1:
        print("fotorobot bench bot: --users and --rounds must be >= 1", file=sys.stderr)
        return 2
    if args.group < 0 or (args.group and args.groups < 1):
        print("fotorobot bench bot: --group and --groups must be >= 1", file=sys.stderr)
        return 2
    if args.group and args.while_training:
        # The group bench measures rounds within Telegram's group limits, not CPU latency.
        print(
            "fotorobot bench bot: --while-training measures private rounds; not with --group",
            file=sys.stderr,
        )
        return 2
    result: BotBenchResult | GroupBenchResult
    if args.group:
        from fotorobot.bench_group import bench_groups, report_groups

        result = asyncio.run(
            bench_groups(args.groups, args.group, args.rounds, args.search_dim, args.seed)
        )
        print(report_groups(result))
    else:
        result = asyncio.run(
            bench_bot(
                args.users,
                args.rounds,
                args.search_dim,
                not args.no_rate_limiter,
                args.seed,
                args.while_training,
            )
        )
        print(report(result))
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(asdict(result), indent=2) + "\n")
        print(f"  figures written to {args.json}")
    return 0
