"""Simulated raters: a person with a target face in mind scores shown faces 1-10 or picks one.

What a face looks like next to the target is measured three ways (docs/search.md has the
figures behind every constant):

- pixel: both images averaged over 4x4 pixel blocks (64x64 -> 16x16, which keeps the face's
  layout, colours and hair but drops detail a person would not remember), the root-mean-square
  difference of the [0, 1] values, similarity = max(0, 1 - RMSE / 0.25). Identical images
  give 1; an RMSE of 0.25 (a wholly different face and background) gives 0.
- look: the same inside an ellipse around the face and hair (the background corners left
  out: nobody remembers the wall behind a person), the mixed rater's non-identity part.
- identity: the dlib face-recognition distance d between the face and the target photo
  (descriptors come from a callable, so this package never imports torch), mapped linearly:
  d <= ID_NEAR (two photos of one person) gives 1, d >= ID_FAR (two strangers) gives 0.

A rater kind combines them into one similarity s in [0, 1]: pixel = pixel, identity =
identity, mixed = MIXED_IDENTITY * identity + (1 - MIXED_IDENTITY) * look.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

RMSE_SCALE = 0.25
BLOCK = 4
# dlib's own threshold (model.dlib_resnet.SAME_PERSON_DISTANCE; this package cannot import
# model, tests/optimization/test_raters.py checks both agree).
SAME_PERSON_DISTANCE = 0.6
# Identity similarity anchors. ID_NEAR: two different photos of one person typically lie at
# 0.3-0.45 (dlib's LFW pairs), so a face at 0.35 is as good as another photo of the person.
# ID_FAR: beyond the farthest random decoded face from a CelebA photo (99th percentile 0.89
# on the identity-trained checkpoint, 1.02 the largest seen on the first one), so the line
# never saturates in the range faces occupy; the rater's own calibration (the 5 % quantile
# of random faces rates 1) sets where its scale starts.
ID_NEAR = 0.35
ID_FAR = 1.05
# A person's judgement is mostly "is it them" but also hair, face shape and colouring (the
# part a face-recognition network is built to ignore): 60 / 40.
MIXED_IDENTITY = 0.6
RATER_KINDS = ("pixel", "identity", "mixed")

Describe = Callable[[np.ndarray], np.ndarray]  # (n, S, S, 3) uint8 -> (n, 128) descriptors


def _pooled(images: np.ndarray) -> np.ndarray:
    """(n, H, W, 3) uint8 -> (n, H/B, W/B, 3) float in [0, 1], block-averaged."""
    x = np.asarray(images, dtype=np.float32) / 255.0
    if x.ndim == 3:
        x = x[None]
    n, h, w, c = x.shape
    b = BLOCK if h % BLOCK == 0 and w % BLOCK == 0 else 1
    return x.reshape(n, h // b, b, w // b, b, c).mean(axis=(2, 4))


def image_similarity(images: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Pixel similarity in [0, 1] of each image (n, H, W, 3) to the target image (H, W, 3)."""
    a = _pooled(images)  # (n, h, w, 3)
    t = _pooled(target)  # (1, h, w, 3)
    rmse = np.sqrt(((a - t) ** 2).mean(axis=(1, 2, 3)))
    return np.clip(1.0 - rmse / RMSE_SCALE, 0.0, 1.0)


def look_mask(h: int, w: int) -> np.ndarray:
    """(h, w) bool: an ellipse over the face and hair of the canonical frame (the eyes sit at
    0.52 of the height, the chin near 0.95; hair reaches the top)."""
    yy, xx = np.mgrid[0:h, 0:w]
    cy, cx = (yy + 0.5) / h, (xx + 0.5) / w
    return ((cx - 0.5) / 0.42) ** 2 + ((cy - 0.52) / 0.5) ** 2 <= 1.0


