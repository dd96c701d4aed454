"""Rendering: sizes, formats that decode back, labels drawn, Telegram limits, inputs untouched."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from bot import render


def faces(n: int, size: int = 64, noise: float = 0.0, seed: int = 0) -> np.ndarray:
    """Smooth face-sized test pictures, each a different colour field (plus optional noise)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:size, 0:size] / size  # (S, S)
    out = np.empty((n, size, size, 3), np.uint8)
    for i in range(n):
        c = rng.random((3, 3))
        for k in range(3):
            field = 128 + 100 * np.sin(6 * x * c[k, 0] + 5 * y * c[k, 1] + 6 * c[k, 2])
            out[i, :, :, k] = np.clip(field + rng.normal(0, noise, (size, size)), 0, 255)
    return out


def decode(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def n_frames(image: Image.Image) -> int:
    """Frames of an animation (1 for a still picture)."""
    return int(getattr(image, "n_frames", 1))


def within_telegram_photo_limits(data: bytes) -> bool:
    w, h = decode(data).size
    return w + h <= 10_000 and max(w, h) / min(w, h) <= 20 and len(data) < 10_000_000


def test_album_images_are_upscaled_jpegs() -> None:
    stack = faces(4)
    images = render.album_images(stack, size=384)
    assert len(images) == 4
    for data, face in zip(images, stack, strict=True):
        image = decode(data)
        assert image.format == "JPEG" and image.size == (384, 384) and image.mode == "RGB"
        # Downscaled back it is the same face (LANCZOS and JPEG keep the picture).
        back = np.asarray(image.resize((64, 64), Image.Resampling.BOX), dtype=np.int16)
        assert np.abs(back - face.astype(np.int16)).mean() < 4


def test_album_images_are_smooth_not_blocky() -> None:
    (data,) = render.album_images(faces(1, noise=30), size=384)  # detail, as a real face has
    pixels = np.asarray(decode(data), dtype=np.float64)
    # 64 -> 384 px is 6x. Nearest-neighbour upscaling repeats each pixel in a 6x6 block, so
    # the picture changes only where one block meets the next (every 6th column) and JPEG
    # noise is all that varies inside; a real filter spreads the change over every column.
    steps = np.abs(np.diff(pixels, axis=1)).mean(axis=(0, 2))  # (383,) change per column step
    at_edges = steps[5::6].mean()
    inside = np.delete(steps, np.s_[5::6]).mean()
    assert at_edges < 2.5 * inside, f"blocky: {at_edges:.2f} at block edges, {inside:.2f} inside"


def test_large_face_size_and_caption() -> None:
    face = faces(1)[0]
    plain = decode(render.large_face(face))
    assert plain.size == (512, 512)
    small = decode(render.large_face(face, size=256))
    assert small.size == (256, 256)
    captioned = decode(render.large_face(face, size=512, caption="Best: 9 (round 3, #2)"))
    assert captioned.width == 512 and captioned.height > 512
    strip = np.asarray(captioned)[512:]
    assert (strip < 128).any(), "caption text must be drawn"
    assert np.array_equal(np.asarray(captioned)[:512], np.asarray(plain))


def test_caption_text_matters_and_long_text_fits() -> None:
    face = faces(1)[0]
    a = np.asarray(decode(render.large_face(face, caption="rating 9")))
    b = np.asarray(decode(render.large_face(face, caption="rating 3")))
    assert not np.array_equal(a, b)
    cyrillic = decode(render.large_face(face, caption="Лучшее: 8.5 (раунд 3)"))
    assert (np.asarray(cyrillic)[512:] < 128).any()
    long = decode(render.large_face(face, caption="x" * 1000))
    assert long.width == 512


def test_history_grid_layout_and_labels() -> None:
    stack = faces(10)
    labels = [f"{i // 4 + 1}#{i % 4 + 1} {i / 2:g}" for i in range(10)]
    image = decode(render.history_grid(stack, labels, columns=4, cell=96))
    assert image.format == "PNG"
    cols, rows, cell, label = render.grid_layout(10, 4, 96)
    assert (cols, rows, cell) == (4, 3, 96)
    assert image.size == (cols * (cell + 2) + 2, rows * (cell + label + 2) + 2)
    blank = decode(render.history_grid(stack, [""] * 10, columns=4, cell=96))
    other = decode(render.history_grid(stack, ["9"] * 10, columns=4, cell=96))
    a, b, c = (np.asarray(i) for i in (image, blank, other))
    assert not np.array_equal(a, b) and not np.array_equal(a, c)
    # Label strips differ, face tiles are identical.
    assert np.array_equal(a[2 : 2 + 96, 2 : 2 + 96], b[2 : 2 + 96, 2 : 2 + 96])


def test_grid_of_one_face() -> None:
    image = decode(render.history_grid(faces(1), ["1#1 5"]))
    assert image.width < image.height < 2 * image.width


@pytest.mark.parametrize("n", [200, 1000])
def test_many_faces_stay_within_telegram_limits(n: int) -> None:
    stack = np.concatenate([faces(50, noise=10.0)] * (n // 50))  # noise: worst-case PNG size
    data = render.history_grid(stack, [f"{i}#1 7.5" for i in range(n)], columns=8)
    assert within_telegram_photo_limits(data)
    w, h = decode(data).size
    assert h <= 2.5 * w  # widened past 8 columns instead of a thin strip


def test_layout_limits_for_every_count() -> None:
    for n in [1, 2, 7, 8, 9, 63, 64, 65, 160, 500, 2000]:
        cols, rows, cell, label = render.grid_layout(n, 8, 128)
        assert cols * rows >= n > cols * (rows - 1)
        width, height = cols * (cell + 2) + 2, rows * (cell + label + 2) + 2
        assert width + height <= 10_000 and max(width, height) / min(width, height) <= 20
        assert cell >= render.GRID_MIN_CELL


def test_too_many_faces_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="do not fit"):
        render.grid_layout(100_000, 8, 128)


def test_morph_animation_ping_pong_loop() -> None:
    ends = faces(2, seed=3).astype(np.float32)
    t = np.linspace(0.0, 1.0, 6)[:, None, None, None]  # (6, 1, 1, 1)
    stack = ((1 - t) * ends[0] + t * ends[1]).round().astype(np.uint8)  # (6, 64, 64, 3)
    gif = decode(render.morph_animation(stack, size=128, frame_ms=80))
    assert gif.format == "GIF" and gif.size == (128, 128)
    assert gif.info.get("loop") == 0
    assert n_frames(gif) == 2 * 6 - 2
    frames = []
    for k in range(n_frames(gif)):
        gif.seek(k)
        frames.append(np.asarray(gif.convert("RGB"), dtype=np.int16))
    # forward then back: frame k equals frame (2n - 2 - k)
    for k in range(1, 5):
        assert np.array_equal(frames[k], frames[2 * 6 - 2 - k])
    assert np.abs(frames[0] - frames[5]).mean() > 10  # start and end faces differ
    small = np.asarray(Image.fromarray(stack[0]).resize((128, 128), Image.Resampling.LANCZOS))
    # Palette error stays small even for these rainbow fields (real faces: about 2).
    assert np.abs(frames[0] - small.astype(np.int16)).mean() < 7


def test_morph_animation_durations_hold_the_ends() -> None:
    gif = decode(render.morph_animation(faces(4), size=64, frame_ms=50))
    durations = []
    for k in range(n_frames(gif)):
        gif.seek(k)
        durations.append(gif.info["duration"])
    assert durations[0] > 50 and durations[3] > 50 and durations[1] == 50


def test_morph_animation_size_bound() -> None:
    data = render.morph_animation(faces(100, noise=10.0), size=256)
    assert len(data) <= render.MAX_GIF_BYTES
    gif = decode(data)
    assert n_frames(gif) <= 2 * render.MAX_MORPH_FRAMES


def test_single_frame_morph() -> None:
    assert n_frames(decode(render.morph_animation(faces(1), size=64))) == 1


def test_inputs_are_never_modified() -> None:
    stack = faces(5)
    before = stack.copy()
    render.album_images(stack)
    render.large_face(stack[0], caption="x")
    render.history_grid(stack, list("abcde"))
    render.morph_animation(stack, size=64)
    assert np.array_equal(stack, before)
    assert stack.flags.writeable  # the caller's array keeps its flags


@pytest.mark.parametrize(
    "bad",
    [
        np.zeros((4, 64, 64), np.uint8),
        np.zeros((4, 64, 64, 4), np.uint8),
        np.zeros((4, 64, 64, 3), np.float32),
        np.zeros((0, 64, 64), np.uint8),
    ],
)
def test_bad_arrays_are_refused(bad: np.ndarray) -> None:
    with pytest.raises(ValueError):
        render.album_images(bad)
    with pytest.raises(ValueError):
        render.morph_animation(bad)


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="labels"):
        render.history_grid(faces(3), ["a", "b"])
    with pytest.raises(ValueError):
        render.history_grid(faces(0), [])
    with pytest.raises(ValueError):
        render.large_face(faces(1)[0], size=10)
    with pytest.raises(ValueError):
        render.large_face(faces(2))
