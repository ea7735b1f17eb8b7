"""Pareto maths (:mod:`optuna_ga._pareto`): hand-computed cases and brute-force cross-checks."""

from __future__ import annotations

import numpy as np
import pytest
from optuna.study._multi_objective import _fast_non_domination_rank

from optuna_ga import _pareto as P


def brute_ranks(losses: np.ndarray) -> np.ndarray:
    """Fronts by definition: peel the points no remaining point dominates."""
    n = len(losses)
    ranks = np.full(n, -1)
    r = 0
    while np.any(ranks < 0):
        left = np.flatnonzero(ranks < 0)
        front = [
            i for i in left if not any(P.dominates(losses[j], losses[i]) for j in left if j != i)
        ]
        ranks[front] = r
        r += 1
    return ranks


def test_to_losses_negates_maximised_columns_and_checks_shape() -> None:
    out = P.to_losses(np.array([[1.0, 2.0, 3.0]]), [True, False, True])
    assert out.tolist() == [[-1.0, 2.0, -3.0]]
    with pytest.raises(ValueError, match=r"shape \(n, 2\)"):
        P.to_losses(np.array([[1.0, 2.0, 3.0]]), [True, False])


def test_ranks_two_objectives_by_hand() -> None:
    # (1,4) (2,2) (4,1) are non-dominated; (3,3) is dominated by (2,2); (5,5) by (3,3).
    losses = np.array([[3, 3], [1, 4], [5, 5], [2, 2], [4, 1], [2, 2]], dtype=float)
    assert P.nondominated_ranks(losses).tolist() == [1, 0, 2, 0, 0, 0]


def test_ranks_equal_first_loss_dominates_with_smaller_second() -> None:
    losses = np.array([[1.0, 2.0], [1.0, 1.0], [1.0, 3.0]])
    assert P.nondominated_ranks(losses).tolist() == [1, 0, 2]


def test_ranks_three_objectives_by_hand() -> None:
    losses = np.array([[1, 1, 1], [0, 2, 2], [2, 2, 2], [3, 0, 3], [3, 3, 3]], dtype=float)
    # [2,2,2] is dominated by [1,1,1]; [3,3,3] by [2,2,2] (and others).
    assert P.nondominated_ranks(losses).tolist() == [0, 0, 1, 0, 2]


def test_ranks_one_objective_are_dense_ranks() -> None:
    assert P.nondominated_ranks(np.array([[3.0], [1.0], [3.0], [2.0]])).tolist() == [2, 0, 2, 1]


def test_ranks_of_nothing() -> None:
    assert P.nondominated_ranks(np.zeros((0, 2))).tolist() == []


@pytest.mark.parametrize("m", [1, 2, 3, 4])
def test_ranks_match_the_definition_and_optuna(m: int) -> None:
    rng = np.random.default_rng(m)
    for _ in range(20):
        # Coarse values, so that ties and equal points are common.
        losses = rng.integers(0, 5, size=(int(rng.integers(1, 30)), m)).astype(float)
        ranks = P.nondominated_ranks(losses)
        assert ranks.tolist() == brute_ranks(losses).tolist()
        assert ranks.tolist() == _fast_non_domination_rank(losses).tolist()


def test_violations_sum_positive_parts_and_keep_nan() -> None:
    out = P.violations(np.array([[-1.0, 0.0], [2.0, -3.0], [0.5, 1.0], [np.nan, -1.0]]))
    assert out[:3].tolist() == [0.0, 2.0, 1.5]
    assert np.isnan(out[3])


def test_constrained_ranks_feasible_first_then_by_violation() -> None:
    losses = np.array([[1, 1], [2, 2], [0, 0], [0, 0], [5, 5], [9, 9], [3, 0]], dtype=float)
    violation = np.array([0.0, 0.0, 3.0, 1.0, np.nan, 1.0, -0.0])
    # Feasible: (1,1) and (3,0) are front 0, (2,2) front 1. Infeasible: violation 1 (twice,
    # whatever the losses) rank 2, violation 3 rank 3; unknown last.
    assert P.constrained_ranks(losses, violation).tolist() == [0, 1, 3, 2, 4, 2, 0]


