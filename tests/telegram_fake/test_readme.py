"""The example at the top of telegram_fake/README.md runs as written."""

from __future__ import annotations

from tests.docs import python_example


async def test_the_readme_example_runs() -> None:
    example = python_example("telegram_fake/README.md", "## A test in a dozen lines")
    await example["test_start_is_answered"]()
