"""Pictures of a whole search: the best face, the history grid and the morph animation.

Each function loads the session's history, then does every CPU step (GP fit for the noisy
incumbent, decoding, PNG/GIF encoding) in the engine's executor.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

import storage

if TYPE_CHECKING:
    from bot.engine import Engine
    from model import FaceModel

# A history grid shows at most this many faces (the latest ones): one readable image.
MAX_HISTORY_FACES = 160
# Frames of the morph animation, one way (render plays it back and forth).
MORPH_FRAMES = 16


@dataclass(frozen=True)
class BestFace:
    """The best face so far: its picture, mean raw rating, round and album position."""

    image: bytes
    rating: float | None
    round: int
    position: int


def mean_ratings(history: storage.History) -> np.ndarray:
    """Mean raw rating per face of a history; NaN where nobody rated it."""
    n = len(history)
    sums = np.zeros(n)
    counts = np.zeros(n)
    for index, _user, value in history.votes:
        sums[index] += value
        counts[index] += 1
    out = np.full(n, np.nan)
    rated = counts > 0
    out[rated] = sums[rated] / counts[rated]
    return out


def best_history_index(settings: dict[str, object], history: storage.History) -> int | None:
    """Index of the best face (GP posterior-mean argmax over rated faces; CPU)."""
    from optimization import SearchSettings, aggregate_votes, best_index, new_search, observe

    search_settings = SearchSettings.from_dict(dict(settings))
    scores, counts = aggregate_votes(len(history), history.votes)
    search = observe(new_search(search_settings), history.points, scores, counts)
    return best_index(search)


def _best_face(
    model: FaceModel, settings: dict[str, object], history: storage.History
) -> BestFace | None:
    from bot import render

    index = best_history_index(settings, history)
    if index is None:
        return None
    face = model.decode(history.latents[index : index + 1])[0]  # (S, S, 3) uint8
    ratings = mean_ratings(history)
    rating = None if np.isnan(ratings[index]) else float(ratings[index])
    image = render.large_face(face)
    return BestFace(image, rating, int(history.rounds[index]), int(history.positions[index]))


async def best_face(engine: Engine, session: storage.SearchSession) -> BestFace | None:
    """The best face of a session, large; None before anything was rated."""
    history = await storage.session_history(engine.conn, session.id)
    if not history.votes:
        return None
    result: BestFace | None = await engine.run_cpu(
        _best_face, engine.model, session.settings, history
    )
    return result


def history_labels(history: storage.History, ratings: np.ndarray) -> list[str]:
    """One label per face: round, position and mean rating (or a dash)."""
    labels = []
    for i in range(len(history)):
        value = "-" if np.isnan(ratings[i]) else f"{ratings[i]:.3g}"
        labels.append(f"{int(history.rounds[i])}#{int(history.positions[i])} {value}")
    return labels


def _history_grid(model: FaceModel, history: storage.History) -> bytes:
    from bot import render

    ratings = mean_ratings(history)
    labels = history_labels(history, ratings)
    start = max(0, len(history) - MAX_HISTORY_FACES)
    faces = model.decode(history.latents[start:])  # (n, S, S, 3) uint8
    columns = max(1, min(8, len(history) - start))
    return render.history_grid(faces, labels[start:], columns=columns)


async def history_image(engine: Engine, session: storage.SearchSession) -> bytes | None:
    """One grid image of every face shown in the session with its rating (None: no faces)."""
    history = await storage.session_history(engine.conn, session.id)
    if len(history) == 0:
        return None
    grid: bytes = await engine.run_cpu(_history_grid, engine.model, history)
    return grid


def slerp(a: np.ndarray, b: np.ndarray, steps: int) -> np.ndarray:
    """Spherical interpolation a -> b in `steps` frames; keeps latents at a typical norm."""
    t = np.linspace(0.0, 1.0, steps)[:, None]  # (steps, 1)
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    cos = float(np.dot(a, b) / max(na * nb, 1e-12))
    omega = float(np.arccos(np.clip(cos, -1.0, 1.0)))
    if omega < 1e-4:
        return ((1 - t) * a + t * b).astype(np.float32)  # (steps, d)
    s = np.sin(omega)
    return (np.sin((1 - t) * omega) / s * a + np.sin(t * omega) / s * b).astype(np.float32)


def morph_endpoints(
    settings: dict[str, object], history: storage.History
) -> tuple[int, int] | None:
    """(best face of the first album, best face overall) as history indices, or None."""
    ratings = mean_ratings(history)
    first_round = int(history.rounds.min())
    first = [i for i in range(len(history)) if history.rounds[i] == first_round]
    rated_first = [i for i in first if not np.isnan(ratings[i])]
    if not rated_first:
        return None
    start = max(rated_first, key=lambda i: ratings[i])
    end = best_history_index(settings, history)
    if end is None:
        return None
    return start, end


def _morph(model: FaceModel, settings: dict[str, object], history: storage.History) -> bytes | None:
    from bot import render

    ends = morph_endpoints(settings, history)
    if ends is None:
        return None
    start, end = ends
    path = slerp(history.latents[start], history.latents[end], MORPH_FRAMES)  # (f, d)
    frames = model.decode(path)  # (f, S, S, 3) uint8
    return render.morph_animation(frames)


async def morph_animation(engine: Engine, session: storage.SearchSession) -> bytes | None:
    """GIF from the first album's best face to the best face so far (None: nothing rated)."""
    history = await storage.session_history(engine.conn, session.id)
    if not history.votes:
        return None
    gif: bytes | None = await engine.run_cpu(_morph, engine.model, session.settings, history)
    return gif
