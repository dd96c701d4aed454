"""The model side of the search: its space, opening faces and benchmark targets.

optimization never imports torch, so what needs the face model lives here:

- the search space of a model: the identity axes (model.identity_axes) when the identity
  metric is available, the checkpoint's principal axes otherwise, and how many of them;
- the opening faces (model.openers), chosen on the model's training photos;
- both cached per model version (they take ~1 min to compute on 2 cores);
- which photos a search benchmark aims at (a model's evaluation split by default), encoded
  or prior targets, dlib descriptors as a plain callable, and the identity ceiling through
  the search space.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from model.checkpoint import load_checkpoint
from model.config import LatentBasis
from model.face_model import FaceModel
from optimization.benchmark import SearchContext
from optimization.settings import IDENTITY_OVERRIDES, SearchSettings, identity_search
from optimization.space import BasisLike, LatentSpace, subspace_dim


class TargetError(ValueError):
    """A --targets value that names no usable faces."""


@dataclass(frozen=True)
class Targets:
    """Target faces (n, S, S, 3) uint8 and where they came from."""

    images: np.ndarray
    kind: str  # photos | encoded | prior
    description: str
    latents: np.ndarray | None = None  # (n, D) for encoded/prior targets


def recorded_photo_split(path: str | os.PathLike[str]) -> tuple[Path, str] | None:
    """(photo folder, eval_from) the checkpoint was trained with, if it was a photo folder
    with an evaluation split; else None."""
    train = load_checkpoint(path).get("train") or {}
    data, eval_from = str(train.get("data", "")), str(train.get("eval_from", ""))
    if not data or data.startswith("synthetic") or not eval_from:
        return None
    return Path(data), eval_from


def photo_targets(fm: FaceModel, folder: Path, n: int, seed: int, eval_from: str = "") -> Targets:
    """n photos of a folder, aligned exactly as for training (model.align, the model's image
    size); with eval_from, only the evaluation split (files numbered from eval_from on).
    Chosen at random (seeded) when the folder holds more."""
    from model.data import DataError, load_folder

    if not folder.is_dir():
        raise TargetError(f"{folder}: not a folder of photos")
    try:
        split = "evaluation" if eval_from else "train"
        data = load_folder(folder, fm.image_size, eval_from=eval_from, split=split)
    except DataError as exc:
        raise TargetError(str(exc)) from exc
    images = data.images
    pick = np.random.default_rng([seed, 11]).permutation(len(images))[: min(n, len(images))]
    what = f"{folder} (evaluation split from {eval_from})" if eval_from else str(folder)
    return Targets(images[np.sort(pick)], "photos", f"{len(pick)} aligned photos of {what}")


def latent_targets(fm: FaceModel, kind: str, n: int, seed: int) -> Targets:
    """prior: decoded N(0, I) samples. encoded: held-out synthetic faces encoded then decoded
    (the benchmark of a synthetic model, whose 'photos' are its own drawings)."""
    if kind == "prior":
        z = np.random.default_rng([seed, 7]).normal(size=(n, fm.latent_dim)).astype(np.float32)
        what = f"{n} decoded prior samples"
    elif kind == "encoded":
        from model.synthetic import synthetic_faces

        faces, _ = synthetic_faces(n, seed=900_000 + 1000 * seed, size=fm.image_size)
        z = fm.encode(faces)
        what = f"{n} encoded held-out synthetic faces"
    else:
        raise TargetError(f"unknown target kind {kind!r}")
    return Targets(fm.decode(z), kind, what, z)


def resolve_targets(
    spec: str | None, fm: FaceModel, model_path: str | os.PathLike[str], n: int, seed: int
) -> Targets:
    """--targets: photos:DIR | encoded | prior | None (a photo-trained model's evaluation
    split as recorded in its checkpoint, else encoded)."""
    if spec is None:
        split = recorded_photo_split(model_path)
        if split is None:
            return latent_targets(fm, "encoded", n, seed)
        folder, eval_from = split
        if not folder.is_dir():
            raise TargetError(
                f"the model was trained on {folder}, which is not here: pass --targets photos:DIR"
            )
        return photo_targets(fm, folder, n, seed, eval_from)
    if spec.startswith("photos:"):
        folder = Path(spec[len("photos:") :]).expanduser()
        split = recorded_photo_split(model_path)
        # The model's own training folder: keep to its evaluation split (never trained on).
        same = split is not None and folder.resolve() == split[0].resolve()
        return photo_targets(fm, folder, n, seed, split[1] if same and split else "")
    if spec in ("encoded", "prior"):
        return latent_targets(fm, spec, n, seed)
    raise TargetError(f"--targets must be photos:DIR, encoded or prior, got {spec!r}")


def descriptor_function() -> Describe:
    """dlib descriptors of aligned uint8 faces as a plain callable (the torch thread count
    is the caller's)."""
    from model.identity import IdentityMetric

    return IdentityMetric().descriptors


Describe = Callable[[np.ndarray], np.ndarray]

# Bump when the way the identity axes or openers are computed changes: old caches are ignored.
ASSETS_VERSION = 1
SEARCH_DIM = 16  # identity axes searched (they hold ~90 % of the identity change)
OPENER_COUNT = 8  # opening faces computed (the first two albums of 4)
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


def stored_identity_assets(
    fm: FaceModel, path: str | os.PathLike[str], cache_dir: Path | None = None
) -> tuple[LatentBasis, np.ndarray] | None:
    """The model's identity axes and openers if already computed (sidecar, then cache)."""
    return _read_assets(sidecar_path(path), fm) or _read_assets(_cache_file(fm, cache_dir), fm)


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


@dataclass(frozen=True)
class SearchAssets:
    """What the benchmark and the bot need of a model to search its faces."""

    context: SearchContext  # latent size, named bases, openers
    settings: SearchSettings  # the default search's settings (seed 0)
    space: LatentSpace  # the default search's space
    describe: Describe | None  # dlib descriptors (None: no identity figures)
    description: str
    default_strategies: tuple[str, ...]
    encode: Callable[[np.ndarray], np.ndarray]
    decode: Callable[[np.ndarray], np.ndarray]

    @classmethod
    def for_model(
        cls, fm: FaceModel, path: str | os.PathLike[str], identity: bool = True
    ) -> SearchAssets:
        """Identity axes and openers (cached) when identity is wanted, else the checkpoint's
        principal axes as before."""
        basis = fm.latent_basis
        bases: dict[str, BasisLike | None] = {"variance": basis}
        if identity:
            describe = descriptor_function()
            id_basis, openers = identity_assets(fm, path, describe)
            bases["identity"] = id_basis
            dim = min(SEARCH_DIM, fm.latent_dim)
            space = LatentSpace.from_basis(fm.latent_dim, id_basis, dim)
            settings = identity_search(dim)
            base = "+".join(
                ["axes=identity", f"dim={dim}", f"openers={len(openers)}"]
                + [
                    f"{k}={json.dumps(v)}"
                    for k, v in IDENTITY_OVERRIDES.items()
                    if k not in ("axes", "surrogate")
                ]
            )
            own = str(IDENTITY_OVERRIDES.get("surrogate", "numeric"))
            presets = {
                "ours": f"ours+{base}+surrogate={own}",
                "ours-numeric": f"ours+{base}+surrogate=numeric",
                "ours-pref": f"ours+{base}+surrogate=preference",
                "ours-pick": f"pick+{base}",
                "ours-pca": "ours+axes=variance",
                # the thesis' [-4, 4] box over the same subspace our search walks
                "thesis": f"thesis+axes=identity+dim={dim}",
            }
            other = "ours-pref" if own in ("numeric", "auto") else "ours-numeric"
            defaults: tuple[str, ...] = (
                "random",
                "thesis",
                "cma",
                "ours",
                other,
                "ours-pick",
                "ours-pca",
            )
            what = f"{dim} identity axes, {len(openers)} opening faces"
            ctx = SearchContext(fm.latent_dim, bases, openers, presets)
        else:
            describe = None
            dim = subspace_dim(basis, fm.latent_dim)
            space = LatentSpace.from_basis(fm.latent_dim, basis, dim)
            settings = SearchSettings(dim=dim)
            defaults = ("random", "thesis", "cma", "ours")
            what = f"{dim} principal axes"
            ctx = SearchContext(fm.latent_dim, bases, None)
        return cls(ctx, settings, space, describe, what, defaults, fm.encode, fm.decode)

    def ceiling(self, images: np.ndarray) -> dict[str, float]:
        """What the decoder can show of these faces: encode -> decode (full), and encode ->
        the closest point of the default search space (projection onto its axes, pulled
        into the typical set the search keeps to) -> decode; mean dlib distance to the
        photos and the share below 0.6."""
        from optimization.batch import project_typical
        from optimization.raters import SAME_PERSON_DISTANCE

        if self.describe is None:
            return {}
        target = self.describe(images)
        z = self.encode(images)
        u = project_typical(self.space.from_latent(z), self.settings.radius)
        out: dict[str, float] = {}
        for name, codes in (("full", z), ("search_space", self.space.to_latent(u))):
            d = np.linalg.norm(self.describe(self.decode(codes)) - target, axis=1)
            out[f"{name}_distance"] = round(float(d.mean()), 4)
            out[f"{name}_same_person"] = round(float((d < SAME_PERSON_DISTANCE).mean()), 4)
        return out


def main(argv: list[str] | None = None) -> int:
    """`python -m model.search_assets CHECKPOINT`: compute the identity axes and openers of a
    photo-trained checkpoint and write them beside it (CHECKPOINT.search.npz), for the bot."""
    import argparse

    import torch

    parser = argparse.ArgumentParser(prog="python -m model.search_assets")
    parser.add_argument("checkpoint", type=Path)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(max(1, args.threads))
    fm = FaceModel.load(args.checkpoint)
    basis, openers = identity_assets(fm, args.checkpoint)
    out = sidecar_path(args.checkpoint)
    write_assets(out, fm, basis, openers)
    share = float((basis.stds[:SEARCH_DIM] ** 2).sum() / max((basis.stds**2).sum(), 1e-12))
    print(
        f"wrote {out}: {SEARCH_DIM} identity axes ({share:.0%} of the identity change), "
        f"{len(openers)} opening faces"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
