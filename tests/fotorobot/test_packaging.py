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


def test_the_deploy_files_give_a_stop_more_time_than_it_takes() -> None:
    """systemd and compose send SIGINT and wait the same grace period before SIGKILL, and it
    covers the bot's own bound (updates get SHUTDOWN_GRACE_S, then a few seconds to close),
    which tests/fotorobot/test_crash_recovery.py measures under 10 s."""
    from bot.updater import SHUTDOWN_GRACE_S

    unit = (REPO / "deploy" / "fotorobot.service").read_text(encoding="utf-8")
    compose = (REPO / "deploy" / "compose.yaml").read_text(encoding="utf-8")
    dockerfile = (REPO / "deploy" / "Dockerfile").read_text(encoding="utf-8")
    unit_grace = re.search(r"^TimeoutStopSec=(\d+)$", unit, flags=re.MULTILINE)
    compose_grace = re.search(r"stop_grace_period: (\d+)s", compose)
    assert unit_grace is not None and compose_grace is not None
    assert "KillSignal=SIGINT" in unit and "stop_signal: SIGINT" in compose
    assert "STOPSIGNAL SIGINT" in dockerfile
    grace = int(unit_grace.group(1))
    assert grace == int(compose_grace.group(1))
    assert grace >= 10 + 5 > SHUTDOWN_GRACE_S + 5  # the 10 s bound, with room to spare
