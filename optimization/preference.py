"""A preference GP: a latent utility f ~ GP(0, k) learned from pairwise choices only.

People compare the faces of one album far more reliably than they place each face on an
absolute 1-10 scale, and every person uses that scale differently. So each album's answers
become pairs "face i looks more like the person than face j" (a rating 8 beats a 5 by the
same rater in the same album; a "this one is closest" pick beats every other face of its
album), and the likelihood of a pair is probit, P(i > j) = Phi((f_i - f_j) / (sqrt2 sigma)),
sigma = 1 (the utility's scale is the kernel variance). The posterior is Laplace's
approximation (Chu & Ghahramani 2005, "Preference learning with Gaussian processes"):
Newton's method finds the mode f^, W is the negative Hessian of the log likelihood there.

The prediction has the same form as a GP regression's, mean = k(x)^T a and variance =
k(x, x) - k(x)^T B k(x), with a = K^-1 f^ and B = W (I + K W)^-1, so the acquisition code
(EI, Kriging believer, L-BFGS-B) is shared with the numeric GP (LinearPosterior).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass

import numpy as np
from scipy.linalg import cho_factor, cho_solve
from scipy.special import log_ndtr

from optimization.gp import Hyper, LinearPosterior, matern52
from optimization.votes import checked_vote

SQRT2 = float(np.sqrt(2.0))


MAX_REPEAT = 3  # a pair's weight: its rating gap in points, at most this


def _repeats(gap: float, weighted: bool) -> int:
    """How many times a pair with this rating gap counts: a gap of 1 point is often noise,
    a gap of 5 rarely is; the weight is the gap in points (rounded, 1..MAX_REPEAT)."""
    return int(np.clip(np.rint(gap), 1, MAX_REPEAT)) if weighted else 1


def preferences_from_votes(
    rounds: Iterable[int],
    votes: Iterable[tuple[int, Hashable, float]] = (),
    picks: Iterable[tuple[int, Hashable]] = (),
    weighted: bool = False,
) -> np.ndarray:
    """Pairs (m, 2) [winner, loser] of face indices from the stored answers of a search.

    rounds (n,): the album (round) of each face. votes: (face, rater, value) ratings; within
    one album, every two faces one rater rated differently make a pair (ties say nothing
    about the order and are dropped). picks: (face, rater) "closest" choices; a picked
    face beats every face of its album that rater did not pick. Values never mix across
    raters or albums, so each person's own scale cancels out. weighted: a pair is repeated
    by its rating gap in the rater's own points (1..MAX_REPEAT), so a clear preference counts
    more than a near-tie.
    """
    rnd = np.asarray(list(rounds), dtype=np.int64).reshape(-1)
    n = len(rnd)
    by_album: dict[tuple[int, Hashable], dict[int, float]] = defaultdict(dict)
    for face, rater, value in votes:
        f, v = checked_vote(face, value, n)
        by_album[(int(rnd[f]), rater)][f] = v  # a later vote on the same face replaces
    out: list[np.ndarray] = [np.zeros((0, 2), dtype=np.int64)]
    for faces in by_album.values():
        ids = np.array(sorted(faces), dtype=np.int64)  # the album's rated faces
        out.append(ids[pairs_from_album(np.array([faces[f] for f in ids]), weighted)])
    members: dict[int, list[int]] = defaultdict(list)
    for i, r in enumerate(rnd):
        members[int(r)].append(i)
    # A poll may take several picks from one person: each beats the faces that person left
    # unpicked (two picked faces of one album say nothing about each other).
    chosen: dict[tuple[int, Hashable], set[int]] = defaultdict(set)
    for face, rater in picks:
        f = int(face)
        if not 0 <= f < n:
            raise ValueError(f"pick of face {f} outside 0..{n - 1}")
        chosen[(int(rnd[f]), rater)].add(f)
    for (album, _rater), picked in chosen.items():
        for f in sorted(picked):
            beaten = [other for other in members[album] if other not in picked]
            out.append(np.array([(f, other) for other in beaten], dtype=np.int64).reshape(-1, 2))
    return np.concatenate(out)


def pairs_from_album(ratings: np.ndarray, weighted: bool = False) -> np.ndarray:
    """Pairs (m, 2) within one album rated by one person (indices into the album); weighted
    as in preferences_from_votes."""
    r = np.asarray(ratings, dtype=np.float64).reshape(-1)
    i, j = np.triu_indices(len(r), 1)
    win = np.where(r[i] > r[j], i, j)
    lose = np.where(r[i] > r[j], j, i)
    keep = r[i] != r[j]
    reps = np.array([_repeats(abs(g), weighted) for g in (r[i] - r[j])[keep]], dtype=np.int64)
    pairs = np.stack([win[keep], lose[keep]], axis=1).astype(np.int64)
    return np.repeat(pairs, reps, axis=0)


@dataclass(frozen=True)
class LaplaceFit:
    """Mode, curvature and evidence of one preference fit."""

    posterior: LinearPosterior
    f: np.ndarray  # (n,) utility mode at the observed points
    log_evidence: float


def _pair_terms(f: np.ndarray, pairs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per pair: log Phi(z), dlogPhi/dz and -d2logPhi/dz2, z = (f_w - f_l) / sqrt2."""
    z = (f[pairs[:, 0]] - f[pairs[:, 1]]) / SQRT2
    logp = log_ndtr(z)
    # phi(z) / Phi(z) through logs: stable far into the tail where Phi underflows.
    ratio = np.exp(-0.5 * z * z - 0.5 * np.log(2 * np.pi) - logp)
    return logp, ratio, ratio * (z + ratio)


