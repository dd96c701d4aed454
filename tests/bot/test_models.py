"""The model registry: the active version survives restarts, a few models in memory, gone files."""

from __future__ import annotations

from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import aiosqlite
import pytest

import storage
from bot.models import MAX_LOADED, ModelGone, ModelRegistry
from model.checkpoint import file_version
from tests.bot.test_admin import tiny_checkpoint


@pytest.fixture
async def conn(tmp_path: Path) -> AsyncIterator[aiosqlite.Connection]:
    c = await storage.connect(tmp_path / "m.sqlite3")
    yield c
    await c.close()


@pytest.fixture(scope="module")
def executor() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=1)


async def test_the_configured_model_and_an_admins_choice_across_restarts(
    tmp_path: Path, conn: aiosqlite.Connection, executor: ThreadPoolExecutor
) -> None:
    first = tiny_checkpoint(tmp_path / "first.pt", seed=1)
    other = tiny_checkpoint(tmp_path / "other.pt", seed=2)
    registry = ModelRegistry(conn, executor, first)
    await registry.start()
    assert registry.active_model.version == file_version(first)
    configured = await storage.get_model_version(conn, file_version(first))
    assert configured is not None and configured.source == "configured" and configured.active
    await storage.register_model_version(conn, file_version(other), str(other), {}, {})
    outcome = await registry.use(file_version(other)[:6], by=5)
    assert outcome.status == "switched" and registry.active_model.version == file_version(other)
    # A restart with the same configured file keeps the admin's choice...
    again = ModelRegistry(conn, executor, first)
    await again.start()
    assert again.active_model.version == file_version(other)
    # ...a newly configured file takes over once...
    newer = tiny_checkpoint(tmp_path / "newer.pt", seed=3)
    third = ModelRegistry(conn, executor, newer)
    await third.start()
    assert third.active_model.version == file_version(newer)
    # ...and an active file that is gone falls back to the configured one.
    await third.use(file_version(other), by=5)
    other.unlink()
    fourth = ModelRegistry(conn, executor, newer)
    await fourth.start()
    assert fourth.active_model.version == file_version(newer)
    active = await storage.active_model_version(conn)
    assert active is not None and active.version == file_version(newer)


async def test_a_few_models_in_memory_the_active_one_always(
    tmp_path: Path, conn: aiosqlite.Connection, executor: ThreadPoolExecutor
) -> None:
    configured = tiny_checkpoint(tmp_path / "c.pt", seed=10)
    registry = ModelRegistry(conn, executor, configured)
    await registry.start()
    versions = []
    for seed in range(MAX_LOADED + 2):
        path = tiny_checkpoint(tmp_path / f"v{seed}.pt", seed=seed)
        versions.append(file_version(path))
        await storage.register_model_version(conn, versions[-1], str(path), {}, {})
    for version in versions:
        model = await registry.get(version)
        assert model.version == version
        loaded = registry.loaded_versions()
        assert len(loaded) <= MAX_LOADED and registry.active_model.version in loaded
    assert registry.loaded_versions()[-1] == versions[-1]  # most recently used last
    assert versions[0] not in registry.loaded_versions()  # the least recently used went
    assert (await registry.get(versions[0])).version == versions[0]  # loaded again on demand
    with pytest.raises(ModelGone):
        await registry.get("000000000000")
    # A file replaced by other weights is not that version any more.
    replaced = Path((await storage.get_model_version(conn, versions[1])).path)  # type: ignore[union-attr]
    tiny_checkpoint(replaced, seed=99)
    registry._loaded.pop(versions[1], None)  # as if unloaded by the LRU
    with pytest.raises(ModelGone):
        await registry.get(versions[1])
    # A loaded model whose file is deleted ends its searches too (but the active one serves on).
    Path((await storage.get_model_version(conn, versions[-1])).path).unlink()  # type: ignore[union-attr]
    with pytest.raises(ModelGone):
        await registry.get(versions[-1])
    configured.unlink()
    assert (await registry.get(registry.active_model.version)) is registry.active_model
