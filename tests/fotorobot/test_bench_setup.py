"""Benchmark targets: real photos keep to the evaluation split they are told or recorded."""

from __future__ import annotations

from pathlib import Path

import pytest

from fotorobot.bench_setup import resolve_targets
from model import FaceModel, default_model_path
from model.search_assets import recorded_photo_split

ASTRONAUT = Path(__file__).resolve().parents[1] / "data" / "astronaut.jpg"


@pytest.mark.slow
def test_photo_targets_keep_to_the_named_evaluation_split(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = default_model_path()
    if not path.is_file():
        pytest.skip("no bundled face model")
    monkeypatch.setenv("FOTOROBOT_CACHE_DIR", str(tmp_path / "cache"))
    photos = tmp_path / "photos"
    photos.mkdir()
    for name in ("000001.jpg", "189999.jpg", "190000.jpg", "200001.jpg"):
        (photos / name).write_bytes(ASTRONAUT.read_bytes())
    fm = FaceModel.load(path)
    # The bundled checkpoint recorded its CelebA folder under another path: not this one.
    recorded = recorded_photo_split(path)
    assert recorded is not None and recorded[0].resolve() != photos.resolve()
    every = resolve_targets(f"photos:{photos}", fm, path, n=10, seed=0)
    assert every.kind == "photos" and every.images.shape[0] == 4
    held = resolve_targets(f"photos:{photos}", fm, path, n=10, seed=0, eval_from="190000")
    assert held.images.shape == (2, fm.image_size, fm.image_size, 3)
    assert "evaluation split from 190000" in held.description
    one = resolve_targets(f"photos:{photos}", fm, path, n=1, seed=0, eval_from="190000")
    assert one.images.shape[0] == 1