def test_constrained_ranks_match_optuna() -> None:
    rng = np.random.default_rng(3)
    for _ in range(20):
        n = int(rng.integers(1, 25))
        losses = rng.integers(0, 4, size=(n, 2)).astype(float)
        penalty = np.where(rng.random(n) < 0.5, 0.0, rng.integers(1, 4, size=n).astype(float))
        ours = P.constrained_ranks(losses, penalty)
        assert ours.tolist() == _fast_non_domination_rank(losses, penalty=penalty).tolist()


def test_constrained_ranks_check_length() -> None:
    with pytest.raises(ValueError, match="violation must have one value per point"):
        P.constrained_ranks(np.zeros((3, 2)), np.zeros(2))


def test_crowding_distance_by_hand() -> None:
    losses = np.array([[0.0, 4.0], [1.0, 2.0], [3.0, 1.0], [4.0, 0.0]])
    # Objective 0 (range 4): (3-0)/4, (4-1)/4; objective 1 (range 4): (4-1)/4, (2-0)/4.
    assert P.crowding_distance(losses).tolist() == [np.inf, 1.5, 1.25, np.inf]


def test_crowding_distance_small_and_flat_fronts() -> None:
    assert P.crowding_distance(np.array([[1.0, 2.0], [2.0, 1.0]])).tolist() == [np.inf] * 2
    flat = np.array([[0.0, 1.0], [1.0, 1.0], [2.0, 1.0]])  # objective 1 adds nothing
    assert P.crowding_distance(flat)[1] == 1.0


def test_hv_contributions_by_hand_and_by_removal() -> None:
    losses = np.array([[1.0, 2.0], [0.0, 4.0], [4.0, 0.0], [3.0, 1.0]])
    out = P.hv_contributions(losses)
    assert out.tolist() == [4.0, np.inf, np.inf, 1.0]
    ref = np.array([5.0, 5.0])
    total = P.hypervolume_2d(losses, ref)
    for i in (0, 3):  # inner points: contribution = total - hypervolume without the point
        assert out[i] == pytest.approx(total - P.hypervolume_2d(np.delete(losses, i, 0), ref))


def test_hv_contributions_need_two_objectives() -> None:
    with pytest.raises(ValueError, match="2 objectives"):
        P.hv_contributions(np.zeros((3, 3)))


def test_hypervolume_2d_by_hand() -> None:
    losses = np.array([[1.0, 3.0], [2.0, 2.0], [3.0, 1.0], [3.0, 3.0], [9.0, 0.0]])
    # Staircase under (4, 4): 1*1 + 1*2 + 1*3 = 6; (9, 0) lies outside the reference box.
    assert P.hypervolume_2d(losses, np.array([4.0, 4.0])) == 6.0
    assert P.hypervolume_2d(np.zeros((0, 2)), np.ones(2)) == 0.0


def test_hypervolume_2d_matches_a_grid_count() -> None:
    rng = np.random.default_rng(0)
    losses = rng.integers(0, 10, size=(15, 2)).astype(float)
    grid = np.stack(np.meshgrid(np.arange(10) + 0.5, np.arange(10) + 0.5), -1).reshape(-1, 2)
    covered = np.any(np.all(losses[None, :, :] <= grid[:, None, :], axis=2), axis=1)
    assert P.hypervolume_2d(losses, np.array([10.0, 10.0])) == float(covered.sum())


def test_survivors_cut_the_last_front_by_diversity() -> None:
    losses = np.array([[0.0, 4.0], [1.0, 2.0], [3.0, 1.0], [4.0, 0.0], [5.0, 5.0], [1.0, 5.0]])
    ranks = P.nondominated_ranks(losses)
    assert ranks.tolist() == [0, 0, 0, 0, 2, 1]
    assert P.survivors(losses, ranks, 3).tolist() == [0, 3, 1]  # extremes, then 1.5 > 1.25
    assert P.survivors(losses, ranks, 5).tolist() == [0, 3, 1, 2, 5]
    # By hypervolume contribution (4.0 for (1, 2), 1.0 for (3, 1)): the same here.
    assert P.survivors(losses, ranks, 3, "hv").tolist() == [0, 3, 1]
    assert P.survivors(losses, ranks, 10).tolist() == [0, 3, 1, 2, 5, 4]


