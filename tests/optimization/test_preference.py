"""The preference GP: pairs from stored answers, the Laplace posterior, and whole searches
that find a known optimum from pairwise choices only."""

from __future__ import annotations

import numpy as np
import pytest

from optimization import SearchSettings, best_index, new_search, observe, propose
from optimization.gp import Hyper, build_posterior, matern52
from optimization.preference import (
    LinearPosterior,
    fit_preference,
    pairs_from_album,
    preferences_from_votes,
)

OPT = np.array([0.3, 0.7, 0.55, 0.2])


def _objective(u: np.ndarray) -> np.ndarray:
    return -((np.atleast_2d(u) - OPT) ** 2).sum(1)


def pairs_from_pick(k: int, picked: int) -> np.ndarray:
    """Pairs (k-1, 2): the picked face of an album of k beats each other one (what
    preferences_from_votes makes of one person's pick; checked against it below)."""
    others = np.array([j for j in range(k) if j != picked], dtype=np.int64)
    return np.stack([np.full(len(others), picked, dtype=np.int64), others], axis=1)


def test_pairs_from_votes_stay_within_one_album_and_one_rater() -> None:
    rounds = [0, 0, 0, 1, 1]
    votes = [
        (0, "ann", 8),
        (1, "ann", 3),
        (2, "ann", 8),
        (0, "bob", 1),
        (1, "bob", 2),
        (3, "ann", 9),
    ]
    pairs = {tuple(p) for p in preferences_from_votes(rounds, votes).tolist()}
    # ann: 0 > 1, 2 > 1 (0 and 2 tie: no pair); bob: 1 > 0; face 3 has no rival in its album
    assert pairs == {(0, 1), (2, 1), (1, 0)}
    picks = preferences_from_votes(rounds, picks=[(4, "bob")]).tolist()
    assert picks == [[4, 3]]
    with pytest.raises(ValueError):
        preferences_from_votes(rounds, [(9, "ann", 1)])


def test_album_and_pick_pairs() -> None:
    pairs = {tuple(p) for p in pairs_from_album(np.array([5, 9, 5, 1])).tolist()}
    assert pairs == {(1, 0), (0, 3), (1, 2), (1, 3), (2, 3)}  # the tie 0 = 2 gives none
    assert pairs_from_pick(4, 2).tolist() == [[2, 0], [2, 1], [2, 3]]
    stored = preferences_from_votes([0, 0, 0, 0], picks=[(2, "ann")])
    np.testing.assert_array_equal(stored, pairs_from_pick(4, 2))


def test_linear_posterior_is_exact_gaussian_conditioning() -> None:
    rng = np.random.default_rng(0)
    x, y = rng.uniform(size=(12, 3)), rng.normal(size=12)
    h = Hyper(1.3, np.array([0.4, 0.6, 0.9]), 0.1)
    exact = build_posterior(x, y, np.full(12, 0.1), h)
    k = matern52(x, x, h.variance, h.lengthscale) + 0.1 * np.eye(12)
    lin = LinearPosterior(x, exact.alpha, np.linalg.inv(k), h)
    xs = rng.uniform(size=(5, 3))
    for a, b in zip(exact.predict_grad(xs), lin.predict_grad(xs), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-9)
    # one more observation, by rank-one update vs a fresh factorisation
    more = exact.with_point(xs[0], 0.7, 0.2)
    lin2 = lin.with_point(xs[0], 0.7, 0.2)
    for a, b in zip(more.predict(xs[1:]), lin2.predict(xs[1:]), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-9)


def test_laplace_mode_orders_the_points_and_gradients_match() -> None:
    rng = np.random.default_rng(1)
    x = rng.uniform(size=(20, 2))
    f_true = _objective(np.c_[x, np.full((20, 2), 0.5)])
    order = np.argsort(-f_true)
    pairs = np.array([[order[i], order[j]] for i in range(20) for j in range(i + 1, 20)])
    fit = fit_preference(x, pairs, Hyper(4.0, np.array([0.5, 0.5]), 0.4))
    assert np.corrcoef(fit.f, f_true)[0, 1] > 0.9
    m, v, dm, dv = fit.posterior.predict_grad(x[:3])
    eps = 1e-6
    step = np.zeros_like(x[:3])
    step[:, 1] = eps
    m2, v2 = fit.posterior.predict(x[:3] + step)
    np.testing.assert_allclose((m2 - m) / eps, dm[:, 1], rtol=1e-3, atol=1e-6)
    np.testing.assert_allclose((v2 - v) / eps, dv[:, 1], rtol=1e-3, atol=1e-6)


