"""Simulated raters, the typical-set projection and the benchmark plumbing (tiny decoder)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.special import ndtri

from optimization.batch import project_typical, typical_radius
from optimization.bench_report import (
    best_similarity,
    format_table,
    plot_curves,
    ratings_to_reach,
    summarise,
)
from optimization.benchmark import BenchConfig, SearchContext, run_bench
from optimization.raters import RaterConfig, SimulatedRater, image_similarity


def _decoder(latent_dim: int):
    """A smooth toy 'face model': latents -> 16x16 RGB images through a fixed random map."""
    w = np.random.default_rng(0).normal(size=(latent_dim, 16 * 16 * 3)) / np.sqrt(latent_dim)

    def decode(z: np.ndarray) -> np.ndarray:
        x = 1.0 / (1.0 + np.exp(-np.asarray(z, dtype=np.float64) @ w))  # (n, 768)
        return (x * 255).round().astype(np.uint8).reshape(-1, 16, 16, 3)

    return decode


def test_image_similarity_is_one_for_identical_and_falls_with_difference() -> None:
    ramp = np.linspace(30, 220, 16)
    img = np.stack(np.broadcast_arrays(ramp[:, None], ramp[None, :], 128.0), -1).astype(np.uint8)
    other = np.clip(img.astype(int) + 40, 0, 255).astype(np.uint8)
    far = 255 - img
    sims = image_similarity(np.stack([img, other, far]), img)
    assert sims[0] == 1.0
    assert 1.0 > sims[1] > sims[2] >= 0.0


def test_rater_scores_more_similar_faces_higher() -> None:
    rng = np.random.default_rng(1)
    rater = SimulatedRater(
        np.zeros((16, 16, 3), np.uint8), np.linspace(0, 0.5, 50), RaterConfig(), rng
    )
    sims = np.repeat([0.1, 0.5, 0.95], 200)
    r = rater.rate(sims).reshape(3, 200)
    assert r.dtype == np.int64 and r.min() >= 1 and r.max() <= 10
    assert r[0].mean() < r[1].mean() < r[2].mean()
    assert r[2].mean() > 8.5
    noiseless = SimulatedRater(rater.target, np.linspace(0, 0.5, 50), RaterConfig(noise=0.0), rng)
    assert noiseless.rate(np.array([1.0]))[0] == 10


def test_relative_rater_compares_within_the_album() -> None:
    rng = np.random.default_rng(2)
    cfg = RaterConfig(noise=0.0, relative=True)
    rater = SimulatedRater(np.zeros((4, 4, 3), np.uint8), np.zeros(10), cfg, rng)
    # the same face gets a middling score in a good album and a top score in a poor one
    good = rater.rate(np.array([0.6, 0.8, 0.8, 0.8]))
    poor = rater.rate(np.array([0.6, 0.2, 0.2, 0.2]))
    assert good[0] < poor[0]


def test_typical_projection_keeps_points_in_the_ball() -> None:
    rng = np.random.default_rng(3)
    u = rng.uniform(size=(200, 16))
    u[:10] = rng.choice([1e-4, 1 - 1e-4], size=(10, 16))  # corners
    r = typical_radius(16, 0.95)
    assert r == pytest.approx(5.0, abs=0.2)
    p = project_typical(u, r)
    norms = np.linalg.norm(ndtri(np.clip(p, 1e-6, 1 - 1e-6)), axis=1)
    assert norms.max() <= r + 1e-6
    inside = np.linalg.norm(ndtri(u), axis=1) <= r
    assert np.allclose(p[inside], u[inside])
    assert np.array_equal(project_typical(u, np.inf), u)


def test_ratings_to_reach_and_summary() -> None:
    curves = {"a": np.array([[0.1, 0.5, 0.9], [0.2, 0.2, 0.3]])}
    assert ratings_to_reach(curves["a"], 0.5).tolist() == [2.0, np.inf]
    rows = summarise(curves, (1, 3), 0.5)
    at_3 = rows[0]["@3"]
    assert isinstance(at_3, dict) and at_3["mean"] == pytest.approx(0.6)
    # half the targets never reach 0.5: the median is infinite, written as JSON null
    assert rows[0]["reach"] == {"level": 0.5, "median": None, "reached": 0.5}
    table = format_table(rows, (1, 3))
    assert "| a | 0.150" in table and "50% reach" in table


def test_benchmark_runs_every_strategy_on_a_toy_decoder(tmp_path: Path) -> None:
    decode = _decoder(6)
    targets = np.random.default_rng(4).normal(size=(2, 6))
    cfg = BenchConfig(
        budget=12,
        checkpoints=(4, 12),
        dim=4,
        strategies=(
            "random",
            "thesis",
            "cma",
            "ours",
            "ours-full",
            "ours+best_slot=true",
            "ours-picks",
        ),
        n_random_calibration=16,
    )
    ctx = SearchContext(6, {"variance": None})
    images = decode(targets)
    curves = {k: best_similarity(t) for k, t in run_bench(decode, ctx, images, cfg).items()}
    assert set(curves) == set(cfg.strategies)
    for c in curves.values():
        assert c.shape == (2, 12)
        assert np.all(np.diff(c, axis=1) >= 0) and np.all((c >= 0) & (c <= 1))
    again = run_bench(decode, ctx, images, cfg)
    assert all(np.array_equal(curves[k], best_similarity(again[k])) for k in curves)  # seeded
    out = tmp_path / "curves.png"
    plot_curves(curves, str(out))
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
