"""The test helpers themselves: a mistyped override fails loudly instead of being dropped."""

from __future__ import annotations

from pathlib import Path

import pytest

from telegram_fake import DEFAULT_TOKEN
from tests.botkit import TEST_SEARCH_DIM, bot_settings


def test_bot_settings_takes_fields_and_refuses_anything_else(tmp_path: Path) -> None:
    settings = bot_settings(tmp_path, DEFAULT_TOKEN, album_size=3)
    assert settings.album_size == 3 and settings.search_dim == TEST_SEARCH_DIM
    assert settings.db_path.parent == tmp_path
    with pytest.raises(TypeError, match="album_sise"):
        bot_settings(tmp_path, DEFAULT_TOKEN, album_sise=3)
