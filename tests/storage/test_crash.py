"""Crash safety: SIGKILL a writer mid-stream; every acknowledged write survives, file is sound."""

from __future__ import annotations

import asyncio
import contextlib
import os
import pathlib
import signal
import sqlite3
import subprocess
import sys

import numpy as np
import pytest

import storage as st

# Records one single-face album and one vote per step, printing the step after both commits
# returned: a printed number is an acknowledged write.
WRITER = """
import asyncio, sys
import numpy as np
import storage as st

async def main(path, chat):
    conn = await st.connect(path, synchronous=sys.argv[3])
    await st.upsert_chat(conn, chat, "private")
    session = await st.start_session(conn, chat, "m", {}, dim=16, latent_dim=32)
    i = 0
    while True:
        i += 1
        face = st.NewFace(np.full(16, (i % 997) / 997), np.full(32, float(i)), "ei", 1)
        rnd = await st.record_album(conn, session.id, [face], [i])
        await st.cast_votes(conn, chat, 7, [(rnd.faces[0].id, float(i))], str(i), 10**7 + i)
        print(i, flush=True)

asyncio.run(main(sys.argv[1], int(sys.argv[2])))
"""


def run_writer_and_kill(
    path: pathlib.Path, chat: int, acks_before_kill: int, sync: str
) -> list[int]:
    """Start a writer, SIGKILL it after `acks_before_kill` acknowledgements; return all acks."""
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path), str(chat), sync],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=pathlib.Path(__file__).resolve().parents[2],
    )
    assert proc.stdout is not None
    acked: list[int] = []
    try:
        for line in proc.stdout:
            acked.append(int(line))
            if len(acked) >= acks_before_kill:
                os.kill(proc.pid, signal.SIGKILL)
                break
    finally:
        proc.kill()
        # Lines already in the pipe were printed after their commits: acknowledged too.
        rest, err = proc.communicate(timeout=30)
    acked += [int(x) for x in rest.split()]
    assert proc.returncode == -signal.SIGKILL, err
    return acked


@pytest.mark.parametrize("sync", ["FULL", "NORMAL"])
def test_sigkill_loses_no_acknowledged_write(tmp_path: pathlib.Path, sync: str) -> None:
    path = tmp_path / "crash.sqlite3"
    acks = {
        chat: run_writer_and_kill(path, chat, n, sync) for chat, n in ((1, 60), (2, 25))
    }  # the second writer starts on the file the first one left behind
    with contextlib.closing(sqlite3.connect(path)) as raw:
        assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert raw.execute("PRAGMA foreign_key_check").fetchall() == []

    async def check() -> None:
        conn = await st.connect(path)
        try:
            for chat, acked in acks.items():
                assert acked == list(range(1, len(acked) + 1))
                for i in acked:
                    face = await st.face_by_message(conn, chat, i)
                    assert face is not None, (chat, i)
                    np.testing.assert_array_equal(face.latent, np.full(32, float(i)))
                    votes = await st.votes_by_message(conn, chat, 10**7 + i)
                    assert [(v.face_id, v.value) for v in votes] == [(face.id, float(i))]
        finally:
            await conn.close()

    asyncio.run(check())
