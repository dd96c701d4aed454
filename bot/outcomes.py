"""What the engine answers the handlers: plain data with typed statuses, no Telegram, no storage.

Every status is a `Literal`, so a handler's `match` over it is checked for exhaustiveness by
mypy (`assert_never` in the last case): a new status cannot be forgotten silently.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from bot.ratings import RatingError

# unreadable: see `error`; no_round: nothing to rate; closed: that album is finished;
# partial: stored, faces still missing; complete: stored, every face rated.
RateStatus = Literal["unreadable", "no_round", "closed", "partial", "complete"]
# no_search: nothing started; resume: a search without an open album (send one);
# needs_rating: nothing rated yet; ready: close the round and move on.
NextStatus = Literal["no_search", "resume", "needs_rating", "ready"]
# undone: a vote was taken back; nothing: no vote of this user in an open album.
UndoStatus = Literal["undone", "nothing"]
# show_now: no album open, send one with the face; queued: it joins the next album.
UploadStatus = Literal["show_now", "queued"]


@dataclass(frozen=True)
class RateOutcome:
    """What a rating message did."""

    status: RateStatus
    error: RatingError | None = None  # set for "unreadable"
    album_size: int = 4
    round_id: int | None = None
    rated: list[int] = field(default_factory=list)  # positions with >= 1 vote
    missing: list[int] = field(default_factory=list)  # positions without a vote
    stored: list[tuple[int, float]] = field(default_factory=list)  # (position, value) just cast


@dataclass(frozen=True)
class NextStep:
    """What /next (or the Next album button) should do."""

    status: NextStatus
    round_id: int | None = None  # set for "ready"


@dataclass(frozen=True)
class UndoOutcome:
    """What /undo took back."""

    status: UndoStatus
    position: int | None = None  # set for "undone"
    value: float | None = None


@dataclass(frozen=True)
class BestFacePicture:
    """The best face so far: its picture, mean raw rating, round and album position."""

    image: bytes
    rating: float | None
    round: int
    position: int
