"""Pixels to bytes for Telegram: album photos, the large best face, history grid, morph GIF.

Pillow + numpy only, CPU-bound: call these off the event loop. Inputs are uint8 RGB arrays
that are only read, never modified. Outputs respect Telegram's photo limits (width + height
<= 10000, side ratio <= 20, under 10 MB) so sendPhoto never refuses them.
"""

from __future__ import annotations

import io
import math
from functools import lru_cache
from importlib import resources

import numpy as np
from PIL import Image, ImageDraw, ImageFont

MAX_SIDE_SUM = 10_000  # Telegram: width + height of a photo
MAX_RATIO = 20  # Telegram: longer side / shorter side
MAX_PHOTO_BYTES = 10_000_000  # Telegram: sendPhoto upload
GRID_MAX_PIXELS = 5_000_000  # keeps a grid PNG of smooth faces well under MAX_PHOTO_BYTES
GRID_MIN_CELL = 32
MAX_GIF_BYTES = 4_000_000  # "a few MB": quick to send, quick to load on a phone
MAX_MORPH_FRAMES = 48  # one way; ping-pong roughly doubles it
_GAP = 2
_BACKGROUND = (255, 255, 255)
_INK = (20, 20, 20)

FontType = ImageFont.FreeTypeFont


# DejaVu Sans, shipped with the package (bot/fonts, its licence beside it): Latin, Cyrillic and
# punctuation only, subset from the full font with fontTools' pyftsubset (88 KB, not 756 KB).
_FONT = resources.files("bot") / "fonts" / "DejaVuSans.ttf"


@lru_cache(maxsize=32)
def _font(size: int) -> FontType:
    """The bundled DejaVu Sans at this pixel size."""
    with resources.as_file(_FONT) as path:
        return ImageFont.truetype(str(path), size)


def _faces(faces: np.ndarray, name: str = "faces") -> np.ndarray:
    """Validate an (n, H, W, 3) uint8 stack; a read-only view so nothing can write to it."""
    arr = np.asarray(faces)
    if arr.ndim != 4 or arr.shape[-1] != 3 or arr.shape[1] < 1 or arr.shape[2] < 1:
        raise ValueError(f"{name} must be (n, H, W, 3), got shape {arr.shape}")
    if arr.dtype != np.uint8:
        raise ValueError(f"{name} must be uint8, got {arr.dtype}")
    view = arr.view()
    view.flags.writeable = False
    return view


def _image(face: np.ndarray) -> Image.Image:
    return Image.fromarray(np.ascontiguousarray(face), mode="RGB")  # Pillow copies the pixels


def _upscale(face: np.ndarray, width: int) -> Image.Image:
    """Resize to `width` keeping the aspect ratio, with LANCZOS (sharp, no blocky pixels)."""
    h, w = face.shape[:2]
    height = max(1, round(width * h / w))
    return _image(face).resize((width, height), Image.Resampling.LANCZOS)


