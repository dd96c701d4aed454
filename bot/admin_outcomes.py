"""What the admin service answers its handlers: plain data with `Literal` statuses.

Every status is matched exhaustively in bot.handlers.admin (`assert_never`). "refused" is
everywhere: the caller is not an owner (FOTOROBOT_ADMINS), and the refusal is audited.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import storage
    from bot.archives import ArchiveProblem, Unpacked
    from bot.datasets import SourceProblem
    from bot.train_options import OptionError
    from bot.training import Progress


@dataclass(frozen=True)
class Caller:
    """Who sent an admin command, from where."""

    user_id: int | None
    chat_id: int
    anonymous: bool = False  # posted as the group or a channel: no person to check


# usage: /train alone (explain); bad_options / bad_source: see the fields; busy: one run at a
# time (run is the live one); started: run is the new one.
TrainStatus = Literal["refused", "usage", "bad_options", "bad_source", "busy", "started"]


@dataclass(frozen=True)
class TrainOutcome:
    status: TrainStatus
    run: storage.TrainingRun | None = None
    option_error: OptionError | None = None
    source_problem: SourceProblem | None = None


# too_big: over what the Bot API lets a bot download (limit_mb); bad_archive: see problem.
ArchiveStatus = Literal["refused", "too_big", "accepted", "bad_archive", "unpacked"]


@dataclass(frozen=True)
class ArchiveOutcome:
    status: ArchiveStatus
    limit_mb: int = 0
    problem: ArchiveProblem | None = None
    unpacked: Unpacked | None = None
    label: str = ""  # the new dataset folder, relative to the datasets root
    train: TrainOutcome | None = None  # the caption asked for /train on it


StatusKind = Literal["refused", "idle", "running"]


@dataclass(frozen=True)
class StatusOutcome:
    status: StatusKind
    run: storage.TrainingRun | None = None  # the live run, or the latest one
    progress: Progress | None = None


CancelStatus = Literal["refused", "nothing", "cancelled"]


@dataclass(frozen=True)
class CancelOutcome:
    status: CancelStatus
    run: storage.TrainingRun | None = None


ResumeStatus = Literal["refused", "nothing", "busy", "resumed"]


@dataclass(frozen=True)
class ResumeOutcome:
    status: ResumeStatus
    run: storage.TrainingRun | None = None


@dataclass(frozen=True)
class ModelRow:
    version: storage.ModelVersion
    open_searches: int
    file_present: bool
    loaded: bool  # in memory now


ListStatus = Literal["refused", "listed"]


@dataclass(frozen=True)
class ModelsOutcome:
    status: ListStatus
    rows: list[ModelRow] = field(default_factory=list)


# usage: /use without a version; the rest as bot.models.SwitchStatus.
UseStatus = Literal[
    "refused", "usage", "switched", "already", "missing", "ambiguous", "file_gone", "nothing"
]


@dataclass(frozen=True)
class UseOutcome:
    status: UseStatus
    version: storage.ModelVersion | None = None


@dataclass(frozen=True)
class AuditOutcome:
    status: ListStatus
    entries: list[storage.AuditEntry] = field(default_factory=list)


# missing: no such run / nothing to activate; live: still running; discarded: files removed
# (kept: versions spared because open searches use them).
DiscardStatus = Literal["refused", "missing", "live", "discarded"]


@dataclass(frozen=True)
class DiscardOutcome:
    status: DiscardStatus
    run_id: int = 0
    removed: int = 0
    kept: int = 0
