"""Generation bookkeeping (optuna_ga._population): trial numbers to generations, the population
modes, and the populations of the generational modes, by hand."""

from __future__ import annotations

from typing import Any

import pytest

from optuna_ga._population import POPULATIONS
from optuna_ga._population import Individual
from optuna_ga._population import best
from optuna_ga._population import check_population
from optuna_ga._population import generation_of
from optuna_ga._population import generation_range
from optuna_ga._population import next_population


def ind(number: int, score: float) -> Individual:
    return Individual(number, score, {})


def numbers(individuals: list[Individual]) -> list[int]:
    return [i.number for i in individuals]


def test_generation_of_and_generation_range_agree() -> None:
    # P = 5, E = 2: generation 0 is 0-4, then 3 numbers per generation.
    assert [generation_of(n, 5, 2) for n in (0, 4, 5, 7, 8, 11)] == [
        (0, 0),
        (0, 4),
        (1, 0),
        (1, 2),
        (2, 0),
        (3, 0),
    ]
    for population_size, n_elites in ((5, 2), (4, 0), (10, 9), (2, 1)):
        for generation in range(6):
            for slot, number in enumerate(generation_range(generation, population_size, n_elites)):
                assert generation_of(number, population_size, n_elites) == (generation, slot)
        # The ranges tile the trial numbers without gaps.
        ranges = [generation_range(g, population_size, n_elites) for g in range(6)]
        assert [r.start for r in ranges[1:]] == [r.stop for r in ranges[:-1]]


def test_best_orders_by_score_then_trial_number() -> None:
    individuals = [ind(3, 1.0), ind(1, 2.0), ind(2, 1.0), ind(0, -5.0)]
    assert numbers(best(individuals, 3)) == [1, 2, 3]
    assert numbers(best(individuals, 9)) == [1, 2, 3, 0]
    assert best(individuals, 0) == []


def test_generational_keeps_the_elites_and_every_new_member() -> None:
    previous = [ind(0, 1.0), ind(1, 3.0), ind(2, 2.0), ind(3, 0.0)]
    members = [ind(4, -1.0), ind(5, 0.5)]
    population = next_population(
        previous, members, population_size=4, n_elites=2, mode="generational"
    )
    assert numbers(population) == [1, 2, 5, 4]  # elites best first, then members best first
    # With no elites, only the new members; with no members, only the elites.
    assert numbers(
        next_population(previous, members, population_size=4, n_elites=0, mode="generational")
    ) == [5, 4]
    assert numbers(
        next_population(previous, [], population_size=4, n_elites=2, mode="generational")
    ) == [1, 2]


def test_hall_of_fame_keeps_the_best_of_all_time() -> None:
    previous = [ind(0, 1.0), ind(1, 3.0), ind(2, 2.0)]
    members = [ind(3, 2.5), ind(4, 0.5)]
    population = next_population(
        previous, members, population_size=3, n_elites=1, mode="hall_of_fame"
    )
    assert numbers(population) == [1, 3, 2]


def test_the_best_individual_always_survives_a_generational_run() -> None:
    population: list[Individual] = []
    best_so_far = None
    scores = [5.0, 1.0, 7.0, 2.0, 9.0, 0.0, 3.0, 8.0, 4.0, 6.0, 1.5, 2.5]
    for generation in range(4):
        members = [ind(3 * generation + k, scores[3 * generation + k]) for k in range(3)]
        population = next_population(
            population, members, population_size=3, n_elites=1, mode="generational"
        )
        top = max(members + ([best_so_far] if best_so_far else []), key=lambda i: i.score)
        best_so_far = top
        assert best_so_far in population


def test_population_modes_are_named_once() -> None:
    assert POPULATIONS == ("steady", "hall_of_fame", "generational")
    for mode in POPULATIONS:
        assert check_population(mode) == mode


@pytest.mark.parametrize("bad", ["generation", "steady_state", "Steady", "", None, True, 1])
def test_unknown_population_modes_are_refused(bad: Any) -> None:
    with pytest.raises(ValueError) as error:
        check_population(bad)
    message = str(error.value)
    assert message.startswith("population must be one of 'steady', 'hall_of_fame', ")
    assert repr(bad) in message and "\n" not in message
    with pytest.raises(ValueError, match=r"^modes must be one of"):
        check_population(bad, "modes")


@pytest.mark.parametrize("mode", ["steady", "generation", "hof"])
def test_next_population_refuses_a_mode_without_generations(mode: str) -> None:
    with pytest.raises(ValueError, match="mode must be 'hall_of_fame' or 'generational'"):
        next_population([], [], population_size=2, n_elites=1, mode=mode)  # type: ignore[arg-type]
