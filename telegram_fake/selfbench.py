"""`python -m telegram_fake.selfbench`: how many Bot API calls/s the fake itself serves.

The bot benchmark must measure the bot, not the emulator; this prints the fake's own ceiling
for the calls a round makes (sendMessage, sendMediaGroup of 4 PNGs), through PTB's real
`Bot`, in-process and over HTTP.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from PIL import Image
from telegram import Bot, InputMediaPhoto

from telegram_fake.api import FakeBotAPI
from telegram_fake.http import serve_http
from telegram_fake.request import FakeRequest


def _solid_png(seed: int, size: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (size, size), (seed * 37 % 256, 90, 160)).save(out, format="PNG")
    return out.getvalue()


async def _rate(n: int, concurrency: int, call: Callable[[int], Awaitable[Any]]) -> float:
    """Calls per second for n calls with `concurrency` in flight."""
    queue = iter(range(n))

    async def worker() -> None:
        for i in queue:
            await call(i)

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return n / (time.perf_counter() - start)


async def _measure_calls(
    bot: Bot, chat_id: int, n: int, concurrency: int, size: int
) -> dict[str, float]:
    images = [_solid_png(i, size) for i in range(4)]
    messages = await _rate(n, concurrency, lambda i: bot.send_message(chat_id, f"message {i}"))
    albums = await _rate(
        max(1, n // 4),
        concurrency,
        lambda i: bot.send_media_group(chat_id, [InputMediaPhoto(img) for img in images]),
    )
    return {"sendMessage_per_s": round(messages, 1), "sendMediaGroup4_per_s": round(albums, 1)}


async def _main(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {
        "calls": args.calls,
        "concurrency": args.concurrency,
        "image_px": args.size,
    }
    api = FakeBotAPI(keep_file_bytes=False)
    chat = api.private_chat(api.user())
    async with Bot(api.token, request=FakeRequest(api)) as bot:
        results["in_process"] = await _measure_calls(
            bot, chat.id, args.calls, args.concurrency, args.size
        )
    async with serve_http(api) as url:
        bot = Bot(api.token, base_url=f"{url}/bot", base_file_url=f"{url}/file/bot")
        async with bot:
            results["http"] = await _measure_calls(
                bot, chat.id, args.calls, args.concurrency, args.size
            )
    return results


def main(argv: Sequence[str] | None = None) -> int:
    """Print the fake's throughput (and write it as JSON with --json)."""
    parser = argparse.ArgumentParser(prog="python -m telegram_fake.selfbench")
    parser.add_argument("--calls", type=int, default=400, help="sendMessage calls per transport")
    parser.add_argument("--concurrency", type=int, default=8, help="calls in flight")
    parser.add_argument("--size", type=int, default=256, help="album image side in pixels")
    parser.add_argument("--json", help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    results = asyncio.run(_main(args))
    print(json.dumps(results, indent=2))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump(results, out, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