@dataclass(frozen=True)
class _Curvature:
    """B = W (I + K W)^-1 applied to K v, B itself and log|I + K W|, for W = C^T diag(w) C.

    Few pairs (m <= n): Sylvester's identity turns all of them into one (m, m) Cholesky of
    I + S C K C^T S, S = diag(sqrt w), and B K v never forms an (n, n) matrix. Many pairs (a
    group's votes): an (n, n) solve, so the cost never grows with the number of votes.
    """

    c: np.ndarray  # (m, n)
    ck: np.ndarray  # (m, n) C K (few-pairs path)
    s: np.ndarray  # (m,) sqrt w
    chol: tuple[np.ndarray, bool] | None  # few-pairs path
    dense_b: np.ndarray | None  # many-pairs path
    logdet: float

    @classmethod
    def of(cls, c: np.ndarray, k: np.ndarray, ck: np.ndarray, w: np.ndarray) -> _Curvature:
        m, n = c.shape
        s = np.sqrt(w)
        if m <= n:
            ckc = ck @ c.T  # (m, m)
            chol = cho_factor(np.eye(m) + s[:, None] * ckc * s[None, :], lower=True)
            logdet = 2.0 * float(np.log(np.diag(chol[0])).sum())
            return cls(c, ck, s, chol, None, logdet)
        big_w = c.T @ (w[:, None] * c)  # (n, n)
        mat = np.eye(n) + k @ big_w
        b = np.linalg.solve(mat.T, big_w).T  # W M^-1 (W symmetric)
        return cls(c, ck, s, None, 0.5 * (b + b.T), float(np.linalg.slogdet(mat)[1]))

    def b_k(self, v: np.ndarray, k: np.ndarray) -> np.ndarray:
        """B K v (n,)."""
        if self.chol is None:
            assert self.dense_b is not None
            return self.dense_b @ (k @ v)
        return self.c.T @ (self.s * cho_solve(self.chol, self.s * (self.ck @ v)))

    def matrix(self) -> np.ndarray:
        """B (n, n), symmetric."""
        if self.chol is None:
            assert self.dense_b is not None
            return self.dense_b
        sc = self.s[:, None] * self.c  # (m, n)
        b = sc.T @ cho_solve(self.chol, sc)
        return 0.5 * (b + b.T)


def fit_preference(
    x: np.ndarray, pairs: np.ndarray, hyper: Hyper, max_iters: int = 30, tol: float = 1e-6
) -> LaplaceFit:
    """Laplace approximation of the preference posterior over points x (n, d).

    pairs (m, 2) index x: [winner, loser]. Newton on a = K^-1 f with step halving:
    a_new = b - B K b with b = W f + grad log L, the curvature W = C^T diag(w) C (C the
    +1/-1 pair incidence scaled by 1/sqrt2) and B = W (I + K W)^-1 (_curvature).
    """
    x = np.asarray(x, dtype=np.float64)
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    if len(pairs) == 0:
        raise ValueError("a preference fit needs at least one pair")
    # A repeated pair is one likelihood term raised to its count (weights, not more rows).
    pairs, counts = np.unique(pairs, axis=0, return_counts=True)
    weight = counts.astype(np.float64)
    n, m = len(x), len(pairs)
    k = matern52(x, x, hyper.variance, hyper.lengthscale) + 1e-8 * hyper.variance * np.eye(n)
    c = np.zeros((m, n))
    c[np.arange(m), pairs[:, 0]] = 1.0 / SQRT2
    c[np.arange(m), pairs[:, 1]] = -1.0 / SQRT2
    ck = c @ k  # (m, n)

    def objective(f: np.ndarray, a: np.ndarray) -> float:
        return float(weight @ _pair_terms(f, pairs)[0] - 0.5 * a @ f)

    a = np.zeros(n)
    f = np.zeros(n)
    psi = objective(f, a)
    for _ in range(max_iters):
        _logp, d1, w = _pair_terms(f, pairs)
        d1, w = weight * d1, weight * w
        curv = _Curvature.of(c, k, ck, w)
        bvec = c.T @ (w * (c @ f)) + c.T @ d1  # W f + dlogL/df
        step = bvec - curv.b_k(bvec, k) - a
        for _half in range(10):
            a_try = a + step
            f_try = k @ a_try
            psi_try = objective(f_try, a_try)
            if psi_try >= psi - 1e-12:
                break
            step *= 0.5
        converged = abs(psi_try - psi) < tol * (1.0 + abs(psi))
        a, f, psi = a_try, f_try, psi_try
        if converged:
            break
    curv = _Curvature.of(c, k, ck, weight * _pair_terms(f, pairs)[2])
    post = LinearPosterior(x, a, curv.matrix(), hyper)
    return LaplaceFit(post, f, psi - 0.5 * curv.logdet)


def fit_preference_grid(
    x: np.ndarray,
    pairs: np.ndarray,
    base_lengthscale: np.ndarray,
    variances: tuple[float, ...] = (1.0, 4.0, 16.0),
    scales: tuple[float, ...] = (0.5, 1.0, 2.0),
) -> LaplaceFit:
    """The best fit by Laplace evidence over a small grid of kernel variance x lengthscale
    multiplier (a gradient fit of ARD lengthscales from a few dozen comparisons overfits;
    a grid of 9 costs ~10 ms at 60 faces)."""
    best: LaplaceFit | None = None
    for v in variances:
        for s in scales:
            # noise: the fantasy noise of Kriging-believer steps, a tenth of the utility's
            # variance (the probit likelihood itself has unit noise).
            hyper = Hyper(v, np.asarray(base_lengthscale, dtype=np.float64) * s, 0.1 * v)
            fit = fit_preference(x, pairs, hyper)
            if best is None or fit.log_evidence > best.log_evidence:
                best = fit
    assert best is not None
    return best
