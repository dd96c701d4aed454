"""Poll picks as search data: ratings of their album, per person, standardised like votes."""

from __future__ import annotations

import numpy as np

from optimization import aggregate_votes, all_votes, pick_votes
from optimization.picks import PICK


def test_a_pick_rates_its_whole_album_for_that_person() -> None:
    rounds = [1, 1, 1, 1, 2, 2, 2, 2]
    votes = pick_votes(rounds, [(1, "ann"), (6, "ann"), (3, "bob")])
    assert sorted(v for v in votes if v[1] == (PICK, "ann")) == [
        (0, (PICK, "ann"), 0.0),
        (1, (PICK, "ann"), 1.0),
        (2, (PICK, "ann"), 0.0),
        (3, (PICK, "ann"), 0.0),
        (4, (PICK, "ann"), 0.0),
        (5, (PICK, "ann"), 0.0),
        (6, (PICK, "ann"), 1.0),
        (7, (PICK, "ann"), 0.0),
    ]
    assert sorted(i for i, rater, _v in votes if rater == (PICK, "bob")) == [0, 1, 2, 3]
    scores, counts = aggregate_votes(8, votes)
    assert scores[1] > 0 > scores[0] and scores[6] > 0 > scores[4]
    assert list(counts) == [2, 2, 2, 2, 1, 1, 1, 1]


def test_a_number_beats_a_pick_from_the_same_person() -> None:
    rounds = np.array([1, 1, 1])
    merged = all_votes([(0, "ann", 9.0)], rounds, [(1, "ann")])
    assert (0, "ann", 9.0) in merged
    assert [v for v in merged if v[0] == 0] == [(0, "ann", 9.0)]  # one opinion per face
    assert (1, (PICK, "ann"), 1.0) in merged and (2, (PICK, "ann"), 0.0) in merged


def test_a_frequent_voter_weighs_one_vote_per_face_per_round() -> None:
    rounds = [1, 1, 2, 2, 3, 3]
    # Ann picks in every round, Bob only in the last; each face's score averages its voters.
    picks = [(0, "ann"), (3, "ann"), (4, "ann"), (5, "bob")]
    scores, counts = aggregate_votes(6, all_votes([], rounds, picks))
    assert list(counts) == [1, 1, 1, 1, 2, 2]
    assert abs(scores[4]) < 1e-9 and abs(scores[5]) < 1e-9  # Ann and Bob disagree, equally
