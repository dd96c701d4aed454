"""The webhook endpoint (bot.webhook): 200 only once the update is stored, 500 if it was not."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import httpx

from bot.webhook import SECRET_HEADER, WebhookServer


async def test_the_answer_waits_for_the_store_and_a_failed_store_is_a_500() -> None:
    stored: list[Any] = []
    gate = asyncio.Event()
    broken = False

    async def accept(batch: Sequence[Any]) -> int | None:
        await gate.wait()  # a slow disk
        if broken:
            raise OSError("disk full")
        stored.extend(batch)
        return None

    server = WebhookServer(accept, "/hook/", "s3cret")
    port = server.listen("127.0.0.1", 0)
    url = f"http://127.0.0.1:{port}/hook"
    update = {"update_id": 7, "message": {"message_id": 1}}
    try:
        async with httpx.AsyncClient(timeout=10) as client:
            ok = {SECRET_HEADER: "s3cret"}
            pending = asyncio.create_task(client.post(url, json=update, headers=ok))
            await asyncio.sleep(0.3)
            assert not pending.done()  # no answer before the update is stored
            gate.set()
            assert (await pending).status_code == 200 and stored == [update]
            broken = True
            assert (await client.post(url, json=update, headers=ok)).status_code == 500
            forged = await client.post(url, json=update, headers={SECRET_HEADER: "guess"})
            assert forged.status_code == 403
            assert (await client.post(url, content=b"{", headers=ok)).status_code == 400
            assert (await client.post(url, json=[1], headers=ok)).status_code == 400
    finally:
        await server.stop()
    assert stored == [update]
