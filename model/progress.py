"""Machine-readable progress of `fotorobot train`: JSON lines a supervisor can follow.

`fotorobot train --progress-json PATH` appends one JSON object per line: "step" lines (loss,
images/s, ETA) at most every `interval` seconds, one "epoch" line when an epoch's checkpoint
is on disk, and a final "done" line. With `--keep-epochs` each epoch's checkpoint is also kept
as OUT.epochK.pt (a hard link: the next epoch's atomic write replaces OUT, not the link), and
the "epoch" line names that file, so a reader never races the next epoch's write.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import Any


def epoch_checkpoint_path(out: str | os.PathLike[str], epoch: int) -> Path:
    """Where --keep-epochs keeps epoch `epoch`'s checkpoint: model.pt -> model.epoch3.pt."""
    p = Path(out)
    return p.with_name(f"{p.stem}.epoch{int(epoch)}{p.suffix or '.pt'}")


def keep_checkpoint(out: str | os.PathLike[str], epoch: int) -> Path:
    """Keep the checkpoint just written at `out` as the epoch's own file (link, else copy)."""
    target = epoch_checkpoint_path(out, epoch)
    tmp = target.with_name(target.name + ".tmp")
    tmp.unlink(missing_ok=True)
    try:
        os.link(out, tmp)
    except OSError:  # a file system without hard links
        shutil.copyfile(out, tmp)
    os.replace(tmp, target)  # atomic: a reader sees the whole file or none
    return target


class ProgressWriter:
    """Appends progress events to a JSON-lines file (the on_progress of model.train.train)."""

    def __init__(
        self, path: str | os.PathLike[str], *, keep_epochs: bool = False, interval: float = 2.0
    ) -> None:
        self.path = Path(path)
        self.keep_epochs = keep_epochs
        self.interval = interval
        self._last_step = float("-inf")
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def write(self, event: dict[str, Any]) -> None:
        """Append one event as a line (flushed: the reader polls the file)."""
        line = json.dumps({**event, "time": time.time()}, default=float)
        with self.path.open("a", encoding="utf-8") as f:
            f.write(line + "\n")
            f.flush()

    def __call__(self, event: dict[str, Any]) -> None:
        if event.get("event") == "step":
            now = time.monotonic()
            last = event.get("step") == event.get("steps")
            if now - self._last_step < self.interval and not last:
                return
            self._last_step = now
        elif event.get("event") == "epoch" and self.keep_epochs:
            kept = keep_checkpoint(event["checkpoint"], int(event["epoch"]))
            event = {**event, "checkpoint": str(kept)}
        self.write(event)
