"""A scripted conversation with the real bot on the fake Bot API; saves what the user saw.

`python -m fotorobot.demo docs/img` writes the pictures of docs/bot.md: the first and the last
album (as strips of the four photos the bot sent), /best, /history and /morph, and prints
the transcript. A simulated user rates every face by its distance to a hidden target
face, the way a person compares with the face in mind.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image


def strip(photos: Sequence[bytes], cell: int = 192, gap: int = 6) -> bytes:
    """The album photos side by side, as one PNG."""
    images = [Image.open(io.BytesIO(p)).convert("RGB").resize((cell, cell)) for p in photos]
    out = Image.new("RGB", (len(images) * cell + (len(images) - 1) * gap, cell), "white")
    for i, image in enumerate(images):
        out.paste(image, (i * (cell + gap), 0))
    buf = io.BytesIO()
    out.save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def target_rating(points: np.ndarray, target: np.ndarray, high: int = 10) -> list[int]:
    """1..high by closeness of each search point (n, dim) to the target point (dim,)."""
    sq = np.mean((points - target) ** 2, axis=1)  # (n,) a random pair: about 1/6
    return [int(v) for v in np.clip(np.rint(1 + (high - 1) * np.exp(-8.0 * sq)), 1, high)]


async def scripted_session(out_dir: Path, rounds: int = 8, seed: int = 3) -> list[str]:
    """Run the conversation, save the pictures into out_dir, return the transcript lines."""
    from bot.app import build_application
    from fotorobot.logs import quiet_noisy_loggers
    from fotorobot.settings import load_settings
    from telegram_fake import FakeBotAPI, fake_requests, polling

    quiet_noisy_loggers()
    out_dir.mkdir(parents=True, exist_ok=True)
    api = FakeBotAPI()
    transcript: list[str] = []
    with tempfile.TemporaryDirectory(prefix="fotorobot-demo-") as tmp:
        settings = load_settings(
            environ={"TELEGRAM_BOT_TOKEN": api.token, "FOTOROBOT_DATA_DIR": tmp}, env_file=None
        )
        app = build_application(settings, **fake_requests(api))
        async with polling(app, timeout=1):
            engine = app.bot_data.require().engine
            rng = np.random.default_rng(seed)
            target: list[np.ndarray] = []  # the face "in mind": a point of the search cube
            user = api.user(first_name="Alice")
            chat = api.private_chat(user)

            async def say(text: str, n: int, reply_to: int | None = None) -> list[Any]:
                sent = api.send_text(chat, user, text, reply_to=reply_to)
                transcript.append(f"Alice: {text}")
                got = await api.wait_for_messages(chat, n, after=sent.message_id, timeout=120)
                for m in got:
                    body = m.text or m.caption or ""
                    transcript.append(f"Bot ({m.kind}): {body.splitlines()[0] if body else ''}")
                return got

            async def ratings() -> str:
                round_ = await engine.open_round(chat.id)
                assert round_ is not None
                points = np.stack([f.point for f in round_.faces])  # (4, dim)
                if not target:
                    target.append(np.asarray(rng.random(points.shape[1]), dtype=np.float32))
                return " ".join(str(v) for v in target_rating(points, target[0]))

            messages = await say("/start", 6)
            photos = [m for m in messages if m.kind == "photo"]
            (out_dir / "bot_album_first.png").write_bytes(
                strip([api.file_bytes(m.file_id) for m in photos])
            )
            for _ in range(rounds):
                messages = await say(await ratings(), 5)
            photos = [m for m in messages if m.kind == "photo"]
            (out_dir / "bot_album_last.png").write_bytes(
                strip([api.file_bytes(m.file_id) for m in photos])
            )
            first_value = (await ratings()).split()[0]
            await say(first_value, 1, reply_to=photos[0].message_id)
            for command, name in (("/best", "bot_best.png"), ("/history", "bot_history.png")):
                (message,) = await say(command, 1)
                (out_dir / name).write_bytes(api.file_bytes(message.file_id))
            (message,) = await say("/morph", 1)
            (out_dir / "bot_morph.gif").write_bytes(api.file_bytes(message.file_id))
    return transcript


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: python -m fotorobot.demo OUT_DIR [--rounds N]."""
    parser = argparse.ArgumentParser(prog="python -m fotorobot.demo")
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--rounds", type=int, default=8)
    args = parser.parse_args(argv)
    for line in asyncio.run(scripted_session(args.out_dir, args.rounds)):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
