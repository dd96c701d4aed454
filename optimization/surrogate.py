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

# Scores are standardised (variance 1). The bounds say "at least 30% of the score variance is
# signal": people's ratings are noisy but not random, and without the floor the first rounds'
# fits sit in the everything-is-noise optimum, which makes EI a blind space-filler
# (measured: best similarity after 40 ratings 0.56 -> 0.65 on 12 targets).
VARIANCE_BOUNDS = (0.3, 20.0)
LENGTHSCALE_BOUNDS = (0.05, 50.0)
NOISE_MAX = 0.7


def lengthscale_prior(dim: int) -> tuple[float, float]:
    """(mu, sigma) of the log-normal lengthscale prior, dimension-scaled (Hvarfner et al.
    2024, BoTorch's default): median e^sqrt2 * sqrt(dim) in the unit cube, so a handful of
    ratings cannot collapse the lengthscales into a GP that calls everything noise."""
    return float(np.sqrt(2.0) + 0.5 * np.log(dim)), float(np.sqrt(3.0))


@dataclass(frozen=True)
class Fit:
    """Result of one hyperparameter fit (failures raise; the caller falls back)."""

    hyper: Hyper
    log_likelihood: float  # log marginal likelihood + log prior (the MAP objective)


def _count_weighted_gaussian(counts: np.ndarray, variance: float) -> Any:
    """GPy Gaussian likelihood whose noise at point i is variance / counts[i]."""
    from GPy.likelihoods import Gaussian

    inv = 1.0 / np.asarray(counts, dtype=np.float64)

    class CountWeightedGaussian(Gaussian):
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
    fallback_start: Hyper | None = None,
    prior: tuple[float, float] | None = None,
) -> Fit:
    """MAP hyperparameters from `start` (the warm start); bounded; never a silent degenerate fit.

    A warm start taken from a round with few ratings often sits in the "everything is noise"
    optimum (signal variance at its floor, noise at its cap) and stays there; when the result
    looks like that, a second fit from `fallback_start` runs and the better posterior wins.
    Raises on failure (GPy errors, non-finite likelihood); callers fall back.
    """
    # GPy divides by pairwise distances for the lengthscale gradient (a face shown twice gives
    # 0/0) and line searches overflow exp; non-finite results are caught, so the warnings are
    # only noise.
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        fit = _fit_once(x, y, counts, start, noise_floor, max_iters, prior)
        if fallback_start is not None and _degenerate(fit.hyper):
            other = _fit_once(x, y, counts, fallback_start, noise_floor, max_iters, prior)
            if other.log_likelihood > fit.log_likelihood:
                return other
    return fit


def _degenerate(h: Hyper) -> bool:
    return h.noise >= 0.95 * NOISE_MAX or h.variance <= 1.1 * VARIANCE_BOUNDS[0]


def _fit_once(
    x: np.ndarray,
    y: np.ndarray,
    counts: np.ndarray,
    start: Hyper,
    noise_floor: float,
    max_iters: int,
    prior: tuple[float, float] | None = None,
) -> Fit:
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
    mu, sigma = prior or lengthscale_prior(dim)
    # The prior keeps the positive (Logexp) transform, whose Jacobian GPy knows; the bounds
    # are applied by clipping the result below.
    kern.lengthscale.set_prior(GPy.priors.LogGaussian(mu, sigma), warning=False)
    lik = _count_weighted_gaussian(counts, float(np.clip(start.noise, noise_floor * 1.001, nhi)))
    lik.variance.constrain_bounded(noise_floor, nhi, warning=False)
    gp = GPy.core.GP(x, y.reshape(-1, 1), kern, lik, name="search_gp")
    if max_iters > 0:
        gp.optimize(optimizer="lbfgsb", max_iters=max_iters, messages=False)
    ll = -float(gp.objective_function())  # log likelihood + log prior
    hyper = Hyper(
        variance=float(kern.variance.values[0]),
        lengthscale=np.clip(np.array(kern.lengthscale.values, dtype=np.float64), lo, hi),
        noise=float(lik.variance.values[0]),
    )
    values = np.concatenate([[hyper.variance, hyper.noise, ll], hyper.lengthscale])
    if not np.all(np.isfinite(values)):
        raise FloatingPointError("GP fit produced non-finite values")
    return Fit(hyper, ll)
