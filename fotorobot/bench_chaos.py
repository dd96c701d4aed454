"""`fotorobot bench chaos`: SIGKILL the bot at random instants while people rate, then count.

The fake Bot API serves over HTTP in a thread of this process; `fotorobot run` is a child
process polling it, killed with SIGKILL at a random instant after each restart has answered
someone, and started again at once. Simulated people (`--users`) rate every album they get,
as a person would: a look at the faces (`--think` seconds), then "8 3 5 6", or a reply to
photo #1 and "#2 a #3 b #4 c" for the rest; a copy of an album they already rated is not rated
twice; after `--rounds-per-search` albums they send /new. After the last kill they stop, and
the bench waits for every chat's next album.

Then it reads the bot's database and reports: votes sent, stored, lost (sent, never stored),
doubled (stored twice, or in two albums), misapplied (stored in an album other than the one the
person rated), chats left waiting for their album, and the time from a restart to the bot's
first answer. The goal is 0 lost, 0 doubled, 0 waiting.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sqlite3
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from fotorobot.botprocess import BotProcess, bot_environment

SENDS = ("sendmessage", "sendmediagroup", "sendphoto", "sendanimation")
FIRST_ANSWER_TIMEOUT_S = 180.0  # a restart imports torch, GPy and PTB on a busy box


@dataclass
class SentRating:
    """One rating message a simulated person sent, and the album (copy) it rated."""

    chat_id: int
    message_id: int
    votes: dict[int, float]  # album position -> value
    album_ids: list[int]  # message ids of the photos the person was looking at


@dataclass
class ChaosResult:
    """Figures of one run (also written as JSON)."""

    kills: int
    users: int
    wall_s: float
    seconds_per_kill: float
    rating_messages: int
    votes_sent: int
    votes_stored: int
    votes_lost: int
    votes_doubled: int
    votes_misapplied: int
    albums_delivered: int
    duplicate_album_copies: int
    searches_started: int
    chats_waiting: int
    refused_as_closed: int
    restart_to_poll_p50_s: float
    restart_to_first_answer_p50_s: float
    restart_to_first_answer_p95_s: float
    restart_to_first_answer_max_s: float
    restarts_without_answer: int
    updates_skipped: int
    integrity: str
    errors_logged: int
    search_dim: int
    think_s: tuple[float, float]
    first_answers_s: list[float] = field(default_factory=list)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of `fotorobot bench chaos`."""
    parser.add_argument("--kills", type=int, default=200, help="SIGKILLs (default 200)")
    parser.add_argument("--users", type=int, default=4, help="people rating at once (4)")
    parser.add_argument(
        "--max-gap",
        type=float,
        default=6.0,
        help="kill at a uniform random instant up to this many seconds after a restart's "
        "first answer (6.0: a cold process needs ~3 s for its first album on 2 cores)",
    )
    parser.add_argument(
        "--think",
        type=float,
        nargs=2,
        default=(1.0, 1.6),
        metavar=("MIN", "MAX"),
        help="seconds a person looks at an album before rating it (1.0 1.6)",
    )
    parser.add_argument(
        "--rounds-per-search",
        type=int,
        default=12,
        help="albums a person rates before /new starts another face (12): real searches "
        "converge in a few dozen ratings, and a search of hundreds costs seconds per album",
    )
    parser.add_argument("--search-dim", type=int, default=16, help="search dimension ceiling")
    parser.add_argument("--settle", type=float, default=120.0, help="final wait for albums (s)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", type=Path, default=None, help="keep the database and log here")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")


