"""A GP posterior in plain numpy (Matern 5/2, ARD, per-point noise) with input gradients.

GPy fits the hyperparameters (surrogate.py); prediction and its gradients for the acquisition
optimiser live here because they are called hundreds of times per round and GPy's per-call
overhead would dominate the latency budget. tests/optimization/test_core.py
(test_numpy_posterior_matches_gpy) checks that both agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
from scipy.linalg import cho_solve, cholesky, solve_triangular

SQRT5 = float(np.sqrt(5.0))


@dataclass(frozen=True)
class Hyper:
    """Kernel variance, ARD lengthscales (dim,) and base noise variance (one vote)."""

    variance: float
    lengthscale: np.ndarray  # (dim,)
    noise: float

    def to_dict(self) -> dict[str, object]:
        """JSON-able form for search.state."""
        return {
            "variance": float(self.variance),
            "lengthscale": [float(v) for v in self.lengthscale],
            "noise": float(self.noise),
        }

    @classmethod
    def from_dict(cls, data: object, dim: int) -> Hyper | None:
        """Parse state written by to_dict; None when absent, malformed or of another dim."""
        if not isinstance(data, dict):
            return None
        try:
            ls = np.asarray(data["lengthscale"], dtype=np.float64).reshape(-1)
            h = cls(float(data["variance"]), ls, float(data["noise"]))
        except (KeyError, TypeError, ValueError):
            return None
        ok = ls.shape == (dim,) and np.all(np.isfinite(ls)) and np.all(ls > 0)
        if not ok or not (np.isfinite(h.variance) and h.variance > 0):
            return None
        if not (np.isfinite(h.noise) and h.noise > 0):
            return None
        return h


def default_hyper(dim: int) -> Hyper:
    """Fixed hyperparameters for the fallback path: smooth, fairly noisy, on standardised data."""
    return Hyper(variance=1.0, lengthscale=np.full(dim, 0.5 * np.sqrt(dim)), noise=0.1)


def matern52(a: np.ndarray, b: np.ndarray, variance: float, lengthscale: np.ndarray) -> np.ndarray:
    """Kernel matrix (len(a), len(b))."""
    r = _dist(a / lengthscale, b / lengthscale)
    return variance * (1.0 + SQRT5 * r + (5.0 / 3.0) * r * r) * np.exp(-SQRT5 * r)


def matern52_grad(xs: np.ndarray, x: np.ndarray, hyper: Hyper) -> tuple[np.ndarray, np.ndarray]:
    """Kernel matrix k(xs, x) (m, n) and its gradient in xs, dk/dxs (m, n, d)."""
    ls2 = hyper.lengthscale**2
    diff = xs[:, None, :] - x[None, :, :]  # (m, n, d)
    r = np.sqrt(np.maximum(((diff * diff) / ls2).sum(-1), 0.0))  # (m, n)
    e = np.exp(-SQRT5 * r)
    ks = hyper.variance * (1.0 + SQRT5 * r + (5.0 / 3.0) * r * r) * e  # (m, n)
    # dk/dx = -(5/3) s2 (1 + sqrt5 r) exp(-sqrt5 r) (x - x') / l^2: smooth at r = 0.
    g = -(5.0 / 3.0) * hyper.variance * (1.0 + SQRT5 * r) * e  # (m, n)
    return ks, g[:, :, None] * diff / ls2


def _clamped(
    mean: np.ndarray, var: np.ndarray, dmean: np.ndarray, dvar: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Variance floored at 1e-12, where its gradient is then 0."""
    small = var < 1e-12
    return mean, np.where(small, 1e-12, var), dmean, np.where(small[:, None], 0.0, dvar)