def test_survivors_cut_by_diversity_within_the_last_front_alone() -> None:
    # Front 0: (0, 0). Front 1: (1, 9) (2, 8) (8, 2) (9, 1) (5, 5); keep 3: front 0, then the
    # two extremes of front 1 (its diversity measured within front 1).
    losses = np.array([[0, 0], [5, 5], [2, 8], [1, 9], [8, 2], [9, 1]], dtype=float)
    ranks = P.nondominated_ranks(losses)
    assert P.survivors(losses, ranks, 3).tolist() == [0, 3, 5]


def test_fitness_orders_like_survivors_and_steps_by_front() -> None:
    rng = np.random.default_rng(1)
    losses = rng.random((40, 2))
    ranks = P.nondominated_ranks(losses)
    for kind in P.DIVERSITIES:
        scores = P.fitness(losses, ranks, kind)
        assert np.all(np.floor(scores) == -ranks)
        assert (
            np.argsort(-scores, kind="stable").tolist()
            == P.order(ranks, P.diversity(losses, ranks, kind)).tolist()
        )
        assert len(set(scores.tolist())) == len(scores)


def test_diversity_checks_kind() -> None:
    with pytest.raises(ValueError, match="kind must be one of"):
        P.diversity(np.zeros((2, 2)), np.zeros(2, dtype=int), "spacing")  # type: ignore[arg-type]


def test_losses_must_be_two_dimensional() -> None:
    with pytest.raises(ValueError, match="losses must be a 2-d array"):
        P.nondominated_ranks(np.zeros(3))


def test_constrained_dominance_agrees_with_constrained_ranks() -> None:
    rng = np.random.default_rng(5)
    for _ in range(20):
        n = int(rng.integers(1, 25))
        losses = rng.integers(0, 4, size=(n, 2)).astype(float)
        violation = rng.choice([0.0, 0.0, 1.0, 2.0, np.nan], size=n)
        ahead = P.constrained_dominance(losses, violation)
        ranks = P.constrained_ranks(losses, violation)
        # Being ahead means a better rank; the best rank of a point behind nobody is 0 ...
        assert np.all((ranks[:, None] < ranks[None, :]) | ~ahead)
        assert np.all((ranks == 0) == (ahead.sum(axis=0) == 0))
        # ... and a point's rank is the length of the longest chain of points ahead of it.
        chain = np.zeros(n, dtype=int)
        for i in np.argsort(ranks, kind="stable"):
            above = np.flatnonzero(ahead[:, i])
            chain[i] = 1 + chain[above].max() if len(above) else 0
        assert chain.tolist() == ranks.tolist()


@pytest.mark.parametrize("m", [1, 2, 3])
def test_diversity_of_all_fronts_at_once_equals_front_by_front(m: int) -> None:
    rng = np.random.default_rng(m)
    for _ in range(20):
        losses = rng.integers(0, 6, size=(int(rng.integers(1, 40)), m)).astype(float)
        ranks = P.nondominated_ranks(losses)
        for kind in P.DIVERSITIES if m == 2 else ("crowding",):
            expected = np.zeros(len(losses))
            for r in np.unique(ranks):
                members = np.flatnonzero(ranks == r)
                front = losses[members]
                hv = kind == "hv"
                expected[members] = P.hv_contributions(front) if hv else P.crowding_distance(front)
            assert P.diversity(losses, ranks, kind).tolist() == expected.tolist()
            scores = P.fitness(losses, ranks, kind)
            ordered = P.order(ranks, expected)
            for r in np.unique(ranks):  # the best of f in a front scores -r + (f-1)/f, ...
                members = ordered[ranks[ordered] == r]
                f = len(members)
                assert (
                    scores[members].tolist() == (-float(r) + (f - 1 - np.arange(f)) / f).tolist()
                )
