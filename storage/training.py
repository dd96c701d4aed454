"""Training runs as the bot supervises them: one live run, its process, epochs, outcome.

Every epoch's checkpoint becomes a model version in the same transaction that advances the
run, so a restart never finds a run ahead of its versions or a version without its run.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

import aiosqlite

from storage.admin import LOG_TAIL_CHARS, model_from_row, run_from_row, upsert_model_version
from storage.db import dumps_json, fetch_all, fetch_one, now, read_tx, write_tx
from storage.errors import BadValue, NotFound, TrainingBusy
from storage.rows import LIVE_TRAINING_STATES, TRAINING_STATES, ModelVersion, TrainingRun

FINAL_STATES = ("done", "failed", "cancelled", "interrupted")
_LIVE = "('queued', 'running')"  # LIVE_TRAINING_STATES as SQL


async def _run(conn: aiosqlite.Connection, run_id: int) -> TrainingRun:
    row = await fetch_one(conn, "SELECT * FROM training_runs WHERE id = ?", (run_id,))
    if row is None:
        raise NotFound(f"training run {run_id} does not exist")
    return run_from_row(row)


async def create_training_run(
    conn: aiosqlite.Connection,
    requested_by: int | None,
    chat_id: int | None,
    config: dict[str, Any],
    epochs: int,
    workdir_for: Callable[[int], str] | None = None,
) -> TrainingRun:
    """A queued run; raises TrainingBusy while another run is queued or running.

    workdir_for(run_id) -> str names the run's folder from its id (same transaction)."""
    cfg = dumps_json(config, "training config")
    t = now()
    async with write_tx(conn):
        try:
            cur = await conn.execute(
                """INSERT INTO training_runs (requested_by, chat_id, config, epochs,
                       created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)""",
                (requested_by, chat_id, cfg, int(epochs), t, t),
            )
        except sqlite3.IntegrityError as exc:
            if "training_runs_one_live" in str(exc) or "UNIQUE" in str(exc):
                raise TrainingBusy("a training run is already queued or running") from exc
            raise
        run_id = int(cur.lastrowid or 0)
        if workdir_for is not None:
            await conn.execute(
                "UPDATE training_runs SET workdir = ? WHERE id = ?",
                (workdir_for(run_id), run_id),
            )
        return await _run(conn, run_id)


async def live_training_run(conn: aiosqlite.Connection) -> TrainingRun | None:
    """The queued or running run, if any."""
    async with read_tx(conn):
        row = await fetch_one(conn, f"SELECT * FROM training_runs WHERE state IN {_LIVE}")
    return run_from_row(row) if row else None


async def mark_training_started(conn: aiosqlite.Connection, run_id: int, pid: int) -> TrainingRun:
    """The run's process is up: state running, its pid (= its process group) recorded."""
    async with write_tx(conn):
        await conn.execute(
            "UPDATE training_runs SET state = 'running', pid = ?, updated_at = ? WHERE id = ?",
            (int(pid), now(), run_id),
        )
        return await _run(conn, run_id)


async def set_training_message(
    conn: aiosqlite.Connection, run_id: int, chat_id: int | None, message_id: int
) -> None:
    """Remember the progress message (edited as the run goes, found again after a restart)."""
    async with write_tx(conn):
        await conn.execute(
            "UPDATE training_runs SET chat_id = COALESCE(?, chat_id), message_id = ?,"
            " updated_at = ? WHERE id = ?",
            (chat_id, int(message_id), now(), run_id),
        )


async def record_training_progress(
    conn: aiosqlite.Connection, run_id: int, progress: float, log_tail: str | None = None
) -> None:
    """Progress within the whole run (0..1) and the log's tail."""
    if not 0.0 <= float(progress) <= 1.0:
        raise BadValue(f"progress must be within [0, 1], got {progress!r}")
    tail = log_tail[-LOG_TAIL_CHARS:] if log_tail is not None else None
    async with write_tx(conn):
        await conn.execute(
            "UPDATE training_runs SET progress = ?, log_tail = COALESCE(?, log_tail),"
            " updated_at = ? WHERE id = ?",
            (float(progress), tail, now(), run_id),
        )


