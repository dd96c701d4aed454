"""Expected Improvement and Probability of Improvement pinned to hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from optimization.acquisition import (
    expected_improvement,
    expected_improvement_grad,
    probability_of_improvement,
    probability_of_improvement_grad,
)


def _phi(u: float) -> float:
    return math.exp(-0.5 * u * u) / math.sqrt(2 * math.pi)


def _cdf(u: float) -> float:
    return 0.5 * (1 + math.erf(u / math.sqrt(2)))


def test_ei_hand_values() -> None:
    # mean=1, sigma=1, best=0: u=1, EI = phi(1) + 1 * Phi(1)
    assert expected_improvement(np.array([1.0]), np.array([1.0]), 0.0)[0] == pytest.approx(
        1.0833154705876864, abs=1e-12
    )
    # at the incumbent EI = sigma * phi(0)
    assert expected_improvement(np.array([0.0]), np.array([1.0]), 0.0)[0] == pytest.approx(
        0.3989422804014327, abs=1e-12
    )
    # mean=-1, sigma=2, best=0: u=-0.5, EI = 2 (phi(-0.5) - 0.5 Phi(-0.5))
    assert expected_improvement(np.array([-1.0]), np.array([2.0]), 0.0)[0] == pytest.approx(
        0.3955931148026121, abs=1e-12
    )


def test_ei_maximises_and_respects_xi() -> None:
    ei = expected_improvement(np.array([0.0, 1.0, 2.0]), np.ones(3), 0.5)
    assert np.all(np.diff(ei) > 0)  # a higher mean is better: maximisation
    assert expected_improvement(np.array([1.0]), np.array([1.0]), 0.0, xi=0.3)[0] == pytest.approx(
        0.7 * _cdf(0.7) + _phi(0.7), abs=1e-12
    )
    # zero sigma: EI is the plain improvement, never NaN
    assert expected_improvement(np.array([2.0, -2.0]), np.zeros(2), 1.0) == pytest.approx(
        [1.0, 0.0], abs=1e-9
    )


def test_pi_hand_values() -> None:
    assert probability_of_improvement(np.array([1.0]), np.array([1.0]), 0.0, xi=0.3)[
        0
    ] == pytest.approx(0.758036347776927, abs=1e-12)
    assert probability_of_improvement(np.array([0.0]), np.array([3.0]), 0.0)[0] == 0.5


@pytest.mark.parametrize(
    ("fn", "grad"),
    [
        (expected_improvement, expected_improvement_grad),
        (probability_of_improvement, probability_of_improvement_grad),
    ],
)
def test_gradients_match_finite_differences(fn: object, grad: object) -> None:
    mean = np.array([-0.7, 0.2, 1.3])
    sigma = np.array([0.4, 1.1, 0.6])
    best, xi, h = 0.1, 0.2, 1e-6
    val, dm, ds = grad(mean, sigma, best, xi)  # type: ignore[operator]
    assert val == pytest.approx(fn(mean, sigma, best, xi))  # type: ignore[operator]
    fd_m = (fn(mean + h, sigma, best, xi) - fn(mean - h, sigma, best, xi)) / (2 * h)  # type: ignore[operator]
    fd_s = (fn(mean, sigma + h, best, xi) - fn(mean, sigma - h, best, xi)) / (2 * h)  # type: ignore[operator]
    assert dm == pytest.approx(fd_m, rel=1e-5, abs=1e-8)
    assert ds == pytest.approx(fd_s, rel=1e-5, abs=1e-8)
