"""Face alignment on a real portrait: found, landmarked and warped upright into the frame."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from model.align import (
    CANONICAL_POINTS,
    NoFaceError,
    align_face,
    find_face,
    similarity_transform,
)
from model.data import load_folder
from model.images import ImageError, aligned_face_from_bytes

ASTRONAUT = Path(__file__).resolve().parents[1] / "data" / "astronaut.jpg"


def _astronaut() -> np.ndarray:
    return np.asarray(Image.open(ASTRONAUT).convert("RGB"))


def _jpeg(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, format="JPEG", quality=92)
    return buf.getvalue()


def _rotated_and_shifted(img: np.ndarray, degrees: float, dx: int, dy: int) -> np.ndarray:
    """The photo turned by `degrees` and placed off-centre on a larger grey canvas."""
    turned = np.asarray(
        Image.fromarray(img).rotate(
            degrees, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=(128, 128, 128)
        )
    )
    canvas = np.full((700, 800, 3), 128, np.uint8)
    h, w = turned.shape[:2]
    canvas[dy : dy + h, dx : dx + w] = turned
    return canvas


def _landmarks_in_frame(face: np.ndarray) -> np.ndarray:
    """The five landmarks found again on an aligned face, in unit frame coordinates."""
    big = np.asarray(Image.fromarray(face).resize((256, 256), Image.Resampling.BICUBIC))
    return find_face(big).points / 256.0


def test_similarity_transform_recovers_a_known_rotation_scale_and_shift() -> None:
    angle, scale, shift = 0.3, 1.7, np.array([5.0, -2.0])
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    src = np.random.default_rng(0).uniform(0, 10, (5, 2))
    dst = scale * src @ rot.T + shift
    mat = similarity_transform(src, dst)
    np.testing.assert_allclose(mat[:, :2], scale * rot, atol=1e-9)
    np.testing.assert_allclose(mat[:, 2], shift, atol=1e-9)


def test_the_portrait_is_aligned_with_its_landmarks_on_the_canonical_points() -> None:
    face = align_face(_astronaut(), 128)
    assert face.shape == (128, 128, 3) and face.dtype == np.uint8
    # The eyes and nose land where the frame puts them (within 3 % of the side).
    np.testing.assert_allclose(_landmarks_in_frame(face), CANONICAL_POINTS, atol=0.03)


@pytest.mark.parametrize(("degrees", "dx", "dy"), [(20, 40, 90), (-25, 230, 10)])
def test_a_rotated_and_shifted_portrait_comes_back_upright_and_centred(
    degrees: float, dx: int, dy: int
) -> None:
    original = align_face(_astronaut(), 96)
    moved = _rotated_and_shifted(_astronaut(), degrees, dx, dy)
    face = aligned_face_from_bytes(_jpeg(moved), 96)
    points = _landmarks_in_frame(face)
    np.testing.assert_allclose(points, CANONICAL_POINTS, atol=0.03)
    eyes_tilt = points[0:2].mean(0) - points[2:4].mean(0)
    assert abs(np.degrees(np.arctan2(eyes_tilt[1], eyes_tilt[0]))) < 3.0  # upright
    # And it is the same picture as the aligned original, up to resampling.
    diff = np.abs(face.astype(float) - original.astype(float))[16:-16, 16:-16].mean()
    assert diff < 12.0


def test_a_photo_without_a_face_is_refused_with_its_own_kind() -> None:
    rng = np.random.default_rng(0)
    noise = rng.integers(0, 255, (200, 300, 3), dtype=np.uint8)
    with pytest.raises(NoFaceError):
        align_face(noise, 64)
    with pytest.raises(ImageError) as err:
        aligned_face_from_bytes(_jpeg(noise), 64)
    assert err.value.kind == "no_face"


def test_a_folder_of_photos_is_aligned_faceless_ones_counted_and_cached(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FOTOROBOT_CACHE_DIR", str(tmp_path / "cache"))
    photos = tmp_path / "photos"
    photos.mkdir()
    portrait = _astronaut()
    (photos / "a.jpg").write_bytes(_jpeg(portrait))
    (photos / "b.jpg").write_bytes(_jpeg(_rotated_and_shifted(portrait, 15, 100, 50)))
    (photos / "empty_wall.jpg").write_bytes(_jpeg(np.full((100, 100, 3), 200, np.uint8)))
    (photos / "torn.jpg").write_bytes(_jpeg(portrait)[:200])
    data = load_folder(photos, 32, workers=1)
    assert data.images.shape == (2, 32, 32, 3)
    assert data.names == ["a.jpg", "b.jpg"]
    assert (data.no_face, data.skipped) == (1, 1)
    assert len(list((tmp_path / "cache").glob("faces-*.npz"))) == 1
    again = load_folder(photos, 32, workers=1)  # from the cache
    np.testing.assert_array_equal(again.images, data.images)
    assert (again.no_face, again.skipped) == (1, 1)


def test_the_evaluation_split_is_never_in_the_training_faces(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FOTOROBOT_CACHE_DIR", str(tmp_path / "cache"))
    photos = tmp_path / "photos"
    photos.mkdir()
    for name in ("000001.jpg", "189999.jpg", "190000.jpg", "200001.jpg"):
        (photos / name).write_bytes(_jpeg(_astronaut()))
    train = load_folder(photos, 16, workers=1, eval_from="190000")
    held = load_folder(photos, 16, workers=1, eval_from="190000", split="evaluation")
    assert train.names == ["000001.jpg", "189999.jpg"] and train.evaluation == 2
    assert held.names == ["190000.jpg", "200001.jpg"]
