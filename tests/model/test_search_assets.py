"""Identity axes, opening faces and their storage, on toy decoders (no training, fast)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from model.identity_axes import identity_basis, identity_metric
from model.openers import greedy_facility, identity_openers


def _toy(latent_dim: int = 6):
    """decode: z -> an 'image' that carries z; describe: only z[1] and z[4] matter for who
    the face is, z[4] three times as much."""

    def decode(z: np.ndarray) -> np.ndarray:
        z = np.asarray(z, dtype=np.float64)
        img = np.zeros((len(z), 4, 4, 3), np.float64)
        img.reshape(len(z), -1)[:, :latent_dim] = z
        return img

    def describe(images: np.ndarray) -> np.ndarray:
        flat = np.asarray(images).reshape(len(images), -1)
        return np.stack([flat[:, 1], 3.0 * flat[:, 4], np.zeros(len(images))], axis=1)

    return decode, describe


def test_identity_axes_rank_the_directions_that_change_identity() -> None:
    decode, describe = _toy()
    m = identity_metric(decode, describe, 6, n=5)
    np.testing.assert_allclose(np.diag(m), [0, 1, 0, 0, 9, 0], atol=1e-5)
    basis = identity_basis(decode, describe, 6, n=5)
    assert abs(basis.axes[4, 0]) > 0.999 and abs(basis.axes[1, 1]) > 0.999
    np.testing.assert_allclose(basis.stds[:3], [3.0, 1.0, 0.0], atol=1e-3)
    assert np.allclose(basis.axes.T @ basis.axes, np.eye(6), atol=1e-6)
    assert np.all(basis.mean == 0)


def test_greedy_facility_covers_the_population() -> None:
    # population: two clusters at 0 and 10 on a line; pool: points 0..10
    pop = np.r_[np.zeros(5), np.full(5, 10.0)]
    pool = np.arange(11, dtype=np.float64)
    d = np.abs(pool[:, None] - pop[None, :])
    first = greedy_facility(d, 3)
    assert first[0] in (0, 10) or first[0] == 5  # one point first: the centre or a cluster
    assert set(first[:3].tolist()) >= {0, 10}  # after three, both clusters have a face
    assert len(set(first.tolist())) == 3


def test_openers_come_from_the_pool_in_greedy_order() -> None:
    decode, describe = _toy()
    rng = np.random.default_rng(0)
    pool = rng.normal(size=(50, 6))
    photos = decode(pool[:5] + 0.01)  # people who look like pool faces 0..4
    openers = identity_openers(decode, describe, photos, pool, k=5)
    assert openers.shape == (5, 6)
    # every opener is a pool face, and together they are close to every photo
    assert all(np.any(np.all(np.isclose(o, pool.astype(np.float32)), axis=1)) for o in openers)
    dist = np.linalg.norm(describe(decode(openers))[:, None] - describe(photos)[None], axis=2)
    assert dist.min(axis=0).max() < 0.1


def test_assets_round_trip_and_refuse_another_model(tmp_path: Path) -> None:
    from model import FaceModel, default_model_path
    from model.config import LatentBasis
    from model.search_assets import _read_assets, write_assets

    fm = FaceModel.load(default_model_path())
    d = fm.latent_dim
    basis = LatentBasis(
        np.zeros(d, np.float32), np.eye(d, dtype=np.float32), np.ones(d, np.float32)
    )
    openers = np.ones((8, d), np.float32)
    file = tmp_path / "x.search.npz"
    write_assets(file, fm, basis, openers)
    back = _read_assets(file, fm)
    assert back is not None and np.array_equal(back[1], openers)
    fm.version = "someother"
    assert _read_assets(file, fm) is None
