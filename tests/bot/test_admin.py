"""Owners' commands through the fake Bot API: who may, the audit log, model versions, hot swap,
archives of photos. (Training runs themselves: tests/bot/test_training.py.)"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

import storage
from bot.archives import ArchiveLimits
from fotorobot.settings import Settings
from model.checkpoint import atomic_save, file_version
from model.config import VAEConfig
from model.vae import VAE
from telegram_fake import FakeBotAPI
from tests.botkit import WAIT, Person, album_of, bot_settings, png_bytes, running_bot

PHOTO = png_bytes(np.full((8, 8, 3), 90, dtype=np.uint8))
ADMIN_COMMANDS = {"train", "train_status", "train_cancel", "train_resume", "models", "use",
                  "rollback", "audit"}  # fmt: skip


def tiny_checkpoint(path: Path, latent_dim: int = 6, seed: int = 0) -> Path:
    """An untrained tiny VAE checkpoint (its own weights, its own version)."""
    cfg = VAEConfig(
        image_size=32, latent_dim=latent_dim, enc_channels=(8, 8, 16, 16),
        dec_channels=(16, 8, 8, 8),
    )  # fmt: skip
    torch.manual_seed(seed)
    atomic_save({"config": cfg.to_dict(), "model": VAE(cfg).state_dict()}, path)
    return path


async def register(conn: Any, path: Path) -> str:
    version = file_version(path)
    await storage.register_model_version(conn, version, str(path), {}, {})
    return version


def text_of(messages: list[Any]) -> str:
    return "\n".join(m.text or m.caption or "" for m in messages)


async def test_strangers_are_refused_audited_and_nothing_runs(tmp_path: Path) -> None:
    api, olga, settings = owner_setup(tmp_path)
    owner = olga.user
    async with running_bot(api, settings) as app:
        deps = app.bot_data.require()
        stranger = Person(api, "Mallory")
        for command in ("/train synthetic:256", "/use abc", "/models", "/train_cancel",
                        "/rollback", "/audit", "/train_resume", "/train_status"):  # fmt: skip
            (answer,) = await stranger.say(command)
            assert answer.text == "Only the bot's owners can do that.", command
        # An owner's id does not help someone posting "as the group".
        group = api.group("Team", [owner])
        sent = api.send_as_group(group, "/train synthetic:256")
        (answer,) = await api.wait_for_messages(group, 1, after=sent.message_id, timeout=WAIT)
        assert answer.text == "Only the bot's owners can do that."
        await api.wait_idle()
        assert deps.admin is not None and deps.admin.trainer.run is None
        conn = deps.engine.conn
        assert await storage.list_training_runs(conn) == []
        assert not (tmp_path / "training").exists()
        entries = await storage.audit_log(conn)
        assert len(entries) == 9 and all(e.details["outcome"] == "refused" for e in entries)
        assert {e.action for e in entries} == {
            "train", "use", "models", "train_cancel", "rollback", "audit", "train_resume",
            "train_status",
        }  # fmt: skip
        assert entries[0].details.get("anonymous") is True and entries[0].chat_id == group.id
        assert all(e.admin_user_id == stranger.user.id for e in entries[1:])
        assert "abc" not in str([e.details for e in entries])  # a stranger's words aren't kept
        # The owner sees them all in /audit, newest first, with their own request on top.
        (log,) = await olga.say("/audit")
        lines = (log.text or "").splitlines()
        assert lines[0] == "Latest admin actions (newest first):"
        assert "/audit · shown" in lines[1] and f"id {owner.id}" in lines[1]
        assert sum("refused" in line for line in lines) == 9


async def test_owners_get_the_admin_menu_others_do_not(tmp_path: Path) -> None:
    api = FakeBotAPI()
    owner, other = api.user(first_name="Olga", language_code="ru"), api.user()
    settings = bot_settings(tmp_path, api.token, admin_ids=frozenset({owner.id}))
    async with running_bot(api, settings):
        scope = {"type": "chat", "chat_id": owner.id}
        assert set(api.commands_for(scope=scope)) >= ADMIN_COMMANDS
        assert set(api.commands_for("ru", scope=scope)) >= ADMIN_COMMANDS
        assert {"start", "help"} <= set(api.commands_for(scope=scope))
        assert not ADMIN_COMMANDS & set(api.commands_for())
        assert not ADMIN_COMMANDS & set(api.commands_for("ru"))
        assert api.commands_for(scope={"type": "chat", "chat_id": other.id}) == []


def owner_setup(tmp_path: Path, **overrides: Any) -> tuple[FakeBotAPI, Person, Settings]:
    """A fake Bot API, an owner in their private chat, and the bot's settings naming them."""
    api = FakeBotAPI()
    olga = Person(api, "Olga")
    settings = bot_settings(tmp_path, api.token, admin_ids=frozenset({olga.user.id}), **overrides)
    return api, olga, settings


