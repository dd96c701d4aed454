"""Simulated raters on real and synthetic faces: a face's own slightly noised copy is rated
closer than a different face by the identity and mixed raters."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from optimization.raters import (
    RaterConfig,
    SimulatedRater,
    TargetJudge,
    identity_similarity,
    look_mask,
)

ASTRONAUT = Path(__file__).resolve().parents[1] / "data" / "astronaut.jpg"


@pytest.fixture(scope="module")
def describe():
    from model.identity import IdentityMetric

    return IdentityMetric().descriptors


def _noisy(face: np.ndarray, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.clip(face + rng.normal(0, 5, face.shape), 0, 255).astype(np.uint8)


def _targets() -> list[tuple[np.ndarray, np.ndarray]]:
    """(target, a different face): the aligned astronaut, and synthetic faces."""
    from model.align import align_face
    from model.synthetic import synthetic_face

    astronaut = align_face(np.asarray(Image.open(ASTRONAUT).convert("RGB")), 64)
    return [
        (astronaut, synthetic_face(3, size=64)[0]),
        (synthetic_face(5, size=64)[0], synthetic_face(8, size=64)[0]),
        (synthetic_face(11, size=64)[0], astronaut),
    ]


@pytest.mark.parametrize("kind", ["identity", "mixed", "pixel"])
def test_a_noisy_copy_is_rated_above_a_different_face(kind: str, describe) -> None:
    for i, (target, other) in enumerate(_targets()):
        judge = TargetJudge(target, describe)
        looks = judge.looks(np.stack([_noisy(target, i), other]))
        sims = looks.similarity(kind)
        assert sims[0] > sims[1], (kind, i, sims)
        if kind != "pixel":
            assert looks.distance[0] < looks.distance[1]
        # and the noisy rater agrees on average
        rater = SimulatedRater(
            target, np.linspace(0, 0.5, 20), RaterConfig(kind=kind), np.random.default_rng(i)
        )
        ratings = np.array([rater.rate(sims) for _ in range(50)])
        assert ratings[:, 0].mean() > ratings[:, 1].mean()
        picks = [rater.pick(sims) for _ in range(50)]
        assert np.mean(np.array(picks) == 0) > 0.7


def test_identity_similarity_mapping_and_same_person_constant() -> None:
    from model.dlib_resnet import SAME_PERSON_DISTANCE
    from optimization.raters import ID_FAR, ID_NEAR
    from optimization.raters import SAME_PERSON_DISTANCE as OURS

    assert OURS == SAME_PERSON_DISTANCE
    sims = identity_similarity(np.array([0.0, ID_NEAR, 0.6, ID_FAR, 2.0]))
    assert sims[0] == sims[1] == 1.0 and sims[3] == sims[4] == 0.0
    assert 0.0 < sims[2] < 1.0


def test_look_mask_covers_the_face_not_the_corners() -> None:
    m = look_mask(16, 16)
    assert m[8, 8] and m[2, 8] and not m[0, 0] and not m[15, 15]


def test_raters_without_descriptors_refuse_identity() -> None:
    img = np.zeros((8, 8, 3), np.uint8)
    looks = TargetJudge(img).looks(np.stack([img, 255 - img]))
    assert looks.similarity("pixel")[0] == 1.0
    with pytest.raises(ValueError, match="descriptors"):
        looks.similarity("identity")
    with pytest.raises(ValueError, match="unknown rater"):
        RaterConfig(kind="psychic")
