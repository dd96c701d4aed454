"""FaceModel: shapes and dtypes, the bundled checkpoint, cheap package import, latent basis."""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import model
from model.checkpoint import CheckpointError, atomic_save, file_version
from model.config import LatentBasis, VAEConfig
from model.face_model import BUNDLED_MODELS, FaceModel, bundled_model_path, default_model_path
from model.synthetic import synthetic_faces
from model.vae import VAE
from tests.imports import loaded_after_importing


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> FaceModel:
    cfg = VAEConfig(
        image_size=32, latent_dim=6, enc_channels=(8, 8, 16, 16), dec_channels=(16, 8, 8, 8)
    )
    torch.manual_seed(0)
    net = VAE(cfg)
    path = tmp_path_factory.mktemp("m") / "tiny.pt"
    atomic_save({"config": cfg.to_dict(), "model": net.state_dict()}, path)
    return FaceModel.load(path)


def test_decode_and_encode_shapes_and_dtypes(tiny: FaceModel) -> None:
    z = np.random.default_rng(0).standard_normal((5, 6))
    faces = tiny.decode(z)
    assert faces.shape == (5, 32, 32, 3) and faces.dtype == np.uint8
    assert tiny.decode(z[0]).shape == (1, 32, 32, 3)
    codes = tiny.encode(faces)
    assert codes.shape == (5, 6) and codes.dtype == np.float32
    # Batching does not change results: one call equals per-face calls.
    assert np.array_equal(tiny.decode(z, batch_size=2), faces)
    assert np.allclose(np.concatenate([tiny.encode(f) for f in faces]), codes, atol=1e-5)
    assert tiny.latent_basis is None


def test_views_and_read_only_arrays_are_accepted_untouched(tiny: FaceModel) -> None:
    z = np.random.default_rng(1).standard_normal((4, 6)).astype(np.float32)
    z.flags.writeable = False  # as storage returns latents
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # torch warns on a read-only array it would share
        faces = tiny.decode(z)
    assert np.array_equal(tiny.decode(z[::-1]), faces[::-1])  # a negative-stride view
    mirrored = faces[:, :, ::-1]
    assert np.array_equal(tiny.encode(mirrored), tiny.encode(mirrored.copy()))


def test_bad_inputs_are_refused_clearly(tiny: FaceModel, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="shape"):
        tiny.decode(np.zeros((2, 5)))
    with pytest.raises(ValueError, match="finite"):
        tiny.decode(np.full((1, 6), np.nan))
    with pytest.raises(ValueError, match="uint8"):
        tiny.encode(np.zeros((1, 32, 32, 3), dtype=np.float32))
    with pytest.raises(ValueError, match="shape"):
        tiny.encode(np.zeros((1, 64, 64, 3), dtype=np.uint8))
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError):
        FaceModel.load(junk)


class _Payload:
    """Pickles as a call to open(marker, "w"): a checkpoint that runs code when unpickled."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (open, (str(self.marker), "w"))


def test_checkpoint_with_pickled_code_is_refused_unrun(tiny: FaceModel, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    evil = tmp_path / "evil.pt"
    state = tiny.net.state_dict()
    torch.save({"config": tiny.config.to_dict(), "model": state, "x": _Payload(marker)}, evil)
    with pytest.raises(CheckpointError):
        FaceModel.load(evil)
    assert not marker.exists()


@pytest.mark.parametrize("name", sorted(BUNDLED_MODELS))
def test_bundled_checkpoints_load_and_decode_faces(name: str) -> None:
    path = bundled_model_path(name)
    assert path.exists() and path.stat().st_size <= 25 * 1024 * 1024
    fm = FaceModel.load(path)
    assert fm.version == file_version(path) and len(fm.version) == 12
    assert fm.image_size == 64
    # The synthetic model draws its own faces; the real-face one learnt aligned photos.
    assert fm.config.dataset.startswith("synthetic:") == (name == "synthetic")
    assert fm.config.aligned == (name != "synthetic")
    assert fm.config.epoch >= 1 and "psnr" in fm.config.metrics
    faces = fm.decode(np.zeros((4, fm.latent_dim)))
    assert faces.shape == (4, 64, 64, 3) and faces.dtype == np.uint8
    # The mean face is a face: skin-ish centre, not a flat image.
    assert faces[0].std() > 10
    basis = fm.latent_basis
    assert basis is not None
    d = fm.latent_dim
    assert basis.axes.shape == (d, d) and basis.mean.shape == (d,) and basis.stds.shape == (d,)
    assert np.allclose(basis.axes.T @ basis.axes, np.eye(d), atol=1e-4)
    assert np.all(np.diff(basis.stds) <= 1e-6)
    if name == "synthetic":
        # Encoding synthetic faces lands where decoding them gives back similar pictures.
        images, _ = synthetic_faces(8, seed=10_000_000)
        again = fm.decode(fm.encode(images))
        mse = ((again.astype(float) - images.astype(float)) / 255.0) ** 2
        assert 10 * np.log10(1.0 / mse.mean()) > 18.0


def test_the_real_face_models_mean_face_is_found_by_a_face_detector() -> None:
    from model.align import NoFaceError, align_face

    fm = FaceModel.load(default_model_path())
    assert fm.config.aligned, "the default model is the real-face one"
    assert fm.latent_basis is not None
    mean = fm.decode(fm.latent_basis.mean[None])[0]  # (64, 64, 3)
    big = np.asarray(Image.fromarray(mean).resize((192, 192), Image.Resampling.LANCZOS))
    try:
        align_face(big, 64)
    except NoFaceError:
        pytest.fail("dlib finds no face in the real-face model's mean face")


def test_latent_basis_is_pca() -> None:
    rng = np.random.default_rng(0)
    z = rng.standard_normal((2000, 3)) * np.array([3.0, 1.0, 0.2]) + np.array([1.0, 2.0, 3.0])
    basis = LatentBasis.fit(z)
    assert np.allclose(basis.mean, [1.0, 2.0, 3.0], atol=0.2)
    assert np.allclose(np.abs(basis.axes), np.eye(3), atol=0.05)
    assert np.allclose(basis.stds, [3.0, 1.0, 0.2], rtol=0.1)
    again = LatentBasis.from_dict(basis.to_dict())
    assert np.array_equal(again.axes, basis.axes)


def test_import_model_is_cheap() -> None:
    code = "import sys, model; print('torch' in sys.modules, 'PIL' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
    assert set(model.__all__) >= {
        "FaceModel",
        "VAEConfig",
        "LatentBasis",
        "default_model_path",
        "ImageError",
        "face_array_from_bytes",
    }
    assert model.FaceModel is FaceModel


def test_no_model_module_imports_telegram() -> None:
    """docs/INTERFACES.md: model never imports Telegram or the packages above it."""
    assert loaded_after_importing("model", ["telegram", "bot", "fotorobot", "telegram_fake"]) == []
