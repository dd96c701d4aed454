"""Model versions, background training runs and the admin audit log."""

from __future__ import annotations

from typing import Any

import aiosqlite

from storage.db import dumps_json, fetch_all, fetch_one, loads_json, now, read_tx, write_tx
from storage.errors import BadValue, NotFound
from storage.rows import TRAINING_STATES, AuditEntry, ModelVersion, TrainingRun

LOG_TAIL_CHARS = 4000  # what an admin sees of a run's log; the full log stays in its file


def _model_from_row(row: aiosqlite.Row) -> ModelVersion:
    return ModelVersion(
        version=row["version"],
        path=row["path"],
        config=loads_json(row["config"]),
        metrics=loads_json(row["metrics"]),
        active=bool(row["active"]),
        created_at=row["created_at"],
    )


def _run_from_row(row: aiosqlite.Row) -> TrainingRun:
    return TrainingRun(
        id=row["id"],
        requested_by=row["requested_by"],
        config=loads_json(row["config"]),
        state=row["state"],
        progress=row["progress"],
        log_tail=row["log_tail"],
        model_version=row["model_version"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


async def register_model_version(
    conn: aiosqlite.Connection,
    version: str,
    path: str,
    config: dict[str, Any],
    metrics: dict[str, Any],
    *,
    active: bool = False,
) -> ModelVersion:
    """Record (or refresh) a checkpoint; with active=True it becomes the only active one."""
    if not version:
        raise BadValue("model version must be a non-empty string")
    cfg, met = dumps_json(config, "model config"), dumps_json(metrics, "model metrics")
    async with write_tx(conn):
        if active:
            await conn.execute("UPDATE model_versions SET active = 0 WHERE active = 1")
        await conn.execute(
            """INSERT INTO model_versions (version, path, config, metrics, active, created_at)
               VALUES (?, ?, ?, ?, ?, ?)
               ON CONFLICT (version) DO UPDATE SET path = excluded.path,
                   config = excluded.config, metrics = excluded.metrics,
                   active = MAX(model_versions.active, excluded.active)""",
            (version, str(path), cfg, met, int(active), now()),
        )
        row = await fetch_one(conn, "SELECT * FROM model_versions WHERE version = ?", (version,))
    assert row is not None
    return _model_from_row(row)


async def activate_model_version(conn: aiosqlite.Connection, version: str) -> None:
    """Make one registered model version the active one (the bot's default for new sessions)."""
    async with write_tx(conn):
        if (
            await fetch_one(conn, "SELECT 1 FROM model_versions WHERE version = ?", (version,))
            is None
        ):
            raise NotFound(f"model version {version!r} is not registered")
        await conn.execute("UPDATE model_versions SET active = 0 WHERE active = 1")
        await conn.execute("UPDATE model_versions SET active = 1 WHERE version = ?", (version,))


async def active_model_version(conn: aiosqlite.Connection) -> ModelVersion | None:
    """The active model version, or None."""
    async with read_tx(conn):
        row = await fetch_one(conn, "SELECT * FROM model_versions WHERE active = 1")
    return _model_from_row(row) if row else None


async def list_model_versions(conn: aiosqlite.Connection) -> list[ModelVersion]:
    """All registered model versions, newest first."""
    async with read_tx(conn):
        rows = await fetch_all(conn, "SELECT * FROM model_versions ORDER BY created_at DESC")
    return [_model_from_row(r) for r in rows]


async def start_training_run(
    conn: aiosqlite.Connection, requested_by: int | None, config: dict[str, Any]
) -> TrainingRun:
    """Record a queued training run."""
    cfg = dumps_json(config, "training config")
    t = now()
    async with write_tx(conn):
        cur = await conn.execute(
            """INSERT INTO training_runs (requested_by, config, created_at, updated_at)
               VALUES (?, ?, ?, ?)""",
            (requested_by, cfg, t, t),
        )
        row = await fetch_one(conn, "SELECT * FROM training_runs WHERE id = ?", (cur.lastrowid,))
    assert row is not None
    return _run_from_row(row)


async def update_training_run(
    conn: aiosqlite.Connection,
    run_id: int,
    *,
    state: str | None = None,
    progress: float | None = None,
    log_tail: str | None = None,
    model_version: str | None = None,
) -> TrainingRun:
    """Update a run's state/progress/log tail (kept to its last LOG_TAIL_CHARS characters)."""
    if state is not None and state not in TRAINING_STATES:
        raise BadValue(f"training state must be one of {TRAINING_STATES}, got {state!r}")
    if progress is not None and not 0.0 <= float(progress) <= 1.0:
        raise BadValue(f"progress must be within [0, 1], got {progress!r}")
    tail = log_tail[-LOG_TAIL_CHARS:] if log_tail is not None else None
    async with write_tx(conn):
        cur = await conn.execute(
            """UPDATE training_runs SET state = COALESCE(?, state),
                   progress = COALESCE(?, progress), log_tail = COALESCE(?, log_tail),
                   model_version = COALESCE(?, model_version), updated_at = ?
               WHERE id = ?""",
            (
                state,
                None if progress is None else float(progress),
                tail,
                model_version,
                now(),
                run_id,
            ),
        )
        if cur.rowcount != 1:
            raise NotFound(f"training run {run_id} does not exist")
        row = await fetch_one(conn, "SELECT * FROM training_runs WHERE id = ?", (run_id,))
    assert row is not None
    return _run_from_row(row)


async def get_training_run(conn: aiosqlite.Connection, run_id: int) -> TrainingRun | None:
    """A training run by id, or None."""
    async with read_tx(conn):
        row = await fetch_one(conn, "SELECT * FROM training_runs WHERE id = ?", (run_id,))
    return _run_from_row(row) if row else None


async def list_training_runs(conn: aiosqlite.Connection, limit: int = 20) -> list[TrainingRun]:
    """The latest training runs, newest first."""
    async with read_tx(conn):
        rows = await fetch_all(
            conn, "SELECT * FROM training_runs ORDER BY id DESC LIMIT ?", (int(limit),)
        )
    return [_run_from_row(r) for r in rows]


async def log_admin_action(
    conn: aiosqlite.Connection,
    admin_user_id: int | None,
    action: str,
    *,
    chat_id: int | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one admin action to the audit log."""
    if not action:
        raise BadValue("audit action must be a non-empty string")
    det = dumps_json(details or {}, "audit details")
    async with write_tx(conn):
        if chat_id is not None and (
            await fetch_one(conn, "SELECT 1 FROM chats WHERE chat_id = ?", (chat_id,)) is None
        ):
            raise NotFound(f"chat {chat_id} is not known")
        cur = await conn.execute(
            """INSERT INTO audit_log (admin_user_id, action, chat_id, details, created_at)
               VALUES (?, ?, ?, ?, ?)""",
            (admin_user_id, action, chat_id, det, now()),
        )
        row = await fetch_one(conn, "SELECT * FROM audit_log WHERE id = ?", (cur.lastrowid,))
    assert row is not None
    return _audit_from_row(row)


def _audit_from_row(row: aiosqlite.Row) -> AuditEntry:
    return AuditEntry(
        id=row["id"],
        admin_user_id=row["admin_user_id"],
        action=row["action"],
        chat_id=row["chat_id"],
        details=loads_json(row["details"]),
        created_at=row["created_at"],
    )


async def audit_log(conn: aiosqlite.Connection, limit: int = 50) -> list[AuditEntry]:
    """The latest audit entries, newest first."""
    async with read_tx(conn):
        rows = await fetch_all(
            conn, "SELECT * FROM audit_log ORDER BY id DESC LIMIT ?", (int(limit),)
        )
    return [_audit_from_row(r) for r in rows]