async def test_use_models_rollback_and_hot_swap(tmp_path: Path) -> None:
    api, olga, settings = owner_setup(tmp_path)
    owner = olga.user
    async with running_bot(api, settings) as app:
        engine = app.bot_data.require().engine
        conn = engine.conn
        configured = engine.models.active_model.version
        tiny = await register(conn, tiny_checkpoint(tmp_path / "tiny.pt"))
        alice = Person(api, "Alice")
        await alice.start()  # a search on the configured model
        (listing,) = await olga.say("/models")
        assert f"▶ {configured} · the configured model" in (listing.text or "")
        assert f"• {tiny}" in (listing.text or "")
        (answer,) = await olga.say(f"/use {tiny[:5]}")
        assert answer.text is not None and answer.text.startswith(f"Model {tiny} is active")
        bob = Person(api, "Bob")
        await bob.start()
        bob_session = await storage.open_session(conn, bob.chat.id)
        alice_session = await storage.open_session(conn, alice.chat.id)
        assert bob_session is not None and bob_session.model_version == tiny
        assert alice_session is not None and alice_session.model_version == configured
        # Alice's next album still comes from her model: 32-number latents, not 6.
        photos, _prompt = album_of(await alice.rate_all())
        assert len(photos) == 4
        round_ = await storage.open_round(conn, alice.chat.id)
        assert round_ is not None and {f.latent.shape for f in round_.faces} == {(32,)}
        assert {f.model_version for f in round_.faces} == {configured}
        round_ = await storage.open_round(conn, bob.chat.id)
        assert round_ is not None and {f.latent.shape for f in round_.faces} == {(6,)}
        (listing,) = await olga.say("/models")
        lines = (listing.text or "").splitlines()
        assert any(line.startswith(f"▶ {tiny}") and "open searches: 1 · in memory" in line
                   for line in lines)  # fmt: skip
        assert any(line.startswith(f"• {configured}") and "searches: 1" in line for line in lines)
        (answer,) = await olga.say(f"/use {tiny}")
        assert answer.text == f"Model {tiny} is already the active one."
        (answer,) = await olga.say("/use zzz")
        assert "no model version starting with that" in (answer.text or "")
        (answer,) = await olga.say("/use")
        assert answer.text == "Which version? /use VERSION; /models lists them."
        (answer,) = await olga.say("/rollback")
        assert (answer.text or "").startswith(f"Back to model {configured}")
        (answer,) = await olga.say("/rollback")
        assert answer.text == "There is no earlier model to go back to."
        actions = [(e.action, e.details["outcome"]) for e in await storage.audit_log(conn)]
        assert actions[:6] == [
            ("rollback", "nothing"), ("rollback", "switched"), ("use", "usage"),
            ("use", "missing"), ("use", "already"), ("models", "listed"),
        ]  # fmt: skip
    # The active model survives a restart.
    async with running_bot(api, settings) as app:
        await storage.use_model_version(app.bot_data.require().engine.conn, tiny, by=owner.id)
    async with running_bot(api, settings) as app:
        assert app.bot_data.require().engine.models.active_model.version == tiny
        carol = Person(api, "Carol")
        await carol.start()
        session = await storage.open_session(app.bot_data.require().engine.conn, carol.chat.id)
        assert session is not None and session.model_version == tiny


