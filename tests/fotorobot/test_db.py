"""`fotorobot db backup` and `fotorobot db export` end to end, on the database `run` uses."""

from __future__ import annotations

import asyncio
import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

import storage as st
from fotorobot.cli import main

CHAT = -77


async def _make_db(path: pathlib.Path) -> dict[str, object]:
    conn = await st.connect(path)
    try:
        await st.upsert_chat(conn, CHAT, "group", "Export me", "ru")
        session = await st.start_session(conn, CHAT, "m", {"dim": 3})
        faces = [st.NewFace(np.full(3, 0.25 * i), np.arange(4.0), "initial", i) for i in (1, 2)]
        rnd = await st.record_album(conn, session.id, faces, [11, 12], 13)
        await st.cast_votes(conn, CHAT, 5, [(rnd.faces[1].id, 9.0)], "#2 9", 14)
        data = await st.export_chat(conn, CHAT)
    finally:
        await conn.close()
    assert data is not None
    return data


async def _export(path: pathlib.Path) -> dict[str, object] | None:
    conn = await st.connect(path)
    try:
        return await st.export_chat(conn, CHAT)
    finally:
        await conn.close()


def test_backup_is_a_complete_copy(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "live.sqlite3"
    original = asyncio.run(_make_db(db))
    target = tmp_path / "backups" / "copy.sqlite3"
    assert main(["db", "backup", str(target), "--db", str(db)]) == 0
    assert "backed up" in capsys.readouterr().out
    assert asyncio.run(_export(target)) == original
    assert main(["db", "backup", str(db), "--db", str(db)]) == 1  # never onto itself


def test_export_to_file_and_stdout(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "live.sqlite3"
    original = asyncio.run(_make_db(db))
    out = tmp_path / "chat.json"
    assert main(["db", "export", str(CHAT), "--db", str(db), "--out", str(out)]) == 0
    assert json.loads(out.read_text(encoding="utf-8")) == original
    capsys.readouterr()
    monkeypatch.setenv("FOTOROBOT_DB", str(db))  # the default path
    assert main(["db", "export", str(CHAT)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["chat"]["title"] == "Export me"
    assert data["sessions"][0]["rounds"][0]["faces"][1]["point"] == [0.5, 0.5, 0.5]


def test_cli_errors_are_friendly(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nope.sqlite3"
    assert main(["db", "export", "1", "--db", str(missing)]) == 1
    assert "no database" in capsys.readouterr().err
    assert not missing.exists()  # an export never creates a database
    db = tmp_path / "live.sqlite3"
    asyncio.run(_make_db(db))
    assert main(["db", "export", "999", "--db", str(db)]) == 1
    assert "not in" in capsys.readouterr().err


def test_backup_finds_the_data_dir_database_from_any_directory(tmp_path: pathlib.Path) -> None:
    """The bug this guards: with FOTOROBOT_DATA_DIR set (as the Docker image and the compose
    file do) `fotorobot run` wrote $FOTOROBOT_DATA_DIR/fotorobot.sqlite3, while `fotorobot db
    backup` run from another directory looked for ./data/fotorobot.sqlite3 and failed."""
    data_dir = tmp_path / "srv" / "data"
    original = asyncio.run(_make_db(data_dir / "fotorobot.sqlite3"))
    elsewhere = tmp_path / "home"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FOTOROBOT_", "TELEGRAM_"))}
    env["FOTOROBOT_DATA_DIR"] = str(data_dir)
    script = pathlib.Path(sys.executable).with_name("fotorobot")  # the console script itself
    command = [str(script)] if script.is_file() else [sys.executable, "-m", "fotorobot"]
    proc = subprocess.run(
        [*command, "db", "backup", "copy.sqlite3"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert str(data_dir / "fotorobot.sqlite3") in proc.stdout
    assert asyncio.run(_export(elsewhere / "copy.sqlite3")) == original
