"""Identity figures of the bundled real-face model, through both search subspaces."""

from __future__ import annotations

import numpy as np
import pytest

from model import FaceModel, default_model_path
from model.identity import IdentityMetric
from model.identity_bench import (
    detection_rate,
    faces_detected,
    identity_figures,
    prior_figures,
    project,
)
from model.search_assets import OPENER_COUNT, read_sidecar


@pytest.fixture(scope="module")
def real_model() -> FaceModel:
    path = default_model_path()
    if not path.is_file():
        pytest.skip("no bundled face model")
    return FaceModel.load(path)


def test_projection_keeps_what_lies_in_the_subspace_and_drops_the_rest(
    real_model: FaceModel,
) -> None:
    found = read_sidecar(real_model, default_model_path())
    assert found is not None
    basis, openers = found
    # The shipped sidecar is what model.search_assets computes today.
    assert openers.shape == (OPENER_COUNT, real_model.latent_dim)
    assert basis.axes.shape == (real_model.latent_dim, real_model.latent_dim)
    rng = np.random.default_rng(3)
    inside = basis.mean + rng.standard_normal((5, 16)) @ basis.axes[:, :16].T  # (5, d)
    np.testing.assert_allclose(project(inside, basis, 16), inside, atol=1e-4)
    outside = basis.axes[:, 20] * 2.0 + basis.mean  # along an axis the search leaves out
    np.testing.assert_allclose(project(outside[None], basis, 16)[0], basis.mean, atol=1e-4)
    z = rng.standard_normal((3, real_model.latent_dim)).astype(np.float32)
    assert project(z, basis, real_model.latent_dim) is z  # the whole latent: nothing to do


@pytest.mark.slow
def test_identity_figures_name_both_subspaces_and_the_whole_latent_is_the_full_figure(
    real_model: FaceModel,
) -> None:
    path = default_model_path()
    found = read_sidecar(real_model, path)
    assert found is not None
    rng = np.random.default_rng(0)
    faces = real_model.decode(rng.standard_normal((6, real_model.latent_dim)))  # (6, S, S, 3)
    metric = IdentityMetric()
    dims = (8, real_model.latent_dim)
    out = identity_figures(
        real_model, faces, metric, search_dims=dims, group=6, identity_axes=found[0]
    )
    assert set(out) == {"faces", "full", "subspace8", "identity8", f"subspace{dims[1]}",
                        f"identity{dims[1]}"}  # fmt: skip
    assert out[f"identity{dims[1]}"] == out["full"] == out[f"subspace{dims[1]}"]
    # Eight axes lose some of who each face is: further from the faces than the full codes.
    assert out["identity8"]["mean_distance"] > out["full"]["mean_distance"]
    rates = prior_figures(real_model, n=6, dim=16, identity_axes=found[0])
    assert set(rates) == {
        "prior_normal",
        "search_space_unit",
        "search_space_stds",
        "identity_space_unit",
    }
    assert all(0.0 <= v <= 1.0 for v in rates.values())


def test_the_detector_finds_a_real_face_and_not_a_blank_square() -> None:
    from pathlib import Path

    from model.images import aligned_face_from_bytes

    photo = Path(__file__).resolve().parents[1] / "data" / "astronaut.jpg"
    face = aligned_face_from_bytes(photo.read_bytes(), 64)  # (64, 64, 3)
    blank = np.full((64, 64, 3), 128, np.uint8)
    found = faces_detected(np.stack([face, blank]))
    assert found.dtype == bool and found.tolist() == [True, False]
    assert detection_rate(np.stack([face, blank])) == 0.5
