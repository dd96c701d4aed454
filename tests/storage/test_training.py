"""Training runs and model versions as the admin commands use them (schema step _v4_training)."""

from __future__ import annotations

import pathlib
from collections.abc import AsyncIterator

import aiosqlite
import pytest

import storage as st
from storage import schema

CHAT = 501


@pytest.fixture
async def conn(tmp_path: pathlib.Path) -> AsyncIterator[aiosqlite.Connection]:
    c = await st.connect(tmp_path / "t.sqlite3")
    await st.upsert_chat(c, CHAT, "private")
    yield c
    await c.close()


async def test_upgrade_from_the_step_before_keeps_runs_and_the_active_model(
    tmp_path: pathlib.Path,
) -> None:
    mine = schema.MIGRATIONS.index(schema._v4_training)  # the lead may renumber steps
    path = tmp_path / "old.sqlite3"
    raw = await aiosqlite.connect(path, isolation_level=None)
    await schema.migrate(raw, target=mine)
    await raw.execute(
        "INSERT INTO model_versions (version, path, config, metrics, active, created_at)"
        " VALUES ('old', '/w/old.pt', '{}', '{}', 1, 1.0), ('older', '/w/o.pt', '{}', '{}', 0, 0.5)"
    )
    await raw.execute(
        "INSERT INTO training_runs (id, requested_by, config, state, progress, log_tail,"
        " created_at, updated_at) VALUES (7, 3, '{\"epochs\": 2}', 'done', 1.0, 'ok', 1.0, 2.0)"
    )
    await raw.close()
    conn = await st.connect(path)
    try:
        (run,) = await st.list_training_runs(conn)
        assert (run.id, run.requested_by, run.state, run.config) == (7, 3, "done", {"epochs": 2})
        assert run.pid is None and run.epoch == 0 and not run.live
        # The version active before the upgrade is the bottom of /rollback's history.
        await st.use_model_version(conn, "older", by=3)
        back = await st.rollback_model_version(conn)
        assert back is not None and back.version == "old"
        # Run ids go on after the old ones.
        new = await st.create_training_run(conn, 3, None, {}, epochs=1)
        assert new.id == 8
    finally:
        await conn.close()


async def test_one_live_run_at_a_time(conn: aiosqlite.Connection) -> None:
    run = await st.create_training_run(
        conn, 42, CHAT, {"source": "synthetic:256"}, epochs=3, workdir_for=lambda i: f"/r/{i}"
    )
    assert run.state == "queued" and run.live and run.workdir == f"/r/{run.id}"
    with pytest.raises(st.TrainingBusy):
        await st.create_training_run(conn, 42, CHAT, {}, epochs=1)
    run = await st.mark_training_started(conn, run.id, pid=4321)
    assert (run.state, run.pid) == ("running", 4321)
    assert (await st.live_training_run(conn)) == run
    with pytest.raises(st.TrainingBusy):
        await st.create_training_run(conn, 43, CHAT, {}, epochs=1)
    await st.set_training_message(conn, run.id, CHAT, 77)
    version = await st.record_training_epoch(
        conn, run.id, 1, "abc123", "/r/m.epoch1.pt", {"latent_dim": 8}, {"psnr": 20.0}, "synth"
    )
    assert (version.trained_by, version.source, version.run_id, version.epoch) == (
        42,
        "synth",
        run.id,
        1,
    )
    assert not version.active
    run = await st.finish_training_run(conn, run.id, "cancelled", log_tail="killed")
    assert run.pid is None and run.state == "cancelled" and run.finished_at is not None
    assert (run.epoch, run.model_version, run.message_id) == (1, "abc123", 77)
    assert run.progress == pytest.approx(1 / 3)
    assert await st.live_training_run(conn) is None
    other = await st.create_training_run(conn, 43, CHAT, {}, epochs=1)
    with pytest.raises(st.TrainingBusy):
        await st.requeue_training_run(conn, run.id)  # the other one is live
    await st.finish_training_run(conn, other.id, "failed")
    run = await st.requeue_training_run(conn, run.id)
    assert run.state == "queued" and run.finished_at is None and run.epoch == 1
    with pytest.raises(st.BadValue):
        await st.finish_training_run(conn, run.id, "running")
    with pytest.raises(st.BadValue):
        await st.requeue_training_run(conn, run.id)  # it is live already


async def test_discard_keeps_the_active_version(conn: aiosqlite.Connection) -> None:
    run = await st.create_training_run(conn, 42, CHAT, {}, epochs=3)
    for epoch in (1, 2, 3):
        await st.record_training_epoch(
            conn, run.id, epoch, f"v{epoch}", f"/r/e{epoch}.pt", {}, {}, "synth"
        )
    with pytest.raises(st.BadValue, match="cancel it first"):
        await st.discard_training_run(conn, run.id)
    await st.finish_training_run(conn, run.id, "done")
    await st.use_model_version(conn, "v2", by=42)
    gone = await st.discard_training_run(conn, run.id, keep=frozenset({"v1"}))
    assert [v.version for v in gone] == ["v3"]
    assert {v.version for v in await st.list_model_versions(conn)} == {"v1", "v2"}
    assert (await st.get_training_run(conn, run.id)).state == "discarded"  # type: ignore[union-attr]


async def test_rollback_walks_back_one_activation_at_a_time(conn: aiosqlite.Connection) -> None:
    for v in ("a", "b", "c"):
        await st.register_model_version(conn, v, f"/m/{v}.pt", {}, {})
    assert await st.rollback_model_version(conn) is None  # nothing active
    await st.use_model_version(conn, "a", by=1)
    assert await st.rollback_model_version(conn) is None  # nothing before it
    await st.use_model_version(conn, "b", by=1)
    await st.use_model_version(conn, "c", by=2)
    await st.use_model_version(conn, "c", by=2)  # already active: no new step
    back = await st.rollback_model_version(conn)
    assert back is not None and back.version == "b" and back.active
    back = await st.rollback_model_version(conn)
    assert back is not None and back.version == "a"
    assert await st.rollback_model_version(conn) is None
    active = await st.active_model_version(conn)
    assert active is not None and active.version == "a"
    await st.use_model_version(conn, "c", by=1)  # a new top
    back = await st.rollback_model_version(conn)
    assert back is not None and back.version == "a"
    with pytest.raises(st.NotFound):
        await st.use_model_version(conn, "zzz", by=1)


async def test_versions_by_prefix_and_open_searches(conn: aiosqlite.Connection) -> None:
    await st.register_model_version(conn, "abc123def456", "/m/1.pt", {}, {}, active=True)
    await st.register_model_version(conn, "abd000000000", "/m/2.pt", {}, {})
    assert [v.version for v in await st.find_model_versions(conn, "abc")] == ["abc123def456"]
    assert len(await st.find_model_versions(conn, "ab")) == 2
    assert await st.find_model_versions(conn, "a'; --") == []
    await st.upsert_chat(conn, CHAT + 1, "private")
    await st.start_session(conn, CHAT, "abc123def456", {"dim": 2})
    await st.start_session(conn, CHAT + 1, "abc123def456", {"dim": 2})
    await st.start_session(conn, CHAT + 1, "abd000000000", {"dim": 2})  # closes the one before
    assert await st.open_sessions_by_model(conn) == {"abc123def456": 1, "abd000000000": 1}
    with pytest.raises(st.BadValue):
        await st.forget_model_version(conn, "abc123def456")  # the active one
    await st.forget_model_version(conn, "abd000000000")
    assert await st.get_model_version(conn, "abd000000000") is None
