"""One step of the GA (optuna_ga._evolution): what a trial proposes for its generation and slot,
from a hand-made digest."""

from __future__ import annotations

from typing import Any

import numpy as np
import optuna
import pytest
from optuna.distributions import BaseDistribution
from optuna.distributions import CategoricalDistribution
from optuna.distributions import FloatDistribution
from optuna.distributions import IntDistribution
from optuna.study import StudyDirection
from optuna.trial import TrialState

from optuna_ga._breeding import Operators
from optuna_ga._evolution import Evolution
from optuna_ga._guidance import Guidance
from optuna_ga._history import History

DISTRIBUTIONS: dict[str, BaseDistribution] = {
    "x": FloatDistribution(-5.0, 5.0),
    "n": IntDistribution(0, 9),
    "c": CategoricalDistribution(["a", "b", "c"]),
}


def evolution(**kwargs: Any) -> Evolution:
    settings: dict[str, Any] = {
        "population_size": 4,
        "n_elites": 1,
        "n_immigrants": 0,
        "population": "steady",
        "operators": Operators.of("roulette", "single_point", 0.9, None),
        "guidance": Guidance(n_candidates=1),
        **kwargs,
    }
    return Evolution(**settings)


def digest_of(n_trials: int, *, states: dict[int, TrialState] | None = None) -> History:
    """A digest of ``n_trials`` random trials (value: x^2), all complete unless told."""
    rng = np.random.default_rng(0)
    trials = []
    for number in range(n_trials):
        params = {
            "x": float(rng.uniform(-5, 5)),
            "n": int(rng.integers(10)),
            "c": "abc"[number % 3],
        }
        state = (states or {}).get(number, TrialState.COMPLETE)
        trial = optuna.trial.create_trial(
            params=params,
            distributions=DISTRIBUTIONS,
            value=params["x"] ** 2 if state == TrialState.COMPLETE else None,
            state=state,
        )
        trial.number = number
        trials.append(trial)
    digest = History(StudyDirection.MINIMIZE)
    digest.update(trials)
    return digest


def propose(evo: Evolution, digest: History, number: int, seed: int = 0, **kw: Any) -> Any:
    return evo.propose(
        digest, kw.get("claim_keys", set()), number, {}, np.random.default_rng(seed)
    )


def test_nothing_known_yet_proposes_nothing() -> None:
    proposal = propose(evolution(), History(StudyDirection.MINIMIZE), 0)
    assert proposal.params == {} and proposal.operator == "random"


def test_generation_zero_is_random() -> None:
    digest = digest_of(2)
    for number in range(2, 4):
        proposal = propose(evolution(), digest, number)
        assert proposal.operator == "random" and proposal.parents == []
        assert set(proposal.params) == set(DISTRIBUTIONS) and proposal.score is None


def test_guided_generation_zero_chooses_among_random_points() -> None:
    guided = evolution(guidance=Guidance(n_candidates=8), population_size=10)
    assert propose(guided, digest_of(3), 3).score is None  # too few individuals yet
    proposal = propose(guided, digest_of(4), 4)
    assert proposal.operator == "random" and proposal.score is not None


def test_children_are_bred_from_the_population() -> None:
    digest = digest_of(8)
    steady = digest.population(0, population_size=4, n_elites=1, mode="steady")
    for number in range(8, 14):
        proposal = propose(evolution(), digest, number, seed=number)
        assert proposal.operator in {"crossover", "crossover+mutation", "mutation", "copy"}
        assert set(proposal.parents) <= {i.number for i in steady}
        assert proposal.score is None  # the classic GA


def test_guided_children_carry_the_surrogate_s_score() -> None:
    proposal = propose(evolution(guidance=Guidance(n_candidates=8)), digest_of(8), 9)
    assert proposal.operator in {"mutation", "crossover+mutation"}
    assert isinstance(proposal.score, float)


@pytest.mark.parametrize("population", ["hall_of_fame", "generational"])
def test_generational_children_are_bred_from_the_previous_generation(population: Any) -> None:
    digest = digest_of(10)  # generation 0: 0-3, generation 1: 4-6, generation 2: 7-9
    evo = evolution(population=population)
    previous = digest.population(1, population_size=4, n_elites=1, mode=population)
    for seed in range(20):
        proposal = propose(evo, digest, 7, seed=seed)  # the first slot of generation 2
        assert set(proposal.parents) <= {i.number for i in previous}


def test_the_last_slots_of_a_generation_are_immigrants() -> None:
    digest = digest_of(8)
    evo = evolution(n_immigrants=1)  # generation 1 is 4-6; slot 2 (trial 6) is the immigrant
    assert [propose(evo, digest, n).operator == "immigrant" for n in (4, 5, 6, 7)] == [
        False,
        False,
        True,
        False,
    ]


def test_an_empty_population_proposes_a_random_point() -> None:
    failed = {number: TrialState.FAIL for number in range(4)}
    proposal = propose(evolution(population="generational"), digest_of(4, states=failed), 4)
    assert proposal.operator == "random" and proposal.parents == []


def test_proposals_avoid_evaluated_and_claimed_sets() -> None:
    # A space of 2 x 2 points, three evaluated, the fourth claimed by a running trial.
    distributions = {"a": IntDistribution(0, 1), "b": IntDistribution(0, 1)}
    trials = []
    for number, (a, b) in enumerate([(0, 0), (0, 1), (1, 0)]):
        trial = optuna.trial.create_trial(
            params={"a": a, "b": b}, distributions=distributions, value=float(a + b)
        )
        trial.number = number
        trials.append(trial)
    digest = History(StudyDirection.MINIMIZE)
    digest.update(trials)
    evo = evolution(population_size=2, n_elites=1)
    for number in (3, 4):  # generation 1 and 2: children
        assert propose(evo, digest, number).params == {"a": 1, "b": 1}
    claimed = digest.claim_keys([{"a": 1, "b": 1}])
    proposal = propose(evo, digest, 3, claim_keys=claimed)
    assert proposal.duplicate and proposal.operator == "repeat"


def test_generation_of_uses_the_configured_sizes() -> None:
    assert evolution(population_size=5, n_elites=2).generation_of(8) == (2, 0)
