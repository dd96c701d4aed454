"""A model's search assets: its identity axes and opening faces, computed once per version.

A search over a real-face model walks the axes along which the person changes most
(model.identity_axes) and opens with faces spread over who people look like
(model.openers). Both take ~1 min on 2 cores, so they are never computed while the bot
serves: `fotorobot search-assets CHECKPOINT` (or `python -m model.search_assets
CHECKPOINT`) writes them beside the checkpoint as CHECKPOINT.search.npz, a training run the
bot starts does the same for its final model, and the search benchmark caches them per model
version. The bot reads a sidecar if there is one (stored_identity_assets) and otherwise
searches the checkpoint's principal axes.

Nothing here imports optimization (one-way imports); what the benchmark builds on top of
these (spaces, presets, targets) is fotorobot.bench_setup.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

from model.checkpoint import load_checkpoint
from model.config import LatentBasis
from model.face_model import FaceModel

Describe = Callable[[np.ndarray], np.ndarray]


def recorded_photo_split(path: str | os.PathLike[str]) -> tuple[Path, str] | None:
    """(photo folder, eval_from) the checkpoint was trained with, if it was a photo folder
    with an evaluation split; else None."""
    train = load_checkpoint(path).get("train") or {}
    data, eval_from = str(train.get("data", "")), str(train.get("eval_from", ""))
    if not data or data.startswith("synthetic") or not eval_from:
        return None
    return Path(data), eval_from


def descriptor_function() -> Describe:
    """dlib descriptors of aligned uint8 faces as a plain callable (the torch thread count
    is the caller's)."""
    from model.identity import IdentityMetric

    return IdentityMetric().descriptors


# Bump when the way the identity axes or openers are computed changes: old caches are ignored.
ASSETS_VERSION = 1
SEARCH_DIM = 16  # identity axes searched (they hold ~90 % of the identity change)
OPENER_COUNT = 16  # opening faces computed (the first four albums of 4; docs/search.md)
OPENER_POOL = 2000  # prior faces the openers are chosen from
OPENER_PHOTOS = 1500  # training photos standing for the people users have in mind


def _training_photos(path: str | os.PathLike[str], fm: FaceModel, n: int) -> np.ndarray | None:
    """Up to n training photos (never the evaluation split) the checkpoint was trained on."""
    from model.data import DataError, load_folder

    split = recorded_photo_split(path)
    if split is None or not split[0].is_dir():
        return None
    try:
        data = load_folder(split[0], fm.image_size, eval_from=split[1], split="train")
    except DataError:
        return None
    pick = np.random.default_rng(1).permutation(len(data.images))[: min(n, len(data.images))]
    return data.images[np.sort(pick)]


def compute_identity_assets(
    fm: FaceModel,
    path: str | os.PathLike[str],
    describe: Describe,
    dim: int = SEARCH_DIM,
    n_openers: int = OPENER_COUNT,
) -> tuple[LatentBasis, np.ndarray]:
    """(identity basis, opener latents (n_openers, D)) of a model. The openers come from a
    pool of faces of the search space (uniform cube points, i.e. N(0, I) along the top `dim`
    identity axes) and are chosen on the training photos, or, without them, on the pool's
    own faces (a population of decoded faces)."""
    from model.identity_axes import identity_basis
    from model.openers import identity_openers

    basis = identity_basis(fm.decode, describe, fm.latent_dim)
    k = min(dim, fm.latent_dim)
    rng = np.random.default_rng(23)
    pool = rng.normal(size=(OPENER_POOL, k)) @ basis.axes[:, :k].T.astype(np.float64)
    photos = _training_photos(path, fm, OPENER_PHOTOS)
    if photos is None:
        photos = fm.decode(pool[: OPENER_PHOTOS // 2].astype(np.float32))
    return basis, identity_openers(fm.decode, describe, photos, pool, n_openers)


def sidecar_path(path: str | os.PathLike[str]) -> Path:
    """Where a checkpoint's precomputed identity axes and openers may ship: NAME.pt.search.npz
    beside it (the bot reads it; it never computes them while serving)."""
    return Path(str(path) + ".search.npz")


def _cache_file(fm: FaceModel, cache_dir: Path | None) -> Path:
    from model.photo_folder import default_cache_dir

    name = f"search-{fm.version}-v{ASSETS_VERSION}-d{SEARCH_DIM}-o{OPENER_COUNT}.npz"
    return (cache_dir or default_cache_dir()) / name


def _read_assets(file: Path, fm: FaceModel) -> tuple[LatentBasis, np.ndarray] | None:
    if not file.is_file():
        return None
    try:
        with np.load(file, allow_pickle=False) as z:
            if "version" in z and str(z["version"]) != fm.version:
                return None  # a sidecar left beside a retrained checkpoint
            basis = LatentBasis(z["mean"], z["axes"], z["stds"])
            openers = np.asarray(z["openers"], dtype=np.float32)
    except (OSError, KeyError, ValueError):
        return None  # damaged: rebuilt (cache) or ignored (sidecar)
    d = fm.latent_dim
    if basis.axes.shape != (d, d) or openers.ndim != 2 or openers.shape[1] != d:
        return None
    return basis, openers


def write_assets(file: Path, fm: FaceModel, basis: LatentBasis, openers: np.ndarray) -> None:
    """Atomically write identity axes and openers (with the model version they belong to)."""
    file.parent.mkdir(parents=True, exist_ok=True)
    tmp = file.with_name(file.name + ".tmp.npz")
    np.savez(
        tmp,
        mean=basis.mean,
        axes=basis.axes,
        stds=basis.stds,
        openers=openers,
        version=np.array(fm.version),
    )
    os.replace(tmp, file)


def read_sidecar(
    fm: FaceModel, path: str | os.PathLike[str]
) -> tuple[LatentBasis, np.ndarray] | None:
    """The identity axes and openers in the checkpoint's sidecar only (what the bot serves
    from: a file that ships with the checkpoint, not whatever a benchmark left in a cache)."""
    return _read_assets(sidecar_path(path), fm)


def stored_identity_assets(
    fm: FaceModel, path: str | os.PathLike[str], cache_dir: Path | None = None
) -> tuple[LatentBasis, np.ndarray] | None:
    """The model's identity axes and openers if already computed (sidecar, then cache)."""
    return read_sidecar(fm, path) or _read_assets(_cache_file(fm, cache_dir), fm)


def identity_assets(
    fm: FaceModel,
    path: str | os.PathLike[str],
    describe: Describe | None = None,
    cache_dir: Path | None = None,
) -> tuple[LatentBasis, np.ndarray]:
    """stored_identity_assets, else compute_identity_assets and cache them (~1 min)."""
    found = stored_identity_assets(fm, path, cache_dir)
    if found is not None:
        return found
    basis, openers = compute_identity_assets(fm, path, describe or descriptor_function())
    # An unwritable cache only costs the next run the same minute.
    with contextlib.suppress(OSError):
        write_assets(_cache_file(fm, cache_dir), fm, basis, openers)
    return basis, openers


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of `fotorobot search-assets`."""
    parser.add_argument("checkpoint", type=Path, help="a checkpoint of a photo-trained model")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")


def run(args: argparse.Namespace) -> int:
    """Compute the identity axes and openers of a checkpoint and write them beside it
    (CHECKPOINT.search.npz), for the bot."""
    import torch

    from model.checkpoint import CheckpointError

    torch.set_num_threads(max(1, args.threads))
    try:
        fm = FaceModel.load(args.checkpoint)
    except (OSError, CheckpointError) as exc:
        print(f"cannot use the face model {args.checkpoint}: {exc}", file=sys.stderr)
        return 1
    basis, openers = identity_assets(fm, args.checkpoint)
    out = sidecar_path(args.checkpoint)
    write_assets(out, fm, basis, openers)
    share = float((basis.stds[:SEARCH_DIM] ** 2).sum() / max((basis.stds**2).sum(), 1e-12))
    print(
        f"wrote {out}: {SEARCH_DIM} identity axes ({share:.0%} of the identity change), "
        f"{len(openers)} opening faces"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    """`python -m model.search_assets CHECKPOINT` (the same as `fotorobot search-assets`)."""
    parser = argparse.ArgumentParser(prog="python -m model.search_assets")
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
