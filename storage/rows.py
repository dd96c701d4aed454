"""Row types returned by storage: frozen dataclasses, numpy float32 vectors for points/latents."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

SOURCES = ("initial", "ei", "upload", "best", "random")
# queued/running: the one live run; interrupted: the bot restarted under it (resumable);
# discarded: an admin threw its checkpoints away.
TRAINING_STATES = (
    "queued",
    "running",
    "done",
    "failed",
    "cancelled",
    "interrupted",
    "discarded",
)
LIVE_TRAINING_STATES = ("queued", "running")


@dataclass(frozen=True)
class Chat:
    chat_id: int
    type: str  # "private" | "group" | "supergroup" | "channel"
    title: str | None
    language: str | None
    active: bool
    settings: dict[str, Any]
    created_at: float


@dataclass(frozen=True)
class User:
    user_id: int
    username: str | None
    first_name: str | None
    language: str | None


@dataclass(frozen=True)
class SearchSession:
    id: int
    chat_id: int
    model_version: str
    settings: dict[str, Any]
    state: dict[str, Any]
    dim: int | None  # cube dimension; fixed by start_session or by the first album
    latent_dim: int | None
    opened_at: float
    closed_at: float | None
    started_by: int | None = None  # who started it (a group's starter may move it on)

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


@dataclass(frozen=True, eq=False)
class NewFace:
    """A face the bot is about to record: its cube point, latent, origin and album position."""

    point: np.ndarray  # (dim,) in [0, 1]
    latent: np.ndarray  # (latent_dim,)
    source: str  # one of SOURCES
    position: int  # 1-based place in the album (#1..#10)


@dataclass(frozen=True, eq=False)
class Face:
    id: int
    round_id: int
    session_id: int
    chat_id: int
    position: int
    source: str
    point: np.ndarray  # (dim,) float32, read-only
    latent: np.ndarray  # (latent_dim,) float32, read-only
    model_version: str
    message_id: int | None
    file_id: str | None
    score: float | None  # schema v3 cache column; nothing writes it (the GP picks the best face)
    created_at: float


@dataclass(frozen=True, eq=False)
class Round:
    id: int
    session_id: int
    chat_id: int
    number: int  # 1-based within its session
    prompt_message_id: int | None
    poll_id: str | None
    opened_at: float
    closed_at: float | None
    deadline: float | None
    faces: tuple[Face, ...] = ()
    poll_message_id: int | None = None  # the group's poll of this album (stopPoll closes it)

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    @property
    def message_ids(self) -> list[int | None]:
        """The album's photo message ids in position order."""
        return [f.message_id for f in self.faces]


@dataclass(frozen=True)
class Vote:
    id: int
    face_id: int
    user_id: int
    chat_id: int
    round_id: int
    value: float
    raw_text: str | None
    message_id: int | None
    created_at: float


@dataclass(frozen=True, eq=False)
class History:
    """A session's faces and votes as arrays ready for optimization.observe/aggregate_votes."""

    face_ids: np.ndarray  # (n,) int64
    points: np.ndarray  # (n, dim) float32
    latents: np.ndarray  # (n, latent_dim) float32
    rounds: np.ndarray  # (n,) int64 round number within the session
    positions: np.ndarray  # (n,) int64
    sources: list[str]
    votes: list[tuple[int, int, float]] = field(default_factory=list)  # (face_index, user, value)
    # "closest" picks from group polls: (face_index, user); the face's round is rounds[index]
    picks: list[tuple[int, int]] = field(default_factory=list)

    def __len__(self) -> int:
        return int(self.face_ids.shape[0])


@dataclass(frozen=True)
class ModelVersion:
    version: str
    path: str
    config: dict[str, Any]
    metrics: dict[str, Any]
    active: bool
    created_at: float
    trained_by: int | None = None  # the admin whose run wrote it (None: configured file)
    source: str | None = None  # what it was trained from ("synthetic:256", a dataset folder)
    run_id: int | None = None
    epoch: int | None = None


@dataclass(frozen=True)
class TrainingRun:
    id: int
    requested_by: int | None
    config: dict[str, Any]
    state: str  # one of TRAINING_STATES
    progress: float  # 0..1
    log_tail: str
    model_version: str | None  # the latest registered checkpoint of the run
    created_at: float
    updated_at: float
    chat_id: int | None = None  # where the run reports (its progress message)
    message_id: int | None = None  # the progress message
    pid: int | None = None  # the training process (its process group) while it runs
    epoch: int = 0  # epochs finished
    epochs: int | None = None
    workdir: str | None = None  # the run's folder: checkpoints, progress, log
    finished_at: float | None = None

    @property
    def live(self) -> bool:
        """Queued or running: the one run the bot supervises."""
        return self.state in LIVE_TRAINING_STATES


@dataclass(frozen=True)
class AuditEntry:
    id: int
    admin_user_id: int | None
    action: str
    chat_id: int | None
    details: dict[str, Any]
    created_at: float
