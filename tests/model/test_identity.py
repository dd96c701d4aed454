"""The identity metric on a real face: its own noisy or shifted copy is closer than another."""

from __future__ import annotations

from pathlib import Path

import dlib
import numpy as np
import pytest
import torch
from PIL import Image

from model.align import CANONICAL_POINTS, align_face
from model.identity import (
    CHIP_BOX,
    IdentityMetric,
    distances,
    face_chips,
    pairwise_distances,
    rank1_accuracy,
)
from model.identity_loss import identity_loss
from model.synthetic import synthetic_face

ASTRONAUT = Path(__file__).resolve().parents[1] / "data" / "astronaut.jpg"


@pytest.fixture(scope="module")
def metric() -> IdentityMetric:
    return IdentityMetric()


@pytest.fixture(scope="module")
def face() -> np.ndarray:
    return align_face(np.asarray(Image.open(ASTRONAUT).convert("RGB")), 64)


def test_the_chip_box_is_dlibs_own_window_for_the_canonical_landmarks() -> None:
    side = 10_000
    points = [dlib.point(round(x - 0.5), round(y - 0.5)) for x, y in CANONICAL_POINTS * side]
    shape = dlib.full_object_detection(dlib.rectangle(0, 0, side - 1, side - 1), points)
    chip = dlib.get_face_chip_details(shape, 150, 0.25)
    r = chip.rect
    box = [(v + 0.5) / side for v in (r.left(), r.top(), r.right(), r.bottom())]
    np.testing.assert_allclose(box, CHIP_BOX, atol=2e-4)
    assert abs(chip.angle) < 1e-3


def test_a_face_is_nearer_its_noisy_and_shifted_copies_than_a_different_face(
    metric: IdentityMetric, face: np.ndarray
) -> None:
    rng = np.random.default_rng(0)
    noisy = np.clip(face + rng.normal(0, 6, face.shape), 0, 255).astype(np.uint8)
    shifted = np.roll(face, (1, -1), axis=(0, 1))
    other = synthetic_face(3, size=64)[0]
    d = metric.descriptors(np.stack([face, noisy, shifted, other]))
    to_face = distances(d, np.repeat(d[:1], 4, axis=0))
    assert to_face[1] < 0.6 and to_face[2] < 0.6  # still the same person
    assert max(to_face[1], to_face[2]) < to_face[3]
    assert to_face[3] > 0.6


def test_chips_are_cut_differentiably(face: np.ndarray) -> None:
    x = torch.from_numpy(face).permute(2, 0, 1)[None].float().div(255).requires_grad_(True)
    chips = face_chips(x)
    assert chips.shape == (1, 3, 150, 150)
    chips.sum().backward()
    assert x.grad is not None and float(x.grad.abs().sum()) > 0


def test_rank1_counts_a_probe_as_found_only_when_its_own_original_is_nearest() -> None:
    gallery = np.eye(6, 128, dtype=np.float32)
    probe = gallery + 0.1
    assert rank1_accuracy(probe, gallery, group=3) == 1.0
    swapped = probe[[1, 0, 2, 3, 4, 5]]
    assert rank1_accuracy(swapped, gallery, group=6) == pytest.approx(4 / 6)
    np.testing.assert_allclose(pairwise_distances(gallery, gallery), np.sqrt(2) * (1 - np.eye(6)))


def test_the_identity_loss_lowers_when_its_gradient_is_followed(
    metric: IdentityMetric, face: np.ndarray
) -> None:
    target = torch.from_numpy(metric.descriptors(face[None]))  # (1, 128)
    blurred = np.array(Image.fromarray(face).resize((16, 16)).resize((64, 64)))
    x = torch.from_numpy(blurred).permute(2, 0, 1)[None].float().div(255)
    x.requires_grad_(True)
    opt = torch.optim.Adam([x], lr=0.01)
    losses = []
    for _ in range(15):
        loss = identity_loss(metric, x.clamp(0, 1), target).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]
