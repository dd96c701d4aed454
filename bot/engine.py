"""The domain service behind the handlers: sessions, albums, ratings, uploads.

Knows storage, optimization and the face model, never Telegram: handlers hand it text and
ids and get plain results back. Every CPU-heavy step (GP fit, EI, decode, JPEG) runs in the
executor; callers serialise one chat's calls with its lock (see bot.app.ChatLocks).
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

import storage
from bot.ratings import ParsedRatings, RatingError, RatingScale, parse_ratings

if TYPE_CHECKING:
    import aiosqlite

    from bot.config import BotConfig
    from model import FaceModel
    from optimization import LatentSpace, SearchSettings

# Largest photo we download and decode (Telegram's own bot download limit is 20 MB).
MAX_UPLOAD_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class AlbumPlan:
    """A proposed album: faces to record, JPEGs to send, the session state to save after."""

    session_id: int
    faces: list[storage.NewFace]
    images: list[bytes]
    state: dict[str, Any]


@dataclass(frozen=True)
class RateOutcome:
    """What a rating message did.

    status: "error" (unreadable: see error) | "no_round" (nothing to rate) | "closed" (that
    album is finished) | "partial" (stored, faces still missing) | "complete" (stored, every
    face rated).
    """

    status: str
    error: RatingError | None = None
    album_size: int = 4
    round_id: int | None = None
    rated: list[int] = field(default_factory=list)  # positions with >= 1 vote
    missing: list[int] = field(default_factory=list)  # positions without a vote
    stored: list[tuple[int, float]] = field(default_factory=list)  # (position, value) just cast


class Engine:
    """Runs searches for chats on one database connection, one face model, one executor."""

    def __init__(
        self,
        conn: aiosqlite.Connection,
        model: FaceModel,
        executor: Executor,
        config: BotConfig,
    ) -> None:
        self.conn = conn
        self.model = model
        self.executor = executor
        self.config = config
        self.scale: RatingScale = config.rating_scale
        self._spaces: dict[tuple[int, str], LatentSpace] = {}
        self._identity: Any = None  # (identity basis, opener latents) once looked up
        self._identity_checked = False

    async def run_cpu(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run a CPU-bound call in the executor so the event loop keeps serving other chats."""
        return await asyncio.get_running_loop().run_in_executor(self.executor, fn, *args)

    def identity_assets(self) -> Any:
        """(identity basis, opener latents) of the model if precomputed (a NAME.pt.search.npz
        beside the checkpoint or the cache; model.search_assets), else None. Never computed
        here: it takes a minute."""
        if not self._identity_checked:
            from model.search_assets import stored_identity_assets

            self._identity = stored_identity_assets(self.model, self.config.model_path)
            self._identity_checked = True
        return self._identity

    def space(self, dim: int, axes: str = "variance") -> LatentSpace:
        """The cube <-> latent map of this model for a search dimension and axes (cached)."""
        from optimization import LatentSpace

        if (dim, axes) not in self._spaces:
            # model.LatentBasis is frozen; optimization's BasisLike protocol only reads it.
            basis: Any = self.model.latent_basis
            if axes == "identity":
                ident = self.identity_assets()
                if ident is None:
                    raise RuntimeError("this search walks identity axes the model lacks")
                basis = ident[0]
            self._spaces[(dim, axes)] = LatentSpace.from_basis(self.model.latent_dim, basis, dim)
        return self._spaces[(dim, axes)]

    def openers(self, settings: SearchSettings) -> np.ndarray | None:
        """The opening faces as cube points of the session's space (identity axes only)."""
        ident = self.identity_assets() if settings.axes == "identity" else None
        if ident is None:
            return None
        return self.space(settings.dim, settings.axes).from_latent(ident[1])

    def new_settings(self) -> SearchSettings:
        """Search settings for a new session: configured sizes, a fresh seed; identity axes
        and the real-face defaults when the model has identity assets."""
        from optimization import SearchSettings, subspace_dim
        from optimization.settings import identity_search

        seed = secrets.randbelow(2**31)
        album = int(self.config.album_size)
        if self.identity_assets() is not None:
            dim = min(int(self.config.search_dim), int(self.model.latent_dim))
            return identity_search(dim=dim, album_size=album, seed=seed)
        # The configured dimension is a ceiling: latent axes the VAE leaves unused only cost
        # ratings, so search the principal axes that carry 99% of the encoded variance.
        basis: Any = self.model.latent_basis
        dim = subspace_dim(basis, int(self.model.latent_dim), int(self.config.search_dim))
        return SearchSettings(dim=dim, album_size=album, seed=seed)

    # --- sessions and albums -------------------------------------------------------------

    async def start_session(self, chat_id: int) -> storage.SearchSession:
        """Close the chat's current search (if any) and open a new one."""
        settings = self.new_settings()
        return await storage.start_session(
            self.conn,
            chat_id,
            self.model.version,
            settings.to_dict(),
            dim=settings.dim,
            latent_dim=int(self.model.latent_dim),
        )

    async def current_session(self, chat_id: int) -> storage.SearchSession | None:
        """The chat's open search session, if any."""
        return await storage.open_session(self.conn, chat_id)

    async def plan_album(self, session: storage.SearchSession) -> AlbumPlan:
        """Propose the next album of a session from its whole history (GP + EI, or Sobol)."""
        from optimization import SearchSettings, aggregate_votes, preferences_from_votes

        settings = SearchSettings.from_dict(session.settings)
        history = await storage.session_history(self.conn, session.id)
        n = len(history)
        scores, counts = aggregate_votes(n, history.votes)
        # The same votes as within-album comparisons, for the preference surrogate.
        pairs = preferences_from_votes(
            history.rounds, history.votes, weighted=settings.pref_weighted
        )
        state = dict(session.state)
        upload = state.pop("upload", None)
        upload_latent = None if upload is None else np.asarray(upload, dtype=np.float32)
        points, latents, sources, images, search_state = await self.run_cpu(
            compute_album,
            self.model,
            self.space(settings.dim, settings.axes),
            settings,
            history.points,
            scores,
            counts,
            state.get("search", {}),
            upload_latent,
            pairs,
            self.openers(settings),
        )
        faces = [
            storage.NewFace(point=points[i], latent=latents[i], source=sources[i], position=i + 1)
            for i in range(len(sources))
        ]
        state["search"] = search_state
        return AlbumPlan(session_id=session.id, faces=faces, images=images, state=state)

    async def commit_album(
        self, plan: AlbumPlan, message_ids: list[int], prompt_message_id: int | None = None
    ) -> storage.Round:
        """Record a sent album (message id per face) and the session state that produced it."""
        # One transaction: a restart can never see the album without the state behind it.
        return await storage.record_album(
            self.conn,
            plan.session_id,
            plan.faces,
            message_ids,
            prompt_message_id,
            state=plan.state,
        )

    async def set_prompt(self, round_id: int, message_id: int) -> None:
        """Remember the prompt message, so replies to it rate the album."""
        await storage.set_prompt_message(self.conn, round_id, message_id)

    async def close_round(self, round_id: int) -> bool:
        """Close a round; True only for the caller that closed it (it sends the next album)."""
        return await storage.close_round(self.conn, round_id)

    # --- ratings -----------------------------------------------------------------------

    async def resolve_target(
        self, chat_id: int, reply_to_message_id: int | None
    ) -> tuple[storage.Round | None, int | None]:
        """(round, target position) for a rating message.

        A reply to one album photo targets that face; a reply to the prompt or any other
        message, or no reply, targets the chat's open album.
        """
        if reply_to_message_id is not None:
            face = await storage.face_by_message(self.conn, chat_id, reply_to_message_id)
            round_ = await storage.round_by_message(self.conn, chat_id, reply_to_message_id)
            if round_ is not None:
                return round_, (face.position if face is not None else None)
        return await storage.open_round(self.conn, chat_id), None

    def parse(
        self, text: str, album_size: int, target_position: int | None
    ) -> ParsedRatings | RatingError:
        """Parse a rating message with the configured scale."""
        return parse_ratings(
            text, album_size=album_size, scale=self.scale, target_position=target_position
        )

    async def rate(
        self,
        chat_id: int,
        user_id: int,
        text: str,
        message_id: int,
        reply_to_message_id: int | None,
        edited: bool = False,
    ) -> RateOutcome:
        """Parse and store one rating message (new or edited: its old votes are replaced)."""
        round_, target = await self.resolve_target(chat_id, reply_to_message_id)
        if edited:
            # An edit re-rates the album its first version rated, not whatever is open now.
            previous = await storage.votes_by_message(self.conn, chat_id, message_id)
            if previous and (round_ is None or previous[0].round_id != round_.id):
                round_ = await storage.get_round(self.conn, previous[0].round_id)
                target = None
        if round_ is None:
            return RateOutcome(status="no_round")
        album_size = len(round_.faces)
        parsed = self.parse(text, album_size, target)
        if isinstance(parsed, RatingError):
            return RateOutcome(
                status="error", error=parsed, album_size=album_size, round_id=round_.id
            )
        if not round_.is_open:
            return RateOutcome(status="closed", round_id=round_.id)
        by_position = {face.position: face for face in round_.faces}
        votes = [(by_position[r.position].id, float(r.value)) for r in parsed.ratings]
        try:
            await storage.cast_votes(self.conn, chat_id, user_id, votes, text, message_id)
        except storage.RoundClosed:
            return RateOutcome(status="closed", round_id=round_.id)
        rated, missing = await self.round_progress(round_)
        status = "complete" if not missing else "partial"
        stored = [(r.position, float(r.value)) for r in parsed.ratings]
        return RateOutcome(
            status=status, round_id=round_.id, rated=rated, missing=missing, stored=stored
        )

    async def round_progress(self, round_: storage.Round) -> tuple[list[int], list[int]]:
        """(rated positions, missing positions) of a round, counting every user's votes."""
        voted_ids = {v.face_id for v in await storage.round_votes(self.conn, round_.id)}
        rated = sorted(f.position for f in round_.faces if f.id in voted_ids)
        missing = sorted(f.position for f in round_.faces if f.id not in voted_ids)
        return rated, missing

    async def open_round(self, chat_id: int) -> storage.Round | None:
        """The chat's open album, if any."""
        return await storage.open_round(self.conn, chat_id)

    async def undo(self, chat_id: int, user_id: int) -> storage.Vote | None:
        """Take back the user's last vote in this chat (None: nothing to take back)."""
        return await storage.undo_last_vote(self.conn, chat_id, user_id)

    # --- uploads -----------------------------------------------------------------------

    async def encode_upload(self, data: bytes) -> np.ndarray:
        """Photo bytes -> latent (latent_dim,); raises model.ImageError for a bad image."""
        latent: np.ndarray = await self.run_cpu(encode_photo, self.model, data)
        return latent

    async def add_upload(self, session: storage.SearchSession, latent: np.ndarray) -> None:
        """Queue an uploaded face for the session's next album (replaces an earlier one)."""
        state = dict(session.state)
        state["upload"] = [float(x) for x in latent]
        await storage.save_session_state(self.conn, session.id, state)


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
    """CPU part of a round: propose k points, map to latents, decode, encode JPEGs."""
    from bot import render
    from optimization import new_search, observe, propose

    search = observe(new_search(settings, search_state), points, scores, counts, pairs)
    proposal = propose(search, settings.album_size, openers)
    new_points = np.array(proposal.points, dtype=np.float32)  # (k, dim)
    latents = np.array(space.to_latent(new_points), dtype=np.float32)  # (k, latent_dim)
    sources = list(proposal.sources)
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


def encode_photo(model: FaceModel, data: bytes) -> np.ndarray:
    """Decode, centre-crop and resize a photo, then encode it to its posterior mean latent."""
    from model import face_array_from_bytes

    face = face_array_from_bytes(data, model.image_size)  # (S, S, 3) uint8
    return np.asarray(model.encode(face[None]), dtype=np.float32)[0]  # (latent_dim,)
