"""`fotorobot db backup`, `fotorobot db export` and `fotorobot bench storage` end to end."""

from __future__ import annotations

import asyncio
import json
import pathlib

import numpy as np
import pytest

import storage as st
from bot.cli import main

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


def test_bench_storage_writes_figures(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "bench.json"
    args = ["--votes", "8", "--faces", "8", "--repeats", "2", "--size-faces", "100"]
    assert main(["bench", "storage", *args, "--dir", str(tmp_path), "--json", str(out)]) == 0
    figures = json.loads(out.read_text(encoding="utf-8"))
    assert figures["history_faces"] == 8 and figures["history_votes"] == 24
    assert figures["single_votes_per_s_full"] > 0 and figures["bytes_per_1000_faces_no_votes"] > 0
    assert "history_load_ms_median" in capsys.readouterr().out
