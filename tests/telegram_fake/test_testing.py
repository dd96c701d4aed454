"""telegram_fake.polling runs an Application as run_polling does, hooks and all."""

from __future__ import annotations

from typing import Any

import pytest

from telegram_fake import FakeBotAPI, fake_application_builder, polling


async def test_polling_runs_every_hook_in_run_pollings_order() -> None:
    api = FakeBotAPI()
    seen: list[str] = []

    async def hook(name: str, app: Any) -> None:
        seen.append(f"{name} running={app.running}")

    app = (
        fake_application_builder(api)
        .post_init(lambda a: hook("post_init", a))
        .post_stop(lambda a: hook("post_stop", a))
        .post_shutdown(lambda a: hook("post_shutdown", a))
        .build()
    )
    async with polling(app):
        assert app.running and app.updater is not None and app.updater.running
        seen.append("block")
    assert seen == [
        "post_init running=False",
        "block",
        "post_stop running=False",
        "post_shutdown running=False",
    ]


async def test_a_failing_post_init_still_shuts_down() -> None:
    api = FakeBotAPI()
    shut: list[bool] = []

    async def broken(app: Any) -> None:
        raise RuntimeError("no database")

    async def post_shutdown(app: Any) -> None:
        shut.append(True)

    app = fake_application_builder(api).post_init(broken).post_shutdown(post_shutdown).build()
    with pytest.raises(RuntimeError, match="no database"):
        async with polling(app):
            pytest.fail("the block must not run")
    assert shut == [True] and not app.running
