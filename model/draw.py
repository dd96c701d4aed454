"""Drawing a frontal portrait from FaceAttributes with Pillow, supersampled then box-reduced."""

from __future__ import annotations

import colorsys
import math
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from model.synthetic import BEARDS, GLASSES, HAIR_STYLES, FaceAttributes

Color = tuple[int, int, int]
Point = tuple[float, float]

# Colour ramps, sampled by linear interpolation; each is monotone in darkness where it matters.
SKIN_RAMP = ((250, 218, 196), (234, 188, 152), (206, 150, 110), (160, 105, 70), (98, 62, 40))
HAIR_RAMP = ((238, 230, 200), (214, 176, 98), (156, 92, 44), (96, 62, 36), (22, 18, 18))
IRIS_RAMP = ((70, 120, 190), (80, 140, 90), (140, 120, 60), (110, 70, 35), (50, 32, 20))

_CIRCLE = [(math.cos(t), math.sin(t)) for t in np.linspace(0.0, 2.0 * math.pi, 56, endpoint=False)]


def _ramp(ramp: tuple[Color, ...], t: float) -> Color:
    x = min(max(t, 0.0), 1.0) * (len(ramp) - 1)
    i = min(int(x), len(ramp) - 2)
    f = x - i
    a, b = ramp[i], ramp[i + 1]
    return (
        round(a[0] + (b[0] - a[0]) * f),
        round(a[1] + (b[1] - a[1]) * f),
        round(a[2] + (b[2] - a[2]) * f),
    )


def _mix(a: Color, b: Color, f: float) -> Color:
    return (
        round(a[0] + (b[0] - a[0]) * f),
        round(a[1] + (b[1] - a[1]) * f),
        round(a[2] + (b[2] - a[2]) * f),
    )


def _hsv(h: float, s: float, v: float) -> Color:
    r, g, b = colorsys.hsv_to_rgb(h % 1.0, s, v)
    return (round(r * 255), round(g * 255), round(b * 255))


# The portrait is laid out in unit coordinates, then zoomed about the face so that it fills the
# frame roughly like an aligned CelebA crop.
ZOOM = 1.22
CENTER = (0.5, 0.52)


class _Canvas:
    """Unit-square coordinates on a W x W drawing surface."""

    def __init__(self, width: int, background: Color) -> None:
        self.w = width
        self.s = width * ZOOM  # pixels per unit
        self.ox = width / 2 - CENTER[0] * self.s
        self.oy = width / 2 - CENTER[1] * self.s
        self.image = Image.new("RGB", (width, width), background)
        self.draw = ImageDraw.Draw(self.image)

    def px(self, pts: list[Point]) -> list[Point]:
        s, ox, oy = self.s, self.ox, self.oy
        return [(ox + x * s, oy + y * s) for x, y in pts]

    def box(self, cx: float, cy: float, rx: float, ry: float) -> tuple[float, float, float, float]:
        s, ox, oy = self.s, self.ox, self.oy
        return (ox + (cx - rx) * s, oy + (cy - ry) * s, ox + (cx + rx) * s, oy + (cy + ry) * s)

    def ellipse(self, cx: float, cy: float, rx: float, ry: float, fill: Color) -> None:
        self.draw.ellipse(self.box(cx, cy, rx, ry), fill=fill)

    def ring(self, cx: float, cy: float, rx: float, ry: float, color: Color, width: float) -> None:
        self.draw.ellipse(
            self.box(cx, cy, rx, ry), outline=color, width=max(1, round(width * self.s))
        )

    def polygon(self, pts: list[Point], fill: Color) -> None:
        self.draw.polygon(self.px(pts), fill=fill)

    def line(self, pts: list[Point], color: Color, width: float) -> None:
        self.draw.line(self.px(pts), fill=color, width=max(1, round(width * self.s)), joint="curve")


