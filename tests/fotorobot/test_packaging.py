"""What an installation carries: the package data that exists, and no emulator in production."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_package_data_globs_match_files() -> None:
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    for package, globs in config["tool"]["setuptools"]["package-data"].items():
        for pattern in globs:
            assert list((REPO / package).glob(pattern)), f"{package}/{pattern} matches nothing"


def test_the_production_image_copies_the_bot_but_not_the_emulator_or_tests() -> None:
    dockerfile = (REPO / "deploy" / "Dockerfile").read_text(encoding="utf-8")
    copied = set(re.findall(r"^COPY (\S+) ", dockerfile, flags=re.MULTILINE))
    assert {"fotorobot", "bot", "model", "optimization", "storage"} <= copied
    assert not copied & {"telegram_fake", "tests", "."}


def test_one_console_entry_point() -> None:
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    assert config["project"]["scripts"] == {"fotorobot": "fotorobot.cli:main"}
