"""Face alignment: find the face in any photo and warp it to one canonical frame.

Training folders and the bot's uploads go through the same steps: dlib's HOG face detector
(several faces: the largest), its 5-point landmark model (eye corners and the base of the
nose; public domain, shipped in the `face_recognition_models` package), and a similarity
transform (rotation, uniform scale, shift) that puts the five points where
`CANONICAL_POINTS` says. The frame is CelebA-like: the face with hair, forehead and chin,
eyes a little above the middle, so models trained on CelebA's own crops and on aligned
photos see the same picture.

dlib is imported on first use, never at `import model`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from PIL import Image

from model.dlib_files import LANDMARKS_FILE, locate_face_models

# The canonical five points in a unit square (x right, y down), in dlib's order: right eye
# outer and inner corner, left eye outer and inner corner (right/left of the image), base of
# the nose. They are the mean landmarks of 2,000 CelebA aligned photos mapped into the
# 148-pixel face box that CelebA models conventionally crop (178x218 frame, box 15,35-163,183).
CANONICAL_POINTS = np.array(
    [
        [0.6794, 0.5230],
        [0.5764, 0.5292],
        [0.3206, 0.5230],
        [0.4236, 0.5292],
        [0.5000, 0.7247],
    ],
    dtype=np.float64,
)

# Photos are shrunk to at most this side before detection: HOG finds faces of >= ~40 px at
# upsample 1, and a 12-megapixel selfie would take seconds at full size.
DETECT_MAX_SIDE = 640
# Smallest face (inter-ocular distance in pixels of the original photo) worth warping: below
# this the aligned face would be mostly interpolation.
MIN_EYE_DISTANCE = 8.0
# Second and third tries of the detector, turned by this many degrees either way.
TILT_RETRY = 30.0
# Landmark refinement: passes, window side and the eyes' distance in it (pixels).
REFINE_STEPS = 2
REFINE_WINDOW = 320
REFINE_EYES = 80.0
BOX_PER_EYES, BOX_DROP = 2.33, 0.47


class NoFaceError(ValueError):
    """The photo holds no face the detector can find."""


@dataclass(frozen=True)
class FaceFound:
    """One detected face: its box and five landmarks in the photo's pixel coordinates."""

    box: tuple[float, float, float, float]  # left, top, right, bottom
    points: np.ndarray  # (5, 2) float64, dlib's order (see CANONICAL_POINTS)
    faces_in_photo: int  # how many faces the detector saw (the largest is this one)

    @property
    def eye_distance(self) -> float:
        """Pixels between the two eye centres."""
        right = self.points[0:2].mean(axis=0)
        left = self.points[2:4].mean(axis=0)
        return float(np.linalg.norm(right - left))


class _Dlib:
    """dlib's detector and 5-point predictor, loaded once per process.

    dlib's objects are not documented as thread-safe, so calls go through one lock; training
    folders are aligned in worker processes, each with its own copy.
    """

    def __init__(self) -> None:
        import dlib

        self.dlib = dlib
        self.detector = dlib.get_frontal_face_detector()
        self.predictor = dlib.shape_predictor(str(locate_face_models() / LANDMARKS_FILE))
        self.lock = threading.Lock()


@lru_cache(maxsize=1)
def _models() -> _Dlib:
    return _Dlib()


def find_face(rgb: np.ndarray, upsample: int = 1) -> FaceFound:
    """The largest face in an (H, W, 3) uint8 photo; raises NoFaceError when there is none.

    dlib's HOG detector finds upright faces (to about 20 degrees of tilt); when it finds none,
    the photo is also tried turned by +-TILT_RETRY degrees, so a tilted selfie still works.
    The landmarks are then taken again on an upright, full-resolution window around the face
    (refine), since the 5-point model is only accurate on upright faces of a fair size.
    """
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"expected an (H, W, 3) uint8 image, got {rgb.shape} {rgb.dtype}")
    h, w = rgb.shape[:2]
    shrink = max(1.0, max(h, w) / DETECT_MAX_SIDE)
    small = Image.fromarray(rgb)
    if shrink > 1.0:
        size = (max(1, round(w / shrink)), max(1, round(h / shrink)))
        small = small.resize(size, Image.Resampling.BOX)
    for degrees in (0.0, TILT_RETRY, -TILT_RETRY):
        found = _detect(small, degrees, upsample)
        if found is not None:
            box, points, count = found
            face = FaceFound(
                box=(box[0] * shrink, box[1] * shrink, box[2] * shrink, box[3] * shrink),
                points=points * shrink,
                faces_in_photo=count,
            )
            for _ in range(REFINE_STEPS):
                face = _refine(rgb, face)
            return face
    raise NoFaceError("no face found in the photo")


