"""The search strategies the benchmark compares, behind one ask/tell interface (latents)."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Protocol

import numpy as np

from optimization.acquisition import probability_of_improvement, probability_of_improvement_grad
from optimization.answers import search_inputs
from optimization.batch import multistart_lbfgsb
from optimization.gp import Hyper, build_posterior
from optimization.preference import pairs_from_album
from optimization.search import new_search, observe, propose
from optimization.settings import SearchSettings
from optimization.space import LatentSpace

log = logging.getLogger(__name__)


class Strategy(Protocol):
    """Shows faces (as latents) and learns from their ratings.

    A strategy whose `feedback` is "pick" is told which face of the album the person called
    closest (tell_pick, one answer) instead of a rating per face (tell, one answer a face).
    """

    feedback: str

    def ask(self) -> np.ndarray:
        """Latents (b, latent_dim) of the next faces to show."""
        ...

    def tell(self, ratings: np.ndarray) -> None:
        """Ratings (b,) of the faces from the last ask."""
        ...


class RandomStrategy:
    """Albums of faces drawn from the VAE prior N(0, I)."""

    feedback = "ratings"

    def __init__(self, latent_dim: int, album: int, seed: int) -> None:
        self.latent_dim, self.album = latent_dim, album
        self.rng = np.random.default_rng(seed)

    def ask(self) -> np.ndarray:
        return self.rng.normal(size=(self.album, self.latent_dim)).astype(np.float32)

    def tell(self, ratings: np.ndarray) -> None:
        return None


class OursStrategy:
    """EI albums from optimization.search over the cube of a LatentSpace.

    Ratings are stored both as scores (the numeric GP's data) and as the album's pairwise
    comparisons (the preference GP's), exactly as the bot stores a chat's votes. With
    feedback="pick" the rater only says which face of each album is closest (a group poll's
    answer), and the picks become search data through optimization.answers.search_inputs,
    the bot's own path.
    """

    def __init__(
        self,
        space: LatentSpace,
        settings: SearchSettings,
        feedback: str = "ratings",
        openers: np.ndarray | None = None,
    ) -> None:
        if feedback not in ("ratings", "pick"):
            raise ValueError(f"feedback must be 'ratings' or 'pick', got {feedback!r}")
        self.space = space
        self.feedback = feedback
        self.search = new_search(settings)
        self._points = np.zeros((0, settings.dim))
        # Opening faces as cube points (their projection when the space is a subspace).
        self._openers = (
            np.zeros((0, settings.dim)) if openers is None else space.from_latent(openers)
        )
        self._rounds: list[int] = []  # feedback="pick": each face's album
        self._picks: list[tuple[int, int]] = []  # (face, person 0)

    def ask(self) -> np.ndarray:
        p = propose(self.search, openers=self._openers)
        self.search = replace(self.search, state=p.state)
        self._points = p.points
        return self.space.to_latent(p.points)

    def tell(self, ratings: np.ndarray) -> None:
        r = np.asarray(ratings, dtype=np.float64)
        ones = np.ones(len(r), dtype=np.int64)
        pairs = pairs_from_album(r, self.search.settings.pref_weighted)
        self.search = observe(self.search, self._points, r, ones, pairs)

    def tell_pick(self, picked: int) -> None:
        start, album = len(self.search.points), len(set(self._rounds))
        self._rounds.extend([album] * len(self._points))
        self._picks.append((start + int(picked), 0))
        points = np.vstack([self.search.points, self._points])
        data = search_inputs(self.search.settings, self._rounds, (), self._picks)
        empty = new_search(self.search.settings, self.search.state)
        self.search = observe(empty, points, data.scores, data.counts, data.pairs)


class CMAStrategy:
    """CMA-ES from the prior (mean 0, sigma 1), one generation per album: in the whole latent,
    or with a space in the coordinates t of its principal subspace (z = origin + axes t)."""

    feedback = "ratings"

    def __init__(
        self, latent_dim: int, album: int, seed: int, space: LatentSpace | None = None
    ) -> None:
        import cma

        self.space = space
        d = latent_dim if space is None else space.dim
        opts = {"popsize": album, "seed": seed + 1, "verbose": -9, "CMA_diagonal": False}
        self.es = cma.CMAEvolutionStrategy(np.zeros(d), 1.0, opts)
        self._x: list[np.ndarray] = []

    def ask(self) -> np.ndarray:
        self._x = self.es.ask()
        x = np.array(self._x, dtype=np.float64)
        if self.space is not None:
            x = self.space.origin + (x * self.space.scale) @ self.space.axes.T
        return x.astype(np.float32)

    def tell(self, ratings: np.ndarray) -> None:
        # CMA minimises: the negated rating.
        self.es.tell(self._x, [-float(r) for r in ratings])


class ThesisStrategy:
    """The thesis' GPyOpt setup rebuilt on GPy: 5 uniform faces in [-4, 4]^d, then one face per
    round by Maximum Probability of Improvement (xi = 0.3, normalised ratings), Matern 5/2
    (isotropic, GPyOpt's default kernel), Gaussian noise learned, L-BFGS-B from the 5 best of
    1000 random anchors (GPyOpt's acquisition optimiser). One hyperparameter restart per round,
    warm-started (GPyOpt's default is 5 restarts; fewer keeps the benchmark affordable).

    The thesis' latent had 8 axes; on a larger latent the box is given its fair meaning by a
    space: [-4, 4] per axis of the same principal subspace our search walks (z = origin +
    axes t), the other directions at the encoded mean."""

    feedback = "ratings"

    def __init__(
        self,
        latent_dim: int,
        seed: int,
        n_init: int = 5,
        xi: float = 0.3,
        box: float = 4.0,
        space: LatentSpace | None = None,
    ) -> None:
        self.space = space
        if space is not None:
            latent_dim = space.dim
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
        if self.space is not None:
            return (self.space.origin + self._pending @ self.space.axes.T).astype(np.float32)
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
