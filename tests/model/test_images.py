"""face_array_from_bytes and the photo-folder loader on good, damaged and hostile files."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from model.data import DataError, load_data, load_folder
from model.images import ImageError, face_array_from_bytes


def _encode(img: Image.Image, fmt: str, **kw: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims width x height pixels in a few dozen bytes (a decompression bomb)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def _photo(w: int = 120, h: int = 80) -> Image.Image:
    """Left half red, right half blue, a green square in the middle."""
    a = np.zeros((h, w, 3), dtype=np.uint8)
    a[:, : w // 2] = (220, 30, 30)
    a[:, w // 2 :] = (30, 30, 220)
    a[h // 2 - 10 : h // 2 + 10, w // 2 - 10 : w // 2 + 10] = (30, 200, 30)
    return Image.fromarray(a)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_decodes_crops_and_resizes(fmt: str) -> None:
    face = face_array_from_bytes(_encode(_photo(), fmt), 32)
    assert face.shape == (32, 32, 3) and face.dtype == np.uint8
    # Centre crop of the 120x80 frame: the middle is green, red on the left, blue on the right.
    assert face[16, 16, 1] > 150
    assert face[16, 2, 0] > 150 and face[16, 29, 2] > 150


def test_exif_orientation_is_applied() -> None:
    img = _photo(120, 80)
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    face = face_array_from_bytes(_encode(img, "JPEG", exif=exif, quality=95), 32)
    # After rotation red (left) ends up on top and blue at the bottom.
    assert face[1, 16, 0] > 150 and face[30, 16, 2] > 150


def test_transparency_and_palette_become_rgb() -> None:
    rgba = Image.new("RGBA", (40, 40), (0, 0, 0, 0))
    face = face_array_from_bytes(_encode(rgba, "PNG"), 8)
    assert face.min() == 255  # transparent -> white, not black
    pal = _photo().convert("P")
    assert face_array_from_bytes(_encode(pal, "GIF"), 8).shape == (8, 8, 3)
    for mode in ("I;16", "CMYK", "L", "LA"):
        fmt = "JPEG" if mode == "CMYK" else "PNG"
        face = face_array_from_bytes(_encode(Image.new(mode, (30, 20)), fmt), 8)
        assert face.shape == (8, 8, 3) and face.dtype == np.uint8


def _refusal(data: bytes, max_pixels: int = 40_000_000) -> ImageError:
    with pytest.raises(ImageError) as caught:
        face_array_from_bytes(data, 32, max_pixels)
    return caught.value


def test_refuses_non_images_truncated_files_and_bombs() -> None:
    # Each refusal carries a reason for people and a kind for code that answers in its own words.
    refused = _refusal(b"%PDF-1.4 definitely not a photo")
    assert "not an image" in str(refused) and refused.kind == "not_image"
    refused = _refusal(b"")
    assert "empty" in str(refused) and refused.kind == "empty"
    jpeg = _encode(_photo(400, 300), "JPEG")
    refused = _refusal(jpeg[: len(jpeg) // 2])
    assert "damaged" in str(refused) and refused.kind == "damaged"
    png = _encode(_photo(400, 300), "PNG")
    assert _refusal(png[: len(png) - 40]).kind == "damaged"
    # A tiny file claiming a huge canvas is refused from its header, before decoding pixels.
    refused = _refusal(_png_header_only(20_000, 20_000))
    assert "too large" in str(refused) and refused.kind == "too_large"
    assert _refusal(_encode(_photo(), "PNG"), max_pixels=1000).kind == "too_large"


def test_celeba_aligned_frames_use_the_face_box() -> None:
    a = np.full((218, 178, 3), 10, dtype=np.uint8)
    a[35:183, 15:163] = 240  # the 148x148 face box is bright, the rest dark
    face = face_array_from_bytes(_encode(Image.fromarray(a), "PNG"), 16)
    assert face.min() > 200


def test_folder_loader_skips_corrupt_and_counts_non_images(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FOTOROBOT_CACHE_DIR", str(tmp_path / "cache"))
    tmp_path = tmp_path / "photos"
    tmp_path.mkdir()
    sub = tmp_path / "img_align_celeba"
    sub.mkdir()
    for i in range(3):
        (sub / f"{i:06d}.jpg").write_bytes(_encode(_photo(178, 218), "JPEG"))
    good_png = _encode(_photo(), "PNG")
    (tmp_path / "deep").mkdir()
    (tmp_path / "deep" / "a.png").write_bytes(good_png)
    (sub / "broken.jpg").write_bytes(_encode(_photo(178, 218), "JPEG")[:300])
    (sub / "fake.png").write_bytes(b"hello, I am text")
    (tmp_path / "list_attr_celeba.txt").write_text("not an image\n")
    (tmp_path / ".hidden.jpg").write_bytes(b"ignored")
    # These test pictures hold no face: crop them as they are (align=False).
    data = load_folder(tmp_path, 16, workers=2, align=False)
    assert data.images.shape == (4, 16, 16, 3)
    assert data.skipped == 2 and data.ignored == 1
    assert any("broken.jpg" in e for e in data.skipped_examples)
    assert load_data(str(tmp_path), 16, align=False).images.shape == (4, 16, 16, 3)
    # Aligned, none of them has a face: each is counted, and the error says so.
    with pytest.raises(DataError, match="4 without a face, 2 unreadable"):
        load_data(str(tmp_path), 16)


def test_bad_data_specs_raise_data_errors(tmp_path: Path) -> None:
    with pytest.raises(DataError):
        load_data(str(tmp_path / "missing"), 16)
    with pytest.raises(DataError, match="no image files"):
        load_data(str(tmp_path), 16)
    with pytest.raises(DataError):
        load_data("synthetic:lots", 16)
    assert load_data("synthetic:3:7", 16).images.shape == (3, 16, 16, 3)
