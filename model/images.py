"""Turning untrusted image bytes into square RGB face arrays (training folders, bot uploads)."""

from __future__ import annotations

import io
import warnings
from typing import Literal

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

# CelebA's img_align_celeba frames are 178x218 with the face centred a little above the middle;
# the usual 148-pixel box keeps the face and drops most of the background and shoulders.
CELEBA_ALIGNED_SIZE = (178, 218)
CELEBA_FACE_BOX = (15, 35, 163, 183)

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff")


# Why an image was refused, for callers that answer in their own words (the bot, in the user's
# language); "no_face" is a readable picture in which no face was found.
ImageProblem = Literal[
    "empty", "too_large", "not_image", "damaged", "unsupported", "unreadable", "no_face"
]


class ImageError(ValueError):
    """An image that cannot be used as a face, with a short human-readable reason and its
    `kind` (an ImageProblem)."""

    def __init__(self, reason: str, kind: ImageProblem = "damaged") -> None:
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


def decode_photo(data: bytes, max_pixels: int = 40_000_000, draft: int = 0) -> Image.Image:
    """Decode untrusted image bytes into an upright RGB picture (alpha on white).

    `draft` > 0 lets JPEG decode at 1/2, 1/4 or 1/8 scale while keeping both sides >= draft:
    far cheaper for large photos. Raises ImageError for empty, non-image, damaged, exotic or
    oversized (decompression bomb) files.
    """
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
            if draft > 0 and src.format == "JPEG":
                src.draft("RGB", (draft, draft))
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
        return _flatten_alpha(im)
    except (OSError, ValueError) as err:  # exotic modes (16-bit, LAB, ...) Pillow cannot convert
        raise ImageError(f"unsupported image type ({err})", "unsupported") from err


def face_array_from_bytes(data: bytes, size: int, max_pixels: int = 40_000_000) -> np.ndarray:
    """Decode an image file into a (size, size, 3) uint8 face by cropping, without looking
    for the face: CelebA's face box for its 178x218 frames, else the centred square."""
    if size < 1:
        raise ValueError(f"size must be positive, got {size}")
    rgb = decode_photo(data, max_pixels, draft=2 * size)
    try:
        box = square_box(*rgb.size)
        face = rgb.resize((size, size), Image.Resampling.LANCZOS, box=box, reducing_gap=3.0)
    except (OSError, ValueError) as err:
        raise ImageError(f"unsupported image type ({err})", "unsupported") from err
    return np.asarray(face, dtype=np.uint8).copy()


def aligned_face_from_bytes(data: bytes, size: int, max_pixels: int = 40_000_000) -> np.ndarray:
    """Decode a photo, find its largest face and warp it into the canonical frame (see
    model.align): (size, size, 3) uint8. Raises ImageError (kind "no_face" when the photo
    holds no usable face)."""
    from model.align import NoFaceError, align_face

    if size < 1:
        raise ValueError(f"size must be positive, got {size}")
    # Decoding larger than the detector's working size buys nothing but time.
    rgb = np.asarray(decode_photo(data, max_pixels, draft=1024), dtype=np.uint8)
    try:
        return align_face(rgb, size)
    except NoFaceError as err:
        raise ImageError(str(err), "no_face") from err


def read_file_bytes(path: str) -> bytes:
    """The bytes of one image file; ImageError (kind "unreadable") when it cannot be read."""
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as err:
        raise ImageError(f"cannot read the file ({err.strerror})", "unreadable") from err


def face_array_from_file(
    path: str, size: int, max_pixels: int = 40_000_000, align: bool = False
) -> np.ndarray:
    """One image file from disk as a face array, aligned or cropped (see the bytes versions)."""
    data = read_file_bytes(path)
    if align:
        return aligned_face_from_bytes(data, size, max_pixels)
    return face_array_from_bytes(data, size, max_pixels)
