"""The pool of a Pareto study's best ``k`` (:mod:`optuna_ga._pool`), against brute force."""

from __future__ import annotations

import numpy as np
import pytest

from optuna_ga import _pareto
from optuna_ga._pool import ParetoPool
from optuna_ga._population import DIVERSITY
from optuna_ga._population import Individual
from optuna_ga._population import best


def individuals(rng: np.random.Generator, n: int, m: int, constrained: bool) -> list[Individual]:
    """``n`` individuals with coarse losses (ties and equal points), some infeasible or unknown."""
    losses = rng.integers(0, 6, (n, m)).astype(float)
    violation = np.where(rng.random(n) < 0.3, rng.integers(1, 4, n), 0.0) if constrained else None
    if violation is not None:
        violation[rng.random(n) < 0.05] = np.nan
    return [
        Individual(
            i, float("nan"), {}, tuple(losses[i]), None if violation is None else violation[i]
        )
        for i in range(n)
    ]


@pytest.mark.parametrize(("m", "constrained"), [(2, False), (2, True), (3, True)])
@pytest.mark.parametrize("k", [1, 4, 16])
def test_survivors_are_nsga2_survival_over_all_whatever_the_batches(
    m: int, constrained: bool, k: int
) -> None:
    rng = np.random.default_rng(k * 10 + m)
    everyone = individuals(rng, 80, m, constrained)
    pool = ParetoPool(k)
    stop = 0
    while stop < len(everyone):
        stop = min(len(everyone), stop + int(rng.integers(1, 9)))
        pool.update(everyone[:stop])
        so_far = everyone[:stop]
        expected = best(so_far, k, pareto=True)
        assert [ind.number for ind in pool.survivors()] == [ind.number for ind in expected]
        # Members: exactly those fewer than k others rank ahead of.
        losses = np.array([ind.losses for ind in so_far])
        violation = np.array([0.0 if ind.violation is None else ind.violation for ind in so_far])
        ahead = _pareto.constrained_dominance(losses, violation).sum(axis=0)
        assert [ind.number for ind in pool.members] == np.flatnonzero(ahead < k).tolist()
    # Survivors are scored among themselves, as a steady population is.
    survivors = pool.survivors()
    chosen = np.array([ind.losses for ind in sorted(survivors)])
    chosen_violation = np.array(
        [0.0 if ind.violation is None else ind.violation for ind in sorted(survivors)]
    )
    fitness = _pareto.fitness(
        chosen, _pareto.constrained_ranks(chosen, chosen_violation), DIVERSITY
    )
    assert [ind.score for ind in sorted(survivors)] == fitness.tolist()


def test_a_newcomer_outside_the_pool_changes_nothing() -> None:
    front = [Individual(i, float("nan"), {}, (float(i), 3.0 - i)) for i in range(4)]
    pool = ParetoPool(2)
    pool.update(front)
    survivors = pool.survivors()
    worse = Individual(4, float("nan"), {}, (9.0, 9.0))  # all four rank ahead of it
    pool.update([*front, worse])
    assert pool.seen == 5 and [ind.number for ind in pool.members] == [0, 1, 2, 3]
    assert pool.survivors() is survivors  # reused, not recomputed
    better = Individual(5, float("nan"), {}, (-1.0, -1.0))  # ahead of everyone
    pool.update([*front, worse, better])
    assert [ind.number for ind in pool.members] == [0, 1, 2, 3, 5]
    assert [ind.number for ind in pool.survivors()] == [5, 0]  # then the first extreme


def test_k_must_be_positive() -> None:
    with pytest.raises(ValueError, match="k must be at least 1"):
        ParetoPool(0)
