"""Training data: synthetic faces or any folder tree of photos, as one uint8 array in memory."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from model.images import IMAGE_SUFFIXES
from model.photo_folder import load_aligned
from model.synthetic import synthetic_faces


class DataError(ValueError):
    """A --data value that names no usable faces."""


@dataclass
class FaceData:
    """Faces (n, S, S, 3) uint8 plus where they came from and what was left out."""

    images: np.ndarray
    description: str
    names: list[str] = field(default_factory=list)  # per face, relative to the folder
    skipped: int = 0  # image-named files that could not be decoded
    no_face: int = 0  # readable photos in which no usable face was found
    ignored: int = 0  # files without an image suffix
    evaluation: int = 0  # faces set aside as the evaluation split (never trained on)
    skipped_examples: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, object]:
        """Plain-data description stored in the checkpoint."""
        return {
            "source": self.description,
            "images": len(self.images),
            "skipped": self.skipped,
            "no_face": self.no_face,
            "ignored": self.ignored,
            "evaluation": self.evaluation,
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


def in_evaluation_split(name: str, eval_from: str) -> bool:
    """Whether a file belongs to the evaluation split `eval_from` (e.g. "190000": files
    whose stem is a number >= 190000; a non-numeric value compares stems as text)."""
    if not eval_from:
        return False
    stem = Path(name).stem
    if eval_from.isdigit() and stem.isdigit():
        return int(stem) >= int(eval_from)
    return stem >= eval_from


def load_folder(
    root: Path,
    size: int,
    workers: int = 0,
    align: bool = True,
    eval_from: str = "",
    split: str = "train",
) -> FaceData:
    """The photos under root as faces: aligned (detect, landmark, warp; see model.align) or,
    with align=False, cropped as they are. Files of the evaluation split (`eval_from`) are
    left out of split="train" and are all of split="evaluation". Unreadable photos and
    photos without a face are skipped and counted."""
    files, ignored = list_image_files(root)
    if not files:
        raise DataError(f"{root}: no image files (jpg, png, webp, ...) found")
    held = [p for p in files if in_evaluation_split(p.name, eval_from)]
    if split == "evaluation":
        chosen = held
    elif split == "train":
        chosen = [p for p in files if not in_evaluation_split(p.name, eval_from)]
    else:
        raise ValueError(f"unknown split {split!r}")
    if not chosen:
        raise DataError(f"{root}: no image files in the {split} split (eval_from={eval_from!r})")
    aligned = load_aligned(root, chosen, size, align=align, workers=workers)
    if not len(aligned.images):
        raise DataError(
            f"{root}: none of the {len(chosen)} image files gave a face"
            f" ({aligned.no_face} without a face, {aligned.unreadable} unreadable)"
        )
    return FaceData(
        aligned.images,
        str(root),
        names=aligned.names,
        skipped=aligned.unreadable,
        no_face=aligned.no_face,
        ignored=ignored,
        evaluation=len(held) if split == "train" else 0,
        skipped_examples=aligned.examples,
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


def load_data(
    spec: str, size: int, workers: int = 0, align: bool = True, eval_from: str = ""
) -> FaceData:
    """Resolve a --data value: synthetic:N[:SEED] or a folder of photos (training split)."""
    synth = parse_synthetic(spec)
    if synth is not None:
        n, seed = synth
        images, _ = synthetic_faces(n, seed=seed, size=size)
        return FaceData(images, spec)
    root = Path(spec).expanduser()
    if not root.is_dir():
        raise DataError(f"{spec}: not a folder and not synthetic:N")
    data = load_folder(root, size, workers, align=align, eval_from=eval_from)
    if data.skipped or data.no_face:
        example = f", e.g. {data.skipped_examples[0]}" if data.skipped_examples else ""
        print(
            f"skipped {data.skipped} unreadable photo(s) and {data.no_face} without a face"
            f"{example}",
            file=sys.stderr,
        )
    return data
