"""The group service's pure rules: settings values, durations, the leading face, coalescing."""

from __future__ import annotations

import asyncio

import pytest

import storage
from bot.group_outcomes import GroupSettings
from bot.groups import (
    TallyCoalescer,
    parse_duration,
    settings_from_stored,
    stepped_value,
    tally_leader,
)
from bot.ratings import RatingScale
from fotorobot.settings import Settings

DEFAULTS = Settings(album_size=4)


def test_stored_settings_fall_back_to_defaults_when_missing_or_malformed() -> None:
    assert settings_from_stored({}, DEFAULTS) == GroupSettings(3, 120, 4, RatingScale(), False)
    odd = {"quorum": 0, "deadline_s": "soon", "album_size": 11, "scale": "1-7", "show_names": 1}
    assert settings_from_stored(odd, DEFAULTS) == GroupSettings(3, 120, 4, RatingScale(), False)
    chosen = {"quorum": 5, "deadline_s": 0, "album_size": 6, "scale": "1-5", "show_names": True}
    assert settings_from_stored(chosen, DEFAULTS) == GroupSettings(5, 0, 6, RatingScale(1, 5), True)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("3m", 180), ("3 min", 180), ("2", 120), ("1h", 3600), ("1,5m", 90),
     ("off", 0), ("45 с", 45), ("soon", None), ("-3m", None)],
)  # fmt: skip
def test_durations_people_write(text: str, seconds: int | None) -> None:
    assert parse_duration(text) == seconds


def test_buttons_step_through_allowed_values() -> None:
    current = GroupSettings(1, 120, 10, RatingScale(), False)
    assert stepped_value("quorum", current, "en", up=False) == "1"  # stays in range
    assert stepped_value("quorum", current, "en", up=True) == "2"
    assert stepped_value("album", current, "en", up=True) == "10"
    assert stepped_value("deadline", current, "en", up=True) == "180s"
    assert stepped_value("deadline", current, "en", up=False) == "60s"
    short = GroupSettings(1, 30, 4, RatingScale(), False)
    assert stepped_value("deadline", short, "en", up=False) == "off"
    assert stepped_value("scale", current, "en", up=True) == "1-5"
    assert stepped_value("language", current, "en", up=True) == "ru"
    assert stepped_value("names", current, "en", up=True) == "on"


def tally(votes: list[tuple[int, int, float]], picks: list[tuple[int, int]]) -> storage.RoundTally:
    return storage.RoundTally(1, -5, 1, 4, True, None, 10, 11, votes, picks, {})


def test_the_leading_face_counts_picks_and_ratings_on_the_scale() -> None:
    assert tally_leader(tally([], []), RatingScale()) is None
    assert tally_leader(tally([], [(2, 1), (3, 2), (3, 3)]), RatingScale()) == 3
    # A 10 is worth a pick, a 1 nothing; ties go to the lower number.
    assert tally_leader(tally([(1, 1, 10.0)], [(4, 2)]), RatingScale()) == 1
    assert tally_leader(tally([(2, 1, 1.0), (3, 1, 5.0)], []), RatingScale(1, 5)) == 3


async def test_a_burst_of_requests_makes_few_edits_and_the_last_state_wins() -> None:
    coalescer = TallyCoalescer(min_gap=0.2)
    seen: list[int] = []
    state = {"votes": 0}

    async def edit() -> None:
        seen.append(state["votes"])

    for votes in range(1, 31):  # thirty votes over about 0.6 s
        state["votes"] = votes
        coalescer.request(7, edit, lambda: 0.0)
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.5)
    assert 2 <= len(seen) <= 5 and seen[-1] == 30 and coalescer.edits == len(seen)
    await coalescer.close(7)
    coalescer.request(8, edit, lambda: 10.0)  # no room: nothing happens until closed
    await asyncio.sleep(0.1)
    await coalescer.close(8)
    assert len(seen) == coalescer.edits