class ChaosUser:
    """A simulated person in a private chat with the bot (see the module docstring)."""

    def __init__(
        self,
        api: Any,
        name: str,
        rng: random.Random,
        think: tuple[float, float],
        rounds_per_search: int = 12,
    ) -> None:
        self.api = api
        self.rounds_per_search = rounds_per_search
        self.searches = 0
        self.user = api.user(first_name=name)
        self.chat = api.private_chat(self.user)
        self.rng = rng
        self.think = think
        self.ratings: list[SentRating] = []
        self.album: list[Any] = []  # the photos being rated (one copy)
        self.last_id = 0  # the person's last message
        self.copies_seen = 0

    async def run(self, stop: asyncio.Event) -> None:
        """/start, then rate every new album until `stop`; /new after `rounds_per_search`."""
        self.last_id = self.api.send_text(self.chat, self.user, "/start").message_id
        rated = 0
        while not stop.is_set():
            album = await self.next_album(stop)
            if album is None:
                return
            self.album = album
            try:
                await asyncio.wait_for(stop.wait(), self.rng.uniform(*self.think))
                return  # stopped while looking: no rating
            except TimeoutError:
                pass
            if rated == self.rounds_per_search:
                self.last_id = self.api.send_text(self.chat, self.user, "/new").message_id
                self.searches += 1
                rated = 0
                continue
            self.rate(album)
            rated += 1

    async def left_waiting(self, timeout: float) -> bool:
        """After the run: True if no album came after the person's last message in `timeout`
        seconds (an album they were still looking at when the run stopped counts as come)."""
        if self.album and self.album[0].message_id > self.last_id:
            return False
        return await self.next_album(None, timeout=timeout) is None

    async def next_album(self, stop: asyncio.Event | None, timeout: float = 1e9) -> Any:
        """The first complete album after the person's last message that is not a copy of the
        one just rated (None on stop or timeout)."""
        deadline = time.monotonic() + timeout
        while stop is None or not stop.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            try:
                return await self.api.wait_until(self._new_album, timeout=min(1.0, left))
            except TimeoutError:
                continue
        return None

    def _new_album(self) -> list[Any] | None:
        groups: dict[str, list[Any]] = {}
        for m in self.api.bot_messages(self.chat, after=self.last_id):
            if m.kind == "photo" and m.media_group_id:
                groups.setdefault(m.media_group_id, []).append(m)
        for photos in groups.values():
            if len(photos) < 4:
                continue  # still arriving
            if self.album and self._same_faces(photos, self.album):
                self.last_id = max(self.last_id, photos[-1].message_id)
                self.copies_seen += 1
                continue  # a second copy of what was rated: not a new album
            return photos
        return None

    def _same_faces(self, a: list[Any], b: list[Any]) -> bool:
        return [self.api.file_bytes(m.file_id) for m in a] == [
            self.api.file_bytes(m.file_id) for m in b
        ]

    def rate(self, album: list[Any]) -> None:
        values = [float(self.rng.randint(1, 10)) for _ in album]
        ids = [m.message_id for m in album]
        if self.rng.random() < 0.3:  # one face by reply, the rest by number
            first = self.api.send_text(
                self.chat, self.user, f"{values[0]:g}", reply_to=album[0].message_id
            )
            self.ratings.append(SentRating(self.chat.id, first.message_id, {1: values[0]}, ids))
            text = " ".join(f"#{i + 1} {v:g}" for i, v in enumerate(values) if i > 0)
            rest = {i + 1: v for i, v in enumerate(values) if i > 0}
        else:
            text = " ".join(f"{v:g}" for v in values)
            rest = {i + 1: v for i, v in enumerate(values)}
        sent = self.api.send_text(self.chat, self.user, text)
        self.ratings.append(SentRating(self.chat.id, sent.message_id, rest, ids))
        self.last_id = sent.message_id


def first_call_after(api: Any, since: float, methods: tuple[str, ...]) -> float | None:
    """When the first successful call of these methods arrived at or after `since`."""
    with api.lock:
        for call in api.calls:
            if call.at >= since and call.method.lower() in methods and call.status == 200:
                return float(call.at)
    return None


async def wait_first_answer(api: Any, since: float, timeout: float) -> float | None:
    """Seconds from `since` to the bot's first message after it (None: nothing in time)."""
    try:
        at = await api.wait_until(lambda: first_call_after(api, since, SENDS), timeout=timeout)
    except TimeoutError:
        return None
    return float(at) - since