def _superellipse(
    cx: float, cy: float, rx: float, ry_top: float, ry_bottom: float, n_bottom: float
) -> list[Point]:
    """Head outline: elliptic crown, lower half a superellipse (pointed < 2 < square)."""
    pts = []
    for c, s in _CIRCLE:
        if s < 0:
            pts.append((cx + rx * c, cy + ry_top * s))
        else:
            e = 2.0 / n_bottom
            pts.append((cx + rx * math.copysign(abs(c) ** e, c), cy + ry_bottom * abs(s) ** e))
    return pts


@dataclass(frozen=True)
class Geometry:
    """Where the features sit, in unit layout coordinates (before the zoom)."""

    rx: float  # half-width of the face
    chin_y: float
    eye_y: float
    spacing: float  # half the distance between the eye centres
    erx: float  # eye half-width
    ery: float  # eye half-height
    nose_y: float
    nose_hw: float
    mouth_y: float
    mouth_hw: float


def geometry(a: FaceAttributes) -> Geometry:
    """The layout of one face's features, shared by drawing and by tests of the drawing."""
    chin_y = 0.80 - 0.02 * a.face_width
    eye_y = 0.47
    nose_y = eye_y + 0.075 + 0.07 * a.nose_length
    erx = 0.032 + 0.022 * a.eye_size
    return Geometry(
        rx=0.20 + 0.07 * a.face_width,
        chin_y=chin_y,
        eye_y=eye_y,
        spacing=0.075 + 0.05 * a.eye_spacing,
        erx=erx,
        ery=erx * 0.58,
        nose_y=nose_y,
        nose_hw=0.022 + 0.03 * a.nose_width,
        mouth_y=nose_y + 0.35 * (chin_y - nose_y) + 0.02,
        mouth_hw=0.045 + 0.06 * a.mouth_width,
    )


def to_pixels(x: float, y: float, size: int) -> tuple[float, float]:
    """Layout coordinates -> (column, row) in a size x size output image."""
    return (size * (0.5 + (x - CENTER[0]) * ZOOM), size * (0.5 + (y - CENTER[1]) * ZOOM))


