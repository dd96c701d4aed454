"""`fotorobot run` as a child process: started, SIGKILLed, interrupted; for `bench chaos` and
the crash tests, which need a real process to kill."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO

RUN = [sys.executable, "-m", "fotorobot", "run"]


def bot_environment(token: str, api_url: str, data_dir: Path, **extra: str) -> dict[str, str]:
    """The current environment without any bot settings, plus these (data under data_dir)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "FOTOROBOT_"))}
    env.update(
        TELEGRAM_BOT_TOKEN=token,
        TELEGRAM_API_BASE_URL=api_url,
        FOTOROBOT_DATA_DIR=str(data_dir),
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


class BotProcess:
    """One bot process at a time, restarted on demand, its output appended to one log file."""

    def __init__(
        self,
        env: Mapping[str, str],
        cwd: Path,
        log_path: Path,
        args: Sequence[str] = (),
    ) -> None:
        self.env = dict(env)
        self.cwd = cwd
        self.log_path = log_path
        self.args = list(args)
        self.proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    def start(self) -> float:
        """Start the bot; the wall-clock time it was started (time.time())."""
        if self.proc is not None and self.proc.poll() is None:
            raise RuntimeError("the bot is already running")
        if self._log is None:
            self._log = self.log_path.open("ab")
        started = time.time()
        self.proc = subprocess.Popen(
            [*RUN, *self.args], cwd=self.cwd, env=self.env, stdout=self._log, stderr=self._log
        )
        return started

    def kill(self) -> None:
        """SIGKILL: no clean-up of any kind, as a crash or the OOM killer."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def interrupt(self, timeout: float = 60.0) -> tuple[int, float]:
        """SIGINT, as systemd and compose stop it: (exit code, seconds it took to exit).
        A process still running after `timeout` is killed and reported with code -9."""
        assert self.proc is not None
        t0 = time.monotonic()
        self.proc.send_signal(signal.SIGINT)
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            code = -9
        return code, time.monotonic() - t0

    def close(self) -> None:
        """Kill whatever still runs and close the log."""
        self.kill()
        if self._log is not None:
            self._log.close()
            self._log = None

    def output(self) -> str:
        """Everything the processes wrote so far."""
        if self._log is not None:
            self._log.flush()
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
