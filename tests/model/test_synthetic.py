"""The synthetic face generator: deterministic, and each attribute moves the pixels it names."""

from __future__ import annotations

import numpy as np

from model.draw import draw_face, geometry, to_pixels
from model.synthetic import (
    ATTRIBUTE_NAMES,
    BEARDS,
    GLASSES,
    HAIR_STYLES,
    FaceAttributes,
    synthetic_face,
    synthetic_faces,
)

SIZE = 96
BASE = FaceAttributes(hair_style=HAIR_STYLES.index("short"), beard=0, glasses=0, smile=0.5)


def _lum(img: np.ndarray) -> np.ndarray:
    return img.astype(np.float64) @ np.array([0.299, 0.587, 0.114])  # (H, W)


def _render(**changes: float) -> tuple[np.ndarray, FaceAttributes]:
    a = BASE.with_(**changes)
    return draw_face(a, size=SIZE), a


def _px(a: FaceAttributes, x: float, y: float) -> tuple[int, int]:
    col, row = to_pixels(x, y, SIZE)
    return round(col), round(row)


def _mouth_mask(img: np.ndarray, a: FaceAttributes) -> np.ndarray:
    """Pixels of the mouth band that are clearly not skin."""
    g = geometry(a)
    _, top = _px(a, 0.5, g.mouth_y - 0.05)
    _, bottom = _px(a, 0.5, g.mouth_y + 0.05)
    left, _ = _px(a, 0.5 - g.rx * 0.65, 0)
    right, _ = _px(a, 0.5 + g.rx * 0.65, 0)
    col, row = _px(a, 0.5 - g.rx * 0.6, g.nose_y - 0.04)  # a cheek: plain skin
    skin = img[row, col].astype(int)
    band = img[top:bottom, left:right].astype(int)
    return np.abs(band - skin).sum(axis=2) > 60  # (rows, cols)


def test_same_seed_same_face_and_attributes() -> None:
    img1, a1 = synthetic_face(123)
    img2, a2 = synthetic_face(123)
    assert img1.shape == (64, 64, 3) and img1.dtype == np.uint8
    assert np.array_equal(img1, img2) and a1 == a2
    other, _ = synthetic_face(124)
    assert not np.array_equal(img1, other)
    batch, attrs = synthetic_faces(3, seed=122)
    assert np.array_equal(batch[1], img1)
    assert np.array_equal(attrs[1], a1.vector())


def test_at_least_twelve_named_attributes_that_vary() -> None:
    assert len(ATTRIBUTE_NAMES) >= 12
    _, attrs = synthetic_faces(200, seed=0)
    assert attrs.shape == (200, len(ATTRIBUTE_NAMES))
    assert np.all(attrs.std(axis=0) > 0.05)  # every attribute actually varies
    styles = set(attrs[:, ATTRIBUTE_NAMES.index("hair_style")].astype(int))
    assert styles == set(range(len(HAIR_STYLES)))
    assert set(attrs[:, ATTRIBUTE_NAMES.index("beard")].astype(int)) == set(range(len(BEARDS)))
    assert set(attrs[:, ATTRIBUTE_NAMES.index("glasses")].astype(int)) == set(range(len(GLASSES)))


def test_darker_hair_gives_a_darker_hair_region() -> None:
    light, a = _render(hair_color=0.05)
    dark, _ = _render(hair_color=0.95)
    col, row = _px(a, 0.5, 0.24)  # the crown, above the hairline
    region = (slice(row - 3, row + 3), slice(col - 8, col + 8))
    assert _lum(dark)[region].mean() < _lum(light)[region].mean() - 100
    # The face itself is untouched by hair colour.
    g = geometry(a)
    col, row = _px(a, 0.5 - g.rx * 0.6, g.nose_y - 0.04)
    assert np.array_equal(dark[row, col], light[row, col])


def test_wider_mouth_and_wider_smile() -> None:
    narrow, a_n = _render(mouth_width=0.0)
    wide, a_w = _render(mouth_width=1.0)
    cols_n = np.flatnonzero(_mouth_mask(narrow, a_n).any(axis=0))
    cols_w = np.flatnonzero(_mouth_mask(wide, a_w).any(axis=0))
    assert np.ptp(cols_w) > np.ptp(cols_n) + 0.04 * SIZE

    frown, a_f = _render(smile=0.0)
    smile, a_s = _render(smile=1.0)

    def corner_lift(img: np.ndarray, a: FaceAttributes) -> float:
        mask = _mouth_mask(img, a)
        cols = np.flatnonzero(mask.any(axis=0))
        rows = np.arange(mask.shape[0])
        centre = rows[mask[:, cols[len(cols) // 2]]].mean()
        corners = np.mean([rows[mask[:, c]].mean() for c in (cols[1], cols[-2])])
        return float(centre - corners)  # > 0: corners above the centre

    assert corner_lift(smile, a_s) > 1.0
    assert corner_lift(frown, a_f) < -1.0
    # A wide smile opens the mouth and shows teeth: bright pixels inside the mouth band.
    g = geometry(a_s)
    col, row = _px(a_s, 0.5, g.mouth_y)
    patch = _lum(smile)[row - 4 : row + 4, col - 4 : col + 4]
    assert patch.max() > 220
    assert _lum(frown)[row - 4 : row + 4, col - 4 : col + 4].max() < 200


def test_bigger_eyes_glasses_and_beard_change_their_regions() -> None:
    small, a = _render(eye_size=0.0)
    big, _ = _render(eye_size=1.0)
    g = geometry(a)
    col, row = _px(a, 0.5 - g.spacing, g.eye_y)
    box = (slice(row - 6, row + 6), slice(col - 9, col + 9))
    white = lambda img: (_lum(img)[box] > 225).sum()  # noqa: E731
    assert white(big) > white(small)

    bare, _ = _render(glasses=0)
    framed, _ = _render(glasses=GLASSES.index("square"))
    mid_col, eye_row = _px(a, 0.5, g.eye_y - 0.01)
    bridge = (slice(eye_row - 3, eye_row + 3), mid_col)  # the frame's bridge over the nose
    assert _lum(framed)[bridge].min() < _lum(bare)[bridge].min() - 60

    shaven, _ = _render(beard=0, hair_color=1.0)
    bearded, _ = _render(beard=BEARDS.index("full"), hair_color=1.0)
    col, row = _px(a, 0.5 - g.rx * 0.6, (g.mouth_y + g.chin_y) / 2)
    assert _lum(bearded)[row, col] < _lum(shaven)[row, col] - 80


def test_supersampling_smooths_edges() -> None:
    a = BASE
    aliased = draw_face(a, size=64, supersample=1)
    smooth = draw_face(a, size=64, supersample=4)
    # Anti-aliasing creates intermediate colours along edges.
    n_colours = lambda img: len(np.unique(img.reshape(-1, 3), axis=0))  # noqa: E731
    assert n_colours(smooth) > 3 * n_colours(aliased)