def check_votes(db_path: Path, ratings: list[SentRating]) -> dict[str, int]:
    """Compare what was sent with what the database holds."""
    counts = {"sent": 0, "stored": 0, "lost": 0, "doubled": 0, "misapplied": 0}
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as db:
        for r in ratings:
            counts["sent"] += len(r.votes)
            rows = db.execute(
                """SELECT f.position, v.value, v.round_id FROM votes v
                   JOIN faces f ON f.id = v.face_id WHERE v.chat_id = ? AND v.message_id = ?""",
                (r.chat_id, r.message_id),
            ).fetchall()
            stored = {}
            for position, value, _round in rows:
                if position in stored:
                    counts["doubled"] += 1
                stored[position] = value
            rounds = {round_id for _, _, round_id in rows}
            counts["doubled"] += max(0, len(rows) - len(r.votes)) + (len(rounds) > 1)
            good = sum(1 for p, v in r.votes.items() if stored.get(p) == v)
            counts["stored"] += good
            counts["lost"] += len(r.votes) - good
            marks = ",".join("?" * len(r.album_ids))
            seen = db.execute(
                "SELECT DISTINCT round_id FROM faces WHERE chat_id = ? "
                f"AND message_id IN ({marks})",  # marks: only "?" placeholders
                (r.chat_id, *r.album_ids),
            ).fetchall()
            if rows and seen and {s[0] for s in seen} != rounds:
                counts["misapplied"] += len(rows)
    return counts


def database_facts(db_path: Path) -> tuple[str, int]:
    """(integrity_check result, updates the inbox skipped)."""
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as db:
        integrity = str(db.execute("PRAGMA integrity_check").fetchone()[0])
        skipped = int(
            db.execute("SELECT COUNT(*) FROM inbox WHERE state = 'skipped'").fetchone()[0]
        )
    return integrity, skipped


async def bench_chaos(args: argparse.Namespace, workdir: Path) -> ChaosResult:
    """Run the benchmark in `workdir` and return its figures."""
    from telegram_fake import FakeBotAPI, ServerThread

    rng = random.Random(args.seed)
    api = FakeBotAPI()
    think = (float(args.think[0]), float(args.think[1]))
    with ServerThread(api) as url:
        env = bot_environment(
            api.token,
            url,
            workdir / "data",
            FOTOROBOT_SEARCH_DIM=str(args.search_dim),
        )
        bot = BotProcess(env, workdir, workdir / "bot.log", ["--log-level", "WARNING"])
        people = [
            ChaosUser(api, f"P{i}", random.Random(rng.random()), think, args.rounds_per_search)
            for i in range(args.users)
        ]
        stop = asyncio.Event()
        t_start = time.monotonic()
        spawned = bot.start()
        tasks = [asyncio.create_task(p.run(stop)) for p in people]
        first_answers: list[float] = []
        to_poll: list[float] = []
        silent = 0
        try:
            for _ in range(args.kills):
                answered = await wait_first_answer(api, spawned, FIRST_ANSWER_TIMEOUT_S)
                polled = first_call_after(api, spawned, ("getupdates",))
                if polled is not None:
                    to_poll.append(polled - spawned)
                if answered is None:
                    silent += 1
                else:
                    first_answers.append(answered)
                await asyncio.sleep(rng.uniform(0.0, args.max_gap))
                bot.kill()
                spawned = bot.start()
            answered = await wait_first_answer(api, spawned, FIRST_ANSWER_TIMEOUT_S)
            if answered is not None:
                first_answers.append(answered)
            stop.set()
            await asyncio.gather(*tasks)
            waiting = 0
            for person in people:
                waiting += await person.left_waiting(args.settle)
            await asyncio.to_thread(bot.interrupt, 60.0)
        finally:
            stop.set()
            bot.close()
        wall = time.monotonic() - t_start
        refused = sum(
            1
            for p in people
            for m in api.bot_messages(p.chat)
            if "already closed" in (m.text or "")
        )
        albums = sum(
            len({m.media_group_id for m in api.bot_messages(p.chat) if m.media_group_id})
            for p in people
        )
    ratings = [r for p in people for r in p.ratings]
    db_path = workdir / "data" / "fotorobot.sqlite3"
    counts = check_votes(db_path, ratings)
    integrity, skipped = database_facts(db_path)
    output = bot.output()

    def pct(q: float) -> float:
        return float(np.percentile(first_answers, q)) if first_answers else float("nan")

    return ChaosResult(
        kills=args.kills,
        users=args.users,
        wall_s=wall,
        seconds_per_kill=wall / max(1, args.kills),
        rating_messages=len(ratings),
        votes_sent=counts["sent"],
        votes_stored=counts["stored"],
        votes_lost=counts["lost"],
        votes_doubled=counts["doubled"],
        votes_misapplied=counts["misapplied"],
        albums_delivered=albums,
        duplicate_album_copies=sum(p.copies_seen for p in people),
        searches_started=sum(1 + p.searches for p in people),
        chats_waiting=waiting,
        refused_as_closed=refused,
        restart_to_poll_p50_s=float(np.median(to_poll)) if to_poll else float("nan"),
        restart_to_first_answer_p50_s=pct(50),
        restart_to_first_answer_p95_s=pct(95),
        restart_to_first_answer_max_s=max(first_answers) if first_answers else float("nan"),
        restarts_without_answer=silent,
        updates_skipped=skipped,
        integrity=integrity,
        errors_logged=output.count("Traceback"),
        search_dim=args.search_dim,
        think_s=think,
        first_answers_s=[round(x, 3) for x in first_answers],
    )


