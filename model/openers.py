"""Opening faces: the first albums of a search, spread over who people look like.

Before any rating the search knows nothing of the person in mind, so the first faces should
cover the population of faces: a greedy facility location in dlib descriptor space picks,
from a pool of prior faces, the ones that make "the closest face shown so far" as close as
possible, on average, to a set of real photos (the model's training photos, never the
evaluation split). Greedy order makes every prefix good: the first 4 are the best first
album, the first 8 the best two, ... The openers depend on the model, not on the person.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

Describe = Callable[[np.ndarray], np.ndarray]


def greedy_facility(distances: np.ndarray, k: int) -> np.ndarray:
    """Indices (k,) of pool rows, greedy: each next one lowers the mean over columns of the
    row-wise minimum distance the most. distances: (pool, population)."""
    d = np.asarray(distances, dtype=np.float64)
    current = np.full(d.shape[1], np.inf)
    chosen: list[int] = []
    for _ in range(min(k, len(d))):
        cost = np.minimum(current[None, :], d).mean(axis=1)  # (pool,)
        cost[chosen] = np.inf
        j = int(np.argmin(cost))
        chosen.append(j)
        current = np.minimum(current, d[j])
    return np.array(chosen, dtype=np.int64)


def identity_openers(
    decode: Callable[[np.ndarray], np.ndarray],
    describe: Describe,
    photos: np.ndarray,
    pool: np.ndarray,
    k: int = 20,
) -> np.ndarray:
    """Latents (k, D) of opening faces from the pool latents (m, D), in greedy order (see
    the module doc). The pool should be faces of the search space (e.g. its to_latent of
    uniform cube points), so the openers are points the search can represent exactly.

    photos: (n, S, S, 3) uint8 aligned faces standing for the people users have in mind.
    """
    from model.identity import pairwise_distances

    z = np.asarray(pool, dtype=np.float32)
    pool_desc = describe(decode(z))  # (m, 128)
    photo_desc = describe(np.asarray(photos))  # (n, 128)
    return z[greedy_facility(pairwise_distances(pool_desc, photo_desc), k)]
