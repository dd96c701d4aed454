"""A folder of photos as aligned training faces, aligned once and cached.

Aligning is the slow part of using a photo collection (dlib finds and landmarks every face,
~30 ms a photo), so it runs in worker processes and its result is kept in a cache file keyed
by the folder's path, every file's name, size and modification time, the image size and the
alignment's version: a second run over the same folder loads in seconds, and any change to
the folder makes a new cache.
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from model.images import ImageError, face_array_from_file

# Bump when the canonical frame or the warp changes: old caches are then ignored.
ALIGN_VERSION = 2
CHUNK = 64  # photos per task sent to a worker process


@dataclass
class AlignedFolder:
    """Faces of one folder: what was aligned, what was not and why."""

    images: np.ndarray  # (n, S, S, 3) uint8
    names: list[str]  # path of each face relative to the folder, in the same order
    no_face: int  # readable photos where no usable face was found
    unreadable: int  # image-named files that could not be decoded
    examples: list[str]  # a few "name: reason" lines for what was skipped


def default_cache_dir() -> Path:
    """$FOTOROBOT_CACHE_DIR, else $XDG_CACHE_HOME/fotorobot, else ~/.cache/fotorobot."""
    env = os.environ.get("FOTOROBOT_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "fotorobot"


def cache_key(root: Path, files: list[Path], size: int, align: bool) -> str:
    """A digest of everything the aligned faces depend on."""
    h = hashlib.sha256(f"v{ALIGN_VERSION}|{root.resolve()}|{size}|{align}".encode())
    for path in files:
        st = path.stat()
        h.update(f"|{path.relative_to(root)}|{st.st_size}|{st.st_mtime_ns}".encode())
    return h.hexdigest()[:20]


def _one(job: tuple[str, int, bool]) -> np.ndarray | tuple[str, str]:
    path, size, align = job
    try:
        return face_array_from_file(path, size, align=align)
    except ImageError as err:
        return (err.kind, str(err))


def _single_threaded() -> None:
    # Each worker is one process of N: its own thread pools would only oversubscribe.
    os.environ["OMP_NUM_THREADS"] = "1"


def align_files(
    root: Path,
    files: list[Path],
    size: int,
    align: bool = True,
    workers: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> AlignedFolder:
    """Align (or crop, align=False) every file; skipped ones are counted, never fatal."""
    jobs = [(str(p), size, align) for p in files]
    n_workers = max(1, workers or os.cpu_count() or 1)
    results: list[np.ndarray | tuple[str, str]] = []
    if n_workers == 1 or len(jobs) < 2 * CHUNK:
        for job in jobs:
            results.append(_one(job))
            if progress:
                progress(len(results), len(jobs))
    else:
        with ProcessPoolExecutor(n_workers, initializer=_single_threaded) as pool:
            for res in pool.map(_one, jobs, chunksize=CHUNK):
                results.append(res)
                if progress and len(results) % CHUNK == 0:
                    progress(len(results), len(jobs))
        if progress:
            progress(len(results), len(jobs))
    faces: list[np.ndarray] = []
    names: list[str] = []
    examples: list[str] = []
    no_face = unreadable = 0
    for path, res in zip(files, results, strict=True):
        if isinstance(res, np.ndarray):
            faces.append(res)
            names.append(str(path.relative_to(root)))
            continue
        kind, reason = res
        if kind == "no_face":
            no_face += 1
        else:
            unreadable += 1
        if len(examples) < 5:
            examples.append(f"{path.relative_to(root)}: {reason}")
    images = np.stack(faces) if faces else np.zeros((0, size, size, 3), np.uint8)
    return AlignedFolder(images, names, no_face, unreadable, examples)


def load_aligned(
    root: Path,
    files: list[Path],
    size: int,
    align: bool = True,
    workers: int = 0,
    cache_dir: Path | None = None,
) -> AlignedFolder:
    """align_files through the cache (cache_dir=None: the default one; unwritable: no cache)."""
    cache = (cache_dir or default_cache_dir()) / f"faces-{cache_key(root, files, size, align)}.npz"
    if cache.is_file():
        try:
            with np.load(cache, allow_pickle=False) as z:
                meta = [int(v) for v in z["counts"]]
                return AlignedFolder(
                    z["images"], [str(n) for n in z["names"]], meta[0], meta[1], []
                )
        except (OSError, ValueError, KeyError):
            pass  # a damaged cache is rebuilt below
    bar = tqdm(
        total=len(files),
        desc="aligning faces" if align else "reading photos",
        unit="photo",
        file=sys.stderr,
        dynamic_ncols=True,
    )

    def advance(done: int, _total: int) -> None:
        bar.update(done - bar.n)

    with bar:
        result = align_files(root, files, size, align, workers, progress=advance)
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(".tmp.npz")
        np.savez(
            tmp,
            images=result.images,
            names=np.array(result.names),
            counts=np.array([result.no_face, result.unreadable]),
        )
        os.replace(tmp, cache)
    except OSError as err:
        print(f"note: could not cache the aligned faces ({err})", file=sys.stderr)
    return result
