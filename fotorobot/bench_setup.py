"""What the search benchmark needs of a face model: targets, search spaces, presets, ceiling.

The face model's side of `fotorobot bench search`: which photos a run aims at (a model's
evaluation split by default), encoded or prior targets, the named bases and opening faces the
strategies may use (identity axes and openers from model.search_assets, cached per model
version), this model's own search presets, and the identity ceiling through the search space.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from model.face_model import FaceModel
from model.search_assets import (
    SEARCH_DIM,
    Describe,
    descriptor_function,
    identity_assets,
    recorded_photo_split,
)
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
    spec: str | None,
    fm: FaceModel,
    model_path: str | os.PathLike[str],
    n: int,
    seed: int,
    eval_from: str | None = None,
) -> Targets:
    """--targets: photos:DIR | encoded | prior | None (a photo-trained model's evaluation
    split as recorded in its checkpoint, else encoded). eval_from (photos:DIR only) names the
    evaluation split explicitly, for a folder the checkpoint recorded under another path."""
    if spec is None:
        split = recorded_photo_split(model_path)
        if split is None:
            return latent_targets(fm, "encoded", n, seed)
        folder, eval_from = split
        if not folder.is_dir():
            # A bundled photo model's photos are not shipped: faces it draws stand in, said so.
            print(
                f"note: the model was trained on {folder}, which is not here; targets are "
                "its own prior samples (pass --targets photos:DIR for real photos)",
                file=sys.stderr,
            )
            return latent_targets(fm, "prior", n, seed)
        return photo_targets(fm, folder, n, seed, eval_from)
    if spec.startswith("photos:"):
        folder = Path(spec[len("photos:") :]).expanduser()
        if eval_from is not None:
            return photo_targets(fm, folder, n, seed, eval_from)
        split = recorded_photo_split(model_path)
        # The model's own training folder: keep to its evaluation split (never trained on).
        same = split is not None and folder.resolve() == split[0].resolve()
        return photo_targets(fm, folder, n, seed, split[1] if same and split else "")
    if spec in ("encoded", "prior"):
        return latent_targets(fm, spec, n, seed)
    raise TargetError(f"--targets must be photos:DIR, encoded or prior, got {spec!r}")


@dataclass(frozen=True)
class SearchSetup:
    """What the benchmark needs of a model to search its faces."""

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
    ) -> SearchSetup:
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
                # a group poll's picks, read by the preference GP (surrogate auto)
                "ours-picks": f"ours-picks+{base}+surrogate={own}",
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
                "ours-picks",
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
