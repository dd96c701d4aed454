"""Benchmark figures: paired bootstrap intervals on constructed cases, best-so-far curves
by faces and by answers, and a whole small benchmark on a toy decoder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from optimization.bench_report import (
    best_by_answers,
    best_distance,
    build_report,
    format_report,
    paired_bootstrap,
    plot_identity,
)
from optimization.benchmark import BenchConfig, SearchContext, Traces, parse_spec, run_bench
from optimization.raters import RaterConfig


def test_bootstrap_of_a_constant_difference_is_that_constant() -> None:
    rng = np.random.default_rng(0)
    b = rng.normal(size=40)
    ci = paired_bootstrap(b + 0.1, b)
    assert ci["diff"] == pytest.approx(0.1)
    assert ci["lo"] == pytest.approx(0.1) and ci["hi"] == pytest.approx(0.1)


def test_bootstrap_interval_matches_the_normal_approximation() -> None:
    rng = np.random.default_rng(1)
    d = rng.normal(0.3, 1.0, size=200)
    ci = paired_bootstrap(d, np.zeros(200), n_boot=20_000)
    half = 1.645 * d.std() / np.sqrt(len(d))
    assert ci["lo"] == pytest.approx(d.mean() - half, abs=0.03)
    assert ci["hi"] == pytest.approx(d.mean() + half, abs=0.03)
    assert ci["lo"] > 0  # a real difference of 0.3 sd over 200 targets is resolved


def test_pairing_narrows_the_interval() -> None:
    # b is a + small noise: unpaired the spread of a would swamp the 0.05 difference.
    rng = np.random.default_rng(2)
    a = rng.normal(0, 1, size=30)
    b = a - 0.05 + rng.normal(0, 0.01, size=30)
    ci = paired_bootstrap(a, b)
    assert 0.04 < ci["lo"] < ci["hi"] < 0.06


def test_no_difference_gives_an_interval_around_zero() -> None:
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=50), rng.normal(size=50)
    ci = paired_bootstrap(a, b)
    assert ci["lo"] < 0 < ci["hi"]


def test_best_so_far_by_faces_and_by_answers() -> None:
    # one target: a rated album of 4 (answers 1..4), then a picked album (answer 5)
    t = Traces(
        distance=np.array([[0.9, 0.7, 0.8, 0.95, 0.5, 0.6, 0.9, 0.9]]),
        similarity=np.zeros((1, 8)),
        answers=np.array([[1, 2, 3, 4, 5, 5, 5, 5]]),
    )
    assert best_distance(t)[0].tolist() == [0.9, 0.7, 0.7, 0.7, 0.5, 0.5, 0.5, 0.5]
    assert best_by_answers(t, 5)[0].tolist() == [0.9, 0.7, 0.7, 0.7, 0.5]


def test_parse_spec() -> None:
    assert parse_spec("ours+dim=8+surrogate=preference") == (
        "ours",
        {"dim": 8, "surrogate": "preference"},
    )
    with pytest.raises(ValueError, match="unknown strategy"):
        parse_spec("magic")
    with pytest.raises(ValueError, match="bad override"):
        parse_spec("ours+colour=blue")


def _toy(latent_dim: int):
    """A smooth toy 'face model' and a toy 'descriptor' (a fixed projection of the pixels)."""
    rng = np.random.default_rng(0)
    w = rng.normal(size=(latent_dim, 16 * 16 * 3)) / np.sqrt(latent_dim)
    p = rng.normal(size=(16 * 16 * 3, 128)) / 40.0

    def decode(z: np.ndarray) -> np.ndarray:
        x = 1.0 / (1.0 + np.exp(-np.asarray(z, dtype=np.float64) @ w))  # (n, 768)
        return (x * 255).round().astype(np.uint8).reshape(-1, 16, 16, 3)

    def describe(faces: np.ndarray) -> np.ndarray:
        return (np.asarray(faces, np.float64).reshape(len(faces), -1) / 255.0) @ p

    return decode, describe


def test_benchmark_with_identity_raters_picks_and_openers(tmp_path: Path) -> None:
    decode, describe = _toy(6)
    targets = decode(np.random.default_rng(4).normal(size=(3, 6)))
    openers = np.random.default_rng(5).normal(size=(4, 6))
    ctx = SearchContext(6, {"variance": None}, openers)
    cfg = BenchConfig(
        budget=12,
        answers=6,
        checkpoints=(4, 12),
        dim=6,
        strategies=(
            "random",
            "cma",
            "ours+openers=4",
            "pref",
            "ours-picks",
            "ours-picks+surrogate=auto",
            "thesis",
        ),
        rater=RaterConfig(kind="mixed"),
        n_random_calibration=16,
    )
    traces = run_bench(decode, ctx, targets, cfg, describe)
    assert set(traces) == set(cfg.strategies)
    for t in traces.values():
        assert t.distance.shape == t.similarity.shape == t.answers.shape
        assert np.all(np.isfinite(t.distance))
        assert np.all(np.diff(t.answers, axis=1) >= 0)
        assert t.answers[:, -1].min() >= cfg.answers
    for picks in ("ours-picks", "ours-picks+surrogate=auto"):
        assert traces[picks].distance.shape[1] == 24  # 6 answers = 6 albums of 4
        assert np.all(traces[picks].answers[:, :4] == 1)
    # the same first album, then the two surrogates read the same picks differently
    np.testing.assert_array_equal(
        traces["ours-picks"].distance[:, :4], traces["ours-picks+surrogate=auto"].distance[:, :4]
    )
    assert not np.array_equal(
        traces["ours-picks"].distance, traces["ours-picks+surrogate=auto"].distance
    )
    shown = decode(openers)
    np.testing.assert_allclose(
        traces["ours+openers=4"].distance[0, :4],
        np.linalg.norm(describe(shown) - describe(targets[:1]), axis=1),
        atol=1e-6,
    )
    again = run_bench(decode, ctx, targets, cfg, describe)
    assert all(np.array_equal(traces[k].distance, again[k].distance) for k in traces)  # seeded
    rep = build_report(traces, cfg, "ours+openers=4")
    text = format_report(rep)
    assert "| random |" in text and "ours -" in text
    comparisons = rep["comparisons"]
    assert isinstance(comparisons, list)
    assert {c["other"] for c in comparisons} == {"random", "cma"}
    for by in ("faces", "answers"):
        out = tmp_path / f"{by}.png"
        plot_identity(traces, str(out), by=by)
        assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_detected_faces_are_counted_as_shown_and_reported_per_strategy() -> None:
    decode, describe = _toy(6)
    targets = decode(np.random.default_rng(4).normal(size=(2, 6)))
    ctx = SearchContext(6, {"variance": None})
    cfg = BenchConfig(
        budget=8,
        checkpoints=(4, 8),
        dim=6,
        strategies=("random", "ours"),
        rater=RaterConfig(kind="identity"),
        n_random_calibration=8,
    )

    seen: list[np.ndarray] = []

    def bright(faces: np.ndarray) -> np.ndarray:  # a toy 'detector': bright faces only
        seen.append(faces)
        return np.asarray(faces, np.float64).reshape(len(faces), -1).mean(axis=1) > 127.5

    traces = run_bench(decode, ctx, targets, cfg, describe, detect=bright)
    # Asked album by album, random's two targets first: its flags are those faces' own.
    shown = np.concatenate(seen)[:16]
    flags = shown.reshape(16, -1).mean(axis=1) > 127.5
    np.testing.assert_array_equal(traces["random"].detected, flags.reshape(2, 8))
    plain = run_bench(decode, ctx, targets, cfg, describe)
    for name, t in traces.items():
        assert t.detected is not None and t.detected.shape == t.distance.shape
        assert plain[name].detected is None
        # the same faces as without detection, and their flags are the detector's on them
        np.testing.assert_array_equal(t.distance, plain[name].distance)
        assert 0 < t.detected.sum() < t.detected.size  # the toy splits its faces
    rep = build_report(traces, cfg, "ours")
    detected = rep["detected"]
    assert isinstance(detected, list)
    rows = {r["strategy"]: r for r in detected}
    for name, t in traces.items():
        assert t.detected is not None
        assert rows[name]["@4"] == pytest.approx(t.detected[:, :4].mean())
        assert rows[name]["@8"] == pytest.approx(t.detected.mean())
    assert "faces shown in which the face detector finds a face" in format_report(rep)
    assert build_report(plain, cfg, "ours")["detected"] == []
    assert "detector" not in format_report(build_report(plain, cfg, "ours"))
