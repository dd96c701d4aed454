"""A search's stored answers -> what the surrogate is given: scores, vote counts and pairs.

The bot (bot.engine, a chat's votes and poll picks) and the benchmark (the "ours-picks"
strategy) both go through `search_inputs`, so what is measured is what is served.

Ratings always become per-rater standardised scores (aggregate_votes) and within-album
comparisons (preferences_from_votes). "Closest" picks depend on the surrogate that reads them:

* numeric: each pick rates its whole album 1 / 0 under a rater key of its own
  (optimization.picks.all_votes), standardised like any rater: the numeric GP reads them;
* auto / preference: picks are comparisons only ("picked > unpicked" for that person, the
  preference GP's data), and a face that was only picked keeps vote count 0, which is how
  `optimization.search.uses_preference` tells that an "auto" search now has picks.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from optimization.picks import all_votes
from optimization.preference import preferences_from_votes
from optimization.settings import SearchSettings
from optimization.votes import aggregate_votes


@dataclass(frozen=True)
class SearchInputs:
    """observe()'s data for every face of a search, in the order shown."""

    scores: np.ndarray  # (n,)
    counts: np.ndarray  # (n,) answers that went into each score; 0 = not rated
    pairs: np.ndarray  # (m, 2) [winner, loser] face indices


def search_inputs(
    settings: SearchSettings,
    rounds: Sequence[int] | np.ndarray,
    votes: Sequence[tuple[int, Hashable, float]] = (),
    picks: Iterable[tuple[int, Hashable]] = (),
) -> SearchInputs:
    """rounds (n,): each face's album; votes (face, rater, value); picks (face, person)."""
    picks = list(picks)
    n = len(rounds)
    pairs = preferences_from_votes(rounds, votes, picks, weighted=settings.pref_weighted)
    numeric_votes = all_votes(votes, rounds, picks) if settings.surrogate == "numeric" else votes
    scores, counts = aggregate_votes(n, numeric_votes)
    return SearchInputs(scores, counts, pairs)