def look_similarity(images: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Pixel similarity restricted to the face-and-hair ellipse (background ignored)."""
    a = _pooled(images)  # (n, h, w, 3)
    t = _pooled(target)  # (1, h, w, 3)
    m = look_mask(a.shape[1], a.shape[2])  # (h, w)
    rmse = np.sqrt(((a - t) ** 2)[:, m].mean(axis=(1, 2)))
    return np.clip(1.0 - rmse / RMSE_SCALE, 0.0, 1.0)


def identity_similarity(distance: np.ndarray) -> np.ndarray:
    """dlib distance -> [0, 1], linear between ID_FAR (0) and ID_NEAR (1)."""
    d = np.asarray(distance, dtype=np.float64)
    return np.clip((ID_FAR - d) / (ID_FAR - ID_NEAR), 0.0, 1.0)


@dataclass(frozen=True)
class Looks:
    """How an album of faces compares with the target, every measure at once."""

    pixel: np.ndarray  # (n,) pixel similarity
    look: np.ndarray  # (n,) face-and-hair similarity
    distance: np.ndarray  # (n,) dlib distance to the target photo (nan: no descriptor)

    def similarity(self, kind: str) -> np.ndarray:
        """The rater kind's similarity in [0, 1]."""
        if kind == "pixel":
            return self.pixel
        if not np.all(np.isfinite(self.distance)):
            raise ValueError(f"the {kind!r} rater needs face descriptors")
        ident = identity_similarity(self.distance)
        if kind == "identity":
            return ident
        if kind == "mixed":
            return MIXED_IDENTITY * ident + (1.0 - MIXED_IDENTITY) * self.look
        raise ValueError(f"unknown rater {kind!r}; known: {', '.join(RATER_KINDS)}")


class TargetJudge:
    """Compares faces with one target photo; descriptors only when a describe is given."""

    def __init__(
        self,
        target: np.ndarray,
        describe: Describe | None = None,
        target_descriptor: np.ndarray | None = None,
    ) -> None:
        self.target = np.asarray(target)
        self.describe = describe
        self.target_descriptor: np.ndarray | None = None
        if target_descriptor is not None:
            self.target_descriptor = np.asarray(target_descriptor, dtype=np.float64).reshape(-1)
        elif describe is not None:
            own = np.array(self.target[None])  # a writable copy for torch
            self.target_descriptor = np.asarray(describe(own), np.float64)[0]

    def looks(self, images: np.ndarray, descriptors: np.ndarray | None = None) -> Looks:
        """Looks of (n, H, W, 3) faces; their descriptors are computed unless given."""
        images = np.asarray(images)
        if self.target_descriptor is None:
            dist = np.full(len(images), np.nan)
        else:
            if descriptors is None:
                if self.describe is None:
                    raise ValueError("no descriptors and no describe callable")
                descriptors = self.describe(images)
            diff = np.asarray(descriptors, dtype=np.float64) - self.target_descriptor
            dist = np.linalg.norm(diff, axis=1)
        return Looks(
            image_similarity(images, self.target), look_similarity(images, self.target), dist
        )


@dataclass(frozen=True)
class RaterConfig:
    """How a simulated person turns similarity into a 1-10 rating."""

    noise: float = 0.75  # sd of the rating noise, in rating points
    relative: bool = False  # judge each face against the rest of its album
    low_quantile: float = 0.05  # similarity of this quantile of random faces maps to 1
    kind: str = "pixel"  # pixel | identity | mixed

    def __post_init__(self) -> None:
        if self.kind not in RATER_KINDS:
            raise ValueError(f"unknown rater {self.kind!r}; known: {', '.join(RATER_KINDS)}")


class SimulatedRater:
    """A person with one target face in mind who rates shown faces 1-10 with noise.

    Rating = round(1 + 9 * c + noise), clipped to 1..10, where c rescales similarity so that
    the `low_quantile` of random prior faces maps to 0 and a perfect match to 1 (people use
    the whole scale for what they are shown). With relative=True, c is replaced by
    0.5 + 2 (c - album mean of c): the rater compares the faces of one album.
    A pick ("this one is closest") is the face with the highest 9 c + noise.
    """

    def __init__(
        self,
        target: np.ndarray,
        random_similarities: np.ndarray,
        config: RaterConfig,
        rng: np.random.Generator,
    ) -> None:
        self.target = np.asarray(target)
        self.config = config
        self.rng = rng
        self.low = float(np.quantile(random_similarities, config.low_quantile))
        self.low = min(self.low, 0.99)

    def similarity(self, images: np.ndarray) -> np.ndarray:
        """Pixel similarity of each image to the target (the pixel rater's own measure)."""
        return image_similarity(images, self.target)

    def _scaled(self, similarities: np.ndarray) -> np.ndarray:
        sims = np.asarray(similarities, dtype=np.float64)
        return np.clip((sims - self.low) / (1.0 - self.low), 0.0, 1.0)

    def rate(self, similarities: np.ndarray) -> np.ndarray:
        """Integer ratings 1..10 for one album, given the faces' similarities."""
        c = self._scaled(similarities)
        if self.config.relative and len(c) > 1:
            c = np.clip(0.5 + 2.0 * (c - c.mean()), 0.0, 1.0)
        raw = 1.0 + 9.0 * c + self.rng.normal(0.0, self.config.noise, size=len(c))
        return np.clip(np.rint(raw), 1, 10).astype(np.int64)

    def pick(self, similarities: np.ndarray) -> int:
        """Index of the face this person calls closest to the one in mind (one answer)."""
        c = self._scaled(similarities)
        noisy = 9.0 * c + self.rng.normal(0.0, self.config.noise, size=len(c))
        return int(np.argmax(noisy))