async def test_a_search_whose_model_file_is_gone_ends_with_an_offer(tmp_path: Path) -> None:
    api, olga, settings = owner_setup(tmp_path)
    async with running_bot(api, settings) as app:
        engine = app.bot_data.require().engine
        path = tiny_checkpoint(tmp_path / "gone.pt")
        tiny = await register(engine.conn, path)
        await olga.say(f"/use {tiny}")
        alice = Person(api, "Alice")
        await alice.start()
        await olga.say("/rollback")  # new searches: the configured model again
        path.unlink()  # e.g. discarded
        sent = api.send_text(alice.chat, alice.user, "8 3 5 6")
        (gone,) = await alice.answers_after(sent)
        assert (gone.text or "").startswith("This search was started with a face model that is")
        assert gone.buttons == [("Start a new search", "new")]
        assert await storage.open_session(engine.conn, alice.chat.id) is None
        api.press_button(alice.chat, alice.user, gone.message_id, "new")
        answers = await api.wait_for_messages(alice.chat, 6, after=gone.message_id, timeout=WAIT)
        photos, _ = album_of(answers)
        assert len(photos) == 4
        session = await storage.open_session(engine.conn, alice.chat.id)
        assert session is not None and session.model_version == engine.models.active_model.version
        # /use of a version whose file is gone is refused plainly.
        (answer,) = await olga.say(f"/use {tiny}")
        assert answer.text == f"Model {tiny}'s file is gone, so it cannot be used."


