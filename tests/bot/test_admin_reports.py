"""The progress message of a training run: edited at most once per interval, RetryAfter honoured,
the last state always written."""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import replace
from pathlib import Path

import storage
from bot.ratelimit import GROUP_MESSAGES, GroupRateLimiter
from bot.training import Progress
from telegram_fake import FakeBotAPI
from tests.botkit import Person, bot_settings, running_bot


def a_run(chat_id: int) -> storage.TrainingRun:
    t = time.time()
    return storage.TrainingRun(
        id=7, requested_by=1, config={"label": "synthetic:256"}, state="running", progress=0,
        log_tail="", model_version=None, created_at=t, updated_at=t, chat_id=chat_id, epochs=3,
    )  # fmt: skip


def step(n: int) -> Progress:
    return Progress("training", epoch=1, epochs=3, step=n, steps=100, loss=500.0 - n,
                    images_per_s=120.0, eta_s=300.0 - n)  # fmt: skip


async def test_edits_are_spaced_and_retry_after_is_honoured(tmp_path: Path) -> None:
    api = FakeBotAPI()
    olga = Person(api, "Olga")
    settings = bot_settings(tmp_path, api.token)
    # Without PTB's rate limiter a 429 reaches the reporter itself.
    async with running_bot(api, settings, rate_limiter=False) as app:
        admin = app.bot_data.require().admin
        assert admin is not None
        reporter = admin.reporter
        reporter.min_interval = 1.0  # type: ignore[attr-defined]
        run = a_run(olga.chat.id)
        message_id = await reporter.open_progress(run)
        assert message_id is not None
        run = replace(run, message_id=message_id)
        t0 = time.monotonic()
        for n in range(1, 31):  # 30 states in 1.5 s
            await reporter.progress(run, step(n))
            await asyncio.sleep(0.05)
        await asyncio.sleep(1.2)  # the state waiting for its turn goes out
        edits = api.calls_to("editMessageText")
        assert 1 <= len(edits) <= 3
        times = [c.at for c in edits]
        assert all(b - a >= 0.95 for a, b in itertools.pairwise(times))
        text = next(m for m in api.bot_messages(olga.chat) if m.message_id == message_id).text
        assert text is not None and "step 30/100" in text and "loss 470.0" in text
        assert time.monotonic() - t0 < 10
        # Telegram says "retry after 2": nothing is tried before those 2 s are over.
        api.fail_next("editMessageText", code=429, retry_after=2)
        await asyncio.sleep(1.1)
        await reporter.progress(run, step(40))
        failed_at = api.calls_to("editMessageText")[-1].at
        for n in range(41, 45):
            await reporter.progress(run, step(n))
            await asyncio.sleep(0.2)
        await api.wait_until(
            lambda: len([c for c in api.calls_to("editMessageText") if c.at > failed_at]) >= 1,
            timeout=10,
            what="the edit after the wait",
        )
        after = [c for c in api.calls_to("editMessageText") if c.at > failed_at]
        assert after[0].at - failed_at >= 1.95 and after[0].error is None
        assert "step 44/100" in str(after[0].params["text"])  # the newest state, not step 40
        # The final state is written at once, whatever the interval.
        await reporter.progress(run, step(50))
        before_final = len(api.calls_to("editMessageText"))
        await reporter.finished(run, "cancelled", None, "")
        final = api.calls_to("editMessageText")[before_final:]
        assert final and final[-1].params["text"] == "Training run #7 (synthetic:256): cancelled."
        text = next(m for m in api.bot_messages(olga.chat) if m.message_id == message_id).text
        assert text == "Training run #7 (synthetic:256): cancelled."
        last = api.bot_messages(olga.chat)[-1]
        assert (last.text or "").startswith("Training run #7 was cancelled before its first")


async def test_a_runs_messages_in_a_group_count_in_the_bots_group_limiter(tmp_path: Path) -> None:
    api = FakeBotAPI()
    group = api.group("Lab", [api.user(first_name="Olga")])
    async with running_bot(api, bot_settings(tmp_path, api.token)) as app:
        limiter = app.bot.rate_limiter
        assert isinstance(limiter, GroupRateLimiter)
        admin = app.bot_data.require().admin
        assert admin is not None
        reporter = admin.reporter
        reporter.min_interval = 0.0
        run = a_run(group.id)
        message_id = await reporter.open_progress(run)
        assert message_id is not None
        await reporter.progress(replace(run, message_id=message_id), step(1))
        assert len(api.calls_to("editMessageText")) == 1
        # The progress message and its edit used the group's ~20 a minute, like the albums do.
        assert limiter.spare(group.id) == GROUP_MESSAGES - 2