def _png(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG", compress_level=6)
    return buf.getvalue()


def _jpeg(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="JPEG", quality=92, subsampling=0)  # 4:4:4: no colour bleeding
    return buf.getvalue()


def _fit_text(draw: ImageDraw.ImageDraw, text: str, font: FontType, width: int) -> str:
    """The text, shortened with an ellipsis until it fits `width` pixels."""
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text + "…" if text else ""


def _draw_centered(
    draw: ImageDraw.ImageDraw, box: tuple[int, int, int, int], text: str, font: FontType
) -> None:
    left, top, right, bottom = box
    fitted = _fit_text(draw, text, font, right - left - 4)
    if fitted:
        center = ((left + right) / 2, (top + bottom) / 2)
        draw.text(center, fitted, fill=_INK, font=font, anchor="mm")


def album_images(faces: np.ndarray, size: int = 384) -> list[bytes]:
    """One JPEG per face, upscaled to `size` px wide for a crisp album on a phone.

    JPEG, not PNG: Telegram re-encodes every photo to JPEG anyway, and at quality 92 with full
    chroma a 384 px face encodes ~10x faster (about 2 ms against 24 ms) and 4x smaller.
    """
    stack = _faces(faces)
    if not 16 <= size <= 2048:
        raise ValueError(f"size must be 16..2048, got {size}")
    return [_jpeg(_upscale(face, size)) for face in stack]


def large_face(face: np.ndarray, size: int = 512, caption: str | None = None) -> bytes:
    """One face as a large PNG (`size` px wide), with an optional caption strip below it."""
    (one,) = _faces(np.asarray(face)[None], "face")
    if not 64 <= size <= 4096:
        raise ValueError(f"size must be 64..4096, got {size}")
    picture = _upscale(one, size)
    if not caption:
        return _png(picture)
    strip = max(24, size // 10)
    canvas = Image.new("RGB", (picture.width, picture.height + strip), _BACKGROUND)
    canvas.paste(picture, (0, 0))
    draw = ImageDraw.Draw(canvas)
    font = _font(max(10, int(strip * 0.55)))
    _draw_centered(draw, (0, picture.height, canvas.width, canvas.height), caption, font)
    return _png(canvas)


def grid_layout(n: int, columns: int, cell: int) -> tuple[int, int, int, int]:
    """(columns, rows, cell, label_height) for n faces within Telegram's photo limits."""
    if n < 1:
        raise ValueError("a grid needs at least one face")
    cols = max(1, min(int(columns), n))
    # Many faces: widen past `columns` rather than make a tall strip that phones shrink to nothing.
    while cols < n and math.ceil(n / cols) * (cell * 1.2) > 2 * cols * cell:
        cols += 1
    rows = math.ceil(n / cols)
    cell = int(cell)
    while True:
        label = max(12, cell // 6)
        width = cols * (cell + _GAP) + _GAP
        height = rows * (cell + label + _GAP) + _GAP
        ratio = max(width, height) / min(width, height)
        fits = (
            width + height <= MAX_SIDE_SUM
            and width * height <= GRID_MAX_PIXELS
            and ratio <= MAX_RATIO
        )
        if fits:
            return cols, rows, cell, label
        if cell <= GRID_MIN_CELL:
            raise ValueError(f"{n} faces do not fit one image; show fewer")
        cell = max(GRID_MIN_CELL, int(cell * 0.9))


def history_grid(faces: np.ndarray, labels: list[str], columns: int = 8, cell: int = 128) -> bytes:
    """A PNG grid of faces, each with its label (e.g. "3#2 7.5") underneath."""
    stack = _faces(faces)
    if len(labels) != len(stack):
        raise ValueError(f"{len(stack)} faces but {len(labels)} labels")
    if not GRID_MIN_CELL <= cell <= 512:
        raise ValueError(f"cell must be {GRID_MIN_CELL}..512, got {cell}")
    while True:
        cols, rows, size, label = grid_layout(len(stack), columns, cell)
        data = _png(_grid(stack, [str(t) for t in labels], cols, rows, size, label))
        if len(data) <= MAX_PHOTO_BYTES * 0.95 or size <= GRID_MIN_CELL:
            return data
        cell = max(GRID_MIN_CELL, int(size * 0.8))  # noisy faces compress badly: smaller cells


def _grid(
    stack: np.ndarray, labels: list[str], cols: int, rows: int, cell: int, label: int
) -> Image.Image:
    width = cols * (cell + _GAP) + _GAP
    height = rows * (cell + label + _GAP) + _GAP
    canvas = Image.new("RGB", (width, height), _BACKGROUND)
    draw = ImageDraw.Draw(canvas)
    font = _font(max(9, int(label * 0.75)))
    for i, (face, text) in enumerate(zip(stack, labels, strict=True)):
        row, col = divmod(i, cols)
        x = _GAP + col * (cell + _GAP)
        y = _GAP + row * (cell + label + _GAP)
        tile = _image(face).resize((cell, cell), Image.Resampling.LANCZOS)
        canvas.paste(tile, (x, y))
        _draw_centered(draw, (x, y + cell, x + cell, y + cell + label), text, font)
    return canvas


def _palette(stack: np.ndarray) -> Image.Image:
    """One 255-colour palette for all frames: steady colours (no flicker), smaller file."""
    picks = np.unique(np.linspace(0, len(stack) - 1, min(len(stack), 16)).round().astype(int))
    # The source frames hold every colour the upscaled ones show, at 1/16 of the pixels.
    tiles = np.concatenate([stack[i] for i in picks], axis=0)  # (k*H, W, 3)
    return _image(tiles).quantize(colors=255, method=Image.Quantize.MEDIANCUT)


def _gif(images: list[Image.Image], durations: list[int], palette: Image.Image) -> bytes:
    frames = [im.quantize(palette=palette, dither=Image.Dither.NONE) for im in images]
    buf = io.BytesIO()
    frames[0].save(
        buf,
        format="GIF",
        save_all=True,
        append_images=frames[1:],
        duration=durations,
        loop=0,
        disposal=1,
        optimize=False,
    )
    return buf.getvalue()


def morph_animation(frames: np.ndarray, size: int = 256, frame_ms: int = 80) -> bytes:
    """A looping ping-pong GIF of the frames (start -> end -> start), held briefly at both ends."""
    stack = _faces(frames, "frames")
    if not 32 <= size <= 1024:
        raise ValueError(f"size must be 32..1024, got {size}")
    if not 20 <= frame_ms <= 5000:
        raise ValueError(f"frame_ms must be 20..5000, got {frame_ms}")
    if len(stack) > MAX_MORPH_FRAMES:
        keep = np.linspace(0, len(stack) - 1, MAX_MORPH_FRAMES).round().astype(int)
        stack = stack[keep]
    order = list(range(len(stack))) + list(range(len(stack) - 2, 0, -1))
    durations = [frame_ms] * len(order)
    durations[0] = durations[len(stack) - 1] = frame_ms * 6  # linger on the two faces compared
    palette = _palette(stack)
    while True:
        unique = [_upscale(face, size) for face in stack]
        data = _gif([unique[i] for i in order], durations, palette)
        if len(data) <= MAX_GIF_BYTES or size <= 64:
            return data
        size = max(64, int(size * 0.8))
