"""The search strategies the benchmark compares, behind one ask/tell interface (latents)."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Protocol

import numpy as np

from optimization.acquisition import probability_of_improvement, probability_of_improvement_grad
from optimization.batch import multistart_lbfgsb
from optimization.gp import Hyper, build_posterior
from optimization.search import new_search, observe, propose
from optimization.settings import SearchSettings
from optimization.space import LatentSpace

log = logging.getLogger(__name__)


class Strategy(Protocol):
    """Shows faces (as latents) and learns from their ratings."""

    def ask(self) -> np.ndarray:
        """Latents (b, latent_dim) of the next faces to show."""
        ...

    def tell(self, ratings: np.ndarray) -> None:
        """Ratings (b,) of the faces from the last ask."""
        ...


class RandomStrategy:
    """Albums of faces drawn from the VAE prior N(0, I)."""

    def __init__(self, latent_dim: int, album: int, seed: int) -> None:
        self.latent_dim, self.album = latent_dim, album
        self.rng = np.random.default_rng(seed)

    def ask(self) -> np.ndarray:
        return self.rng.normal(size=(self.album, self.latent_dim)).astype(np.float32)

    def tell(self, ratings: np.ndarray) -> None:
        return None


class OursStrategy:
    """EI albums from optimization.search over the cube of a LatentSpace."""

    def __init__(self, space: LatentSpace, settings: SearchSettings) -> None:
        self.space = space
        self.search = new_search(settings)
        self._points = np.zeros((0, settings.dim))

    def ask(self) -> np.ndarray:
        p = propose(self.search)
        self.search = replace(self.search, state=p.state)
        self._points = p.points
        return self.space.to_latent(p.points)

    def tell(self, ratings: np.ndarray) -> None:
        r = np.asarray(ratings, dtype=np.float64)
        self.search = observe(self.search, self._points, r, np.ones(len(r), dtype=np.int64))


class CMAStrategy:
    """CMA-ES in the latent space from the prior (mean 0, sigma 1), one generation per album."""

    def __init__(self, latent_dim: int, album: int, seed: int) -> None:
        import cma

        opts = {"popsize": album, "seed": seed + 1, "verbose": -9, "CMA_diagonal": False}
        self.es = cma.CMAEvolutionStrategy(np.zeros(latent_dim), 1.0, opts)
        self._x: list[np.ndarray] = []

    def ask(self) -> np.ndarray:
        self._x = self.es.ask()
        return np.array(self._x, dtype=np.float32)

    def tell(self, ratings: np.ndarray) -> None:
        # CMA minimises: the negated rating.
        self.es.tell(self._x, [-float(r) for r in ratings])


class ThesisStrategy:
    """The thesis' GPyOpt setup rebuilt on GPy: 5 uniform faces in [-4, 4]^d, then one face per
    round by Maximum Probability of Improvement (xi = 0.3, normalised ratings), Matern 5/2
    (isotropic, GPyOpt's default kernel), Gaussian noise learned, L-BFGS-B from the 5 best of
    1000 random anchors (GPyOpt's acquisition optimiser). One hyperparameter restart per round,
    warm-started (GPyOpt's default is 5 restarts; fewer keeps the benchmark affordable)."""

    def __init__(
        self, latent_dim: int, seed: int, n_init: int = 5, xi: float = 0.3, box: float = 4.0
    ) -> None:
        self.d, self.n_init, self.xi, self.box = latent_dim, n_init, xi, box
        self.rng = np.random.default_rng(seed)
        self.x = np.zeros((0, latent_dim))
        self.y = np.zeros(0)
        self._pending = np.zeros((0, latent_dim))
        self._params: np.ndarray | None = None

    def ask(self) -> np.ndarray:
        if len(self.x) < self.n_init:
            self._pending = self.rng.uniform(-self.box, self.box, size=(self.n_init, self.d))
        else:
            self._pending = self._next_point()[None, :]
        return self._pending.astype(np.float32)

    def tell(self, ratings: np.ndarray) -> None:
        self.x = np.vstack([self.x, self._pending])
        self.y = np.concatenate([self.y, np.asarray(ratings, dtype=np.float64)])

    def _fit(self, y: np.ndarray) -> Hyper:
        import GPy

        kern = GPy.kern.Matern52(self.d, variance=1.0)
        gp = GPy.models.GPRegression(
            self.x, y[:, None], kern, noise_var=max(float(y.var()) * 0.01, 1e-6)
        )
        if self._params is not None:
            gp[:] = self._params
        gp.optimize(optimizer="lbfgsb", max_iters=1000, messages=False)
        self._params = gp.param_array.copy()
        span = 2.0 * self.box
        return Hyper(
            float(kern.variance.values[0]),
            np.full(self.d, float(kern.lengthscale.values[0]) / span),
            float(gp.Gaussian_noise.variance.values[0]),
        )

    def _next_point(self) -> np.ndarray:
        span = 2.0 * self.box
        t = (self.x + self.box) / span  # the box as the unit cube
        sd = self.y.std()
        y = (self.y - self.y.mean()) / (sd if sd > 1e-9 else 1.0)
        try:
            h = self._fit(y)
            post = build_posterior(t, y, np.full(len(y), max(h.noise, 1e-6)), h)
        except (np.linalg.LinAlgError, ValueError, FloatingPointError) as exc:
            log.warning("thesis GP failed (%s): random point", exc)
            return self.rng.uniform(-self.box, self.box, size=self.d)
        mean_obs, _ = post.predict(t)
        best = float(mean_obs.max())
        anchors = self.rng.uniform(size=(1000, self.d))
        m, v = post.predict(anchors)
        pi = probability_of_improvement(m, np.sqrt(v), best, self.xi)
        starts = anchors[np.argsort(-pi)[:5]]

        def fg(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            mu, var, dmu, dvar = post.predict_grad(x)
            s = np.sqrt(var)
            val, d_m, d_s = probability_of_improvement_grad(mu, s, best, self.xi)
            return val, d_m[:, None] * dmu + (d_s / (2 * s))[:, None] * dvar

        xs = multistart_lbfgsb(fg, starts, 200)
        m2, v2 = post.predict(xs)
        x = xs[int(np.argmax(probability_of_improvement(m2, np.sqrt(v2), best, self.xi)))]
        return -self.box + span * x


class PicksStrategy:
    """Ours, told only which face of each album looks closest (a group poll's pick: the face
    the rater would rate highest, ties all picked), through `all_votes` and the per-rater
    standardisation, exactly as the bot turns poll answers into search data."""

    def __init__(self, space: LatentSpace, settings: SearchSettings) -> None:
        self.space, self.settings = space, settings
        self.state: dict[str, object] = {}
        self.points = np.zeros((0, settings.dim))
        self.rounds: list[int] = []
        self.picks: list[tuple[int, int]] = []
        self._pending = np.zeros((0, settings.dim))

    def ask(self) -> np.ndarray:
        from optimization.picks import all_votes
        from optimization.votes import aggregate_votes

        n = len(self.points)
        scores, counts = aggregate_votes(n, all_votes([], self.rounds, self.picks))
        search = observe(new_search(self.settings, self.state), self.points, scores, counts)
        p = propose(search)
        self.state = p.state
        self._pending = p.points
        return self.space.to_latent(p.points)

    def tell(self, ratings: np.ndarray) -> None:
        r = np.asarray(ratings, dtype=np.float64)
        start, label = len(self.points), len(set(self.rounds)) + 1
        self.points = np.vstack([self.points, self._pending])
        self.rounds.extend([label] * len(r))
        self.picks.extend((start + int(i), 0) for i in np.flatnonzero(r == r.max()))
