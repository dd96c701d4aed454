"""bot.pictures: rating means, history labels, the morph path and its end points."""

from __future__ import annotations

import numpy as np

from bot.pictures import history_labels, mean_ratings, morph_endpoints, slerp
from storage import History


def history(rounds: list[int], votes: list[tuple[int, int, float]], dim: int = 3) -> History:
    n = len(rounds)
    rng = np.random.default_rng(0)
    return History(
        face_ids=np.arange(1, n + 1, dtype=np.int64),
        points=rng.random((n, dim)).astype(np.float32),
        latents=rng.standard_normal((n, 5)).astype(np.float32),
        rounds=np.array(rounds, dtype=np.int64),
        positions=np.array([(i % 4) + 1 for i in range(n)], dtype=np.int64),
        sources=["initial"] * n,
        votes=votes,
    )


def test_mean_ratings_average_raw_votes_and_leave_unrated_nan() -> None:
    h = history([1, 1, 1, 1], [(0, 1, 8.0), (0, 2, 6.0), (2, 1, 3.0)])
    means = mean_ratings(h)
    assert means[0] == 7.0 and means[2] == 3.0
    assert np.isnan(means[1]) and np.isnan(means[3])
    assert history_labels(h, means) == ["1#1 7", "1#2 -", "1#3 3", "1#4 -"]


def test_slerp_runs_from_start_to_end_at_a_typical_norm() -> None:
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal(32), rng.standard_normal(32)
    path = slerp(a, b, 9)
    assert path.shape == (9, 32)
    np.testing.assert_allclose(path[0], a, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(path[-1], b, rtol=1e-5, atol=1e-5)
    # Linear interpolation would shrink the middle frame towards the origin; slerp does not.
    middle = float(np.linalg.norm(path[4]))
    assert middle > 0.9 * min(np.linalg.norm(a), np.linalg.norm(b))
    assert middle > float(np.linalg.norm((a + b) / 2))
    np.testing.assert_allclose(slerp(a, a, 3), np.stack([a, a, a]), rtol=1e-5, atol=1e-5)


def test_morph_starts_at_the_first_albums_favourite() -> None:
    settings: dict[str, object] = {"dim": 3, "album_size": 4, "seed": 0, "min_observations": 100}
    # Round 1: face 2 is the favourite; round 2: face 5 beats everything.
    h = history([1, 1, 1, 1, 2, 2, 2, 2], [(0, 1, 2.0), (2, 1, 6.0), (5, 1, 9.0), (6, 1, 1.0)])
    assert morph_endpoints(settings, h) == (2, 5)
    assert morph_endpoints(settings, history([1, 1, 1, 1], [])) is None
