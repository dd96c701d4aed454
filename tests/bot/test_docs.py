"""The bot's testing example in docs/bot.md runs as written (post_init included)."""

from __future__ import annotations

from pathlib import Path

from tests.docs import python_example


async def test_the_testing_example_in_docs_bot_md_runs(tmp_path: Path) -> None:
    example = python_example("docs/bot.md", "### Testing the bot")
    await example["test_start_sends_an_album"](tmp_path)