def _dist(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    sq = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * a @ b.T
    return np.sqrt(np.maximum(sq, 0.0))


class PosteriorLike(Protocol):
    """What the acquisition code needs of a GP posterior (numeric or preference)."""

    @property
    def x(self) -> np.ndarray:
        """(n, d) observed points."""
        ...

    @property
    def hyper(self) -> Hyper:
        """Kernel hyperparameters."""
        ...

    def predict(self, xs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Mean (m,) and variance (m,) at xs (m, d)."""
        ...

    def predict_grad(self, xs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Mean, variance and their gradients (m, d)."""
        ...

    def with_point(self, x: np.ndarray, y: float, noise: float) -> PosteriorLike:
        """The posterior after one more (fantasy) Gaussian observation."""
        ...


@dataclass(frozen=True)
class Posterior:
    """Exact GP posterior of the latent score f given X (n, d), y (n,), per-point noise (n,)."""

    x: np.ndarray  # (n, d)
    y: np.ndarray  # (n,)
    noise: np.ndarray  # (n,)
    hyper: Hyper
    chol: np.ndarray  # (n, n) lower Cholesky factor of K + diag(noise)
    alpha: np.ndarray  # (n,) (K + diag(noise))^-1 y

    def predict(self, xs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean (m,) and variance (m,) of f at xs (m, d)."""
        ks = matern52(xs, self.x, self.hyper.variance, self.hyper.lengthscale)  # (m, n)
        mean = ks @ self.alpha
        v = solve_triangular(self.chol, ks.T, lower=True)  # (n, m)
        var = np.maximum(self.hyper.variance - (v * v).sum(0), 1e-12)
        return mean, var

    def predict_grad(self, xs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Mean (m,), variance (m,), dmean/dx (m, d), dvar/dx (m, d)."""
        ks, dks = matern52_grad(xs, self.x, self.hyper)  # (m, n), (m, n, d)
        kinv_ks = cho_solve((self.chol, True), ks.T)  # (n, m)
        return _clamped(
            ks @ self.alpha,
            self.hyper.variance - (ks * kinv_ks.T).sum(1),
            np.einsum("mnd,n->md", dks, self.alpha),
            -2.0 * np.einsum("mnd,nm->md", dks, kinv_ks),
        )

    def as_linear(self) -> LinearPosterior:
        """The same posterior with (K + N)^-1 formed once: matrix products instead of
        triangular solves in the acquisition's many predictions, and O(n^2) fantasies
        (measured: a round at 60 faces 92 -> 80 ms)."""
        b = cho_solve((self.chol, True), np.eye(len(self.x)))
        return LinearPosterior(self.x, self.alpha, 0.5 * (b + b.T), self.hyper)

    def with_point(self, x: np.ndarray, y: float, noise: float) -> Posterior:
        """Posterior with one more (fantasy) observation: the Kriging-believer step."""
        return build_posterior(
            np.vstack([self.x, x[None, :]]),
            np.append(self.y, y),
            np.append(self.noise, noise),
            self.hyper,
        )


def build_posterior(x: np.ndarray, y: np.ndarray, noise: np.ndarray, hyper: Hyper) -> Posterior:
    """Factorise K + diag(noise); adds jitter up to 1e-4 * variance, then raises LinAlgError."""
    k = matern52(x, x, hyper.variance, hyper.lengthscale)
    k[np.diag_indices_from(k)] += noise
    for jitter in (0.0, 1e-8, 1e-6, 1e-4):
        try:
            kj = k + np.eye(len(x)) * jitter * hyper.variance if jitter else k
            chol = cholesky(kj, lower=True, check_finite=True)
            break
        except (np.linalg.LinAlgError, ValueError):
            continue
    else:
        raise np.linalg.LinAlgError("GP covariance is not positive definite")
    alpha = cho_solve((chol, True), y)
    if not np.all(np.isfinite(alpha)):
        raise np.linalg.LinAlgError("GP posterior weights are not finite")
    return Posterior(x, y, noise, hyper, chol, alpha)


@dataclass(frozen=True)
class LinearPosterior:
    """A Gaussian-process posterior in the form mean = ks a, var = s2 - ks B ks^T.

    Exact GP regression has B = (K + N)^-1; a Laplace preference posterior has
    B = W (I + K W)^-1. Fantasies (with_point) are exact Gaussian conditioning of either.
    """

    x: np.ndarray  # (n, d)
    alpha: np.ndarray  # (n,)
    b: np.ndarray  # (n, n) symmetric
    hyper: Hyper

    def _k(self, xs: np.ndarray) -> np.ndarray:
        return matern52(xs, self.x, self.hyper.variance, self.hyper.lengthscale)

    def predict(self, xs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean (m,) and variance (m,) at xs (m, d)."""
        ks = self._k(xs)  # (m, n)
        var = self.hyper.variance - np.einsum("mn,mn->m", ks @ self.b, ks)
        return ks @ self.alpha, np.maximum(var, 1e-12)

    def predict_grad(self, xs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Mean (m,), variance (m,), dmean/dx (m, d), dvar/dx (m, d)."""
        ks, dks = matern52_grad(xs, self.x, self.hyper)  # (m, n), (m, n, d)
        bks = ks @ self.b  # (m, n)
        return _clamped(
            ks @ self.alpha,
            self.hyper.variance - (ks * bks).sum(1),
            np.einsum("mnd,n->md", dks, self.alpha),
            -2.0 * np.einsum("mnd,mn->md", dks, bks),
        )

    def with_point(self, x: np.ndarray, y: float, noise: float) -> LinearPosterior:
        """The posterior after one more Gaussian observation y = f(x) + N(0, noise)."""
        k1 = self._k(x[None, :])[0]  # (n,)
        u = np.append(-self.b @ k1, 1.0)  # (n+1,): C(., x) = [k(.); k(., x)] . u
        m1 = float(k1 @ self.alpha)
        v1 = max(float(self.hyper.variance - k1 @ self.b @ k1), 1e-12)
        denom = v1 + noise
        n = len(self.alpha)
        b = np.zeros((n + 1, n + 1))
        b[:n, :n] = self.b
        b += np.outer(u, u) / denom
        alpha = np.append(self.alpha, 0.0) + u * (y - m1) / denom
        return LinearPosterior(np.vstack([self.x, x[None, :]]), alpha, b, self.hyper)
