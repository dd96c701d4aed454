"""Analytic acquisition functions (maximisation), pure functions of (mean, sigma, best).

Conventions follow botorch's analytic.py: larger is better, u = (mean - best - xi) / sigma,
EI = sigma * (phi(u) + u * Phi(u)), PI = Phi(u). Gradients are with respect to mean and sigma
so callers chain them through their own posterior gradients.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr

SQRT_2PI = float(np.sqrt(2.0 * np.pi))


def _phi(u: np.ndarray) -> np.ndarray:
    return np.exp(-0.5 * u * u) / SQRT_2PI


def expected_improvement(
    mean: np.ndarray, sigma: np.ndarray, best: float, xi: float = 0.0
) -> np.ndarray:
    """E[max(f - best - xi, 0)] for f ~ N(mean, sigma^2), maximising."""
    mean = np.asarray(mean, dtype=np.float64)
    sigma = np.maximum(np.asarray(sigma, dtype=np.float64), 1e-12)
    u = (mean - best - xi) / sigma
    return sigma * (_phi(u) + u * ndtr(u))


def expected_improvement_grad(
    mean: np.ndarray, sigma: np.ndarray, best: float, xi: float = 0.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(EI, dEI/dmean, dEI/dsigma): dEI/dmean = Phi(u), dEI/dsigma = phi(u)."""
    mean = np.asarray(mean, dtype=np.float64)
    sigma = np.maximum(np.asarray(sigma, dtype=np.float64), 1e-12)
    u = (mean - best - xi) / sigma
    pdf = _phi(u)
    cdf = ndtr(u)
    return sigma * (pdf + u * cdf), cdf, pdf


def probability_of_improvement(
    mean: np.ndarray, sigma: np.ndarray, best: float, xi: float = 0.0
) -> np.ndarray:
    """P(f > best + xi) for f ~ N(mean, sigma^2), maximising (MPI with jitter xi)."""
    mean = np.asarray(mean, dtype=np.float64)
    sigma = np.maximum(np.asarray(sigma, dtype=np.float64), 1e-12)
    return ndtr((mean - best - xi) / sigma)


def probability_of_improvement_grad(
    mean: np.ndarray, sigma: np.ndarray, best: float, xi: float = 0.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(PI, dPI/dmean, dPI/dsigma)."""
    mean = np.asarray(mean, dtype=np.float64)
    sigma = np.maximum(np.asarray(sigma, dtype=np.float64), 1e-12)
    u = (mean - best - xi) / sigma
    pdf = _phi(u)
    return ndtr(u), pdf / sigma, -pdf * u / sigma