def report(r: ChaosResult) -> str:
    """Human-readable summary."""
    goal = r.votes_lost == 0 and r.votes_doubled == 0 and r.chats_waiting == 0
    return "\n".join(
        [
            f"bench chaos: {r.kills} SIGKILLs, {r.users} people rating, "
            f"{r.wall_s:.0f} s ({r.seconds_per_kill:.1f} s per kill)",
            f"  votes     sent {r.votes_sent} in {r.rating_messages} messages, stored "
            f"{r.votes_stored}, lost {r.votes_lost}, doubled {r.votes_doubled}, misapplied "
            f"{r.votes_misapplied}",
            f"  albums    {r.albums_delivered} delivered in {r.searches_started} searches "
            f"({r.duplicate_album_copies} second copies of an album), chats left waiting "
            f"{r.chats_waiting}, ratings refused as closed {r.refused_as_closed}",
            f"  restart   -> polling p50 {r.restart_to_poll_p50_s:.1f} s; -> first answer p50 "
            f"{r.restart_to_first_answer_p50_s:.1f} s, p95 {r.restart_to_first_answer_p95_s:.1f}"
            f" s, max {r.restart_to_first_answer_max_s:.1f} s ({r.restarts_without_answer} "
            "restarts had nothing to answer in time)",
            f"  database  integrity {r.integrity}, updates skipped {r.updates_skipped}, "
            f"tracebacks in the log {r.errors_logged}",
            f"  goal 0 lost / 0 doubled / 0 waiting: {'met' if goal else 'NOT met'}",
        ]
    )


def run(args: argparse.Namespace) -> int:
    """Run the benchmark, print the figures, optionally write them as JSON."""
    if (
        args.kills < 0
        or args.users < 1
        or args.think[0] > args.think[1]
        or args.rounds_per_search < 1
    ):
        print(
            "fotorobot bench chaos: bad --kills, --users, --think or --rounds-per-search",
            file=sys.stderr,
        )
        return 2
    if args.keep is not None:
        args.keep.mkdir(parents=True, exist_ok=True)
        result = asyncio.run(bench_chaos(args, args.keep))
    else:
        with tempfile.TemporaryDirectory(prefix="fotorobot-chaos-") as tmp:
            result = asyncio.run(bench_chaos(args, Path(tmp)))
    print(report(result))
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(asdict(result), indent=2) + "\n")
        print(f"  figures written to {args.json}")
    return 0
