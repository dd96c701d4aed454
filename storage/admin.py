"""Model versions, background training runs and the admin audit log."""

from __future__ import annotations

from typing import Any

import aiosqlite

from storage.db import dumps_json, fetch_all, fetch_one, loads_json, now, read_tx, write_tx
from storage.errors import BadValue, NotFound
from storage.rows import TRAINING_STATES, AuditEntry, ModelVersion, TrainingRun

LOG_TAIL_CHARS = 4000  # what an admin sees of a run's log; the full log stays in its file


def model_from_row(row: aiosqlite.Row) -> ModelVersion:
    return ModelVersion(
        version=row["version"],
        path=row["path"],
        config=loads_json(row["config"]),
        metrics=loads_json(row["metrics"]),
        active=bool(row["active"]),
        created_at=row["created_at"],
        trained_by=row["trained_by"],
        source=row["source"],
        run_id=row["run_id"],
        epoch=row["epoch"],
    )


def run_from_row(row: aiosqlite.Row) -> TrainingRun:
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
        chat_id=row["chat_id"],
        message_id=row["message_id"],
        pid=row["pid"],
        epoch=row["epoch"],
        epochs=row["epochs"],
        workdir=row["workdir"],
        finished_at=row["finished_at"],
    )


async def register_model_version(
    conn: aiosqlite.Connection,
    version: str,
    path: str,
    config: dict[str, Any],
    metrics: dict[str, Any],
    *,
    active: bool = False,
    trained_by: int | None = None,
    source: str | None = None,
    run_id: int | None = None,
    epoch: int | None = None,
) -> ModelVersion:
    """Record (or refresh) a checkpoint; with active=True it becomes the only active one.

    trained_by/source/run_id/epoch say who made it from what (kept from the first record when
    a refresh leaves them out)."""
    if not version:
        raise BadValue("model version must be a non-empty string")
    cfg, met = dumps_json(config, "model config"), dumps_json(metrics, "model metrics")
    async with write_tx(conn):
        row: aiosqlite.Row | None = await upsert_model_version(
            conn, version, str(path), cfg, met, (trained_by, source, run_id, epoch)
        )
        if active and row is not None and not row["active"]:
            await set_active(conn, version, None)
            row = await fetch_one(
                conn, "SELECT * FROM model_versions WHERE version = ?", (version,)
            )
    assert row is not None
    return model_from_row(row)


async def upsert_model_version(
    conn: aiosqlite.Connection,
    version: str,
    path: str,
    config_json: str,
    metrics_json: str,
    provenance: tuple[int | None, str | None, int | None, int | None],
) -> aiosqlite.Row:
    """INSERT or refresh one model_versions row inside the caller's transaction."""
    await conn.execute(
        """INSERT INTO model_versions (version, path, config, metrics, active, created_at,
               trained_by, source, run_id, epoch)
           VALUES (?, ?, ?, ?, 0, ?, ?, ?, ?, ?)
           ON CONFLICT (version) DO UPDATE SET path = excluded.path,
               config = excluded.config, metrics = excluded.metrics,
               trained_by = COALESCE(excluded.trained_by, model_versions.trained_by),
               source = COALESCE(excluded.source, model_versions.source),
               run_id = COALESCE(excluded.run_id, model_versions.run_id),
               epoch = COALESCE(excluded.epoch, model_versions.epoch)""",
        (version, path, config_json, metrics_json, now(), *provenance),
    )
    row = await fetch_one(conn, "SELECT * FROM model_versions WHERE version = ?", (version,))
    assert row is not None
    return row


async def set_active(conn: aiosqlite.Connection, version: str, by: int | None) -> None:
    """Make `version` the only active one and record the activation (caller's transaction)."""
    await conn.execute("UPDATE model_versions SET active = 0 WHERE active = 1")
    await conn.execute("UPDATE model_versions SET active = 1 WHERE version = ?", (version,))
    await conn.execute(
        "INSERT INTO model_activations (version, activated_by, created_at) VALUES (?, ?, ?)",
        (version, by, now()),
    )


async def activate_model_version(
    conn: aiosqlite.Connection, version: str, activated_by: int | None = None
) -> None:
    """Make one registered model version the active one (the bot's default for new sessions);
    the activation is recorded for /rollback."""
    async with write_tx(conn):
        if (
            await fetch_one(conn, "SELECT 1 FROM model_versions WHERE version = ?", (version,))
            is None
        ):
            raise NotFound(f"model version {version!r} is not registered")
        await set_active(conn, version, activated_by)


async def active_model_version(conn: aiosqlite.Connection) -> ModelVersion | None:
    """The active model version, or None."""
    async with read_tx(conn):
        row = await fetch_one(conn, "SELECT * FROM model_versions WHERE active = 1")
    return model_from_row(row) if row else None


async def list_model_versions(conn: aiosqlite.Connection) -> list[ModelVersion]:
    """All registered model versions, newest first."""
    async with read_tx(conn):
        rows = await fetch_all(conn, "SELECT * FROM model_versions ORDER BY created_at DESC")
    return [model_from_row(r) for r in rows]


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
    return run_from_row(row)


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
    return run_from_row(row)


async def get_training_run(conn: aiosqlite.Connection, run_id: int) -> TrainingRun | None:
    """A training run by id, or None."""
    async with read_tx(conn):
        row = await fetch_one(conn, "SELECT * FROM training_runs WHERE id = ?", (run_id,))
    return run_from_row(row) if row else None


async def list_training_runs(conn: aiosqlite.Connection, limit: int = 20) -> list[TrainingRun]:
    """The latest training runs, newest first."""
    async with read_tx(conn):
        rows = await fetch_all(
            conn, "SELECT * FROM training_runs ORDER BY id DESC LIMIT ?", (int(limit),)
        )
    return [run_from_row(r) for r in rows]


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
