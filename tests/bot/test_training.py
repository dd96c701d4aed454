"""Background training through the fake Bot API: a run from /train to Activate, cancel, restart.

These start the real `fotorobot train` (and `bench model`) as subprocesses on tiny data.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import storage
from bot.training_process import RunFiles, process_alive
from model.checkpoint import file_version
from telegram_fake import FakeBotAPI, Msg
from tests.bot.test_admin import owner_setup, tiny_checkpoint
from tests.botkit import Person, album_of, running_bot

RUN_WAIT = 600.0  # a loaded 2-core box: generous; the runs themselves take seconds
TINY_RUN = "size=32 latent=8"


def fast_reports(app: Any, interval: float = 0.3) -> Any:
    """The admin service with progress edits allowed every `interval` seconds."""
    admin = app.bot_data.require().admin
    admin.reporter.min_interval = interval
    # The bench's figures, from fewer faces (the same code path, a tenth of the time).
    admin.trainer.bench_flags = ("--faces", "20", "--train-steps", "1", "--decode-calls", "10",
                                 "--heldout", "40")  # fmt: skip
    return admin


async def wait_for(api: FakeBotAPI, chat: Any, predicate: Any, what: str) -> Msg:
    def found() -> Msg | None:
        return next((m for m in api.bot_messages(chat) if predicate(m)), None)

    message: Msg = await api.wait_until(found, timeout=RUN_WAIT, what=what)
    return message


def edits_of(api: FakeBotAPI, message_id: int) -> list[str]:
    return [
        str(c.params.get("text"))
        for c in api.calls_to("editMessageText")
        if int(c.params.get("message_id", 0)) == message_id and c.error is None
    ]


@pytest.mark.slow
async def test_a_run_from_train_to_activate(tmp_path: Path) -> None:
    api, olga, settings = owner_setup(tmp_path)
    async with running_bot(api, settings) as app:
        admin = fast_reports(app)
        engine = app.bot_data.require().engine
        configured = engine.models.active_model.version
        alice = Person(api, "Alice")
        await alice.start()  # a search opened before the new model
        sent = api.send_text(olga.chat, olga.user, f"/train synthetic:256 epochs=1 {TINY_RUN}")
        (progress,) = await olga.answers_after(sent)
        assert progress.text == "Training run #1 (synthetic:256, 1 epochs): preparing the data…"
        grid = await wait_for(api, olga.chat, lambda m: m.kind == "photo", "the epoch grid")
        assert (grid.caption or "").startswith("Run #1, epoch 1/1: faces drawn from the model")
        end = await wait_for(api, olga.chat, lambda m: bool(m.buttons), "the end of the run")
        run = await storage.get_training_run(engine.conn, 1)
        assert run is not None and run.state == "done" and run.model_version is not None
        version = run.model_version
        assert (end.text or "").startswith(f"Training run #1 finished: model {version}.")
        assert "PSNR" in (end.text or "") and "decode 4 faces" in (end.text or "")  # the bench
        assert end.buttons == [("Activate", "adm:use:1"), ("Discard", "adm:drop:1")]
        edits = edits_of(api, progress.message_id)
        assert any("epoch 1/1, step" in e and "images/s" in e and "left" in e for e in edits)
        assert edits[-1] == "Training run #1 (synthetic:256): finished."
        # Every checkpoint is a version: its digest, path, config, figures, who, from what.
        registered = await storage.get_model_version(engine.conn, version)
        assert registered is not None and registered.trained_by == olga.user.id
        assert registered.source == "synthetic:256" and registered.epoch == 1
        assert file_version(registered.path) == version
        assert registered.config["latent_dim"] == 8 and "psnr_db" in registered.metrics
        assert not process_alive(run.pid or 0, str(run.workdir)) and admin.trainer.run is None
        # Activate: the next /start uses it; Alice's search keeps decoding with her own model.
        api.press_button(olga.chat, olga.user, end.message_id, "adm:use:1")
        (answer,) = await olga.answers_after(end)
        assert (answer.text or "").startswith(f"Model {version} is active")
        bob = Person(api, "Bob")
        await bob.start()
        bob_round = await storage.open_round(engine.conn, bob.chat.id)
        assert bob_round is not None
        assert {(f.model_version, f.latent.shape) for f in bob_round.faces} == {(version, (8,))}
        photos, _ = album_of(await alice.rate_all())
        assert len(photos) == 4
        alice_round = await storage.open_round(engine.conn, alice.chat.id)
        assert alice_round is not None
        assert {(f.model_version, f.latent.shape) for f in alice_round.faces} == {
            (configured, (32,))
        }
        actions = [(e.action, e.details["outcome"]) for e in await storage.audit_log(engine.conn)]
        assert ("train", "started") in actions and ("activate", "switched") in actions


@pytest.mark.slow
async def test_cancel_ends_the_process_and_keeps_the_last_epoch(tmp_path: Path) -> None:
    api, olga, settings = owner_setup(tmp_path)
    async with running_bot(api, settings) as app:
        admin = fast_reports(app)
        conn = app.bot_data.require().engine.conn
        await olga.say(f"/train synthetic:200 epochs=200 {TINY_RUN}")
        await wait_for(api, olga.chat, lambda m: m.kind == "photo", "the first epoch grid")
        run = admin.trainer.run
        assert run is not None and run.pid is not None and process_alive(run.pid, run.workdir)
        (busy,) = await olga.say("/train synthetic:300")
        assert busy.text == (
            "Training run #1 is still going. One run at a time: /train_status shows it, "
            "/train_cancel stops it."
        )
        (status,) = await olga.say("/train_status")
        assert (status.text or "").startswith("Training run #1 (synthetic:200): ")
        sent = api.send_text(olga.chat, olga.user, "/train_cancel")
        report = await wait_for(
            api, olga.chat, lambda m: "was cancelled after epoch" in (m.text or ""), "cancel"
        )
        assert report.message_id > sent.message_id
        assert not process_alive(run.pid, run.workdir)
        with pytest.raises(ProcessLookupError):
            os.killpg(run.pid, 0)  # the whole group is gone
        ended = await storage.get_training_run(conn, run.id)
        assert ended is not None and ended.state == "cancelled" and ended.epoch >= 1
        kept = await storage.get_model_version(conn, ended.model_version or "")
        assert kept is not None and Path(kept.path).is_file() and kept.epoch == ended.epoch
        assert f"kept as model {kept.version}" in (report.text or "")
        assert report.buttons == [("Activate", "adm:use:1"), ("Discard", "adm:drop:1")]
        (answer,) = await olga.say("/train_cancel")
        assert answer.text == "No training is running."
        # Discard deletes the run's checkpoints.
        api.press_button(olga.chat, olga.user, report.message_id, "adm:drop:1")
        await wait_for(api, olga.chat, lambda m: "Discarded run #1:" in (m.text or ""), "discard")
        assert not Path(kept.path).exists()
        assert await storage.get_model_version(conn, kept.version) is None


@pytest.mark.slow
async def test_a_restart_mid_run_is_found_and_resumed(tmp_path: Path) -> None:
    api, olga, settings = owner_setup(tmp_path)
    async with running_bot(api, settings) as app:
        admin = fast_reports(app)
        await olga.say(f"/train synthetic:200 epochs=200 {TINY_RUN}")
        await wait_for(api, olga.chat, lambda m: m.kind == "photo", "the first epoch grid")
        run = admin.trainer.run
        assert run is not None and run.pid is not None
        pid, workdir = run.pid, str(run.workdir)
    # The bot stopped: it took its training process with it.
    assert not process_alive(pid, workdir)
    async with running_bot(api, settings) as app:
        admin = fast_reports(app)
        conn = app.bot_data.require().engine.conn
        offer = await wait_for(
            api, olga.chat, lambda m: "The bot restarted while" in (m.text or ""), "the offer"
        )
        stopped = await storage.get_training_run(conn, 1)
        assert stopped is not None and stopped.state == "interrupted" and stopped.pid is None
        assert stopped.epoch >= 1 and stopped.model_version is not None
        assert f"epoch {stopped.epoch} of 200 is kept as model {stopped.model_version}" in (
            offer.text or ""
        )
        assert offer.buttons == [("Resume", "adm:resume:1"), ("Discard", "adm:drop:1")]
        # Nothing is half-registered: every kept epoch file is a version, no temp file left.
        files = RunFiles(Path(workdir))
        versions = {v.version for v in await storage.list_model_versions(conn) if v.run_id == 1}
        assert {file_version(p) for _, p in files.epoch_checkpoints()} == versions
        assert not list(Path(workdir).glob("*.tmp"))
        api.press_button(olga.chat, olga.user, offer.message_id, "adm:resume:1")
        resumed = await wait_for(api, olga.chat, lambda m: "resumes after epoch" in (m.text or ""),
                                 "the resumed run")  # fmt: skip
        assert f"resumes after epoch {stopped.epoch} of 200" in (resumed.text or "")
        later = stopped.epoch + 1
        await wait_for(
            api,
            olga.chat,
            lambda m: (m.caption or "").startswith(f"Run #1, epoch {later}/200"),
            "an epoch after the restart",
        )
        assert admin.trainer.run is not None and admin.trainer.run.state == "running"
        cancelled = await admin.trainer.cancel()
        assert cancelled is not None


@pytest.mark.slow
async def test_an_orphan_left_by_a_crash_is_stopped_and_its_epochs_registered(
    tmp_path: Path,
) -> None:
    """A crashed bot (SIGKILL) leaves its training process running: the next start stops it,
    registers the epoch it finished and offers to resume."""
    api, olga, settings = owner_setup(tmp_path)
    workdir = tmp_path / "training" / "run-1"
    workdir.mkdir(parents=True)
    tiny_checkpoint(workdir / "model.epoch1.pt", latent_dim=5)
    (workdir / "model.pt.123.tmp").write_bytes(b"half a checkpoint")
    orphan = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(120)", str(workdir)],
        start_new_session=True,
    )
    try:
        conn = await storage.connect(settings.db_path)
        await storage.upsert_chat(conn, olga.chat.id, "private")
        run = await storage.create_training_run(
            conn, olga.user.id, olga.chat.id, {"label": "synthetic:256", "options": {}}, 3,
            workdir_for=lambda _id: str(workdir),
        )  # fmt: skip
        await storage.mark_training_started(conn, run.id, orphan.pid)
        await conn.close()
        async with running_bot(api, settings) as app:
            conn = app.bot_data.require().engine.conn
            offer = await wait_for(
                api, olga.chat, lambda m: "The bot restarted while" in (m.text or ""), "offer"
            )
            assert await asyncio.to_thread(orphan.wait, 30) == -signal.SIGTERM
            found = await storage.get_training_run(conn, run.id)
            assert found is not None and found.state == "interrupted" and found.epoch == 1
            version = file_version(workdir / "model.epoch1.pt")
            assert found.model_version == version and version in (offer.text or "")
            registered = await storage.get_model_version(conn, version)
            assert registered is not None and registered.config["latent_dim"] == 5
            assert not (workdir / "model.pt.123.tmp").exists()
    finally:
        if orphan.poll() is None:
            orphan.kill()


@pytest.mark.slow
async def test_train_with_tune_reports_the_trials_then_trains_the_best(tmp_path: Path) -> None:
    api, olga, settings = owner_setup(tmp_path)
    async with running_bot(api, settings) as app:
        fast_reports(app)
        conn = app.bot_data.require().engine.conn
        sent = api.send_text(olga.chat, olga.user, "/train synthetic:64 epochs=1 size=32 tune=3")
        (progress,) = await olga.answers_after(sent)
        plot = await wait_for(api, olga.chat, lambda m: m.kind == "photo", "the trials' plot")
        assert (plot.caption or "").startswith("Run #1: held-out loss of each tuning trial")
        table = await wait_for(api, olga.chat, lambda m: m.kind == "document", "the table")
        rows = api.file_bytes(str(table.file_id)).decode().splitlines()
        assert len(rows) == 2 + 3 and sum("**best**" in r for r in rows) == 1
        end = await wait_for(api, olga.chat, lambda m: bool(m.buttons), "the end of the run")
        assert (end.text or "").startswith("Training run #1 finished")
        assert any("tuning, trial" in e for e in edits_of(api, progress.message_id))
        run = await storage.get_training_run(conn, 1)
        assert run is not None and run.state == "done"
        version = await storage.get_model_version(conn, run.model_version or "")
        best = next(r for r in rows if "**best**" in r).split("|")
        assert version is not None and version.config["latent_dim"] == int(best[3])
