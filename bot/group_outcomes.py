"""What the group service (bot.groups) answers the handlers: plain data, `Literal` statuses."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from bot.ratings import RatingScale

# What a group vote did: recorded (the round stays open), closed (this vote closed it: send the
# next album), late (kept, its round had already closed), unknown (not a poll of ours).
VoteStatus = Literal["recorded", "closed", "late", "unknown"]
# changed: stored; invalid: the value is not allowed for that setting; unknown: no such setting.
SettingStatus = Literal["changed", "invalid", "unknown"]
# start: enough members asked (start the new search); pending: more must agree; no_search:
# nothing runs, so nobody's votes are at stake (start at once).
NewSearchStatus = Literal["start", "pending", "no_search"]
# Who may move a group's round on or restart its search.
Steerer = Literal["private", "anonymous_admin", "starter", "admin", "member"]

SETTING_NAMES = ("quorum", "deadline", "album", "scale", "language", "names")


@dataclass(frozen=True)
class GroupSettings:
    """A chat's own settings (defaults from the bot's settings where never changed)."""

    quorum: int  # distinct voters that close a round (capped at everyone but the bot)
    deadline_s: int  # seconds after the first vote; 0: no deadline
    album_size: int
    scale: RatingScale
    show_names: bool  # name the voters in the closing message


@dataclass(frozen=True)
class VoteOutcome:
    """What one group vote (a poll answer or a rating by reply) did to its round."""

    status: VoteStatus
    round_id: int | None = None
    chat_id: int | None = None
    voters: int = 0


@dataclass(frozen=True)
class SettingChange:
    """The result of /settings NAME VALUE (or one of its buttons)."""

    status: SettingStatus
    name: str
    value: str = ""  # the value now in force, as shown to people
    settings: GroupSettings | None = None


@dataclass(frozen=True)
class NewSearchVote:
    """A member's /new in a group whose search they did not start."""

    status: NewSearchStatus
    count: int = 0
    needed: int = 0


@dataclass(frozen=True)
class Tally:
    """One round's state for its tally message."""

    round_id: int
    chat_id: int
    number: int
    is_open: bool
    voters: int
    quorum: int
    leader: int | None  # album position with the most points (a pick 1, a rating its fraction)
    seconds_left: float | None  # until the deadline; None before the first vote / no deadline
    deadline_s: int
    message_id: int | None  # the tally message (None: not sent, or left behind by a migration)
    poll_message_id: int | None
    names: list[str | None] = field(default_factory=list)  # shown names; None: anonymous admin