def zip_bytes(entries: dict[str, bytes], links: dict[str, str] | None = None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
        for name, target in (links or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = 0o120777 << 16
            zf.writestr(info, target)
    return out.getvalue()


async def send_zip(api: FakeBotAPI, person: Person, data: bytes, caption: str | None = None,
                   name: str = "faces.zip", n: int = 2) -> list[Any]:  # fmt: skip
    sent = api.send_document(
        person.chat, person.user, data, file_name=name, mime_type="application/zip",
        caption=caption,
    )  # fmt: skip
    return await person.answers_after(sent, n)


async def test_archives_are_unpacked_safely(tmp_path: Path) -> None:
    datasets = tmp_path / "datasets"
    api, olga, settings = owner_setup(tmp_path, datasets_dir=datasets)
    owner = olga.user
    async with running_bot(api, settings) as app:
        admin = app.bot_data.require().admin
        assert admin is not None
        good = zip_bytes(
            {"set/a.png": PHOTO, "set/b.png": PHOTO, "set/notes.txt": b"hi"},
            links={"set/evil.png": "/etc/passwd"},
        )
        _, done = await send_zip(api, olga, good)
        body = done.text or ""
        assert body.startswith("Unpacked 2 photos into the dataset uploads/")
        assert "1 files that are not photos, 1 links or special files" in body
        label = body.split("the dataset ")[1].split(".")[0]
        folder = datasets / label
        assert sorted(p.name for p in folder.rglob("*") if p.is_file()) == ["a.png", "b.png"]
        assert not list((datasets / ".incoming").iterdir())  # the download is gone
        # Paths out of the archive: refused whole, nothing written anywhere.
        before = sorted(p for p in datasets.rglob("*"))
        _, refused = await send_zip(api, olga, zip_bytes({"ok.png": PHOTO, "../../x.png": PHOTO}))
        assert (refused.text or "").startswith("That archive names files outside itself")
        assert sorted(p for p in datasets.rglob("*")) == before
        assert not (tmp_path / "x.png").exists()
        # Too many files.
        admin.archive_limits = ArchiveLimits(max_files=3)
        many = zip_bytes({f"{i}.png": PHOTO for i in range(4)})
        _, refused = await send_zip(api, olga, many)
        assert refused.text == "That archive holds more than 3 files. Split it, please. " + (
            "Nothing was kept."
        )
        # Not photos at all.
        _, refused = await send_zip(api, olga, zip_bytes({"a.txt": b"x"}))
        assert (refused.text or "").startswith("There are no photos")
        # A caption "/train ..." trains on the new dataset at once (here its options are wrong,
        # so nothing starts, and the owner is told why).
        admin.archive_limits = ArchiveLimits()
        answers = await send_zip(api, olga, good, caption="/train epochs=0", n=3)
        assert "“epochs=0” is out of range" in (answers[2].text or "")
        assert admin.trainer.run is None
        # Over the Bot API's download limit: said plainly, with the way around it.
        downloads = len(api.calls_to("getFile"))
        sent = api.send_document(
            olga.chat, owner, b"PK" + bytes(21 * 1024 * 1024), file_name="big.zip",
            mime_type="application/zip",
        )  # fmt: skip
        (too_big,) = await olga.answers_after(sent)
        assert "larger than 20 MB" in (too_big.text or "")
        assert "self-hosted Bot API server" in (too_big.text or "")
        assert len(api.calls_to("getFile")) == downloads  # not even tried
        # Someone else's archive is just a file that is not a picture.
        mallory = Person(api, "Mallory")
        (answer,) = await send_zip(api, mallory, good, n=1)
        assert (
            answer.text
            == "That file isn't a picture I can read. Send a photo (JPEG or PNG) of a face."
        )
        outcomes = [(e.action, e.details["outcome"]) for e in await storage.audit_log(admin.conn)]
        assert ("archive", "too_big") in outcomes and ("archive", "bad_archive") in outcomes
        assert all(e[0] != "archive" or e[1] != "refused" for e in outcomes)


async def test_train_explains_itself_and_refuses_paths_outside(tmp_path: Path) -> None:
    datasets = tmp_path / "datasets"
    (datasets / "faces").mkdir(parents=True)
    secret = tmp_path / "secret-place"
    secret.mkdir()
    (datasets / "escape").symlink_to(secret)
    api, olga, settings = owner_setup(tmp_path, datasets_dir=datasets)
    async with running_bot(api, settings) as app:
        (usage,) = await olga.say("/train")
        assert "synthetic:N" in (usage.text or "") and "epochs=10" in (usage.text or "")
        assert "up to 20 MB" in (usage.text or "") and "self-hosted Bot API server" in (
            usage.text or ""
        )
        cases = {
            f"/train {secret}": "I only read photos from the datasets folder",
            "/train ../secret-place": "I only read photos from the datasets folder",
            "/train escape": "I only read photos from the datasets folder",
            "/train nowhere": "There is no such folder",
            "/train synthetic:1": "synthetic:N takes a number of faces from 2",
            "/train synthetic:256 epochs=ten": "“epochs=ten” is out of range",
            "/train synthetic:256 speed=9": "I don't know the option “speed=9”",
        }
        for command, expected in cases.items():
            (answer,) = await olga.say(command)
            assert (answer.text or "").startswith(expected), command
            assert str(secret) not in (answer.text or "") and str(tmp_path) not in (
                answer.text or ""
            )
        conn = app.bot_data.require().engine.conn
        details = [e.details for e in await storage.audit_log(conn)]
        assert str(secret) not in str(details) and "secret-place" not in str(details)
        assert await storage.list_training_runs(conn) == []


@pytest.mark.parametrize("lang", ["ru"])
async def test_russian_owner(tmp_path: Path, lang: str) -> None:
    api = FakeBotAPI()
    olga = Person(api, "Ольга", language=lang)
    settings = bot_settings(tmp_path, api.token, admin_ids=frozenset({olga.user.id}))
    async with running_bot(api, settings):
        (answer,) = await olga.say("/train synthetic:1")
        assert (answer.text or "").startswith("synthetic:N принимает число лиц")
        (answer,) = await Person(api, "Боб", language=lang).say("/models")
        assert answer.text == "Это могут только владельцы бота."
