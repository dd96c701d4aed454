"""Search space, vote aggregation, the GP surrogate and its fallbacks."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass

import numpy as np
import pytest

import optimization
from optimization import (
    LatentSpace,
    SearchSettings,
    aggregate_votes,
    best_index,
    new_search,
    observe,
    propose,
)
from optimization.gp import Hyper, build_posterior
from optimization.search import fit_gp
from tests.imports import loaded_after_importing


@dataclass
class _Basis:
    mean: np.ndarray
    axes: np.ndarray
    stds: np.ndarray


def test_import_does_not_pull_gpy() -> None:
    code = "import sys, optimization; print('GPy' in sys.modules, 'torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False False"
    assert optimization.__all__


def test_no_optimization_module_imports_torch_telegram_or_aiosqlite() -> None:
    """docs/INTERFACES.md: optimization never imports torch, Telegram, aiosqlite or the
    packages above it."""
    above = ["bot", "fotorobot", "telegram_fake"]
    assert loaded_after_importing("optimization", ["torch", "telegram", "aiosqlite", *above]) == []


def test_latent_space_identity_is_the_prior_and_round_trips() -> None:
    space = LatentSpace.from_basis(8, None, 8)
    u = np.random.default_rng(0).uniform(0.01, 0.99, size=(5, 8))
    z = space.to_latent(u)
    assert z.shape == (5, 8) and z.dtype == np.float32
    assert space.to_latent(np.full((1, 8), 0.5)) == pytest.approx(np.zeros((1, 8)))
    assert space.to_latent(np.full((1, 8), 0.8413447460685429))[0, 0] == pytest.approx(1.0, 1e-5)
    assert space.from_latent(z) == pytest.approx(u, abs=1e-5)
    # the cube's corners stay finite
    assert np.all(np.isfinite(space.to_latent(np.array([[0.0] * 8, [1.0] * 8]))))


def test_latent_space_subspace_round_trip() -> None:
    rng = np.random.default_rng(1)
    q, _ = np.linalg.qr(rng.normal(size=(12, 12)))
    basis = _Basis(rng.normal(size=12), q, np.linspace(2.0, 0.1, 12))
    for scale in ("unit", "stds"):
        space = LatentSpace.from_basis(12, basis, 4, scale=scale)
        u = rng.uniform(0.05, 0.95, size=(6, 4))
        z = space.to_latent(u)
        assert z.shape == (6, 12)
        assert space.from_latent(z) == pytest.approx(u, abs=1e-4)
        # the centre of the cube is the encoded mean
        assert space.to_latent(np.full((1, 4), 0.5))[0] == pytest.approx(basis.mean, abs=1e-5)
    with pytest.raises(ValueError, match="exceeds"):
        LatentSpace.from_basis(4, None, 6)


def test_subspace_dim_counts_the_axes_that_carry_variance() -> None:
    from optimization import subspace_dim

    stds = np.array([3.0, 2.0, 1.0, 0.05, 0.01, 0.01])
    basis = _Basis(np.zeros(6), np.eye(6), stds)
    assert subspace_dim(basis, 6) == 3  # 9+4+1 of 14.0027: 99.98%
    assert subspace_dim(basis, 6, max_dim=2) == 2
    assert subspace_dim(None, 32) == 16 and subspace_dim(None, 8) == 8


def test_aggregate_votes_standardises_per_rater() -> None:
    # A harsh rater (1..3) and a generous one (8..10) with the same preferences.
    votes = [(0, "a", 1), (1, "a", 2), (2, "a", 3), (0, "b", 8), (1, "b", 9), (2, "b", 10)]
    scores, counts = aggregate_votes(4, votes)
    z = np.array([-1.0, 0.0, 1.0]) / np.std([1.0, 2.0, 3.0])
    assert scores[:3] == pytest.approx(z)
    assert counts.tolist() == [2, 2, 2, 0]
    assert scores[3] == 0.0


def test_aggregate_votes_single_vote_and_flat_rater_only_centre() -> None:
    votes = [(0, 1, 7.0), (1, 2, 5.0), (2, 2, 5.0), (2, 3, 1.0), (3, 3, 0.0)]
    scores, counts = aggregate_votes(4, votes)
    assert np.all(np.isfinite(scores))
    # rater 1: one vote -> 0; rater 2: all equal -> 0; rater 3: thumbs 1/0 -> +1/-1
    assert scores.tolist() == pytest.approx([0.0, 0.0, 0.5, -1.0])
    assert counts.tolist() == [1, 1, 2, 1]
    with pytest.raises(ValueError, match="outside"):
        aggregate_votes(2, [(5, 1, 3.0)])
    with pytest.raises(ValueError, match="finite"):
        aggregate_votes(2, [(0, 1, float("nan"))])


def test_settings_round_trip_and_validation() -> None:
    s = SearchSettings(dim=6, album_size=5, seed=3)
    assert SearchSettings.from_dict({**s.to_dict(), "future_key": 1}) == s
    with pytest.raises(ValueError, match="album_size"):
        SearchSettings(album_size=11)


def test_observe_never_mutates_inputs() -> None:
    s0 = new_search(SearchSettings(dim=3))
    pts = np.array([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]])
    scores, counts = np.array([1.0, 2.0]), np.array([1, 1])
    s1 = observe(s0, pts, scores, counts)
    pts[0, 0] = 0.9
    scores[0] = 5.0
    assert s1.points[0, 0] == 0.1 and s1.scores[0] == 1.0
    assert len(s0.points) == 0  # the old search is untouched
    with pytest.raises(ValueError, match="unit cube"):
        observe(s0, np.array([[1.5, 0.0, 0.0]]), np.array([1.0]), np.array([1]))
    with pytest.raises(ValueError, match="observe needs"):
        observe(s0, pts, scores[:1], counts)
    with pytest.raises(ValueError, match="observe needs"):
        observe(s0, np.zeros((2, 2)), scores, counts)  # 4 values: no reshape into (n, 3)


def _quadratic_search(dim: int, n: int, seed: int, counts: np.ndarray | None = None):
    rng = np.random.default_rng(seed)
    x = rng.uniform(size=(n, dim))
    y = -((x - 0.4) ** 2).sum(1) + rng.normal(0, 0.01, n)
    c = np.ones(n, dtype=int) if counts is None else counts
    return observe(new_search(SearchSettings(dim=dim, seed=seed)), x, y, c)


def test_numpy_posterior_matches_gpy() -> None:
    import GPy

    from optimization.surrogate import _count_weighted_gaussian

    rng = np.random.default_rng(2)
    x, y = rng.uniform(size=(15, 3)), rng.normal(size=15)
    counts = rng.integers(1, 4, size=15).astype(float)
    h = Hyper(1.3, np.array([0.3, 0.5, 0.9]), 0.2)
    kern = GPy.kern.Matern52(3, variance=h.variance, lengthscale=h.lengthscale, ARD=True)
    gp = GPy.core.GP(x, y[:, None], kern, _count_weighted_gaussian(counts, h.noise))
    post = build_posterior(x, y, h.noise / counts, h)
    xs = rng.uniform(size=(7, 3))
    m_gpy, v_gpy = gp.predict_noiseless(xs)
    mean, var = post.predict(xs)
    assert mean == pytest.approx(m_gpy[:, 0], abs=1e-6)
    assert var == pytest.approx(v_gpy[:, 0], abs=1e-6)
    # input gradients agree with finite differences
    _m, _v, dm, dv = post.predict_grad(xs)
    e = 1e-6 * np.eye(3)[1]
    (mp, vp), (mm, vm) = post.predict(xs + e), post.predict(xs - e)
    assert dm[:, 1] == pytest.approx((mp - mm) / 2e-6, rel=1e-4, abs=1e-6)
    assert dv[:, 1] == pytest.approx((vp - vm) / 2e-6, rel=1e-4, abs=1e-6)


def test_more_votes_mean_smaller_posterior_variance() -> None:
    # Two mirror-image faces; the one with 5 votes is surer than the one with 1.
    x = np.array([[0.2, 0.5], [0.8, 0.5], [0.5, 0.1], [0.5, 0.9]])
    y = np.array([1.0, 1.0, 0.0, 0.2])
    s = observe(new_search(SearchSettings(dim=2)), x, y, np.array([5, 1, 1, 1]))
    gp = fit_gp(s)
    assert gp is not None and gp.status == "ok"
    _, var = gp.posterior.predict(x[:2])
    assert var[0] < var[1]


def test_hyperparameters_are_bounded_and_warm_started() -> None:
    s = _quadratic_search(4, 30, 0)
    p = propose(s)
    h = Hyper.from_dict(p.state["gp"], 4)
    assert h is not None and p.state["fit"] == "ok"
    assert np.all((h.lengthscale >= 0.03 - 1e-9) & (h.lengthscale <= 10 + 1e-9))
    assert h.noise >= s.settings.noise_floor - 1e-12
    warm = type(s)(s.settings, s.points, s.scores, s.counts, p.state)
    gp = fit_gp(warm, refit=False)
    assert gp is not None and gp.status == "fixed"
    assert gp.posterior.hyper.variance == pytest.approx(h.variance)


def test_failing_fit_falls_back_to_fixed_hyperparameters(monkeypatch) -> None:
    import optimization.surrogate as surrogate

    def boom(*_a, **_k):
        raise np.linalg.LinAlgError("not positive definite")

    monkeypatch.setattr(surrogate, "fit_hyperparameters", boom)
    p = propose(_quadratic_search(4, 12, 1))
    assert p.state["fit"] == "fixed"
    assert p.points.shape == (4, 4) and np.all((p.points >= 0) & (p.points <= 1))
    assert p.sources == ["ei"] * 4


def test_failing_posterior_falls_back_to_space_filling(monkeypatch) -> None:
    import optimization.search as search_mod

    def boom(*_a, **_k):
        raise np.linalg.LinAlgError("broken")

    monkeypatch.setattr(search_mod, "build_posterior", boom)
    s = _quadratic_search(3, 8, 2)
    p = propose(s, 5)
    assert p.points.shape == (5, 3) and p.sources == ["random"] * 5
    assert np.all(np.isfinite(p.points))
    assert best_index(s) == int(np.argmax(s.scores))


def test_nan_scores_and_unrated_faces_are_ignored() -> None:
    s = _quadratic_search(3, 6, 3)
    s = observe(s, np.full((2, 3), 0.5), np.array([np.nan, np.inf]), np.array([1, 1]))
    s = observe(s, np.full((1, 3), 0.1), np.array([0.0]), np.array([0]))
    p = propose(s)
    assert p.points.shape == (4, 3) and np.all(np.isfinite(p.points))
    assert best_index(s) in range(6)
    only_nan = observe(
        new_search(SearchSettings(dim=3)), np.full((4, 3), 0.5), [np.nan] * 4, [1] * 4
    )
    p2 = propose(only_nan)
    assert p2.sources == ["initial"] * 4 and np.all(np.isfinite(p2.points))


def test_first_album_is_sobol_and_continues() -> None:
    s = new_search(SearchSettings(dim=5, seed=4))
    p1 = propose(s)
    assert p1.sources == ["initial"] * 4
    # no votes on the first album: the next one continues the same Sobol sequence
    s = observe(s, p1.points, np.zeros(4), np.zeros(4))
    p2 = propose(s)
    assert p2.sources == ["initial"] * 4
    assert np.min(np.abs(p1.points[:, None] - p2.points[None]).sum(-1)) > 0.1


def test_propose_is_deterministic_and_albums_have_no_twins() -> None:
    s = _quadratic_search(4, 20, 5)
    a, b = propose(s, 6), propose(s, 6)
    assert np.array_equal(a.points, b.points)
    d = np.sqrt(((a.points[:, None] - a.points[None]) ** 2).mean(-1))
    assert d[np.triu_indices(6, 1)].min() >= s.settings.min_distance - 1e-9


def test_best_slot_shows_the_posterior_mean_argmax() -> None:
    s = _quadratic_search(2, 25, 6)
    s = type(s)(SearchSettings(dim=2, seed=6, best_slot=True), s.points, s.scores, s.counts, {})
    p = propose(s)
    assert p.sources == ["best", "ei", "ei", "ei"]
    assert p.points[0] == pytest.approx([0.4, 0.4], abs=0.12)
