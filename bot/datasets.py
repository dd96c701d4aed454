"""Where /train may read photos from: `synthetic:N`, or a folder under the datasets root.

The root is FOTOROBOT_DATASETS_DIR (Settings.datasets_root). A source is refused when it is an
absolute path, has a '..' component, resolves outside the root (a symlinked folder), or holds
a symbolic link that points outside the root (training would read what it points at). What
people see of a folder is its path relative to the root; any other path is masked before text
reaches a chat (`mask_paths`).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Literal

MAX_SYNTHETIC = 200_000  # synthetic faces per run (each is 12 KB in memory at 64 px)

# outside: absolute, '..', or resolving out of the root; missing / not_folder: nothing usable
# there; link_out: a link inside points out of the root; bad_synthetic: synthetic:N malformed
# or out of range.
SourceProblem = Literal["outside", "missing", "not_folder", "link_out", "bad_synthetic"]


class SourceError(ValueError):
    """A /train source that is refused; `code` says why (no path in the message)."""

    def __init__(self, code: SourceProblem) -> None:
        super().__init__(code)
        self.code: SourceProblem = code


@dataclass(frozen=True)
class DataSource:
    """A checked training source."""

    spec: str  # `fotorobot train --data`: synthetic:N[:SEED], or the folder's absolute path
    label: str  # what a chat shows: synthetic:N[:SEED], or the folder relative to the root
    photos: bool  # a photo folder (aligned like the real-faces model), not synthetic faces


_SYNTHETIC = re.compile(r"synthetic:(\d{1,7})(?::(\d{1,9}))?")


def resolve_source(text: str, root: Path) -> DataSource:
    """Check a source typed after /train (does file-system I/O: call it off the event loop)."""
    text = text.strip()
    if text.lower().startswith("synthetic:"):
        match = _SYNTHETIC.fullmatch(text.lower())
        if match is None or not 2 <= int(match.group(1)) <= MAX_SYNTHETIC:
            raise SourceError("bad_synthetic")
        return DataSource(text.lower(), text.lower(), photos=False)
    rel = _relative(text)
    base = root.resolve()
    folder = (base / rel).resolve()  # follows links: a linked folder must still be inside
    if not folder.is_relative_to(base):
        raise SourceError("outside")
    if not folder.exists():
        raise SourceError("missing")
    if not folder.is_dir():
        raise SourceError("not_folder")
    if _links_out(folder, base):
        raise SourceError("link_out")
    return DataSource(str(folder), label_of(folder, base), photos=True)


def _relative(text: str) -> PurePosixPath:
    """The typed path as a relative one; SourceError(outside) for absolute paths and '..'."""
    cleaned = text.replace("\\", "/")
    if cleaned.startswith(("/", "~")) or (len(cleaned) > 1 and cleaned[1] == ":"):
        raise SourceError("outside")
    parts = [p for p in cleaned.split("/") if p not in ("", ".")]
    if not parts:
        raise SourceError("not_folder")  # the root itself holds every dataset: name one
    if ".." in parts:
        raise SourceError("outside")
    return PurePosixPath(*parts)


def _links_out(folder: Path, base: Path) -> bool:
    """Whether any symbolic link under folder points outside base (links are not followed)."""
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        for name in (*dirnames, *filenames):
            entry = Path(dirpath) / name
            if entry.is_symlink() and not entry.resolve().is_relative_to(base):
                return True
    return False


def label_of(folder: Path, root: Path) -> str:
    """A folder under the root as people see it: its path relative to the root."""
    return folder.resolve().relative_to(root.resolve()).as_posix()


_PATH = re.compile(r"(?<![\w.])(?:/[^\s/'\"`:,;()\[\]]+)+/?")


def mask_paths(text: str, root: Path) -> str:
    """Absolute paths in text (a training log line): under the root shown relative to it,
    anything else replaced by "[path]", so no other path reaches a chat."""
    base = str(root.resolve())

    def replace(match: re.Match[str]) -> str:
        path = match.group(0)
        if path == base or path.startswith(base + "/"):
            return path[len(base) + 1 :] or "."
        return "[path]"

    return _PATH.sub(replace, text)