def _refine(rgb: np.ndarray, face: FaceFound) -> FaceFound:
    """Landmark the face again in a window of the photo turned upright by the eyes' tilt and
    scaled so the eyes are REFINE_EYES pixels apart."""
    pts = face.points
    eye_vec = pts[0:2].mean(axis=0) - pts[2:4].mean(axis=0)
    dist = float(np.hypot(*eye_vec))
    if dist < 1.0:
        return face
    roll = float(np.arctan2(eye_vec[1], eye_vec[0]))
    k = REFINE_EYES / dist  # photo pixels -> window pixels
    cos, sin = np.cos(roll), np.sin(roll)
    to_window = np.array([[cos, sin], [-sin, cos]]) * k  # turns by -roll and scales
    centre = pts[0:4].mean(axis=0)  # between the eyes
    half = REFINE_WINDOW / 2
    offset = half - to_window @ centre
    from_window = np.linalg.inv(to_window)
    inv_offset = -from_window @ offset
    data = (*from_window[0], inv_offset[0], *from_window[1], inv_offset[1])
    window = Image.fromarray(rgb).transform(
        (REFINE_WINDOW, REFINE_WINDOW),
        Image.Transform.AFFINE,
        data=data,
        resample=Image.Resampling.BILINEAR,
    )
    arr = np.ascontiguousarray(np.asarray(window, dtype=np.uint8))
    # A box where dlib's detector puts one for an upright face with these eyes: 2.33 eye
    # distances wide, its centre 0.47 of one below the point between the eyes.
    side = BOX_PER_EYES * REFINE_EYES
    cx, cy = half, half + BOX_DROP * REFINE_EYES
    m = _models()
    rect = m.dlib.rectangle(
        round(cx - side / 2), round(cy - side / 2), round(cx + side / 2), round(cy + side / 2)
    )
    with m.lock:
        shape = m.predictor(arr, rect)
    wpts = np.array([[p.x, p.y] for p in shape.parts()], dtype=np.float64)  # (5, 2)
    points = (wpts - offset) @ from_window.T
    return FaceFound(box=face.box, points=points, faces_in_photo=face.faces_in_photo)


def _detect(
    im: Image.Image, degrees: float, upsample: int
) -> tuple[tuple[float, float, float, float], np.ndarray, int] | None:
    """Detect on the picture turned by `degrees` (counter-clockwise, about its centre); the
    largest face's box and landmarks come back in the unturned picture's coordinates."""
    turned = im.rotate(degrees, resample=Image.Resampling.BILINEAR) if degrees else im
    arr = np.ascontiguousarray(np.asarray(turned, dtype=np.uint8))
    m = _models()
    with m.lock:
        rects, scores, _ = m.detector.run(arr, upsample, 0.0)
        if not rects:
            return None
        # The largest face, among those detected with at least half the best score: a faint
        # false detection (a badge, a pattern) must not win on size alone.
        best = max(scores)
        sure = [r for r, sc in zip(rects, scores, strict=True) if sc >= best / 2]
        rect = max(sure, key=lambda r: r.width() * r.height())
        shape = m.predictor(arr, rect)
    points = np.array([[p.x, p.y] for p in shape.parts()], dtype=np.float64)  # (5, 2)
    corners = np.array([[rect.left(), rect.top()], [rect.right(), rect.bottom()]], np.float64)
    if degrees:
        # PIL turns counter-clockwise on screen (y down): undo it about the same centre.
        centre = np.array([im.width / 2, im.height / 2])
        a = np.radians(degrees)
        undo = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
        points = (points - centre) @ undo.T + centre
        corners = (corners - centre) @ undo.T + centre
    box = (
        float(corners[:, 0].min()),
        float(corners[:, 1].min()),
        float(corners[:, 0].max()),
        float(corners[:, 1].max()),
    )
    return box, points, len(rects)


