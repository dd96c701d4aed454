"""Group rounds: poll picks, quorum and deadline closing, the tally's data, new-search requests.

A group's round is closed by whichever comes first: a quorum of distinct voters, a deadline
armed by the first vote, or Next. Each check and its close run in ONE transaction, so however
many votes race, the round closes once and exactly one caller is told to send the next album.
A voter is anyone with a rating (votes) or a "closest" pick (picks) in the round.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import aiosqlite

from storage.chats import store_user
from storage.db import fetch_all, fetch_one, now, read_tx, write_tx
from storage.errors import BadValue, DuplicateMessage, NotFound

# recorded: stored, the round stays open; closed: stored and this call closed the round
# (its caller sends the next album); late: stored in a round that had already closed (a poll
# answer Telegram accepted before the poll was stopped: still the person's view of that album).
PickStatus = Literal["recorded", "closed", "late"]
# closed: this call closed the round; empty: nobody has voted (the deadline is cleared, the
# next vote arms it again); not_due: the deadline moved later; gone: closed already or unknown.
ExpireStatus = Literal["closed", "empty", "not_due", "gone"]


@dataclass(frozen=True)
class RoundState:
    """A round after a vote: whether that vote closed it, its voters, its deadline."""

    round_id: int
    chat_id: int
    closed_now: bool
    voters: int
    deadline: float | None


@dataclass(frozen=True)
class PickResult:
    """What one poll answer did."""

    status: PickStatus
    state: RoundState


@dataclass(frozen=True)
class RoundTally:
    """Everything a tally message shows about one round."""

    round_id: int
    chat_id: int
    number: int
    album_size: int
    is_open: bool
    deadline: float | None
    message_id: int | None  # the tally (the round's prompt message)
    poll_message_id: int | None
    votes: list[tuple[int, int, float]]  # (position, user, value)
    picks: list[tuple[int, int]]  # (position, user)
    names: dict[int, str]  # user id -> first name, where known

    @property
    def voters(self) -> list[int]:
        """Distinct voters (ratings or picks), in the order they first voted."""
        seen: dict[int, None] = {}
        for _p, user, _v in self.votes:
            seen.setdefault(user, None)
        for _p, user in self.picks:
            seen.setdefault(user, None)
        return list(seen)


async def _voter_count(conn: aiosqlite.Connection, round_id: int) -> int:
    row = await fetch_one(
        conn,
        """SELECT COUNT(*) FROM (SELECT user_id FROM votes WHERE round_id = ?
                                  UNION SELECT user_id FROM picks WHERE round_id = ?)""",
        (round_id, round_id),
    )
    return int(row[0]) if row else 0


async def _settle(
    conn: aiosqlite.Connection,
    rrow: aiosqlite.Row,
    quorum: int,
    deadline_s: float | None,
    t: float,
) -> RoundState:
    """Arm the deadline at the first vote and close on quorum (inside the caller's transaction)."""
    round_id = int(rrow["id"])
    voters = await _voter_count(conn, round_id)
    deadline = rrow["deadline"]
    if rrow["closed_at"] is not None:
        return RoundState(round_id, rrow["chat_id"], False, voters, deadline)
    if voters >= max(1, quorum):
        await conn.execute("UPDATE rounds SET closed_at = ? WHERE id = ?", (t, round_id))
        return RoundState(round_id, rrow["chat_id"], True, voters, deadline)
    if voters > 0 and deadline is None and deadline_s:
        deadline = t + float(deadline_s)
        await conn.execute("UPDATE rounds SET deadline = ? WHERE id = ?", (deadline, round_id))
    return RoundState(round_id, rrow["chat_id"], False, voters, deadline)


async def settle_round(
    conn: aiosqlite.Connection, round_id: int, *, quorum: int, deadline_s: float | None
) -> RoundState:
    """After ratings were cast: arm the deadline if this is the first vote, close on quorum."""
    async with write_tx(conn):
        rrow = await fetch_one(conn, "SELECT * FROM rounds WHERE id = ?", (round_id,))
        if rrow is None:
            raise NotFound(f"round {round_id} does not exist")
        return await _settle(conn, rrow, quorum, deadline_s, now())


async def attach_poll(
    conn: aiosqlite.Connection, round_id: int, poll_id: str, message_id: int
) -> None:
    """Remember a round's poll: its id (poll answers carry only that) and its message."""
    async with write_tx(conn):
        cur = await conn.execute(
            "UPDATE rounds SET poll_id = ?, poll_message_id = ? WHERE id = ?",
            (poll_id, message_id, round_id),
        )
        if cur.rowcount != 1:
            raise NotFound(f"round {round_id} does not exist")


async def poll_chat(conn: aiosqlite.Connection, poll_id: str) -> int | None:
    """The chat a poll of ours was sent to (its round's chat, also after a migration)."""
    async with read_tx(conn):
        row = await fetch_one(conn, "SELECT chat_id FROM rounds WHERE poll_id = ?", (poll_id,))
    return int(row[0]) if row else None


async def cast_picks(
    conn: aiosqlite.Connection,
    poll_id: str,
    user_id: int,
    positions: Sequence[int],
    *,
    quorum: int,
    deadline_s: float | None,
    first_name: str | None = None,
    username: str | None = None,
    language: str | None = None,
) -> PickResult | None:
    """Store one poll answer: the user's picks of that round become exactly `positions`
    (1-based album positions; empty retracts them). Then settle the round (deadline, quorum),
    all in one transaction, the voter's names refreshed in it too (a poll answer is the only
    message some voters send). None when the poll is not one of ours."""
    wanted = sorted({int(p) for p in positions})
    t = now()
    async with write_tx(conn):
        rrow = await fetch_one(conn, "SELECT * FROM rounds WHERE poll_id = ?", (poll_id,))
        if rrow is None:
            return None
        faces = await fetch_all(
            conn, "SELECT id, position FROM faces WHERE round_id = ?", (rrow["id"],)
        )
        by_position = {int(f["position"]): int(f["id"]) for f in faces}
        unknown = [p for p in wanted if p not in by_position]
        if unknown:
            raise BadValue(f"the album has no face #{unknown[0]}")
        await store_user(conn, user_id, username, first_name, language)
        await conn.execute(
            "DELETE FROM picks WHERE round_id = ? AND user_id = ?", (rrow["id"], user_id)
        )
        await conn.executemany(
            """INSERT INTO picks (face_id, round_id, chat_id, user_id, created_at)
               VALUES (?, ?, ?, ?, ?)""",
            [(by_position[p], rrow["id"], rrow["chat_id"], user_id, t) for p in wanted],
        )
        state = await _settle(conn, rrow, quorum, deadline_s, t)
    if rrow["closed_at"] is not None:
        return PickResult("late", state)
    return PickResult("closed" if state.closed_now else "recorded", state)


async def expire_round(
    conn: aiosqlite.Connection, round_id: int, *, slack: float = 0.5
) -> tuple[ExpireStatus, float | None]:
    """The deadline timer fired: close the round if it is due and someone voted (one
    transaction). Returns the status and the round's deadline (for not_due: re-arm at it)."""
    t = now()
    async with write_tx(conn):
        rrow = await fetch_one(conn, "SELECT * FROM rounds WHERE id = ?", (round_id,))
        if rrow is None or rrow["closed_at"] is not None:
            return "gone", None
        deadline = rrow["deadline"]
        if deadline is None:
            return "empty", None
        if deadline > t + slack:
            return "not_due", float(deadline)
        if await _voter_count(conn, round_id) == 0:
            # Every vote was retracted: wait for the next first vote instead of moving on.
            await conn.execute("UPDATE rounds SET deadline = NULL WHERE id = ?", (round_id,))
            return "empty", None
        await conn.execute("UPDATE rounds SET closed_at = ? WHERE id = ?", (t, round_id))
        return "closed", float(deadline)


async def round_tally(conn: aiosqlite.Connection, round_id: int) -> RoundTally | None:
    """The round's votes and picks by album position, with the voters' names."""
    async with read_tx(conn):
        rrow = await fetch_one(conn, "SELECT * FROM rounds WHERE id = ?", (round_id,))
        if rrow is None:
            return None
        size = await fetch_one(conn, "SELECT COUNT(*) FROM faces WHERE round_id = ?", (round_id,))
        votes = await fetch_all(
            conn,
            """SELECT f.position, v.user_id, v.value FROM votes v
               JOIN faces f ON f.id = v.face_id WHERE v.round_id = ? ORDER BY v.id""",
            (round_id,),
        )
        picks = await fetch_all(
            conn,
            """SELECT f.position, p.user_id FROM picks p
               JOIN faces f ON f.id = p.face_id WHERE p.round_id = ? ORDER BY p.id""",
            (round_id,),
        )
        names = await fetch_all(
            conn,
            """SELECT user_id, first_name FROM users WHERE first_name IS NOT NULL AND user_id IN
                   (SELECT user_id FROM votes WHERE round_id = ?
                    UNION SELECT user_id FROM picks WHERE round_id = ?)""",
            (round_id, round_id),
        )
    return RoundTally(
        round_id=round_id,
        chat_id=int(rrow["chat_id"]),
        number=int(rrow["number"]),
        album_size=int(size[0]) if size else 0,
        is_open=rrow["closed_at"] is None,
        deadline=rrow["deadline"],
        message_id=rrow["prompt_message_id"],
        poll_message_id=rrow["poll_message_id"],
        votes=[(int(r[0]), int(r[1]), float(r[2])) for r in votes],
        picks=[(int(r[0]), int(r[1])) for r in picks],
        names={int(r[0]): str(r[1]) for r in names},
    )


async def load_picks(
    conn: aiosqlite.Connection, session_id: int, index: dict[int, int]
) -> list[tuple[int, int]]:
    """A session's picks as (face_index, user) for a History (inside the caller's read)."""
    rows = await fetch_all(
        conn,
        """SELECT p.face_id, p.user_id FROM picks p JOIN faces f ON f.id = p.face_id
           WHERE f.session_id = ? ORDER BY p.id""",
        (session_id,),
    )
    return [(index[r["face_id"]], int(r["user_id"])) for r in rows]


async def request_restart(conn: aiosqlite.Connection, chat_id: int, user_id: int) -> int | None:
    """A member asks for a new search: the number of distinct members who asked during the
    chat's open search (None when there is none)."""
    t = now()
    async with write_tx(conn):
        srow = await fetch_one(
            conn, "SELECT id FROM sessions WHERE chat_id = ? AND closed_at IS NULL", (chat_id,)
        )
        if srow is None:
            return None
        await conn.execute(
            """INSERT INTO restart_requests (session_id, chat_id, user_id, created_at)
               VALUES (?, ?, ?, ?) ON CONFLICT (session_id, user_id) DO NOTHING""",
            (srow["id"], chat_id, user_id, t),
        )
        row = await fetch_one(
            conn, "SELECT COUNT(*) FROM restart_requests WHERE session_id = ?", (srow["id"],)
        )
    return int(row[0]) if row else 0


async def reattach_album(
    conn: aiosqlite.Connection, round_id: int, message_ids: Sequence[int]
) -> None:
    """The round's faces were sent again (its group became a supergroup): their new message
    ids, in position order, so replies to the new photos rate them."""
    async with write_tx(conn):
        faces = await fetch_all(
            conn, "SELECT id FROM faces WHERE round_id = ? ORDER BY position", (round_id,)
        )
        if len(faces) != len(message_ids):
            raise BadValue(f"{len(faces)} faces but {len(message_ids)} message ids")
        try:
            for face, message_id in zip(faces, message_ids, strict=True):
                await conn.execute(
                    "UPDATE faces SET message_id = ? WHERE id = ?", (message_id, face["id"])
                )
        except sqlite3.IntegrityError as exc:
            raise DuplicateMessage(f"a message id is already attached to a face: {exc}") from exc