def draw_face(attrs: FaceAttributes, size: int = 64, supersample: int = 4) -> np.ndarray:
    """Render one face as a (size, size, 3) uint8 array."""
    a = attrs
    bg = _hsv(a.background, 0.28, 0.86)
    cv = _Canvas(size * supersample, bg)
    skin = _ramp(SKIN_RAMP, a.skin_tone)
    shade = _mix(skin, (60, 30, 20), 0.22)
    hair = _ramp(HAIR_RAMP, a.hair_color)
    style = HAIR_STYLES[a.hair_style]
    beard = BEARDS[a.beard]

    g = geometry(a)
    cx = 0.5
    head_cy = 0.46
    rx = g.rx
    ry_top = 0.25
    chin_y = g.chin_y
    ry_bottom = chin_y - head_cy
    n_jaw = 1.6 + 2.2 * a.jaw

    # Hair behind the head (long styles fall to the shoulders).
    if style in ("long", "bob"):
        bottom = 0.92 if style == "long" else 0.66
        hw = rx * (1.32 if style == "long" else 1.25)
        cv.ellipse(cx, head_cy - 0.02, hw, ry_top * 1.2, hair)
        cv.polygon(
            [
                (cx - hw, head_cy - 0.02),
                (cx + hw, head_cy - 0.02),
                (cx + hw * 0.95, bottom),
                (cx - hw * 0.95, bottom),
            ],
            hair,
        )

    # Shoulders, neck, ears.
    cv.ellipse(cx, 1.10, 0.46, 0.24, _hsv(a.shirt, 0.55, 0.62))
    cv.polygon(
        [
            (cx - rx * 0.5, chin_y - 0.1),
            (cx + rx * 0.5, chin_y - 0.1),
            (cx + rx * 0.55, 0.93),
            (cx - rx * 0.55, 0.93),
        ],
        shade,
    )
    if style != "long":
        for side in (-1, 1):
            cv.ellipse(cx + side * rx * 0.98, 0.49, 0.03, 0.055, shade)
            cv.ellipse(cx + side * rx * 0.98, 0.49, 0.018, 0.038, skin)

    face = _superellipse(cx, head_cy, rx, ry_top, ry_bottom, n_jaw)
    cv.polygon(face, skin)

    # Hair on top: a cap whose lower edge is the hairline.
    if style != "bald":
        cap_color = _mix(hair, skin, 0.45) if style == "buzz" else hair
        grow = 1.0 if style == "buzz" else 1.08
        hairline = {"buzz": 0.30, "short": 0.30, "fringe": 0.37, "bob": 0.31, "long": 0.31}[style]
        cap = [
            (cx + rx * grow * c, head_cy - 0.01 + ry_top * grow * s)
            for c, s in _CIRCLE
            if s < 0 or (head_cy - 0.01 + ry_top * grow * s) < hairline
        ]
        cap = [(x, min(y, hairline)) for x, y in cap]
        cv.polygon(cap, cap_color)
        if style == "fringe":
            teeth = [
                (cx - rx * 0.95 + rx * 1.9 * i / 8, hairline + (0.025 if i % 2 else 0.0))
                for i in range(9)
            ]
            cv.polygon(
                [(cx - rx * 0.95, hairline - 0.02), *teeth, (cx + rx * 0.95, hairline - 0.02)], hair
            )
        if style in ("short", "bob", "long"):
            for side in (-1, 1):  # sideburns / side locks framing the face
                x0 = cx + side * rx * 1.03
                drop = 0.47 if style == "short" else 0.56
                cv.polygon(
                    [
                        (x0, hairline - 0.03),
                        (x0 - side * 0.05, hairline - 0.03),
                        (x0 - side * 0.02, drop),
                        (x0 + side * 0.005, drop),
                    ],
                    hair,
                )

    # Beard under the features.
    eye_y, nose_y, mouth_y, mouth_hw = g.eye_y, g.nose_y, g.mouth_y, g.mouth_hw
    if beard == "full":
        # Jaw outline below the cheekbones, closed by an edge that dips around the mouth.
        low = [(x, y) for x, y in face if y > eye_y + 0.05]
        low.sort(key=lambda p: math.atan2(p[1] - head_cy, p[0] - cx))
        top = [
            (cx - rx * 0.8, eye_y + 0.09),
            (cx - mouth_hw - 0.02, mouth_y - 0.02),
            (cx + mouth_hw + 0.02, mouth_y - 0.02),
            (cx + rx * 0.8, eye_y + 0.09),
        ]
        cv.polygon(low + top, hair)
        cv.ellipse(cx, mouth_y + 0.005, mouth_hw + 0.012, 0.03, skin)
    elif beard == "goatee":
        cv.ellipse(cx, (mouth_y + chin_y) / 2 + 0.01, mouth_hw * 0.6, (chin_y - mouth_y) / 2, hair)

    # Eyes.
    spacing, erx, ery = g.spacing, g.erx, g.ery
    iris = _ramp(IRIS_RAMP, a.iris_color)
    for side in (-1, 1):
        ex = cx + side * spacing
        cv.ellipse(ex, eye_y, erx, ery, (246, 244, 240))
        cv.ellipse(ex, eye_y, ery * 0.95, ery * 0.95, iris)
        cv.ellipse(ex, eye_y, ery * 0.45, ery * 0.45, (15, 12, 12))
        cv.ellipse(ex + 0.25 * ery, eye_y - 0.3 * ery, ery * 0.18, ery * 0.18, (255, 255, 255))
        lid = [
            (ex + erx * math.cos(t), eye_y - ery * math.sin(t)) for t in np.linspace(0, math.pi, 9)
        ]
        cv.line(lid, _mix(skin, (20, 10, 10), 0.7), 0.008)

        # Eyebrow: a quadrilateral whose inner end rises (sad) or drops (stern) with the tilt.
        thick = 0.006 + 0.022 * a.brow_thickness
        by = eye_y - ery - 0.035
        tilt = (a.brow_tilt - 0.5) * 0.05
        inner, outer = ex - side * erx * 0.9, ex + side * erx * 1.2
        brow_color = _mix(hair, (30, 20, 15), 0.35)
        cv.polygon(
            [
                (inner, by + tilt - thick / 2),
                (outer, by - 0.008 - thick / 2),
                (outer, by - 0.008 + thick / 3),
                (inner, by + tilt + thick / 2),
            ],
            brow_color,
        )

    # Nose: bridge shadow, tip and nostrils.
    nose_hw = g.nose_hw
    cv.line([(cx - 0.008, eye_y + 0.01), (cx - 0.012, nose_y - 0.01)], shade, 0.01)
    cv.ellipse(cx, nose_y - 0.008, nose_hw, 0.022, shade)
    cv.ellipse(cx, nose_y - 0.014, nose_hw * 0.7, 0.018, skin)
    for side in (-1, 1):
        cv.ellipse(cx + side * nose_hw * 0.5, nose_y + 0.004, nose_hw * 0.28, 0.008, (70, 40, 35))

    if beard in ("moustache", "full"):
        # A band over the upper lip whose ends droop past the mouth corners.
        mt = np.linspace(-1.0, 1.0, 11)
        mw = mouth_hw + 0.015
        band_top = [(cx + mw * t, nose_y + 0.012 + 0.012 * t * t) for t in mt]
        band_low = [(cx + mw * t, mouth_y - 0.004 + 0.02 * t**4) for t in mt]
        cv.polygon(band_top + band_low[::-1], hair)

    # Mouth: a lip outline around a midline that curves up (smile) or down (frown).
    curve = (a.smile - 0.5) * 2.0  # -1 frown .. 1 smile
    lip = _mix(skin, (170, 60, 70), 0.55)
    opening = max(0.0, curve - 0.35) * 0.035  # wide smiles open and show teeth
    ts = np.linspace(-1.0, 1.0, 13)
    mid = [(cx + mouth_hw * t, mouth_y - 0.03 * curve * t * t + 0.015 * curve) for t in ts]
    upper = [(x, y - 0.012 * math.sqrt(1 - t * t)) for (x, y), t in zip(mid, ts, strict=True)]
    lower = [
        (x, y + (0.016 + opening) * math.sqrt(1 - t * t)) for (x, y), t in zip(mid, ts, strict=True)
    ]
    cv.polygon(upper + lower[::-1], lip)
    if opening > 0:
        inner_low = [
            (x, y + opening * math.sqrt(1 - t * t)) for (x, y), t in zip(mid, ts, strict=True)
        ]
        cv.polygon(mid + inner_low[::-1], (90, 25, 30))
        teeth = [
            (x, y + 0.45 * opening * math.sqrt(1 - t * t))
            for (x, y), t in zip(mid, ts, strict=True)
        ]
        cv.polygon(mid[2:-2] + teeth[2:-2][::-1], (245, 242, 235))
    else:
        cv.line(mid, _mix(lip, (60, 10, 20), 0.5), 0.006)

    # Glasses on top of everything.
    kind = GLASSES[a.glasses]
    if kind != "none":
        frame = (30, 30, 35) if a.shirt < 0.5 else (120, 70, 40)
        gw, gh = erx + 0.025, ery + 0.03
        for side in (-1, 1):
            ex = cx + side * spacing
            if kind == "round":
                cv.ring(ex, eye_y, gw, gh + 0.008, frame, 0.012)
            else:
                cv.draw.rounded_rectangle(
                    cv.box(ex, eye_y, gw, gh),
                    radius=0.015 * cv.s,
                    outline=frame,
                    width=round(0.012 * cv.s),
                )
            cv.line([(ex + side * gw, eye_y - 0.01), (cx + side * rx, eye_y - 0.02)], frame, 0.01)
        cv.line([(cx - spacing + gw, eye_y - 0.01), (cx + spacing - gw, eye_y - 0.01)], frame, 0.01)

    img = cv.image.reduce(supersample) if supersample > 1 else cv.image
    return np.asarray(img, dtype=np.uint8)
