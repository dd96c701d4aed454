"""telegram_fake stands on its own: it imports nothing of fotorobot."""

from __future__ import annotations

from tests.imports import loaded_after_importing, modules_of, top_level_imports

PROJECT = {"bot", "fotorobot", "model", "optimization", "storage", "tests"}


def test_the_fake_imports_nothing_of_the_project() -> None:
    for path in modules_of("telegram_fake"):
        assert not top_level_imports(path) & PROJECT, path
    assert loaded_after_importing("telegram_fake", sorted(PROJECT - {"tests"})) == []
