"""Rate-limited log lines: a failure that repeats (a network outage, a poison update) is logged
once per interval with a count of what was held back, never thousands of lines a second."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

# One line per kind of failure per minute: enough to see it, never a flood.
DEFAULT_INTERVAL_S = 60.0


class LogLimiter:
    """Logs at most one line per key per `interval_s`; the next line says how many were held."""

    def __init__(
        self,
        logger: logging.Logger,
        interval_s: float = DEFAULT_INTERVAL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.logger = logger
        self.interval_s = interval_s
        self.clock = clock
        self._last: dict[str, float] = {}
        self._held: dict[str, int] = {}

    def log(self, level: int, key: str, message: str, *args: object) -> bool:
        """Log `message % args` unless `key` was logged less than `interval_s` ago; True if
        the line was written."""
        t = self.clock()
        last = self._last.get(key)
        if last is not None and t - last < self.interval_s:
            self._held[key] = self._held.get(key, 0) + 1
            return False
        held = self._held.pop(key, 0)
        self._last[key] = t
        if held:
            message += " (%d more like this in the last %.0f s)"
            args = (*args, held, self.interval_s)
        self.logger.log(level, message, *args)
        return True
