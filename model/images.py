"""Turning untrusted image bytes into square RGB face arrays (training folders, bot uploads)."""

from __future__ import annotations

import io
import warnings

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

# CelebA's img_align_celeba frames are 178x218 with the face centred a little above the middle;
# the usual 148-pixel box keeps the face and drops most of the background and shoulders.
CELEBA_ALIGNED_SIZE = (178, 218)
CELEBA_FACE_BOX = (15, 35, 163, 183)

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff")


class ImageError(ValueError):
    """An image that cannot be used as a face, with a short human-readable reason.

    `kind` says why for callers that answer in their own words (the bot, in the user's
    language): "empty", "too_large", "not_image", "damaged", "unsupported" or "unreadable".
    """

    def __init__(self, reason: str, kind: str = "damaged") -> None:
        super().__init__(reason)
        self.kind = kind


def square_box(width: int, height: int) -> tuple[int, int, int, int]:
    """The crop box of the face: CelebA's aligned face box, else the centred square."""
    if (width, height) == CELEBA_ALIGNED_SIZE:
        return CELEBA_FACE_BOX
    side = min(width, height)
    left = (width - side) // 2
    top = (height - side) // 2
    return (left, top, left + side, top + side)


def _flatten_alpha(im: Image.Image) -> Image.Image:
    """RGB on a white background, so transparent PNG/WebP areas do not turn black."""
    if im.mode in ("RGBA", "LA") or (im.mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return im.convert("RGB")


def face_array_from_bytes(data: bytes, size: int, max_pixels: int = 40_000_000) -> np.ndarray:
    """Decode an image file into a (size, size, 3) uint8 face: upright, square, anti-aliased."""
    if size < 1:
        raise ValueError(f"size must be positive, got {size}")
    if not data:
        raise ImageError("the file is empty", "empty")
    try:
        with warnings.catch_warnings():
            # We enforce our own pixel limit below, before any pixel is decoded.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                width, height = probe.size
                if width < 1 or height < 1:
                    raise ImageError("the image has no pixels", "damaged")
                if width * height > max_pixels:
                    raise ImageError(
                        f"the image is too large ({width}x{height} pixels, limit {max_pixels})",
                        "too_large",
                    )
                probe.verify()
            src = Image.open(io.BytesIO(data))
            # JPEG can decode at 1/2, 1/4, 1/8 scale directly: far cheaper for large photos.
            box = square_box(width, height)
            if src.format == "JPEG" and box != CELEBA_FACE_BOX:
                src.draft("RGB", (2 * size, 2 * size))
            src.load()
            im = ImageOps.exif_transpose(src)
    except ImageError:
        raise
    except UnidentifiedImageError as err:
        raise ImageError("not an image file (unknown format)", "not_image") from err
    except Image.DecompressionBombError as err:
        raise ImageError("the image is too large (decompression bomb)", "too_large") from err
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, KeyError) as err:
        # Pillow reports truncated or corrupt data as any of these, depending on the codec.
        raise ImageError(f"the image is damaged or truncated ({err})", "damaged") from err
    try:
        rgb = _flatten_alpha(im)
        box = square_box(*rgb.size)
        face = rgb.resize((size, size), Image.Resampling.LANCZOS, box=box, reducing_gap=3.0)
    except (OSError, ValueError) as err:  # exotic modes (16-bit, LAB, ...) Pillow cannot convert
        raise ImageError(f"unsupported image type ({err})", "unsupported") from err
    return np.asarray(face, dtype=np.uint8).copy()


def face_array_from_file(path: str, size: int, max_pixels: int = 40_000_000) -> np.ndarray:
    """Read one image file from disk as a face array; raises ImageError like the bytes version."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as err:
        raise ImageError(f"cannot read the file ({err.strerror})", "unreadable") from err
    return face_array_from_bytes(data, size, max_pixels)