async def record_training_epoch(
    conn: aiosqlite.Connection,
    run_id: int,
    epoch: int,
    version: str,
    path: str,
    config: dict[str, Any],
    metrics: dict[str, Any],
    source: str | None,
) -> ModelVersion:
    """One finished epoch: its checkpoint registered as a model version (who trained it from
    what) and the run advanced to it, in one transaction."""
    cfg, met = dumps_json(config, "model config"), dumps_json(metrics, "model metrics")
    async with write_tx(conn):
        run = await _run(conn, run_id)
        row = await upsert_model_version(
            conn, version, path, cfg, met, (run.requested_by, source, run_id, int(epoch))
        )
        progress = min(1.0, epoch / run.epochs) if run.epochs else run.progress
        await conn.execute(
            """UPDATE training_runs SET epoch = MAX(epoch, ?), model_version = ?,
                   progress = MAX(progress, ?), updated_at = ? WHERE id = ?""",
            (int(epoch), version, progress, now(), run_id),
        )
    return model_from_row(row)


async def set_model_metrics(
    conn: aiosqlite.Connection, version: str, metrics: dict[str, Any]
) -> None:
    """Replace a version's metrics (the model bench's figures once a run has ended)."""
    met = dumps_json(metrics, "model metrics")
    async with write_tx(conn):
        cur = await conn.execute(
            "UPDATE model_versions SET metrics = ? WHERE version = ?", (met, version)
        )
        if cur.rowcount != 1:
            raise NotFound(f"model version {version!r} is not registered")


async def finish_training_run(
    conn: aiosqlite.Connection, run_id: int, state: str, log_tail: str | None = None
) -> TrainingRun:
    """The run ended (done, failed, cancelled, interrupted): its process is gone."""
    if state not in FINAL_STATES:
        raise BadValue(f"a finished run is one of {FINAL_STATES}, got {state!r}")
    tail = log_tail[-LOG_TAIL_CHARS:] if log_tail is not None else None
    t = now()
    async with write_tx(conn):
        await conn.execute(
            """UPDATE training_runs SET state = ?, pid = NULL, finished_at = ?, updated_at = ?,
                   log_tail = COALESCE(?, log_tail),
                   progress = CASE WHEN ? = 'done' THEN 1.0 ELSE progress END
               WHERE id = ?""",
            (state, t, t, tail, state, run_id),
        )
        return await _run(conn, run_id)


async def requeue_training_run(conn: aiosqlite.Connection, run_id: int) -> TrainingRun:
    """Resume an interrupted, cancelled or failed run: it is the live run again (queued).
    Raises TrainingBusy while another run is live, BadValue for a run that cannot resume."""
    async with write_tx(conn):
        run = await _run(conn, run_id)
        if run.state not in ("interrupted", "cancelled", "failed"):
            raise BadValue(f"run {run_id} is {run.state}; only a stopped run resumes")
        try:
            await conn.execute(
                """UPDATE training_runs SET state = 'queued', finished_at = NULL,
                       updated_at = ? WHERE id = ?""",
                (now(), run_id),
            )
        except sqlite3.IntegrityError as exc:
            raise TrainingBusy("a training run is already queued or running") from exc
        return await _run(conn, run_id)


async def discard_training_run(
    conn: aiosqlite.Connection, run_id: int, keep: frozenset[str] = frozenset()
) -> list[ModelVersion]:
    """Unregister the run's model versions (but the active one and those in `keep`) and mark
    the run discarded; returns the versions removed (their files are the caller's to delete).
    Raises BadValue for a live run."""
    async with write_tx(conn):
        run = await _run(conn, run_id)
        if run.state in LIVE_TRAINING_STATES:
            raise BadValue(f"run {run_id} is still {run.state}: cancel it first")
        rows = await fetch_all(
            conn,
            "SELECT * FROM model_versions WHERE run_id = ? AND active = 0 ORDER BY epoch",
            (run_id,),
        )
        gone = [model_from_row(r) for r in rows if r["version"] not in keep]
        for version in gone:
            await conn.execute("DELETE FROM model_versions WHERE version = ?", (version.version,))
        await conn.execute(
            "UPDATE training_runs SET state = 'discarded', updated_at = ? WHERE id = ?",
            (now(), run_id),
        )
    return gone


async def runs_in_states(conn: aiosqlite.Connection, states: tuple[str, ...]) -> list[TrainingRun]:
    """Runs in any of these states, oldest first (a restart looks for the live ones)."""
    bad = set(states) - set(TRAINING_STATES)
    if bad:
        raise BadValue(f"unknown training states {sorted(bad)}")
    marks = ", ".join("?" for _ in states)
    async with read_tx(conn):
        rows = await fetch_all(
            conn, f"SELECT * FROM training_runs WHERE state IN ({marks}) ORDER BY id", states
        )
    return [run_from_row(r) for r in rows]
