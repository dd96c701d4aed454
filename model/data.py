"""Training data: synthetic faces or any folder tree of photos, as one uint8 array in memory."""

from __future__ import annotations

import os
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from model.images import IMAGE_SUFFIXES, ImageError, face_array_from_file
from model.synthetic import synthetic_faces


class DataError(ValueError):
    """A --data value that names no usable faces."""


@dataclass
class FaceData:
    """Faces (n, S, S, 3) uint8 plus where they came from and what was left out."""

    images: np.ndarray
    description: str
    skipped: int = 0  # image-named files that could not be decoded
    ignored: int = 0  # files without an image suffix
    skipped_examples: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, object]:
        """Plain-data description stored in the checkpoint."""
        return {
            "source": self.description,
            "images": len(self.images),
            "skipped": self.skipped,
            "ignored": self.ignored,
        }


def list_image_files(root: Path) -> tuple[list[Path], int]:
    """Image-suffixed files under root (sorted, hidden ones left out) and the count of others."""
    found: list[Path] = []
    ignored = 0
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.startswith("."):
                continue
            if name.lower().endswith(IMAGE_SUFFIXES):
                found.append(Path(dirpath) / name)
            else:
                ignored += 1
    return found, ignored


def load_folder(root: Path, size: int, workers: int = 0) -> FaceData:
    """Every readable photo under root as a face; unreadable ones are skipped and counted."""
    files, ignored = list_image_files(root)
    if not files:
        raise DataError(f"{root}: no image files (jpg, png, webp, ...) found")

    def one(path: Path) -> np.ndarray | str:
        try:
            return face_array_from_file(str(path), size)
        except ImageError as err:
            return f"{path}: {err}"

    n_workers = workers or os.cpu_count() or 1
    with ThreadPoolExecutor(max_workers=n_workers) as pool:  # Pillow decodes without the GIL
        results = list(pool.map(one, files, chunksize=64))
    faces = [r for r in results if isinstance(r, np.ndarray)]
    errors = [r for r in results if isinstance(r, str)]
    if not faces:
        raise DataError(f"{root}: none of the {len(files)} image files could be read")
    images = np.stack(faces)  # (n, S, S, 3)
    return FaceData(
        images, str(root), skipped=len(errors), ignored=ignored, skipped_examples=errors[:5]
    )


def parse_synthetic(spec: str) -> tuple[int, int] | None:
    """'synthetic:N' or 'synthetic:N:SEED' -> (N, SEED); None for anything else."""
    if not spec.startswith("synthetic:"):
        return None
    parts = spec.split(":")[1:]
    try:
        n = int(parts[0])
        seed = int(parts[1]) if len(parts) > 1 else 0
    except (ValueError, IndexError) as err:
        raise DataError(f"bad data spec {spec!r}: use synthetic:N or synthetic:N:SEED") from err
    if n < 2 or len(parts) > 2:
        raise DataError(f"bad data spec {spec!r}: need at least 2 faces")
    return n, seed


def load_data(spec: str, size: int, workers: int = 0) -> FaceData:
    """Resolve a --data value: synthetic:N[:SEED] or a folder of photos."""
    synth = parse_synthetic(spec)
    if synth is not None:
        n, seed = synth
        images, _ = synthetic_faces(n, seed=seed, size=size)
        return FaceData(images, spec)
    root = Path(spec).expanduser()
    if not root.is_dir():
        raise DataError(f"{spec}: not a folder and not synthetic:N")
    data = load_folder(root, size, workers)
    if data.skipped:
        print(
            f"skipped {data.skipped} unreadable image file(s), e.g. {data.skipped_examples[0]}",
            file=sys.stderr,
        )
    return data
