"""Which space a search walks: a model's identity axes when they were computed, else its
principal axes; and the opening faces that go with the identity axes.

The identity axes and openers of a model version are read from its search sidecar
(CHECKPOINT.search.npz, model.search_assets) the first time a search needs them, and never
computed while serving (~1 min on 2 cores). A model without a sidecar (the bundled synthetic
model, a checkpoint dropped in without `fotorobot search-assets`) is searched along its
principal axes, as before. A search that started on identity axes keeps them; if that
model's sidecar has gone since, the search cannot go on (its points are identity-axis
coordinates), exactly as when its model file has gone: ModelGone.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

import numpy as np

from bot.models import ModelGone, ModelRegistry

if TYPE_CHECKING:
    from model import FaceModel, LatentBasis
    from optimization import LatentSpace, SearchSettings

IdentityAssets = tuple["LatentBasis", np.ndarray]  # (identity basis, opener latents (k, D))


class SearchSpaces:
    """Cube <-> latent maps and identity assets per model version (cached)."""

    def __init__(self, models: ModelRegistry) -> None:
        self.models = models
        self._spaces: dict[tuple[str, str, int], LatentSpace] = {}
        self._identity: dict[str, IdentityAssets] = {}

    def identity_assets(self, model: FaceModel) -> IdentityAssets | None:
        """The model's identity axes and openers if its sidecar holds them."""
        found = self._identity.get(model.version)
        if found is None:
            # Looked for again while missing (two file checks): a sidecar written after the
            # bot started, by `fotorobot search-assets`, is used from the next new search on.
            from model.search_assets import read_sidecar

            path = self.models.path_of(model.version)
            found = None if path is None else read_sidecar(model, path)
            if found is not None:
                self._identity[model.version] = found
        return found

    def new_settings(self, model: FaceModel, search_dim: int, album_size: int) -> SearchSettings:
        """A new search's settings: identity axes and the real-face defaults when the model
        has identity assets, else the principal axes that carry 99 % of the encoded variance
        (the configured dimension is a ceiling: axes the VAE leaves unused only cost
        ratings). A fresh seed either way."""
        from optimization import SearchSettings, subspace_dim
        from optimization.settings import identity_search

        seed = secrets.randbelow(2**31)
        if self.identity_assets(model) is not None:
            dim = min(int(search_dim), int(model.latent_dim))
            return identity_search(dim=dim, album_size=album_size, seed=seed)
        basis: Any = model.latent_basis
        dim = subspace_dim(basis, int(model.latent_dim), int(search_dim))
        return SearchSettings(dim=dim, album_size=album_size, seed=seed)

    def space(self, model: FaceModel, settings: SearchSettings) -> LatentSpace:
        """The cube <-> latent map of a search (its model, axes and dimension); raises
        ModelGone for an identity search whose model lost its identity assets."""
        from optimization import LatentSpace

        key = (model.version, settings.axes, settings.dim)
        if key not in self._spaces:
            # model.LatentBasis is frozen; optimization's BasisLike protocol only reads it.
            basis: Any = model.latent_basis
            if settings.axes == "identity":
                assets = self.identity_assets(model)
                if assets is None:
                    raise ModelGone(model.version)
                basis = assets[0]
            self._spaces[key] = LatentSpace.from_basis(model.latent_dim, basis, settings.dim)
        return self._spaces[key]

    def openers(self, model: FaceModel, settings: SearchSettings) -> np.ndarray | None:
        """The opening faces as cube points of the search's space (identity searches only)."""
        assets = self.identity_assets(model) if settings.axes == "identity" else None
        if assets is None:
            return None
        return self.space(model, settings).from_latent(assets[1])
