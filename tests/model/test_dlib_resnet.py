"""model.dlib_resnet: the torch port of dlib's face-recognition ResNet, checked against dlib."""

from __future__ import annotations

import copy
from pathlib import Path

import dlib
import numpy as np
import pytest
import torch
from PIL import Image

from model.dlib_files import DESCRIPTOR_FILE, locate_face_models
from model.dlib_resnet import (
    CHIP_SIZE,
    DESCRIPTOR_DIM,
    DlibFaceNet,
    _add_prev,
    chips_to_tensor,
)
from model.synthetic import synthetic_face


@pytest.fixture(scope="module")
def model_path() -> Path:
    return locate_face_models() / DESCRIPTOR_FILE  # a dependency: missing files fail the test


@pytest.fixture(scope="module")
def net(model_path: Path) -> DlibFaceNet:
    return DlibFaceNet.load(model_path)


def _chips() -> np.ndarray:
    """(7, 150, 150, 3) uint8: synthetic faces drawn at 150 and upscaled from 64, noise, grey."""
    faces = [synthetic_face(seed, size=CHIP_SIZE)[0] for seed in range(3)]
    small = synthetic_face(3, size=64)[0]
    upscaled = Image.fromarray(small).resize((CHIP_SIZE, CHIP_SIZE), Image.Resampling.BICUBIC)
    faces.append(np.asarray(upscaled))
    rng = np.random.default_rng(0)
    noise = [rng.integers(0, 256, (CHIP_SIZE, CHIP_SIZE, 3), dtype=np.uint8) for _ in range(2)]
    grey = np.full((CHIP_SIZE, CHIP_SIZE, 3), 128, dtype=np.uint8)
    return np.stack([*faces, *noise, grey])


def test_descriptors_equal_dlibs(net: DlibFaceNet, model_path: Path) -> None:
    chips = _chips()
    recognizer = dlib.face_recognition_model_v1(str(model_path))
    expected = np.array([np.array(d) for d in recognizer.compute_face_descriptor(list(chips))])
    with torch.inference_mode():
        got = net(chips_to_tensor(chips)).numpy()  # (7, 128)
    assert got.shape == (len(chips), DESCRIPTOR_DIM)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-3)
    # dlib does not normalise its descriptors; the port must not either.
    assert not np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=0.05)
    # One chip alone gives what it gives in a batch.
    with torch.inference_mode():
        alone = net(chips_to_tensor(chips[0])).numpy()  # (1, 128)
    np.testing.assert_allclose(alone[0], got[0], rtol=0, atol=1e-5)


def test_gradient_flows_to_the_input(net: DlibFaceNet) -> None:
    x = chips_to_tensor(_chips()[[0, 4]]).requires_grad_(True)  # (2, 3, 150, 150): face, noise
    target = torch.zeros(DESCRIPTOR_DIM)
    loss = (net(x) - target).norm(dim=1).sum()
    loss.backward()
    assert x.grad is not None
    assert torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0
    assert all(p.grad is None for p in net.parameters())  # frozen weights

    # The gradient is the true one: a central difference along it, in float64, on the noise
    # chip (the flat synthetic face ties in max_pool, where the network has no derivative).
    net64 = copy.deepcopy(net).double()
    x64 = x.detach()[1:].double().requires_grad_(True)  # (1, 3, 150, 150)
    net64(x64).sum().backward()
    assert x64.grad is not None
    direction = x64.grad / x64.grad.norm()
    eps = 1e-4
    with torch.no_grad():
        ahead = net64(x64 + eps * direction).sum()
        behind = net64(x64 - eps * direction).sum()
    numeric = float((ahead - behind) / (2 * eps))
    assert numeric == pytest.approx(float(x64.grad.norm()), rel=1e-4)


def test_add_prev_pads_to_the_larger_shape() -> None:
    """dlib's tt::add: zero-pad channels, rows and columns at the end, then add."""
    a = torch.ones(1, 4, 3, 3)
    b = torch.full((1, 2, 4, 4), 10.0)
    out = _add_prev(a, b)  # (1, 4, 4, 4)
    assert out.shape == (1, 4, 4, 4)
    assert out[0, :2, :3, :3].eq(11).all() and out[0, 2:, :3, :3].eq(1).all()
    assert out[0, :2, 3, :].eq(10).all() and out[0, 2:, 3, :].eq(0).all()


def test_rejects_bad_files_and_shapes(net: DlibFaceNet, model_path: Path, tmp_path: Path) -> None:
    truncated = tmp_path / "truncated.dat"
    truncated.write_bytes(model_path.read_bytes()[:100_000])
    with pytest.raises(ValueError, match="end of file"):
        DlibFaceNet.load(truncated)
    other = tmp_path / "landmarks.dat"
    other.write_bytes((model_path.parent / "shape_predictor_5_face_landmarks.dat").read_bytes())
    with pytest.raises(ValueError):
        DlibFaceNet.load(other)
    with pytest.raises(ValueError, match="150"):
        net(torch.zeros(1, 3, 64, 64))
