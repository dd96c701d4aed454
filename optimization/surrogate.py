"""Hyperparameter fit with GPy: Matern 5/2 ARD, learned noise with a floor, noise / vote count.

The only module that imports GPy, and only inside fit_hyperparameters, so `import optimization`
stays light. The likelihood is GPy's Gaussian with a per-point divisor: a face rated by c
raters has noise variance sigma^2 / c, and sigma^2 is learned (bounded below by the floor).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np

from optimization.gp import Hyper

log = logging.getLogger(__name__)

VARIANCE_BOUNDS = (0.05, 20.0)
LENGTHSCALE_BOUNDS = (0.03, 10.0)
NOISE_MAX = 2.0


@dataclass(frozen=True)
class Fit:
    """Result of one hyperparameter fit: the values and how they were obtained."""

    hyper: Hyper
    status: str  # "ok" (optimised) | "fixed" (fallback to warm/default values)
    log_likelihood: float


def _count_weighted_gaussian(counts: np.ndarray, variance: float) -> Any:
    """GPy Gaussian likelihood whose noise at point i is variance / counts[i]."""
    from GPy.likelihoods import Gaussian

    inv = 1.0 / np.asarray(counts, dtype=np.float64)

    class CountWeightedGaussian(Gaussian):  # type: ignore[misc]
        """Gaussian noise divided by the vote count of each point."""

        def gaussian_variance(self, Y_metadata: Any = None) -> np.ndarray:
            return np.asarray(self.variance) * inv

        def exact_inference_gradients(
            self,
            dL_dKdiag: np.ndarray,
            Y_metadata: Any = None,
        ) -> float:
            return float((dL_dKdiag * inv).sum())

    return CountWeightedGaussian(variance=variance)


def fit_hyperparameters(
    x: np.ndarray,
    y: np.ndarray,
    counts: np.ndarray,
    start: Hyper,
    noise_floor: float,
    max_iters: int,
) -> Fit:
    """Maximise the GPy marginal likelihood from `start` (warm start), all parameters bounded.

    Raises on failure (GPy errors, non-finite likelihood); callers fall back.
    """
    import GPy

    dim = x.shape[1]
    lo, hi = LENGTHSCALE_BOUNDS
    vlo, vhi = VARIANCE_BOUNDS
    nhi = max(NOISE_MAX, noise_floor * 2)
    kern = GPy.kern.Matern52(
        dim,
        variance=float(np.clip(start.variance, vlo, vhi)),
        lengthscale=np.clip(start.lengthscale, lo * 1.001, hi * 0.999),
        ARD=True,
    )
    kern.variance.constrain_bounded(vlo, vhi, warning=False)
    kern.lengthscale.constrain_bounded(lo, hi, warning=False)
    lik = _count_weighted_gaussian(counts, float(np.clip(start.noise, noise_floor * 1.001, nhi)))
    lik.variance.constrain_bounded(noise_floor, nhi, warning=False)
    model = GPy.core.GP(x, y.reshape(-1, 1), kern, lik, name="search_gp")
    if max_iters > 0:
        model.optimize(optimizer="lbfgsb", max_iters=max_iters, messages=False)
    ll = float(model.log_likelihood())
    hyper = Hyper(
        variance=float(kern.variance.values[0]),
        lengthscale=np.array(kern.lengthscale.values, dtype=np.float64),
        noise=float(lik.variance.values[0]),
    )
    values = np.concatenate([[hyper.variance, hyper.noise, ll], hyper.lengthscale])
    if not np.all(np.isfinite(values)):
        raise FloatingPointError("GP fit produced non-finite values")
    return Fit(hyper, "ok", ll)
