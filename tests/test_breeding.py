"""Breeding (optuna_ga._breeding): one form for a brood and for a single child, the classic
GA's retries and fallbacks, user-supplied operators, and random points."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from optuna.distributions import CategoricalDistribution
from optuna.distributions import FloatDistribution
from optuna.distributions import IntDistribution

from optuna_ga._breeding import MAX_RANDOM_DRAWS
from optuna_ga._breeding import MAX_REMUTATIONS
from optuna_ga._breeding import Brood
from optuna_ga._breeding import Operators
from optuna_ga._breeding import breed
from optuna_ga._breeding import breed_children
from optuna_ga._breeding import enumerate_unseen
from optuna_ga._breeding import gene_values
from optuna_ga._breeding import pinned_proposal
from optuna_ga._breeding import random_candidates
from optuna_ga._breeding import random_proposal
from optuna_ga._encoding import Space
from optuna_ga._encoding import canonical_hash
from optuna_ga._encoding import fits
from optuna_ga._encoding import grid
from optuna_ga._population import Individual
from optuna_ga.operators import roulette
from optuna_ga.operators import roulette_weights
from optuna_ga.operators import single_point

SPACE = Space(
    {
        "f": FloatDistribution(-1.0, 1.0),
        "flog": FloatDistribution(1e-4, 1e-1, log=True),
        "fstep": FloatDistribution(0.0, 1.0, step=0.25),
        "i": IntDistribution(1, 9),
        "ilog": IntDistribution(8, 512, log=True),
        "istep": IntDistribution(0, 20, step=5),
        "c": CategoricalDistribution(["a", "b", None, 3]),
        "cond": IntDistribution(0, 4),  # a conditional gene: absent in some parents
    }
)


def population(n: int = 6, seed: int = 0) -> tuple[list[Individual], np.ndarray]:
    """``n`` random individuals of SPACE (scores 0 .. n-1; odd ones lack "cond")."""
    rng = np.random.default_rng(seed)
    individuals = []
    for number in range(n):
        params = SPACE.decode(rng.uniform(SPACE.low, SPACE.high))
        if number % 2:
            del params["cond"]
        individuals.append(Individual(number, float(number), params))
    return individuals, np.array([SPACE.encode(ind.params) for ind in individuals])


def never(params: dict[str, Any]) -> bool:
    return False


OPERATORS = Operators.of("roulette", "single_point", 0.9, None)


# -- operators ---------------------------------------------------------------------------------


def test_names_resolve_to_the_package_operators() -> None:
    operators = Operators.of("roulette", "single_point", 0.5, 0.2)
    assert operators.selection is roulette and operators.crossover is single_point
    assert operators.rate(10) == 0.2
    assert Operators.of("rank", "uniform", 0.5, None).rate(4) == 0.25


@pytest.mark.parametrize(
    ("selection", "crossover", "named"),
    [
        ("best", "single_point", "selection"),
        (["roulette"], "single_point", "selection"),
        (None, "single_point", "selection"),
        ("roulette", "two_point", "crossover"),
        ("roulette", 3, "crossover"),
    ],
)
def test_unknown_operators_are_refused_by_name(selection: Any, crossover: Any, named: str) -> None:
    with pytest.raises(ValueError, match=f"^{named} must be one of .* or a callable") as error:
        Operators.of(selection, crossover, 0.9, None)
    assert "\n" not in str(error.value)


def test_user_operators_breed_the_children() -> None:
    calls: list[str] = []

    def first_two(scores: np.ndarray, n_pairs: int, rng: np.random.Generator) -> np.ndarray:
        calls.append("selection")
        return np.tile([0, 1], (n_pairs, 1))

    def midpoint(a: np.ndarray, b: np.ndarray, genes: Any, rng: Any) -> np.ndarray:
        calls.append("crossover")
        return (a + b) / 2

    individuals, genomes = population(2, seed=3)
    individuals = [ind._replace(params={**ind.params, "cond": 1}) for ind in individuals]
    genomes = np.array([SPACE.encode(ind.params) for ind in individuals])
    operators = Operators.of(first_two, midpoint, 1.0, 0.0)
    brood = breed_children(
        SPACE,
        individuals,
        genomes,
        operators,
        np.random.default_rng(0),
        5,
        at_least_one_mutation=False,
    )
    assert calls == ["selection", "crossover"]
    assert len(brood) == 1  # five equal children, kept once
    np.testing.assert_allclose(brood.genomes[0], (genomes[0] + genomes[1]) / 2)
    assert brood.proposal(SPACE, 0).operator == "crossover"
    assert brood.proposal(SPACE, 0).parents == [0, 1]


@pytest.mark.parametrize(
    ("selection", "message"),
    [
        (lambda s, n, rng: np.zeros((n, 3), dtype=int), r"got shape \(4, 3\), dtype int"),
        (lambda s, n, rng: np.zeros((n, 2)), r"got shape \(4, 2\), dtype float64"),
        (lambda s, n, rng: np.full((n, 2), 6), r"got shape \(4, 2\), dtype int"),
        (lambda s, n, rng: np.full((n, 2), -1), r"got shape \(4, 2\), dtype int"),
    ],
)
def test_a_user_selection_that_returns_bad_pairs_is_named(selection: Any, message: str) -> None:
    individuals, genomes = population()
    operators = Operators.of(selection, "uniform", 0.9, None)
    pattern = r"^selection .* must return integer indices in \[0, 5\] of shape \(4, 2\), "
    with pytest.raises(ValueError, match=pattern + message):
        breed_children(
            SPACE,
            individuals,
            genomes,
            operators,
            np.random.default_rng(0),
            4,
            at_least_one_mutation=True,
        )


def test_a_user_crossover_that_returns_a_bad_shape_is_named() -> None:
    individuals, genomes = population()
    operators = Operators.of("roulette", lambda a, b, genes, rng: a[:, :2], 0.9, None)
    with pytest.raises(ValueError, match=r"^crossover .* must return children of shape \(4, 8\)"):
        breed_children(
            SPACE,
            individuals,
            genomes,
            operators,
            np.random.default_rng(0),
            4,
            at_least_one_mutation=True,
        )


# -- a brood -----------------------------------------------------------------------------------


def test_candidates_are_distinct_valid_and_rarely_copies() -> None:
    individuals, genomes = population()
    brood = breed_children(
        SPACE,
        individuals,
        genomes,
        OPERATORS,
        np.random.default_rng(0),
        40,
        at_least_one_mutation=True,
    )
    children = [brood.proposal(SPACE, k) for k in range(len(brood))]
    hashes = [canonical_hash(c.params) for c in children]
    assert len(children) >= 35 and len(set(hashes)) == len(hashes)
    assert {c.operator for c in children} == {"mutation", "crossover+mutation"}
    by_number = {ind.number: ind.params for ind in individuals}
    for child in children:
        assert set(child.params) == set(SPACE.names)  # conditional genes filled in
        for name, value in child.params.items():
            assert fits(SPACE.distributions[name], value), (name, value)
        assert child.parents and all(p in by_number for p in child.parents)
    # A mutated discrete gene may round back to its value: a few copies, never chosen (they
    # repeat an evaluated set), are allowed.
    copies = [c for c in children if c.params == by_number[c.parents[0]]]
    assert len(copies) <= 4


def test_equal_children_are_kept_once_in_order() -> None:
    # One parent, no mutation: every child is a copy of it.
    individuals, genomes = population(1)
    operators = Operators.of("roulette", "single_point", 0.9, 0.0)
    brood = breed_children(
        SPACE,
        individuals,
        genomes,
        operators,
        np.random.default_rng(0),
        6,
        at_least_one_mutation=False,
    )
    assert len(brood) == 1 and brood.proposal(SPACE, 0).operator == "copy"


@pytest.mark.parametrize("at_least_one", [False, True])
def test_one_child_at_a_time_and_a_brood_follow_the_same_law(at_least_one: bool) -> None:
    # The sampler breeds one child per trial (the classic GA) or a brood (guided): both are
    # breed_children, with n_children 1 or many. Over many children, parents, crossovers and
    # mutations must be drawn alike either way.
    individuals, genomes = population(5, seed=1)
    individuals = [ind._replace(params={**ind.params, "cond": 1}) for ind in individuals]
    genomes = np.array([SPACE.encode(ind.params) for ind in individuals])
    operators = Operators.of("roulette", "single_point", 0.6, 0.05)
    n = 6000

    def summary(broods: list[Any]) -> dict[str, float]:
        first = np.concatenate([b.parents[:, 0] for b in broods])
        crossed = np.concatenate([b.parents[:, 1] >= 0 for b in broods])
        mutated = np.concatenate([b.mutated for b in broods])
        return {
            **{f"first={k}": float(np.mean(first == k)) for k in range(5)},
            "crossed": float(crossed.mean()),
            "mutated": float(mutated.mean()),
        }

    def bred(rng: np.random.Generator, m: int) -> Any:
        return breed_children(
            SPACE, individuals, genomes, operators, rng, m, at_least_one_mutation=at_least_one
        )

    def kept_once(broods: list[Any]) -> Any:
        """Single children pooled as a brood keeps them: equal genomes once, the first."""
        genomes = np.concatenate([b.genomes for b in broods])
        keep = list({row.tobytes(): k for k, row in reversed(list(enumerate(genomes)))}.values())
        keep.sort()
        return Brood(
            genomes[keep],
            np.concatenate([b.parents for b in broods])[keep],
            np.concatenate([b.mutated for b in broods])[keep],
        )

    singles = [bred(np.random.default_rng([1, k]), 1) for k in range(n)]
    one = summary(singles)
    pooled = summary([kept_once(singles[k : k + 24]) for k in range(0, n, 24)])
    many = summary([bred(np.random.default_rng([2, k]), 24) for k in range(n // 24)])
    assert pooled == pytest.approx(many, abs=0.03)
    weights = roulette_weights(np.array([ind.score for ind in individuals]))
    for k in range(5):
        assert one[f"first={k}"] == pytest.approx(weights[k], abs=0.02)
    assert one["crossed"] == pytest.approx(0.6, abs=0.02)
    expected = 1.0 if at_least_one else 1 - 0.95**8
    assert one["mutated"] == pytest.approx(expected, abs=0.02)


def test_random_candidates_have_no_parents() -> None:
    brood = random_candidates(SPACE, np.random.default_rng(0), 5)
    assert brood.genomes.shape == (5, len(SPACE))
    proposal = brood.proposal(SPACE, 2, 0.5)
    assert proposal.operator == "random" and proposal.parents == [] and proposal.score == 0.5
    assert all(fits(SPACE.distributions[k], v) for k, v in proposal.params.items())


# -- one child: the classic GA -----------------------------------------------------------------


def test_breed_is_a_brood_of_one_when_the_child_is_new() -> None:
    individuals, genomes = population()
    child = breed(SPACE, individuals, genomes, OPERATORS, never, np.random.default_rng(3))
    brood = breed_children(
        SPACE,
        individuals,
        genomes,
        OPERATORS,
        np.random.default_rng(3),
        1,
        at_least_one_mutation=False,
    )
    assert child == brood.proposal(SPACE, 0)


def test_breed_labels_what_happened_to_the_child() -> None:
    individuals, genomes = population()
    operators = {
        "copy": Operators.of("roulette", "single_point", 0.0, 0.0),
        "mutation": Operators.of("roulette", "single_point", 0.0, 1.0),
        "crossover": Operators.of("roulette", "single_point", 1.0, 0.0),
        "crossover+mutation": Operators.of("roulette", "single_point", 1.0, 1.0),
    }
    for label, ops in operators.items():
        child = breed(SPACE, individuals, genomes, ops, never, np.random.default_rng(0))
        assert child.operator == label
        assert len(child.parents) == (2 if label.startswith("crossover") else 1)


def test_a_repeated_child_is_mutated_again_with_at_least_one_gene() -> None:
    individuals, genomes = population()
    seen: list[dict[str, Any]] = []

    def first_three_repeat(params: dict[str, Any]) -> bool:
        seen.append(params)
        return len(seen) <= 3

    operators = Operators.of("roulette", "single_point", 0.0, 0.0)  # a plain copy at first
    child = breed(SPACE, individuals, genomes, operators, first_three_repeat, _rng(1))
    assert len(seen) == 4 and child.params == seen[-1]
    assert child.operator == "mutation" and len(child.parents) == 1
    assert seen[0] == individuals[child.parents[0]].params | {"cond": seen[0]["cond"]}


def test_breed_falls_back_to_a_random_point_after_the_re_mutations() -> None:
    individuals, genomes = population()
    calls = [0]

    def repeats_while_bred(params: dict[str, Any]) -> bool:
        calls[0] += 1
        return calls[0] <= 1 + MAX_REMUTATIONS

    child = breed(SPACE, individuals, genomes, OPERATORS, repeats_while_bred, _rng(2))
    assert child.operator == "random-fallback" and child.parents == []
    assert calls[0] == 2 + MAX_REMUTATIONS


# -- random points -----------------------------------------------------------------------------


def test_last_unseen_points_are_found_by_enumeration() -> None:
    space = Space({"a": IntDistribution(0, 9), "b": CategoricalDistribution(list("abcdefghij"))})
    keep = {"a": 7, "b": "c"}  # the only unseen point of 100

    proposal = random_proposal(space, lambda p: p != keep, _rng(0), "random")
    assert proposal.params == keep and not proposal.duplicate
    proposal = random_proposal(space, lambda p: True, _rng(0), "random")
    assert proposal.duplicate and proposal.operator == "repeat"


def test_a_pinned_proposal_keeps_the_fixed_values_and_finds_the_last_unseen_set() -> None:
    space = Space({"a": IntDistribution(0, 9), "b": CategoricalDistribution(list("abcdefghij"))})
    keep = {"a": 7, "b": "c"}  # the only unseen set with a = 7
    proposal = pinned_proposal(space, {"a": 7}, lambda p: p != keep, _rng(0), "enqueued")
    assert proposal.params == keep and proposal.operator == "enqueued"
    # A fixed gene the space does not know yet is kept too.
    proposal = pinned_proposal(space, {"new": 1.5}, never, _rng(0), "enqueued")
    assert proposal.params["new"] == 1.5 and set(proposal.params) == {"a", "b", "new"}
    proposal = pinned_proposal(space, {"a": 7}, lambda p: True, _rng(0), "enqueued")
    assert proposal.duplicate and proposal.params["a"] == 7
    # In a space too large to enumerate, only the free gene is enumerated.
    large = Space({name: IntDistribution(0, 99) for name in "xyz"})
    proposal = pinned_proposal(large, {"x": 3, "y": 4}, lambda p: p["z"] != 57, _rng(0), "e")
    assert proposal.params == {"x": 3, "y": 4, "z": 57} and not proposal.duplicate


def test_enumeration_is_uniform_among_the_unseen_points() -> None:
    space = Space({"a": IntDistribution(0, 3), "b": IntDistribution(0, 2)})
    unseen = [{"a": 1, "b": 2}, {"a": 3, "b": 0}, {"a": 0, "b": 1}]
    found = [
        enumerate_unseen(space, lambda p: p not in unseen, _rng(seed)) for seed in range(3000)
    ]
    for point in unseen:
        assert found.count(point) / 3000 == pytest.approx(1 / 3, abs=0.04)
    assert enumerate_unseen(Space({"x": FloatDistribution(0, 1)}), never, _rng(0)) is None


def test_gene_values_are_draws_then_every_value() -> None:
    distribution = IntDistribution(0, 6, step=2)
    values = list(gene_values("n", distribution, _rng(0)))
    assert len(values) == 1 + MAX_RANDOM_DRAWS + 4
    assert all(fits(distribution, v) for v in values)
    assert sorted(values[1 + MAX_RANDOM_DRAWS :]) == grid(distribution)
    # A continuous gene has draws only, all different.
    floats = list(gene_values("x", FloatDistribution(0.0, 1.0), _rng(0)))
    assert len(set(floats)) == len(floats) == 1 + MAX_RANDOM_DRAWS
    assert math.isclose(np.mean(floats), 0.5, abs_tol=0.15)


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)
