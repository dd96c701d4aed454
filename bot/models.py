"""Which face model serves which search: registered versions, the active one, a few in memory.

A search decodes with the model it started with until it ends (its latent space is that
model's); new searches take the active version. Versions are files registered in storage
(id = sha256[:12] of the file); at most MAX_LOADED are kept loaded, least recently used
unloaded first, the active one always. The active version lives in the database, so it
survives a restart; the configured file (FOTOROBOT_MODEL, else the bundled model) is always
registered, and a newly configured file becomes active once, when it first appears.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import storage

if TYPE_CHECKING:
    import aiosqlite

    from model import FaceModel

log = logging.getLogger(__name__)

MAX_LOADED = 3  # face models kept in memory (~6-30 MB each): the active one and recent others
CONFIGURED = "configured"  # the source of the FOTOROBOT_MODEL (or bundled) file


class ModelGone(Exception):
    """The model a search started with cannot be loaded any more (file removed or replaced,
    version unregistered): that search cannot go on."""

    def __init__(self, version: str) -> None:
        super().__init__(f"model version {version} is not available")
        self.version = version


# switched: active now; already: it was; missing: no such version; ambiguous: several match
# the prefix; file_gone: its file is gone; nothing: /rollback has no earlier version.
SwitchStatus = Literal["switched", "already", "missing", "ambiguous", "file_gone", "nothing"]


@dataclass(frozen=True)
class SwitchOutcome:
    """What /use or /rollback did."""

    status: SwitchStatus
    version: storage.ModelVersion | None = None


class ModelRegistry:
    """Model versions for the engine: the active one, others loaded on demand (LRU)."""

    def __init__(
        self,
        conn: aiosqlite.Connection,
        executor: Executor,
        configured_path: Path,
        preloaded: FaceModel | None = None,
    ) -> None:
        self.conn = conn
        self.executor = executor
        self.configured_path = configured_path
        self._loaded: OrderedDict[str, FaceModel] = OrderedDict()
        self._paths: dict[str, Path] = {}  # where each loaded version's file is
        self._loading: dict[str, asyncio.Lock] = {}
        self._preloaded = preloaded
        self._active: FaceModel | None = preloaded

    async def start(self) -> None:
        """Register the configured model and load the active version (the configured one the
        first time, or when the configured file is new, or when the active file is gone)."""
        configured = self._preloaded or await self._load_file(self.configured_path)
        self._remember(configured, self.configured_path)
        known = await storage.get_model_version(self.conn, configured.version)
        await storage.register_model_version(
            self.conn,
            configured.version,
            str(self.configured_path),
            configured.config.to_dict(),
            dict(configured.config.metrics),
            source=CONFIGURED,
        )
        active = await storage.active_model_version(self.conn)
        chosen = configured
        if known is not None and active is not None and active.version != configured.version:
            try:
                chosen = await self.get(active.version)
            except ModelGone:
                log.warning("active model %s is gone; serving the configured one", active.version)
        if active is None or active.version != chosen.version:
            await storage.use_model_version(self.conn, chosen.version, by=None)
        self._active = chosen
        log.info("serving face model %s", chosen.version)

    @property
    def active_model(self) -> FaceModel:
        """The model new searches use (always loaded)."""
        if self._active is None:
            raise RuntimeError("ModelRegistry.start() has not run")
        return self._active

    def path_of(self, version: str) -> Path | None:
        """The file a loaded version was read from (None: not loaded)."""
        return self._paths.get(version)

    def loaded_versions(self) -> list[str]:
        """Versions in memory, least recently used first."""
        return list(self._loaded)

    async def get(self, version: str) -> FaceModel:
        """The model of a version, loading it if needed; raises ModelGone."""
        found = self._loaded.get(version)
        if found is not None:
            path = self._paths.get(version)
            active = self._active is not None and self._active.version == version
            if active or path is None or path.is_file():
                self._loaded.move_to_end(version)
                return found
            # Its file was deleted (discarded): the search ends now, not at some later reload.
            del self._loaded[version]
            raise ModelGone(version)
        lock = self._loading.setdefault(version, asyncio.Lock())
        async with lock:  # two chats asking for the same version load it once
            found = self._loaded.get(version)
            if found is not None:
                return found
            row = await storage.get_model_version(self.conn, version)
            if row is None or not Path(row.path).is_file():
                raise ModelGone(version)
            try:
                loaded = await self._load_file(Path(row.path))
            except (OSError, ValueError) as exc:  # CheckpointError is a ValueError
                log.warning("model %s does not load: %s", version, exc)
                raise ModelGone(version) from exc
            if loaded.version != version:  # the file was replaced by other weights
                raise ModelGone(version)
            self._remember(loaded, Path(row.path))
            return loaded

    async def _load_file(self, path: Path) -> FaceModel:
        from model import FaceModel

        loop = asyncio.get_running_loop()
        model: FaceModel = await loop.run_in_executor(self.executor, FaceModel.load, path)
        return model

    def _remember(self, model: FaceModel, path: Path | None = None) -> None:
        self._loaded[model.version] = model
        if path is not None:
            self._paths[model.version] = path
        self._loaded.move_to_end(model.version)
        while len(self._loaded) > MAX_LOADED:
            for version in self._loaded:
                if self._active is None or version != self._active.version:
                    del self._loaded[version]  # searches mid-round keep their reference
                    self._paths.pop(version, None)
                    log.info("unloaded face model %s", version)
                    break

    async def resolve(self, text: str) -> list[storage.ModelVersion]:
        """Versions matching what an admin typed (a digest or its first characters)."""
        return await storage.find_model_versions(self.conn, text.strip().lower())

    async def use(self, text: str, by: int | None) -> SwitchOutcome:
        """Make a version active (a prefix of its id will do): new searches use it at once."""
        matches = await self.resolve(text)
        if not matches:
            return SwitchOutcome("missing")
        if len(matches) > 1:
            return SwitchOutcome("ambiguous")
        target = matches[0]
        if self._active is not None and target.version == self._active.version:
            return SwitchOutcome("already", target)
        try:
            model = await self.get(target.version)
        except ModelGone:
            return SwitchOutcome("file_gone", target)
        version = await storage.use_model_version(self.conn, target.version, by)
        self._active = model
        return SwitchOutcome("switched", version)

    async def rollback(self, by: int | None) -> SwitchOutcome:
        """Back to the version active before this one. A version whose file is gone is
        unregistered and skipped (it could never serve again)."""
        while True:
            before = self._active
            version = await storage.rollback_model_version(self.conn, by)
            if version is None:
                return SwitchOutcome("nothing")
            try:
                model = await self.get(version.version)
            except ModelGone:
                log.warning("rollback skips model %s: its file is gone", version.version)
                if before is not None:  # stay on the model that works meanwhile
                    await storage.use_model_version(self.conn, before.version, by)
                await storage.forget_model_version(self.conn, version.version)
                continue
            self._active = model
            return SwitchOutcome("switched", version)

    async def versions(self) -> list[tuple[storage.ModelVersion, int, bool, bool]]:
        """(version, open searches on it, file present, loaded) for every registered one."""
        counts = await storage.open_sessions_by_model(self.conn)
        loaded = set(self.loaded_versions())
        return [
            (v, counts.get(v.version, 0), Path(v.path).is_file(), v.version in loaded)
            for v in await storage.list_model_versions(self.conn)
        ]
