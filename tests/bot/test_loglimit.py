"""Rate-limited log lines (bot.loglimit): one line per kind per interval, with a count."""

from __future__ import annotations

import logging

import pytest

from bot.loglimit import LogLimiter


def test_a_repeated_failure_is_one_line_per_interval(caplog: pytest.LogCaptureFixture) -> None:
    now = [100.0]
    limiter = LogLimiter(logging.getLogger("bot.test"), interval_s=60.0, clock=lambda: now[0])
    with caplog.at_level(logging.WARNING, logger="bot.test"):
        assert limiter.log(logging.WARNING, "fetch", "getUpdates failed: %s", "down")
        for _ in range(500):  # a tight retry loop
            assert not limiter.log(logging.WARNING, "fetch", "getUpdates failed: %s", "down")
        assert limiter.log(logging.WARNING, "other", "a different failure")  # its own key
        now[0] += 61.0
        assert limiter.log(logging.WARNING, "fetch", "getUpdates failed: %s", "down")
    lines = [r.getMessage() for r in caplog.records]
    assert lines == [
        "getUpdates failed: down",
        "a different failure",
        "getUpdates failed: down (500 more like this in the last 60 s)",
    ]
