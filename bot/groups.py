"""Group rounds, the service side: each chat's settings, votes that close a round (quorum,
deadline, Next), deadline timers that survive restarts, and the coalesced tally.

No Telegram here: `bot/handlers/groups.py` (polls, tally messages, wrap-up) and
`bot/handlers/group_votes.py` (poll answers, /settings, the deadline's callback) are the
Telegram side. Closing is decided in storage, in one transaction per vote, so a round closes
exactly once however many votes race; the caller told `closed` sends the next album.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import storage
from bot.group_outcomes import (
    SETTING_NAMES,
    GroupSettings,
    NewSearchVote,
    SettingChange,
    Tally,
    VoteOutcome,
)
from bot.ratings import RatingScale
from bot.texts import SUPPORTED_LANGUAGES

if TYPE_CHECKING:
    import aiosqlite

    from fotorobot.settings import Settings

log = logging.getLogger(__name__)

DEFAULT_QUORUM = 3
DEFAULT_DEADLINE_S = 120
MAX_QUORUM = 50
DEADLINE_RANGE = (10, 24 * 3600)  # what /settings accepts, in seconds (0: no deadline)
DEADLINE_STEPS = (0, 30, 60, 120, 180, 300, 600, 1800, 3600)  # the buttons' steps
ALBUM_RANGE = (2, 10)  # Telegram albums hold 2-10 photos
SCALES = ("1-10", "1-5")
MEMBER_COUNT_TTL = 300.0  # seconds a group's member count is trusted (quorum cap)
TALLY_MIN_GAP = 3.0  # seconds between two edits of one tally (a group's 20/min, evenly)


def is_group_chat(chat_id: int) -> bool:
    """Groups and supergroups have negative ids (private chats: the user's id)."""
    return chat_id < 0


def settings_from_stored(stored: Mapping[str, Any], defaults: Settings) -> GroupSettings:
    """A chat's settings from its stored JSON; anything missing or malformed: the default."""

    def whole(key: str, low: int, high: int, default: int) -> int:
        value = stored.get(key)
        ok = isinstance(value, int) and not isinstance(value, bool) and low <= value <= high
        return value if ok else default  # type: ignore[return-value]

    scale = defaults.rating_scale
    if stored.get("scale") in SCALES:
        scale = RatingScale.parse(str(stored["scale"]))
    return GroupSettings(
        quorum=whole("quorum", 1, MAX_QUORUM, DEFAULT_QUORUM),
        deadline_s=whole("deadline_s", 0, DEADLINE_RANGE[1], DEFAULT_DEADLINE_S),
        album_size=whole("album_size", *ALBUM_RANGE, int(defaults.album_size)),
        scale=scale,
        show_names=stored.get("show_names") is True,
    )


def parse_duration(text: str) -> int | None:
    """Seconds from "90s", "3m", "3 min", "1h", a bare number of minutes, or "off" (0)."""
    value = text.strip().lower()
    if value in ("off", "none", "no", "0", "нет", "выкл"):
        return 0
    found = re.fullmatch(r"(\d+(?:[.,]\d+)?)\s*(s|sec|с|сек|m|min|м|мин|h|ч)?", value)
    if found is None:
        return None
    number = float(found.group(1).replace(",", "."))
    unit = found.group(2) or "m"
    factor = 1 if unit in ("s", "sec", "с", "сек") else 3600 if unit in ("h", "ч") else 60
    return round(number * factor)


def _parse_setting(name: str, raw: str) -> tuple[str, Any] | None:
    """(stored key, stored value) for /settings NAME VALUE; None if the value is not allowed."""
    value = raw.strip().lower()
    if name in ("quorum", "album"):
        low, high = (1, MAX_QUORUM) if name == "quorum" else ALBUM_RANGE
        if not value.isdigit() or not low <= int(value) <= high:
            return None
        return ("quorum" if name == "quorum" else "album_size"), int(value)
    if name == "deadline":
        seconds = parse_duration(value)
        if seconds is None or (seconds and not DEADLINE_RANGE[0] <= seconds <= DEADLINE_RANGE[1]):
            return None
        return "deadline_s", seconds
    if name == "scale":
        value = {"10": "1-10", "5": "1-5"}.get(value, value)
        return ("scale", value) if value in SCALES else None
    if name == "language":
        return ("language", value) if value in SUPPORTED_LANGUAGES else None
    if name == "names":
        on = value in ("on", "yes", "true", "1", "да", "вкл")
        off = value in ("off", "no", "false", "0", "нет", "выкл")
        return ("show_names", on) if on or off else None
    return None


def shown_value(name: str, settings: GroupSettings, language: str) -> str:
    """A setting's current value in the form /settings accepts (the handler localises some)."""
    return {
        "quorum": str(settings.quorum),
        "deadline": str(settings.deadline_s),
        "album": str(settings.album_size),
        "scale": str(settings.scale),
        "language": language,
        "names": "on" if settings.show_names else "off",
    }[name]


def stepped_value(name: str, settings: GroupSettings, language: str, up: bool) -> str:
    """The value a settings button moves to: one step up or down, or the next choice."""
    if name == "quorum":
        return str(min(MAX_QUORUM, max(1, settings.quorum + (1 if up else -1))))
    if name == "album":
        low, high = ALBUM_RANGE
        return str(min(high, max(low, settings.album_size + (1 if up else -1))))
    if name == "deadline":
        below = [s for s in DEADLINE_STEPS if s < settings.deadline_s]
        above = [s for s in DEADLINE_STEPS if s > settings.deadline_s]
        target = (above[0] if above else DEADLINE_STEPS[-1]) if up else (below[-1] if below else 0)
        return f"{target}s" if target else "off"
    choices = {"scale": SCALES, "language": SUPPORTED_LANGUAGES, "names": ("off", "on")}[name]
    current = shown_value(name, settings, language)
    index = choices.index(current) if current in choices else -1
    return choices[(index + 1) % len(choices)]


def tally_leader(tally: storage.RoundTally, scale: RatingScale) -> int | None:
    """The album position with the most points: a pick is 1 point, a rating its place on the
    scale (the top 1, the bottom 0); ties go to the lower number; None without any vote."""
    points: dict[int, float] = {}
    for position, _user in tally.picks:
        points[position] = points.get(position, 0.0) + 1.0
    span = max(1, scale.high - scale.low)
    for position, _user, value in tally.votes:
        fraction = min(1.0, max(0.0, (value - scale.low) / span))
        points[position] = points.get(position, 0.0) + fraction
    if not points:
        return None
    return max(sorted(points), key=lambda p: points[p])


class DeadlineTimers:
    """One asyncio task per armed round deadline (epoch seconds); re-armed from storage at
    start-up, since nothing in memory survives a restart."""

    def __init__(self) -> None:
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._fire: Callable[[int], Awaitable[None]] | None = None

    def start(self, fire: Callable[[int], Awaitable[None]]) -> None:
        """From now on a deadline that passes calls fire(round_id)."""
        self._fire = fire

    def arm(self, round_id: int, deadline: float) -> None:
        """(Re)arm the round's timer; nothing before start()."""
        if self._fire is None:
            return
        old = self._tasks.pop(round_id, None)
        if old is not None:
            old.cancel()
        self._tasks[round_id] = asyncio.get_running_loop().create_task(
            self._wait(round_id, deadline, self._fire), name=f"deadline-{round_id}"
        )

    def armed(self) -> list[int]:
        """Rounds with a timer waiting."""
        return sorted(r for r, t in self._tasks.items() if not t.done())

    async def _wait(
        self, round_id: int, deadline: float, fire: Callable[[int], Awaitable[None]]
    ) -> None:
        await asyncio.sleep(max(0.0, deadline - time.time()))
        if self._tasks.get(round_id) is asyncio.current_task():
            del self._tasks[round_id]  # before firing: the callback may arm it again
        try:
            await fire(round_id)
        except Exception:
            log.exception("closing round %s at its deadline failed", round_id)

    async def stop(self) -> None:
        """Cancel every timer (shutdown); storage keeps the deadlines for the next start."""
        self._fire = None
        tasks, self._tasks = list(self._tasks.values()), {}
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task


@dataclass
class _Board:
    """One round's tally: the latest edit asked for, and the task that performs it."""

    edit: Callable[[], Awaitable[None]]
    room: Callable[[], float]
    dirty: bool = True
    closed: bool = False
    last: float = float("-inf")
    task: asyncio.Task[None] | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    wake: asyncio.Event = field(default_factory=asyncio.Event)


class TallyCoalescer:
    """Edits of a round's tally, coalesced: at most one in flight, at least `min_gap` apart,
    and only when `room()` (seconds until the group's message budget has room) says 0. Votes
    arriving meanwhile collapse into the next edit, which shows the state at that time."""

    def __init__(
        self, min_gap: float = TALLY_MIN_GAP, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.min_gap, self.clock = min_gap, clock
        self._boards: dict[int, _Board] = {}
        self.edits = 0  # edits performed (figures for the group benchmark)

    def request(
        self, round_id: int, edit: Callable[[], Awaitable[None]], room: Callable[[], float]
    ) -> None:
        """Ask for the tally to be brought up to date (soon, not necessarily now)."""
        board = self._boards.get(round_id)
        if board is None:
            board = self._boards[round_id] = _Board(edit, room)
        board.edit, board.room, board.dirty = edit, room, True
        if board.task is None or board.task.done():
            board.task = asyncio.get_running_loop().create_task(
                self._run(board), name=f"tally-{round_id}"
            )

    async def _run(self, board: _Board) -> None:
        while board.dirty and not board.closed:
            wait = max(board.last + self.min_gap - self.clock(), board.room())
            if wait > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(board.wake.wait(), wait)
                continue
            async with board.lock:
                if board.closed:
                    return
                board.dirty, board.last = False, self.clock()
                try:
                    await board.edit()
                    self.edits += 1
                except Exception:
                    log.warning("a tally edit failed", exc_info=True)

    async def close(self, round_id: int) -> None:
        """No more edits of this round's tally; waits for one in flight (the closing message
        must not be overwritten by a late tally)."""
        board = self._boards.pop(round_id, None)
        if board is None:
            return
        board.closed = True
        board.wake.set()
        async with board.lock:
            pass
        if board.task is not None:
            board.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await board.task

    async def stop(self) -> None:
        """Drop every pending edit (shutdown)."""
        for round_id in list(self._boards):
            await self.close(round_id)


class GroupRounds:
    """The group side of the service, on the engine's database connection."""

    def __init__(self, conn: aiosqlite.Connection, defaults: Settings) -> None:
        self.conn = conn
        self.defaults = defaults
        self.timers = DeadlineTimers()
        self.tallies = TallyCoalescer()
        self._members: dict[int, tuple[int, float]] = {}  # chat -> (member count, when)
        # Asked on every poll answer, fixed once the poll is sent (moved by a migration only).
        self._poll_chats: dict[str, int] = {}

    # --- settings ---------------------------------------------------------------------

    async def settings_for(self, chat_id: int) -> GroupSettings:
        """The chat's settings (defaults where never changed)."""
        return settings_from_stored(await storage.chat_settings(self.conn, chat_id), self.defaults)

    async def change_setting(
        self, chat_id: int, name: str, raw: str, language: str
    ) -> SettingChange:
        """/settings NAME VALUE by someone the handler checked (a group admin: it audits)."""
        if name not in SETTING_NAMES:
            return SettingChange("unknown", name)
        parsed = _parse_setting(name, raw)
        if parsed is None:
            return SettingChange("invalid", name)
        key, value = parsed
        if key == "language":
            await storage.set_chat_language(self.conn, chat_id, str(value))
            language = str(value)
        else:
            await storage.update_chat_settings(self.conn, chat_id, {key: value})
        settings = await self.settings_for(chat_id)
        return SettingChange("changed", name, shown_value(name, settings, language), settings)

    # --- quorum -----------------------------------------------------------------------

    def members_known(self, chat_id: int) -> bool:
        """Whether a recent member count is cached (else the handler asks Telegram)."""
        known = self._members.get(chat_id)
        return known is not None and time.monotonic() - known[1] < MEMBER_COUNT_TTL

    def remember_members(self, chat_id: int, count: int) -> None:
        """getChatMemberCount's answer (it counts the bot too)."""
        self._members[chat_id] = (int(count), time.monotonic())

    def quorum(self, chat_id: int, settings: GroupSettings) -> int:
        """Distinct voters that close a round: the setting, or everyone but the bot when the
        group is smaller."""
        known = self._members.get(chat_id)
        if known is None:
            return settings.quorum
        return max(1, min(settings.quorum, known[0] - 1))

    # --- votes --------------------------------------------------------------------------

    async def poll_chat(self, poll_id: str) -> int | None:
        """The chat a poll of ours belongs to (poll answers carry no chat)."""
        chat_id = self._poll_chats.get(poll_id)
        if chat_id is None:
            chat_id = await storage.poll_chat(self.conn, poll_id)
            if chat_id is not None:
                self._poll_chats[poll_id] = chat_id
        return chat_id

    async def attach_poll(self, round_id: int, chat_id: int, poll_id: str, message_id: int) -> None:
        """Remember the round's poll and its message."""
        await storage.attach_poll(self.conn, round_id, poll_id, message_id)
        self._poll_chats[poll_id] = chat_id

    def _arm(self, state: storage.RoundState) -> None:
        if state.deadline is not None and not state.closed_now:
            self.timers.arm(state.round_id, state.deadline)

    async def pick(
        self,
        chat_id: int,
        poll_id: str,
        voter_id: int,
        positions: list[int],
        voter: tuple[str | None, str | None, str | None] = (None, None, None),
    ) -> VoteOutcome:
        """A poll answer (positions are 1-based; empty: retracted); `voter`: first name,
        username and language, stored with the answer."""
        settings = await self.settings_for(chat_id)
        first_name, username, language = voter
        result = await storage.cast_picks(
            self.conn,
            poll_id,
            voter_id,
            positions,
            quorum=self.quorum(chat_id, settings),
            deadline_s=settings.deadline_s or None,
            first_name=first_name,
            username=username,
            language=language,
        )
        if result is None:
            return VoteOutcome("unknown")
        self._arm(result.state)
        state = result.state
        return VoteOutcome(result.status, state.round_id, state.chat_id, state.voters)

    async def settle(self, chat_id: int, round_id: int) -> VoteOutcome:
        """After a rating by reply: arm the deadline at the first vote, close on quorum."""
        settings = await self.settings_for(chat_id)
        state = await storage.settle_round(
            self.conn,
            round_id,
            quorum=self.quorum(chat_id, settings),
            deadline_s=settings.deadline_s or None,
        )
        self._arm(state)
        return VoteOutcome(
            "closed" if state.closed_now else "recorded", round_id, state.chat_id, state.voters
        )

    async def expire(self, round_id: int) -> storage.ExpireStatus:
        """The deadline timer fired: close the round (once) if due and someone voted."""
        status, deadline = await storage.expire_round(self.conn, round_id)
        if status == "not_due" and deadline is not None:
            self.timers.arm(round_id, deadline)
        return status

    async def rearm(self) -> int:
        """Arm the timers of every open round with a deadline (start-up); how many."""
        rounds = [r for r in await storage.open_rounds(self.conn) if r.deadline is not None]
        for round_ in rounds:
            assert round_.deadline is not None
            self.timers.arm(round_.id, round_.deadline)
        return len(rounds)

    async def round_chat(self, round_id: int) -> int | None:
        """The chat a round belongs to now (it moves with a migrated group)."""
        round_ = await storage.get_round(self.conn, round_id)
        return None if round_ is None else round_.chat_id

    async def voters(self, round_id: int) -> int:
        """Distinct people who rated or picked in the round."""
        rows = await storage.round_tally(self.conn, round_id)
        return 0 if rows is None else len(rows.voters)

    async def tally(self, round_id: int) -> Tally | None:
        """The round's voters, leader and time left, for its tally message."""
        rows = await storage.round_tally(self.conn, round_id)
        if rows is None:
            return None
        settings = await self.settings_for(rows.chat_id)
        voters = rows.voters
        left = None
        if rows.deadline is not None and rows.is_open:
            left = max(0.0, rows.deadline - time.time())
        # None marks an anonymous admin (a vote in the group's own name); the handler words it.
        names: list[str | None] = []
        if settings.show_names:
            names = [None if v == rows.chat_id else rows.names.get(v, "?") for v in voters]
        return Tally(
            round_id=round_id,
            chat_id=rows.chat_id,
            number=rows.number,
            is_open=rows.is_open,
            voters=len(voters),
            quorum=self.quorum(rows.chat_id, settings),
            leader=tally_leader(rows, settings.scale),
            seconds_left=left,
            deadline_s=settings.deadline_s,
            message_id=rows.message_id,
            poll_message_id=rows.poll_message_id,
            names=names,
        )

    # --- who steers -----------------------------------------------------------------------

    async def starter(self, chat_id: int) -> int | None:
        """Who started the chat's running search."""
        session = await storage.open_session(self.conn, chat_id)
        return None if session is None else session.started_by

    async def request_new_search(self, chat_id: int, user_id: int) -> NewSearchVote:
        """A member (not an admin, not the starter) asks for a new search: it starts once as
        many members as the round quorum asked."""
        count = await storage.request_restart(self.conn, chat_id, user_id)
        if count is None:
            return NewSearchVote("no_search")
        needed = self.quorum(chat_id, await self.settings_for(chat_id))
        return NewSearchVote("start" if count >= needed else "pending", count, needed)

    async def audit(
        self, user_id: int | None, action: str, chat_id: int, details: dict[str, Any]
    ) -> None:
        """Record a privileged group action (settings, an admin's Next or new search)."""
        await storage.log_admin_action(self.conn, user_id, action, chat_id=chat_id, details=details)

    def migrated(self, old_chat_id: int, new_chat_id: int) -> None:
        """The group became a supergroup: what is cached about it moves too."""
        known = self._members.pop(old_chat_id, None)
        if known is not None:
            self._members[new_chat_id] = known
        for poll_id, chat_id in list(self._poll_chats.items()):
            if chat_id == old_chat_id:
                self._poll_chats[poll_id] = new_chat_id

    async def stop(self) -> None:
        """Stop timers and pending tally edits (shutdown)."""
        await self.timers.stop()
        await self.tallies.stop()
