"""Synthetic faces: named attributes sampled from a seed, drawn by model.draw."""

from __future__ import annotations

from dataclasses import astuple, dataclass, fields, replace

import numpy as np

HAIR_STYLES = ("bald", "buzz", "short", "fringe", "bob", "long")
BEARDS = ("none", "moustache", "goatee", "full")
GLASSES = ("none", "round", "square")


@dataclass(frozen=True)
class FaceAttributes:
    """What a person would name about a face; continuous values in [0, 1] unless noted."""

    face_width: float = 0.5  # narrow .. wide
    jaw: float = 0.5  # pointed chin .. square jaw
    skin_tone: float = 0.3  # light .. dark
    hair_color: float = 0.5  # platinum .. black (monotone in darkness)
    hair_style: int = 2  # index into HAIR_STYLES
    eye_size: float = 0.5
    eye_spacing: float = 0.5  # close-set .. wide-set
    iris_color: float = 0.5  # blue, green, hazel, brown, dark brown
    brow_thickness: float = 0.5
    brow_tilt: float = 0.5  # 0 sad (inner ends up), .5 level, 1 stern (inner ends down)
    nose_length: float = 0.5
    nose_width: float = 0.5
    mouth_width: float = 0.5
    smile: float = 0.5  # 0 frown, .5 neutral, 1 wide open smile
    beard: int = 0  # index into BEARDS
    glasses: int = 0  # index into GLASSES
    background: float = 0.5  # hue of the backdrop
    shirt: float = 0.5  # hue of the shirt

    def vector(self) -> np.ndarray:
        """The attributes as a float32 vector in ATTRIBUTE_NAMES order."""
        return np.asarray(astuple(self), dtype=np.float32)

    def with_(self, **changes: float) -> FaceAttributes:
        """A copy with some attributes changed (for sliders and tests)."""
        return replace(self, **changes)  # type: ignore[arg-type]


ATTRIBUTE_NAMES: tuple[str, ...] = tuple(f.name for f in fields(FaceAttributes))


def sample_attributes(rng: np.random.Generator) -> FaceAttributes:
    """Draw one face's attributes; categorical ones with plausible frequencies."""
    u = rng.random(14)
    style = int(rng.choice(len(HAIR_STYLES), p=[0.08, 0.12, 0.25, 0.18, 0.15, 0.22]))
    beard = int(rng.choice(len(BEARDS), p=[0.62, 0.14, 0.10, 0.14]))
    glasses = int(rng.choice(len(GLASSES), p=[0.72, 0.14, 0.14]))
    # Skin tones cluster at the light end less than uniformly: a broad, realistic spread.
    skin = float(np.clip(rng.beta(1.4, 1.8), 0.0, 1.0))
    return FaceAttributes(
        face_width=float(u[0]),
        jaw=float(u[1]),
        skin_tone=skin,
        hair_color=float(u[2]),
        hair_style=style,
        eye_size=float(u[3]),
        eye_spacing=float(u[4]),
        iris_color=float(u[5]),
        brow_thickness=float(u[6]),
        brow_tilt=float(u[7]),
        nose_length=float(u[8]),
        nose_width=float(u[9]),
        mouth_width=float(u[10]),
        smile=float(u[11]),
        beard=beard,
        glasses=glasses,
        background=float(u[12]),
        shirt=float(u[13]),
    )


def synthetic_face(
    seed: int, size: int = 64, supersample: int = 4
) -> tuple[np.ndarray, FaceAttributes]:
    """The face of one seed: (size, size, 3) uint8 image and its attributes. Deterministic."""
    from model.draw import draw_face  # the drawing code is only needed when drawing

    attrs = sample_attributes(np.random.default_rng(seed))
    return draw_face(attrs, size=size, supersample=supersample), attrs


def synthetic_faces(
    n: int, seed: int = 0, size: int = 64, supersample: int = 4
) -> tuple[np.ndarray, np.ndarray]:
    """n faces for seeds seed..seed+n-1: images (n, size, size, 3) uint8, attributes (n, k)."""
    images = np.empty((n, size, size, 3), dtype=np.uint8)
    attrs = np.empty((n, len(ATTRIBUTE_NAMES)), dtype=np.float32)
    for i in range(n):
        img, a = synthetic_face(seed + i, size=size, supersample=supersample)
        images[i] = img
        attrs[i] = a.vector()
    return images, attrs
