"""benchmarks/ensembles.py's ranking of ensembles read per face by sharpness (--gate)."""
import itertools

import numpy as np
import pytest

from benchmarks.ensembles import gated_pairs

SETS = ("validation", "sfew", "webcam")


def random_members(rng, n=4, faces=60):
    """[(name, MB, {set: probabilities})] with labels, as member_probs and load_sets give them."""
    labels = {key: rng.integers(0, 7, faces) for key in SETS}
    members = []
    for i in range(n):
        probs = {key: rng.dirichlet(np.ones(7), faces).astype(np.float32) for key in SETS}
        members.append((f"m{i}", 1.0 + i, probs))
    return members, labels


def test_each_pair_reads_sharp_faces_with_its_first_ensemble_and_the_rest_with_its_second():
    rng = np.random.default_rng(3)
    members, labels = random_members(rng)
    sharp = {key: rng.random(60) < 0.5 for key in SETS}
    found = gated_pairs(members, labels, sharp, max_mb=7.0, scored=("sfew", "webcam"), top=1000)

    groups = [g for k in range(1, 5) for g in itertools.combinations(range(4), k)]
    expected = {}
    for a, b in itertools.product(groups, groups):
        if sum(members[i][1] for i in set(a) | set(b)) > 7.0:
            continue
        rows = {}
        for key, y in labels.items():
            pa = np.mean([members[i][2][key] for i in a], axis=0)
            pb = np.mean([members[i][2][key] for i in b], axis=0)
            rows[key] = np.mean(np.where(sharp[key], pa.argmax(1), pb.argmax(1)) == y)
        expected[a, b] = rows
    assert len(found) == len(expected) > 0
    for score, rows, mb, a, b in found:
        assert mb <= 7.0
        assert rows == pytest.approx(expected[a, b], abs=1e-12)
        assert score == pytest.approx((rows["sfew"] + rows["webcam"]) / 2, abs=1e-12)
    assert [s[0] for s in found] == sorted((s[0] for s in found), reverse=True)

    plain = {(a, b) for _, _, _, a, b in found if a == b}
    assert (0, 1) in {a for a, _ in plain}  # a group paired with itself: the plain ensemble


def test_pairs_below_the_validation_floor_are_left_out_and_top_keeps_the_best():
    rng = np.random.default_rng(4)
    members, labels = random_members(rng)
    sharp = {key: rng.random(60) < 0.3 for key in SETS}
    every = gated_pairs(members, labels, sharp, max_mb=10.0, scored=("sfew", "webcam"), top=10_000)
    floor = np.median([rows["validation"] for _, rows, _, _, _ in every])
    kept = gated_pairs(members, labels, sharp, max_mb=10.0, scored=("sfew", "webcam"), min_validation=floor, top=5)
    assert len(kept) == 5
    assert all(rows["validation"] >= floor for _, rows, _, _, _ in kept)
    above = sorted((s for s in every if s[1]["validation"] >= floor), key=lambda s: -s[0])
    assert [s[0] for s in kept] == [s[0] for s in above[:5]]
