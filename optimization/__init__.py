"""Search engine: GP + Expected Improvement over a unit cube mapped onto the face latent.

Pure numpy/scipy; GPy is imported only inside optimization.surrogate on the first fit.
"""

from optimization.answers import SearchInputs, search_inputs
from optimization.picks import all_votes, pick_votes
from optimization.preference import preferences_from_votes
from optimization.search import Proposal, Search, best_index, new_search, observe, propose
from optimization.settings import SearchSettings
from optimization.space import LatentSpace, subspace_dim
from optimization.votes import aggregate_votes

__all__ = [
    "LatentSpace",
    "Proposal",
    "Search",
    "SearchInputs",
    "SearchSettings",
    "aggregate_votes",
    "all_votes",
    "best_index",
    "new_search",
    "observe",
    "pick_votes",
    "preferences_from_votes",
    "propose",
    "search_inputs",
    "subspace_dim",
]
