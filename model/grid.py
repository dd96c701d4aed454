"""Image grids for people to look at: prior samples, reconstructions, synthetic faces."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw


def make_grid(
    images: np.ndarray,
    cols: int,
    pad: int = 2,
    scale: int = 1,
    fill: tuple[int, int, int] = (255, 255, 255),
) -> Image.Image:
    """(n, S, S, 3) uint8 -> one PIL image, row-major, with pad pixels between tiles."""
    n, s = images.shape[0], images.shape[1]
    rows = -(-n // cols)
    t = s * scale
    out = Image.new("RGB", (cols * t + (cols + 1) * pad, rows * t + (rows + 1) * pad), fill)
    for i in range(n):
        tile = Image.fromarray(images[i])
        if scale != 1:
            tile = tile.resize((t, t), Image.Resampling.NEAREST)
        r, c = divmod(i, cols)
        out.paste(tile, (pad + c * (t + pad), pad + r * (t + pad)))
    return out


def titled(image: Image.Image, title: str, height: int = 18) -> Image.Image:
    """The image with a one-line caption above it."""
    out = Image.new("RGB", (image.width, image.height + height), (255, 255, 255))
    ImageDraw.Draw(out).text((4, 3), title, fill=(20, 20, 20))
    out.paste(image, (0, height))
    return out


def stack(images: list[Image.Image], gap: int = 6) -> Image.Image:
    """Images one under the other, left-aligned, on white."""
    width = max(im.width for im in images)
    height = sum(im.height for im in images) + gap * (len(images) - 1)
    out = Image.new("RGB", (width, height), (255, 255, 255))
    y = 0
    for im in images:
        out.paste(im, (0, y))
        y += im.height + gap
    return out


def pairs(originals: np.ndarray, recons: np.ndarray) -> np.ndarray:
    """Interleave originals and reconstructions: o0 r0 o1 r1 ... -> (2n, S, S, 3)."""
    out = np.empty((2 * len(originals), *originals.shape[1:]), dtype=np.uint8)
    out[0::2] = originals
    out[1::2] = recons
    return out
