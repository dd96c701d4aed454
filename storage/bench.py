"""`fotorobot bench storage`: vote inserts/s, history load time, database size per 1,000 faces."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import pathlib
import platform
import statistics
import sys
import tempfile
import time
from typing import Any

import aiosqlite
import numpy as np

from storage.chats import upsert_chat
from storage.db import connect
from storage.rounds import record_album
from storage.rows import NewFace
from storage.sessions import start_session
from storage.votes import cast_votes, session_history

DIM, LATENT, ALBUM = 16, 32, 4


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of `bench storage`."""
    parser.add_argument("--votes", type=int, default=1000, help="votes per insert measurement")
    parser.add_argument("--faces", type=int, default=200, help="faces in the history session")
    parser.add_argument("--repeats", type=int, default=30, help="history loads to time")
    parser.add_argument(
        "--size-faces", type=int, default=1000, help="faces stored for the size figure"
    )
    parser.add_argument(
        "--dir", type=pathlib.Path, default=None, help="where to put the scratch databases"
    )
    parser.add_argument("--json", type=pathlib.Path, default=None, help="also write figures here")


def _album(rng: np.random.Generator) -> list[NewFace]:
    return [
        NewFace(rng.random(DIM), rng.standard_normal(LATENT), "ei", i + 1) for i in range(ALBUM)
    ]


async def _session_with_faces(
    conn: aiosqlite.Connection, chat: int, n_faces: int, voters: int, rng: np.random.Generator
) -> tuple[int, list[int]]:
    """A session of n_faces faces in albums of 4, each face rated by `voters` users."""
    await upsert_chat(conn, chat, "group")
    session = await start_session(conn, chat, "bench", {"dim": DIM}, latent_dim=LATENT)
    last: list[int] = []
    msg = 0
    for _ in range(-(-n_faces // ALBUM)):
        ids = list(range(msg + 1, msg + ALBUM + 1))
        msg += ALBUM + 1
        rnd = await record_album(conn, session.id, _album(rng), ids)
        last = [f.id for f in rnd.faces]
        for u in range(voters):
            await cast_votes(conn, chat, u + 1, [(f, float(rng.integers(0, 11))) for f in last])
    return session.id, last


async def _vote_rates(path: pathlib.Path, sync: str, n: int) -> dict[str, float]:
    conn = await connect(path, synchronous=sync)
    try:
        rng = np.random.default_rng(0)
        _, faces = await _session_with_faces(conn, 1, ALBUM, 0, rng)
        t0 = time.perf_counter()
        for u in range(n):
            await cast_votes(conn, 1, 10_000 + u, [(faces[u % ALBUM], 5.0)], "5", 100_000 + u)
        single = n / (time.perf_counter() - t0)
        t0 = time.perf_counter()
        await asyncio.gather(
            *(cast_votes(conn, 1, 50_000 + u, [(faces[u % ALBUM], 5.0)]) for u in range(n))
        )
        concurrent = n / (time.perf_counter() - t0)
        t0 = time.perf_counter()
        await asyncio.gather(
            *(
                cast_votes(conn, 1, 90_000 + u, [(f, 5.0) for f in faces], "5 5 5 5")
                for u in range(n // ALBUM)
            )
        )
        album_votes = n / (time.perf_counter() - t0)
    finally:
        await conn.close()
    return {
        "single_votes_per_s": single,
        "concurrent_votes_per_s": concurrent,
        "concurrent_4vote_messages_votes_per_s": album_votes,
    }


async def _history_load_times(path: pathlib.Path, n_faces: int, repeats: int) -> dict[str, float]:
    conn = await connect(path)
    try:
        sid, _ = await _session_with_faces(conn, 2, n_faces, 3, np.random.default_rng(1))
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            hist = await session_history(conn, sid)
            times.append(time.perf_counter() - t0)
        assert hist.points.shape == (n_faces, DIM)
    finally:
        await conn.close()
    return {
        "history_faces": float(n_faces),
        "history_votes": float(len(hist.votes)),
        "history_load_ms_median": 1000 * statistics.median(times),
        "history_load_ms_max": 1000 * max(times),
    }


async def _size(path: pathlib.Path, n_faces: int, voters: int) -> float:
    """Bytes per 1,000 faces (with `voters` votes each) once the WAL is checkpointed."""
    conn = await connect(path)
    try:
        await upsert_chat(conn, 3, "group")
        await conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        empty = path.stat().st_size
        await _session_with_faces(conn, 3, n_faces, voters, np.random.default_rng(2))
        await conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return float(path.stat().st_size - empty) * 1000 / n_faces
    finally:
        await conn.close()


async def _measure(args: argparse.Namespace, workdir: pathlib.Path) -> dict[str, Any]:
    figures: dict[str, Any] = {
        "python": platform.python_version(),
        "sqlite": aiosqlite.sqlite_version,
        "cpus": os.cpu_count(),
        "dim": DIM,
        "latent_dim": LATENT,
    }
    for sync in ("FULL", "NORMAL"):
        rates = await _vote_rates(workdir / f"votes_{sync}.sqlite3", sync, args.votes)
        figures |= {f"{k}_{sync.lower()}": v for k, v in rates.items()}
    figures |= await _history_load_times(workdir / "history.sqlite3", args.faces, args.repeats)
    figures["bytes_per_1000_faces_no_votes"] = await _size(
        workdir / "size0.sqlite3", args.size_faces, 0
    )
    figures["bytes_per_1000_faces_3_votes_each"] = await _size(
        workdir / "size3.sqlite3", args.size_faces, 3
    )
    return figures


def run(args: argparse.Namespace) -> int:
    """Measure and print the figures; 0 on success."""
    if args.votes < ALBUM or min(args.faces, args.repeats, args.size_faces) < 1:
        print(
            "fotorobot: --votes must be >= 4; --faces, --repeats, --size-faces >= 1",
            file=sys.stderr,
        )
        return 2
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        figures = asyncio.run(_measure(args, pathlib.Path(tmp)))
    for key, value in figures.items():
        shown = f"{value:,.1f}" if isinstance(value, float) else str(value)
        print(f"{key:<48} {shown}")
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=1) + "\n", encoding="utf-8")
    return 0