def similarity_transform(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Least-squares similarity (Umeyama, no reflection) mapping src (k, 2) onto dst (k, 2).

    Returns the 2x3 matrix A with dst ~= A @ [x, y, 1].
    """
    src = np.asarray(src, dtype=np.float64)
    dst = np.asarray(dst, dtype=np.float64)
    mu_s, mu_d = src.mean(axis=0), dst.mean(axis=0)
    s, d = src - mu_s, dst - mu_d
    cov = d.T @ s / len(src)  # (2, 2)
    u, sig, vt = np.linalg.svd(cov)
    sign = np.ones(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        sign[-1] = -1.0
    rot = u @ np.diag(sign) @ vt
    var_s = (s**2).sum() / len(src)
    scale = float((sig * sign).sum() / var_s) if var_s > 0 else 1.0
    mat = np.zeros((2, 3))
    mat[:, :2] = scale * rot
    mat[:, 2] = mu_d - scale * rot @ mu_s
    return mat


def warp_to_frame(rgb: np.ndarray, points: np.ndarray, size: int) -> np.ndarray:
    """The (size, size, 3) uint8 face: rgb warped so `points` land on CANONICAL_POINTS."""
    target = CANONICAL_POINTS * size
    mat = similarity_transform(points, target)  # photo -> frame
    scale = float(np.hypot(mat[0, 0], mat[0, 1]))
    im = Image.fromarray(rgb)
    # Shrinking by an affine warp alone aliases; reduce the photo first (box filter) so the
    # warp itself never shrinks by more than 2x, then warp with bicubic interpolation.
    reduce = int(max(1, np.floor(0.5 / scale))) if scale < 0.5 else 1
    if reduce > 1:
        im = im.reduce(reduce)
        mat = mat.copy()
        mat[:, :2] *= reduce
    full = np.vstack([mat, [0.0, 0.0, 1.0]])
    inv = np.linalg.inv(full)[:2]  # frame -> photo, what PIL's AFFINE wants
    out = im.transform(
        (size, size),
        Image.Transform.AFFINE,
        data=tuple(inv.ravel()),
        resample=Image.Resampling.BICUBIC,
        fillcolor=_edge_colour(rgb),
    )
    return np.asarray(out, dtype=np.uint8).copy()


def _edge_colour(rgb: np.ndarray) -> tuple[int, int, int]:
    """The photo's median border colour, to fill what lies outside it after the warp (a
    black wedge would become part of what the VAE learns)."""
    border = np.concatenate([rgb[0], rgb[-1], rgb[:, 0], rgb[:, -1]])  # (k, 3)
    med = np.median(border, axis=0)
    return (int(med[0]), int(med[1]), int(med[2]))


def align_face(rgb: np.ndarray, size: int, upsample: int = 1) -> np.ndarray:
    """Detect, landmark and warp the largest face of a photo into the canonical frame.

    Raises NoFaceError when no face is found or it is too small to use.
    """
    found = find_face(rgb, upsample=upsample)
    if found.eye_distance < MIN_EYE_DISTANCE:
        raise NoFaceError(f"the face is too small ({found.eye_distance:.0f} px between the eyes)")
    return warp_to_frame(rgb, found.points, size)


def canonical_shape(size: float) -> Any:
    """A dlib full_object_detection with the canonical points in a (size x size) frame: what
    dlib's descriptor needs to cut its chip from an aligned face, with no detector."""
    dlib = _models().dlib
    pts = [dlib.point(round(x), round(y)) for x, y in CANONICAL_POINTS * size]
    rect = dlib.rectangle(0, 0, round(size) - 1, round(size) - 1)
    return dlib.full_object_detection(rect, pts)