def _preference_search(seed: int, rounds: int, picks: bool) -> np.ndarray:
    """Albums of 4 answered by pairwise choices only: a pick of the best (1 answer) or the
    order of the album (no values ever reach the search)."""
    rng = np.random.default_rng(200 + seed)
    settings = SearchSettings(
        dim=4, album_size=4, seed=seed, typical_quantile=1.0, surrogate="preference"
    )
    s = new_search(settings)
    for _ in range(rounds):
        p = propose(s)
        noisy = _objective(p.points) + rng.normal(0, 0.005, len(p.points))
        pairs = pairs_from_pick(4, int(np.argmax(noisy))) if picks else pairs_from_album(noisy)
        k = len(p.points)
        s = observe(s, p.points, np.zeros(k), np.zeros(k, dtype=int), pairs)
    best = best_index(s)
    assert best is not None
    return s.points[best]


@pytest.mark.parametrize("picks", [False, True])
def test_preference_search_finds_the_optimum_far_ahead_of_random(picks: bool) -> None:
    ours, rand = [], []
    for seed in range(3):
        ours.append(_objective(_preference_search(seed, rounds=12, picks=picks))[0])
        # random gets four times the faces
        rand.append(_objective(np.random.default_rng(seed).uniform(size=(192, 4))).max())
    regret_ours, regret_rand = -np.array(ours), -np.array(rand)
    assert regret_ours.mean() < 0.02
    assert 2 * regret_ours.mean() < regret_rand.mean()


def test_preference_search_is_seeded() -> None:
    a = _preference_search(5, rounds=4, picks=True)
    b = _preference_search(5, rounds=4, picks=True)
    assert np.array_equal(a, b)


def test_many_pairs_take_the_dense_path_with_the_same_answer() -> None:
    """A group's votes give more pairs than faces; both curvature paths agree."""
    from optimization import preference

    rng = np.random.default_rng(3)
    x = rng.uniform(size=(6, 2))
    pairs = np.array([[i, j] for i in range(6) for j in range(6) if i < j] * 1)  # 15 > 6
    h = Hyper(2.0, np.array([0.5, 0.5]), 0.2)
    dense = fit_preference(x, pairs, h)
    few = fit_preference(x, pairs[:5], h)  # 5 <= 6: the low-rank path
    assert np.all(np.isfinite(dense.f)) and np.all(np.isfinite(few.f))
    # the same fit computed both ways
    c = np.zeros((15, 6))
    c[np.arange(15), pairs[:, 0]] = 1 / np.sqrt(2)
    c[np.arange(15), pairs[:, 1]] = -1 / np.sqrt(2)
    k = matern52(x, x, h.variance, h.lengthscale)
    w = rng.uniform(0.1, 1.0, size=15)
    dense_c = preference._Curvature.of(c, k, c @ k, w)
    b_dense, ld_dense = dense_c.matrix(), dense_c.logdet
    c5, w5 = c[:5], w[:5]
    few_c = preference._Curvature.of(c5, k, c5 @ k, w5)
    b_few, ld_few = few_c.matrix(), few_c.logdet
    v = rng.normal(size=6)
    np.testing.assert_allclose(few_c.b_k(v, k), b_few @ k @ v, atol=1e-9)
    np.testing.assert_allclose(dense_c.b_k(v, k), b_dense @ k @ v, atol=1e-9)
    big_w = c5.T @ (w5[:, None] * c5)
    np.testing.assert_allclose(b_few, big_w @ np.linalg.inv(np.eye(6) + k @ big_w), atol=1e-9)
    big_w = c.T @ (w[:, None] * c)
    np.testing.assert_allclose(b_dense, big_w @ np.linalg.inv(np.eye(6) + k @ big_w), atol=1e-9)
    assert ld_dense == pytest.approx(np.linalg.slogdet(np.eye(6) + k @ big_w)[1])
    assert ld_few > 0


def test_auto_surrogate_reads_ratings_numerically_and_picks_as_preferences() -> None:
    from optimization.search import fit_gp, uses_preference

    rng = np.random.default_rng(4)
    settings = SearchSettings(dim=3, album_size=4, seed=0, surrogate="auto")
    x = rng.uniform(size=(4, 3))
    ratings = np.array([7.0, 3.0, 5.0, 9.0])
    rated = observe(new_search(settings), x, ratings, np.ones(4, int), pairs_from_album(ratings))
    assert not uses_preference(rated)
    gp = fit_gp(rated)
    assert gp is not None and gp.status != "preference"
    picked = observe(rated, x + 0.01, np.zeros(4), np.zeros(4, int), pairs_from_pick(4, 2))
    assert uses_preference(picked)
    gp = fit_gp(picked)
    assert gp is not None and gp.status == "preference"
