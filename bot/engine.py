"""The service between Telegram and the rest: chats, searches, albums, ratings, uploads, pictures.

Handlers translate updates into calls on `Engine` and its results (bot.outcomes) into
messages; only the engine talks to storage, optimization and the face model, and it never
imports Telegram. Every CPU-heavy step (GP fit, EI, decode, JPEG/PNG/GIF) runs in the
executor. One chat's calls never overlap: the update processor (bot.ordering) runs a chat's
updates one at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import re
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

import storage
from bot import pictures
from bot.groups import GroupRounds
from bot.models import ModelRegistry
from bot.outcomes import BestFacePicture, NextStep, RateOutcome, UndoOutcome, UploadStatus
from bot.ratings import ParsedRatings, RatingError, RatingScale, parse_ratings
from bot.search_spaces import SearchSpaces
from bot.texts import pick_language

if TYPE_CHECKING:
    import aiosqlite

    from fotorobot.settings import Settings
    from model import FaceModel
    from optimization import LatentSpace, SearchSettings

T = TypeVar("T")  # a picture of the whole search (see _draw)

# Largest photo we download and decode (Telegram's own bot download limit is 20 MB).
MAX_UPLOAD_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class RatedMessage:
    """Where a rating message sits: its id and date, and the message it replies to (if any)."""

    message_id: int
    date: float | None = None
    reply_to_message_id: int | None = None
    reply_to_date: float | None = None
    reply_to_caption: str | None = None


@dataclass(frozen=True)
class AlbumPlan:
    """A proposed album: faces to record, JPEGs to send, the session state to save after."""

    session_id: int
    faces: list[storage.NewFace]
    images: list[bytes]
    state: dict[str, Any]


class Engine:
    """Runs searches for chats on one database connection, one face model, one executor."""

    def __init__(
        self,
        conn: aiosqlite.Connection,
        model: FaceModel,
        executor: Executor,
        settings: Settings,
    ) -> None:
        self.conn = conn
        # Searches keep the model they started with; new ones take the active version.
        self.models = ModelRegistry(conn, executor, settings.model_path, preloaded=model)
        self.executor = executor
        self.settings = settings
        self.scale: RatingScale = settings.rating_scale
        self.spaces = SearchSpaces(self.models)  # identity or principal axes per model
        self.groups = GroupRounds(conn, settings)  # group rounds and every chat's settings
        # Told (old id, new id) when a group becomes a supergroup, after storage moved it.
        self.migration_listeners: list[Callable[[int, int], None]] = []

    @classmethod
    async def open(cls, settings: Settings, model: FaceModel, executor: Executor) -> Engine:
        """Open (creating and migrating) the settings' database and serve from it."""
        settings.db_path.parent.mkdir(parents=True, exist_ok=True)
        conn = await storage.connect(settings.db_path)
        engine = cls(conn, model, executor, settings)
        try:
            await engine.models.start()
        except BaseException:
            await conn.close()
            raise
        return engine

    async def close(self) -> None:
        """Close the database connection."""
        await self.conn.close()

    async def run_cpu(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run a CPU-bound call in the executor so the event loop keeps serving other chats."""
        return await asyncio.get_running_loop().run_in_executor(self.executor, fn, *args)

    def new_settings(self, album_size: int | None = None) -> SearchSettings:
        """Search settings for a new session of the active model: configured sizes, a fresh
        seed, its identity axes when it has them (bot.search_spaces)."""
        size = int(self.settings.album_size if album_size is None else album_size)
        model = self.models.active_model
        return self.spaces.new_settings(model, int(self.settings.search_dim), size)

    # --- chats and people ----------------------------------------------------------------

    async def record_chat(self, chat_id: int, chat_type: str, title: str | None) -> None:
        """Create or refresh a chat (a language chosen with /lang is kept).

        A chat that writes to the bot is reachable again: one marked inactive (the person had
        blocked the bot) becomes active, so its albums are delivered once more.
        """
        chat = await storage.upsert_chat(self.conn, chat_id, chat_type, title=title)
        if not chat.active:
            await storage.set_chat_active(self.conn, chat_id, True)

    async def record_user(
        self, user_id: int, username: str | None, first_name: str | None, language: str | None
    ) -> None:
        """Create or refresh a person who talks to the bot."""
        await storage.upsert_user(
            self.conn, user_id, username=username, first_name=first_name, language=language
        )

    async def chat_language(self, chat_id: int | None, user_language: str | None) -> str:
        """Chosen with /lang, else the person's Telegram language, else the default."""
        if chat_id is not None:
            chat = await storage.get_chat(self.conn, chat_id)
            if chat is not None and chat.language:
                return chat.language
        return pick_language(user_language, self.settings.default_language)

    async def set_language(self, chat_id: int, language: str) -> None:
        """The chat's language from now on (record_chat first)."""
        await storage.set_chat_language(self.conn, chat_id, language)

    async def set_chat_active(self, chat_id: int, active: bool) -> None:
        """Whether the bot may write to the chat (blocked, kicked, back again)."""
        with contextlib.suppress(storage.NotFound):  # a chat never recorded: nothing to mark
            await storage.set_chat_active(self.conn, chat_id, active)

    async def migrate_chat(self, old_chat_id: int, new_chat_id: int) -> None:
        """A group became a supergroup: its search and votes move to the new id."""
        await storage.migrate_chat(self.conn, old_chat_id, new_chat_id)
        self.groups.migrated(old_chat_id, new_chat_id)  # whichever path saw it (a send, a message)
        for listener in self.migration_listeners:
            listener(old_chat_id, new_chat_id)

    # --- searches and albums -------------------------------------------------------------

    async def start_session(
        self, chat_id: int, started_by: int | None = None, update_id: int | None = None
    ) -> bool:
        """Close the chat's current search (if any) and open a new one; its first album is then
        owed (bot.outbox delivers it). False when `update_id` already started one (a replay)."""
        model = self.models.active_model
        settings = self.new_settings((await self.groups.settings_for(chat_id)).album_size)
        try:
            await storage.start_session(
                self.conn,
                chat_id,
                model.version,
                settings.to_dict(),
                dim=settings.dim,
                latent_dim=int(model.latent_dim),
                started_by=started_by,
                update_id=update_id,
            )
        except storage.AlreadyApplied:
            return False
        return True

    async def owes_album(self, chat_id: int) -> bool:
        """Whether the chat is owed an album (bot.outbox delivers it after the update)."""
        return await storage.owed_album(self.conn, chat_id) is not None

    async def end_search(self, chat_id: int) -> None:
        """Close the chat's open search (its model is gone: it cannot go on)."""
        session = await storage.open_session(self.conn, chat_id)
        if session is not None:
            await storage.close_session(self.conn, session.id)

    async def chat_scale(self, chat_id: int) -> RatingScale:
        """The rating scale the chat chose (/settings), else the configured one."""
        return (await self.groups.settings_for(chat_id)).scale

    async def has_search(self, chat_id: int) -> bool:
        """Whether the chat has an open search."""
        return await storage.open_session(self.conn, chat_id) is not None

    async def plan_album(self, chat_id: int) -> AlbumPlan | None:
        """The next album of the chat's search (GP + EI, or Sobol); None without a search."""
        from optimization import SearchSettings, search_inputs

        session = await storage.open_session(self.conn, chat_id)
        if session is None:
            return None
        model = await self.models.get(session.model_version)  # ModelGone: the handler says so
        # The chat's album size applies from its next album (/settings), in a running search too.
        album_size = (await self.groups.settings_for(chat_id)).album_size
        settings = dataclasses.replace(
            SearchSettings.from_dict(session.settings), album_size=album_size
        )
        history = await storage.session_history(self.conn, session.id)
        # Ratings and poll picks as the search's surrogate reads them (optimization.answers).
        data = search_inputs(settings, history.rounds, history.votes, history.picks)
        space = self.spaces.space(model, settings)  # ModelGone too: identity assets gone
        state = dict(session.state)
        upload = state.pop("upload", None)
        upload_latent = None if upload is None else np.asarray(upload, dtype=np.float32)
        points, latents, sources, images, search_state = await self.run_cpu(
            compute_album,
            model,
            space,
            settings,
            history.points,
            data.scores,
            data.counts,
            state.get("search", {}),
            upload_latent,
            data.pairs,
            self.spaces.openers(model, settings),
        )
        faces = [
            storage.NewFace(point=points[i], latent=latents[i], source=sources[i], position=i + 1)
            for i in range(len(sources))
        ]
        state["search"] = search_state
        return AlbumPlan(session_id=session.id, faces=faces, images=images, state=state)

    async def store_album(self, plan: AlbumPlan) -> storage.Round:
        """Store a planned album before it is sent: an open round whose faces have no message
        ids yet (bot.outbox attaches them once Telegram answers)."""
        # One transaction: a restart can never see the album without the state behind it.
        return await storage.record_album(
            self.conn, plan.session_id, plan.faces, [None] * len(plan.faces), state=plan.state
        )

    async def round_images(self, round_id: int) -> list[bytes] | None:
        """A round's album drawn again from its stored latents (to show it once more)."""
        from bot import render

        round_ = await storage.get_round(self.conn, round_id)
        if round_ is None or not round_.faces:
            return None
        session = await storage.get_session(self.conn, round_.session_id)
        if session is None:
            return None
        # The faces' latents belong to the search's own model (ModelGone: the caller says so).
        model = await self.models.get(session.model_version)
        latents = np.stack([face.latent for face in round_.faces])  # (k, latent_dim)

        def draw() -> list[bytes]:
            return render.album_images(model.decode(latents))

        images: list[bytes] = await self.run_cpu(draw)
        return images

    async def reattach_album(self, round_id: int, message_ids: list[int]) -> None:
        """A round's faces were sent again: their new photo messages."""
        await storage.reattach_album(self.conn, round_id, message_ids)

    async def set_prompt(self, round_id: int, message_id: int) -> None:
        """Remember the prompt message, so replies to it rate the album."""
        await storage.set_prompt_message(self.conn, round_id, message_id)

    async def close_round(self, round_id: int) -> bool:
        """Close a round; True only for the caller that closed it (it sends the next album)."""
        return await storage.close_round(self.conn, round_id)

    async def open_round(self, chat_id: int) -> storage.Round | None:
        """The chat's open album, if any."""
        return await storage.open_round(self.conn, chat_id)

    async def next_step(self, chat_id: int) -> NextStep:
        """What /next does now: resume a search without an album, move on, or explain."""
        if await self.owes_album(chat_id):
            return NextStep("resume")  # the album did not arrive yet: it follows
        round_ = await storage.open_round(self.conn, chat_id)
        if round_ is None:
            return NextStep("no_search")
        rated, _missing = await self.round_progress(round_)
        if not rated and not await self.groups.voters(round_.id):  # a poll pick counts too
            return NextStep("needs_rating")
        return NextStep("ready", round_id=round_.id)

    # --- ratings -----------------------------------------------------------------------

    async def resolve_target(
        self, chat_id: int, message: RatedMessage
    ) -> tuple[storage.Round | None, int | None]:
        """(round, target position) for a rating message.

        A reply to one album photo targets that face, also in a copy of the album whose send
        timed out (matched by its date and "#n" caption); a reply to the prompt targets its
        album. Anything else rates the latest album sent *before* the message: a rating typed
        just before a new album arrives belongs to the one the person saw, never the new one.
        """
        reply_to = message.reply_to_message_id
        if reply_to is not None:
            face = await storage.face_by_message(self.conn, chat_id, reply_to)
            round_ = await storage.round_by_message(self.conn, chat_id, reply_to)
            if round_ is not None:
                return round_, (face.position if face is not None else None)
            position = caption_position(message.reply_to_caption)
            if position is not None and message.reply_to_date is not None:
                lost = await storage.round_of_lost_copy(self.conn, chat_id, message.reply_to_date)
                if lost is not None and position <= len(lost.faces):
                    return lost, position
        round_ = await storage.round_before_message(
            self.conn, chat_id, message.message_id, message.date
        )
        return round_, None

    def parse(
        self,
        text: str,
        album_size: int,
        target_position: int | None,
        scale: RatingScale | None = None,
    ) -> ParsedRatings | RatingError:
        """Parse a rating message with the chat's scale (default: the configured one)."""
        return parse_ratings(
            text, album_size=album_size, scale=scale or self.scale, target_position=target_position
        )

    async def rate(
        self,
        chat_id: int,
        user_id: int,
        text: str,
        message_id: int,
        reply_to_message_id: int | None,
        edited: bool = False,
        *,
        date: float | None = None,
        reply_to_date: float | None = None,
        reply_to_caption: str | None = None,
    ) -> RateOutcome:
        """Parse and store one rating message (new or edited: its old votes are replaced).

        `date` (the message's) and the replied-to message's date and caption let a rating find
        the album the person saw (resolve_target). Storing is idempotent by message: a replay
        after a crash casts the same votes again, or answers "repeat" once the album closed.
        """
        message = RatedMessage(
            message_id, date, reply_to_message_id, reply_to_date, reply_to_caption
        )
        round_, target = await self.resolve_target(chat_id, message)
        if edited:
            # An edit re-rates the album its first version rated, not whatever is open now.
            previous = await storage.votes_by_message(self.conn, chat_id, message_id)
            if previous and (round_ is None or previous[0].round_id != round_.id):
                round_ = await storage.get_round(self.conn, previous[0].round_id)
                target = None
        if round_ is None:
            return RateOutcome("no_round")
        album_size = len(round_.faces)
        parsed = self.parse(text, album_size, target, await self.chat_scale(chat_id))
        if isinstance(parsed, RatingError):
            return RateOutcome(
                "unreadable", error=parsed, album_size=album_size, round_id=round_.id
            )
        if not round_.is_open:
            if not edited and await self._counted(chat_id, message_id, round_.id):
                return RateOutcome("repeat", round_id=round_.id)
            return RateOutcome("closed", round_id=round_.id)
        by_position = {face.position: face for face in round_.faces}
        votes = [(by_position[r.position].id, float(r.value)) for r in parsed.ratings]
        try:
            await storage.cast_votes(self.conn, chat_id, user_id, votes, text, message_id)
        except storage.RoundClosed:
            return RateOutcome("closed", round_id=round_.id)
        rated, missing = await self.round_progress(round_)
        stored = [(r.position, float(r.value)) for r in parsed.ratings]
        return RateOutcome(
            "partial" if missing else "complete",
            round_id=round_.id,
            rated=rated,
            missing=missing,
            stored=stored,
        )

    async def _counted(self, chat_id: int, message_id: int, round_id: int) -> bool:
        """Whether this message's votes are already stored in that round (a replayed update)."""
        votes = await storage.votes_by_message(self.conn, chat_id, message_id)
        return any(v.round_id == round_id for v in votes)

    async def round_progress(self, round_: storage.Round) -> tuple[list[int], list[int]]:
        """(rated positions, missing positions) of a round, counting every user's votes."""
        voted_ids = {v.face_id for v in await storage.round_votes(self.conn, round_.id)}
        rated = sorted(f.position for f in round_.faces if f.id in voted_ids)
        missing = sorted(f.position for f in round_.faces if f.id not in voted_ids)
        return rated, missing

    async def undo(self, chat_id: int, user_id: int, update_id: int | None = None) -> UndoOutcome:
        """Take back the user's last vote while its album is open (once per `update_id`)."""
        try:
            vote = await storage.undo_last_vote(self.conn, chat_id, user_id, update_id=update_id)
        except storage.RoundClosed:
            return UndoOutcome("nothing")
        except storage.AlreadyApplied:
            return UndoOutcome("repeat")
        if vote is None:
            return UndoOutcome("nothing")
        round_ = await storage.open_round(self.conn, chat_id)
        positions = {f.id: f.position for f in round_.faces} if round_ is not None else {}
        position = positions.get(vote.face_id)
        if position is None:
            return UndoOutcome("nothing")
        return UndoOutcome("undone", position=position, value=vote.value)

    # --- uploads -----------------------------------------------------------------------

    async def encode_upload(self, data: bytes, chat_id: int | None = None) -> np.ndarray:
        """Photo bytes -> latent (latent_dim,) of the chat's search model (else the active
        one); raises model.ImageError for a bad image."""
        session = None if chat_id is None else await storage.open_session(self.conn, chat_id)
        if session is None:
            model = self.models.active_model
        else:
            model = await self.models.get(session.model_version)
        latent: np.ndarray = await self.run_cpu(encode_photo, model, data)
        return latent

    async def queue_upload(self, chat_id: int, latent: np.ndarray) -> UploadStatus:
        """Put an uploaded face into the chat's next album (a new search if none is open)."""
        session = await storage.open_session(self.conn, chat_id)
        if session is None:
            await self.start_session(chat_id)
            session = await storage.open_session(self.conn, chat_id)
            assert session is not None  # just opened, and this chat's updates run in order
        state = dict(session.state)
        state["upload"] = [float(x) for x in latent]  # replaces an earlier upload
        await storage.save_session_state(self.conn, session.id, state)
        return "queued" if await storage.open_round(self.conn, chat_id) else "show_now"

    # --- pictures of the whole search ----------------------------------------------------

    async def _draw(
        self,
        chat_id: int,
        draw: Callable[[FaceModel, dict[str, Any], storage.History], T | None],
        *,
        needs_votes: bool,
    ) -> T | None:
        """draw(settings, history) of the chat's open search, in the executor; None when there
        is no search, no face, or (needs_votes) no rating yet."""
        session = await storage.open_session(self.conn, chat_id)
        if session is None:
            return None
        history = await storage.session_history(self.conn, session.id)
        if len(history) == 0 or (needs_votes and not (history.votes or history.picks)):
            return None
        model = await self.models.get(session.model_version)
        picture: T | None = await self.run_cpu(draw, model, session.settings, history)
        return picture

    async def best_face_picture(self, chat_id: int) -> BestFacePicture | None:
        """The best face of the chat's search, large; None before anything was rated."""
        return await self._draw(chat_id, pictures.best_face_picture, needs_votes=True)

    async def history_picture(self, chat_id: int) -> bytes | None:
        """One grid of every face shown in the chat's search with its rating (None: no faces)."""

        def draw(model: FaceModel, _settings: dict[str, Any], history: storage.History) -> bytes:
            return pictures.history_picture(model, history)

        return await self._draw(chat_id, draw, needs_votes=False)

    async def morph_picture(self, chat_id: int) -> bytes | None:
        """GIF from the first album's best face to the best so far (None: nothing rated)."""
        return await self._draw(chat_id, pictures.morph_picture, needs_votes=True)


def compute_album(
    model: FaceModel,
    space: LatentSpace,
    settings: SearchSettings,
    points: np.ndarray,
    scores: np.ndarray,
    counts: np.ndarray,
    search_state: dict[str, Any],
    upload_latent: np.ndarray | None,
    pairs: np.ndarray | None = None,
    openers: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, list[str], list[bytes], dict[str, Any]]:
    """CPU part of a round: propose k points (after the opening faces, if any), map to
    latents, decode, encode JPEGs. pairs: within-album comparisons (preference surrogate)."""
    from bot import render
    from optimization import new_search, observe, propose

    search = observe(new_search(settings, search_state), points, scores, counts, pairs)
    proposal = propose(search, settings.album_size, openers)
    new_points = np.array(proposal.points, dtype=np.float32)  # (k, dim)
    latents = np.array(space.to_latent(new_points), dtype=np.float32)  # (k, latent_dim)
    sources: list[str] = list(proposal.sources)
    if upload_latent is not None:
        # The uploaded face takes an exploratory slot: the last EI one, else the last one.
        ei_slots = [i for i, s in enumerate(sources) if s == "ei"]
        slot = ei_slots[-1] if ei_slots else len(sources) - 1
        latents[slot] = upload_latent
        new_points[slot] = space.from_latent(upload_latent[None, :])[0]
        sources[slot] = "upload"
    faces = model.decode(latents)  # (k, S, S, 3) uint8
    images = render.album_images(faces)
    return new_points, latents, sources, images, dict(proposal.state)


def caption_position(caption: str | None) -> int | None:
    """The face number of an album photo's caption ("#3" -> 3), None for anything else."""
    match = re.fullmatch(r"#(\d{1,2})", (caption or "").strip())
    return int(match.group(1)) if match else None


def encode_photo(model: FaceModel, data: bytes) -> np.ndarray:
    """Find and align the photo's face (or crop it, for a model of unaligned faces), then
    encode it to its posterior mean latent."""
    face = model.face_from_photo(data)  # (S, S, 3) uint8
    return np.asarray(model.encode(face[None]), dtype=np.float32)[0]  # (latent_dim,)
