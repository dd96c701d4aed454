"""Simulated raters: score faces 1-10 by their image similarity to a target face.

Similarity (documented in docs/search.md): both images are averaged over 4x4 pixel blocks
(64x64 -> 16x16, which keeps the face's layout, colours and hair but drops pixel detail a
person would not remember), the root-mean-square difference of the [0, 1] pixel values is
taken, and similarity = max(0, 1 - RMSE / 0.25). Identical images give 1; an RMSE of 0.25
(a wholly different face and background) gives 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

RMSE_SCALE = 0.25
BLOCK = 4


def _pooled(images: np.ndarray) -> np.ndarray:
    """(n, H, W, 3) uint8 -> (n, H/B, W/B, 3) float in [0, 1], block-averaged."""
    x = np.asarray(images, dtype=np.float32) / 255.0
    if x.ndim == 3:
        x = x[None]
    n, h, w, c = x.shape
    b = BLOCK if h % BLOCK == 0 and w % BLOCK == 0 else 1
    return x.reshape(n, h // b, b, w // b, b, c).mean(axis=(2, 4))


def image_similarity(images: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Similarity in [0, 1] of each image (n, H, W, 3) to the target image (H, W, 3)."""
    a = _pooled(images)  # (n, h, w, 3)
    t = _pooled(target)  # (1, h, w, 3)
    rmse = np.sqrt(((a - t) ** 2).mean(axis=(1, 2, 3)))
    return np.clip(1.0 - rmse / RMSE_SCALE, 0.0, 1.0)


@dataclass(frozen=True)
class RaterConfig:
    """How a simulated person turns similarity into a 1-10 rating."""

    noise: float = 0.75  # sd of the rating noise, in rating points
    relative: bool = False  # judge each face against the rest of its album
    low_quantile: float = 0.05  # similarity of this quantile of random faces maps to 1


class SimulatedRater:
    """A person with one target face in mind who rates shown faces 1-10 with noise.

    Rating = round(1 + 9 * c + noise), clipped to 1..10, where c rescales similarity so that
    the `low_quantile` of random prior faces maps to 0 and a perfect match to 1 (people use
    the whole scale for what they are shown). With relative=True, c is replaced by
    0.5 + 2 (c - album mean of c): the rater compares the faces of one album.
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
        """True (noise-free) similarity of each image to the target."""
        return image_similarity(images, self.target)

    def rate(self, similarities: np.ndarray) -> np.ndarray:
        """Integer ratings 1..10 for one album, given the faces' similarities."""
        sims = np.asarray(similarities, dtype=np.float64)
        c = np.clip((sims - self.low) / (1.0 - self.low), 0.0, 1.0)
        if self.config.relative and len(c) > 1:
            c = np.clip(0.5 + 2.0 * (c - c.mean()), 0.0, 1.0)
        raw = 1.0 + 9.0 * c + self.rng.normal(0.0, self.config.noise, size=len(c))
        return np.clip(np.rint(raw), 1, 10).astype(np.int64)
