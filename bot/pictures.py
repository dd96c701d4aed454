"""Pictures of a whole search: the best face, the history grid and the morph animation.

Pure CPU functions of a session's history (GP fit for the noisy incumbent, decoding, PNG/GIF
encoding): `bot.engine.Engine` loads the history and runs them in its executor.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from bot import render
from bot.outcomes import BestFacePicture

if TYPE_CHECKING:
    from model import FaceModel
    from storage import History

# A history grid shows at most this many faces (the latest ones): one readable image.
MAX_HISTORY_FACES = 160
# Frames of the morph animation, one way (render plays it back and forth).
MORPH_FRAMES = 16


def mean_ratings(history: History) -> np.ndarray:
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


def best_history_index(settings: dict[str, object], history: History) -> int | None:
    """Index of the best face (GP posterior-mean argmax over rated faces; CPU)."""
    from optimization import SearchSettings, best_index, new_search, observe, search_inputs

    search_settings = SearchSettings.from_dict(dict(settings))
    # Ratings and group picks as the search's own surrogate reads them (optimization.answers).
    data = search_inputs(search_settings, history.rounds, history.votes, history.picks)
    search = observe(
        new_search(search_settings), history.points, data.scores, data.counts, data.pairs
    )
    return best_index(search)


def best_face_picture(
    model: FaceModel, settings: dict[str, object], history: History
) -> BestFacePicture | None:
    """The best face, large, with its mean rating, round and position; None if none is rated."""
    index = best_history_index(settings, history)
    if index is None:
        return None
    face = model.decode(history.latents[index : index + 1])[0]  # (S, S, 3) uint8
    ratings = mean_ratings(history)
    rating = None if np.isnan(ratings[index]) else float(ratings[index])
    image = render.large_face(face)
    return BestFacePicture(image, rating, int(history.rounds[index]), int(history.positions[index]))


def history_labels(history: History, ratings: np.ndarray) -> list[str]:
    """One label per face: round, position and mean rating (or a dash)."""
    labels = []
    for i in range(len(history)):
        value = "-" if np.isnan(ratings[i]) else f"{ratings[i]:.3g}"
        labels.append(f"{int(history.rounds[i])}#{int(history.positions[i])} {value}")
    return labels


def history_picture(model: FaceModel, history: History) -> bytes:
    """One grid image of the latest MAX_HISTORY_FACES faces, each labelled with its rating."""
    ratings = mean_ratings(history)
    labels = history_labels(history, ratings)
    start = max(0, len(history) - MAX_HISTORY_FACES)
    faces = model.decode(history.latents[start:])  # (n, S, S, 3) uint8
    columns = max(1, min(8, len(history) - start))
    return render.history_grid(faces, labels[start:], columns=columns)


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


def morph_endpoints(settings: dict[str, object], history: History) -> tuple[int, int] | None:
    """(best face of the first album, best face overall) as history indices, or None."""
    from optimization import aggregate_votes, all_votes

    # Standardised per rater, with a group's poll picks: the same view of the album as the search.
    votes = all_votes(history.votes, history.rounds, history.picks)
    scores, counts = aggregate_votes(len(history), votes)
    first_round = int(history.rounds.min())
    first = [i for i in range(len(history)) if history.rounds[i] == first_round]
    rated_first = [i for i in first if counts[i] > 0]
    if not rated_first:
        return None
    start = max(rated_first, key=lambda i: scores[i])
    end = best_history_index(settings, history)
    if end is None:
        return None
    return start, end


def morph_picture(model: FaceModel, settings: dict[str, object], history: History) -> bytes | None:
    """GIF from the first album's best face to the best face so far (None: nothing rated)."""
    ends = morph_endpoints(settings, history)
    if ends is None:
        return None
    start, end = ends
    path = slerp(history.latents[start], history.latents[end], MORPH_FRAMES)  # (f, d)
    frames = model.decode(path)  # (f, S, S, 3) uint8
    return render.morph_animation(frames)
