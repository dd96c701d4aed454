"""Search engine: GP + Expected Improvement over a unit cube mapped onto the face latent.

Pure numpy/scipy; GPy is imported only inside optimization.surrogate on the first fit.
"""

from optimization.preference import preferences_from_votes
from optimization.search import Proposal, Search, best_index, new_search, observe, propose
from optimization.settings import SearchSettings
from optimization.space import LatentSpace, subspace_dim
from optimization.votes import aggregate_votes

__all__ = [
    "LatentSpace",
    "Proposal",
    "Search",
    "SearchSettings",
    "aggregate_votes",
    "best_index",
    "new_search",
    "observe",
    "preferences_from_votes",
    "propose",
    "subspace_dim",
]
