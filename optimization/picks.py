""" "Closest" picks from group polls as search data, through the per-rater standardisation.

A pick says "this face above the others of its album, to that person". It becomes ratings of
the album it was made in: every face of that album gets 1 if the person picked it, else 0,
under a rater key of its own, `(PICK, person)`. `aggregate_votes` then standardises each
person's picks apart from their numeric ratings (a 0/1 answer and a 1-10 one never mix), so
a person who picks in every round weighs one vote per face per round, like a rater, and a
face the same person also rated by number keeps only that rating (one opinion per person per
face). A pairwise preference model reads the same picks as "picked face > each unpicked face
of its round, for that person".
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable, Sequence

import numpy as np

PICK = "pick"  # the first half of a pick's rater key: (PICK, person)


def pick_votes(
    rounds: Sequence[int] | np.ndarray,
    picks: Iterable[tuple[int, Hashable]],
    rated: Iterable[tuple[int, Hashable]] = (),
) -> list[tuple[int, Hashable, float]]:
    """(face_index, (PICK, person), 1.0 or 0.0) for every face of every album a person picked
    in; `rounds[i]` is face i's round, `rated` the (face_index, person) pairs rated by number."""
    labels = np.asarray(rounds).reshape(-1)
    album: dict[int, list[int]] = defaultdict(list)
    for index, label in enumerate(labels):
        album[int(label)].append(index)
    chosen: dict[tuple[Hashable, int], set[int]] = defaultdict(set)
    for index, person in picks:
        chosen[(person, int(labels[index]))].add(int(index))
    skip = set(rated)
    votes: list[tuple[int, Hashable, float]] = []
    for (person, label), picked in chosen.items():
        for index in album[label]:
            if (index, person) not in skip:
                votes.append((index, (PICK, person), 1.0 if index in picked else 0.0))
    return votes


def all_votes(
    votes: Sequence[tuple[int, Hashable, float]],
    rounds: Sequence[int] | np.ndarray,
    picks: Iterable[tuple[int, Hashable]],
) -> list[tuple[int, Hashable, float]]:
    """Numeric ratings plus the picks made into ratings: what `aggregate_votes` is given."""
    rated = {(int(index), person) for index, person, _value in votes}
    return [*votes, *pick_votes(rounds, picks, rated)]
