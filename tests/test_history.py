"""The digest of a study's trials (optuna_ga._history): what is digested and when, the space,
duplicate keys, exhaustion, encodings and populations, on hand-made trial lists."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import optuna
import pytest
from optuna.distributions import BaseDistribution
from optuna.distributions import CategoricalDistribution
from optuna.distributions import FloatDistribution
from optuna.distributions import IntDistribution
from optuna.study import StudyDirection
from optuna.trial import FrozenTrial
from optuna.trial import TrialState

from optuna_ga._encoding import Space
from optuna_ga._encoding import canonical_hash
from optuna_ga._history import History
from optuna_ga._population import best
from optuna_ga._population import generation_range
from optuna_ga._population import next_population

X = FloatDistribution(-5.0, 5.0)
N = IntDistribution(0, 2)
C = CategoricalDistribution(["a", "b"])


def trial(
    number: int,
    params: dict[str, Any],
    value: float | None = None,
    state: TrialState = TrialState.COMPLETE,
    distributions: dict[str, BaseDistribution] | None = None,
) -> FrozenTrial:
    """A trial as storage returns it (``create_trial`` numbers every trial -1)."""
    known = {"x": X, "n": N, "c": C}
    frozen = optuna.trial.create_trial(
        params=params,
        distributions=distributions or {k: known[k] for k in params},
        value=value if state == TrialState.COMPLETE else None,
        state=state,
    )
    frozen.number = number
    return frozen


def values_study(values: list[float], direction: str = "minimize") -> History:
    digest = History(StudyDirection[direction.upper()])
    digest.update([trial(k, {"x": float(k % 5)}, v) for k, v in enumerate(values)])
    return digest


# -- digesting ---------------------------------------------------------------------------------


def test_only_complete_finite_trials_become_individuals() -> None:
    digest = History(StudyDirection.MINIMIZE)
    trials = [
        trial(0, {"x": 0.0}, 1.5),
        trial(1, {"x": 1.0}, state=TrialState.PRUNED),
        trial(2, {"x": 2.0}, state=TrialState.FAIL),
        trial(3, {"x": 3.0}, -float("inf")),
        trial(4, {"x": 4.0}, float("inf")),
        trial(5, {"x": -1.0}, -2.0),
    ]
    assert digest.update(trials) == []
    assert list(digest.individuals) == [0, 5]
    assert [i.score for i in digest.individuals.values()] == [-1.5, 2.0]  # minimized: negated
    # Complete and pruned trials are evaluated (never proposed again); failed ones are not.
    assert digest.evaluated_hashes == {
        canonical_hash({"x": v}) for v in (0.0, 1.0, 3.0, 4.0, -1.0)
    }


def test_maximized_scores_are_the_values() -> None:
    assert [i.score for i in values_study([1.0, 3.0], "maximize").individuals.values()] == [
        1.0,
        3.0,
    ]


def test_update_returns_the_unfinished_and_reads_each_finished_trial_once() -> None:
    digest = History(StudyDirection.MINIMIZE)
    running = trial(2, {"x": 2.0}, state=TrialState.RUNNING)
    trials = [trial(0, {"x": 0.0}, 1.0), trial(1, {"x": 1.0}, 2.0), running]
    assert digest.update(trials) == [running]
    assert digest._watermark == 2  # every trial below is digested and never scanned again
    finished = [*trials[:2], trial(2, {"x": 2.0}, 0.5), trial(3, {"x": 3.0}, 0.7)]
    assert digest.update(finished) == []
    assert digest._watermark == 4 and list(digest.individuals) == [0, 1, 2, 3]
    # A finished trial is digested once: changing the list below the watermark changes nothing.
    digest.update([trial(0, {"x": 4.0}, 9.0), *finished[1:]])
    assert digest.individuals[0].params == {"x": 0.0}


def test_a_finished_trial_above_a_running_one_is_digested_once() -> None:
    digest = History(StudyDirection.MINIMIZE)
    running = trial(0, {"x": 0.0}, state=TrialState.RUNNING)
    digest.update([running, trial(1, {"x": 1.0}, 2.0)])
    assert digest._watermark == 0 and list(digest.individuals) == [1]
    digest.update([trial(0, {"x": 0.0}, 3.0), trial(1, {"x": 1.0}, 2.0)])
    assert digest._watermark == 2 and list(digest.individuals) == [1, 0]


# -- the space ---------------------------------------------------------------------------------


def test_genes_follow_suggestion_order_with_the_newest_distribution() -> None:
    digest = History(StudyDirection.MINIMIZE)
    u = {f"u{i}": IntDistribution(1, 8) for i in range(3)}
    digest.update(
        [
            trial(0, {"n": 1, "u0": 2}, 1.0, distributions={"n": N, "u0": u["u0"]}),
            trial(
                1,
                {"n": 2, "u0": 2, "u1": 3, "u2": 4},
                1.0,
                distributions={"n": N, **u},
            ),
            trial(
                2, {"n": 0, "x": 7.0}, 1.0, distributions={"n": N, "x": FloatDistribution(0, 9)}
            ),
        ]
    )
    space = digest.space
    # x is placed right after its predecessor in the trial that first suggested it.
    assert space.names == ("n", "x", "u0", "u1", "u2")
    assert space.distributions["x"] == FloatDistribution(0, 9)
    assert digest.space is space  # kept until a gene or a distribution changes
    # A trial's own distributions win, without changing the digest's space.
    own = digest.space_with({"x": FloatDistribution(0, 1)})
    assert own.distributions["x"] == FloatDistribution(0, 1) and digest.space is space
    assert digest.space_with({"x": FloatDistribution(0, 9)}) is space


# -- duplicates and exhaustion -----------------------------------------------------------------


def test_a_set_repeats_a_trial_that_used_a_subset_of_its_genes() -> None:
    digest = History(StudyDirection.MINIMIZE)
    digest.update([trial(0, {"n": 0}, 1.0), trial(1, {"n": 1, "c": "a"}, 1.0)])
    # n = 0 used only n: any set with n = 0 runs that trial again, whatever else it carries.
    assert digest.repeats({"n": 0, "c": "b"}, set())
    assert digest.repeats({"n": 1, "c": "a"}, set())
    assert not digest.repeats({"n": 1, "c": "b"}, set())
    assert not digest.repeats({"n": 2}, set())
    # Claims of running trials count as well.
    keys = digest.claim_keys([{"n": 2}])
    assert digest.repeats({"n": 2, "c": "a"}, keys)


def test_choices_equal_under_eq_are_one_point() -> None:
    c = CategoricalDistribution([1, True, "x"])
    digest = History(StudyDirection.MINIMIZE)
    digest.update([trial(0, {"c": 1}, 1.0, distributions={"c": c})])
    assert digest.repeats({"c": True}, set())  # Optuna stores True as 1 here
    assert not digest.repeats({"c": "x"}, set())


def test_exhaustion_counts_evaluated_and_claimed_points_of_the_newest_distributions() -> None:
    digest = History(StudyDirection.MINIMIZE)
    digest.update([trial(k, {"n": k}, 1.0) for k in range(2)])
    assert digest.may_exhaust()
    assert not digest.is_exhausted([])
    assert digest.is_exhausted([{"n": 2}])  # the last point is claimed
    # Widened to 0..4: two points more.
    wide = IntDistribution(0, 4)
    digest.update(
        [
            *[trial(k, {"n": k}, 1.0) for k in range(2)],
            trial(2, {"n": 2}, 1.0, distributions={"n": wide}),
        ]
    )
    assert not digest.is_exhausted([{"n": 3}])
    assert digest.is_exhausted([{"n": 3}, {"n": 4}])


def test_continuous_or_conditional_spaces_are_never_exhausted() -> None:
    digest = History(StudyDirection.MINIMIZE)
    digest.update([trial(0, {"x": 0.0}, 1.0)])
    assert not digest.may_exhaust() and not digest.is_exhausted([])
    conditional = History(StudyDirection.MINIMIZE)
    conditional.update([trial(0, {"n": 0}, 1.0), trial(1, {"n": 1, "c": "a"}, 1.0)])
    assert not conditional.may_exhaust() and not conditional.is_exhausted([])


# -- encodings ---------------------------------------------------------------------------------


def conditional(trial: optuna.Trial) -> float:
    x = trial.suggest_float("x", -5, 5)
    n = trial.suggest_int("n", 1, 3)
    units = [trial.suggest_int(f"u{i}", 8, 256, log=True) for i in range(n)]
    act = trial.suggest_categorical("act", ["relu", "tanh", "gelu"])
    return (x - 1) ** 2 + sum(units) / 100 + (act == "tanh")


def test_encodings_grow_with_the_study_and_match_encode() -> None:
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    study.optimize(conditional, n_trials=12)
    history = History(study.direction)
    history.update(study.trials)
    space = history.space
    first = history.encoded(space)
    assert first.genomes.shape == (12, len(space))
    study.optimize(conditional, n_trials=5)
    history.update(study.trials)
    grown = history.encoded(space)
    assert grown.genomes.shape == (17, len(space))
    np.testing.assert_array_equal(grown.genomes[:12], first.genomes)
    for t in study.trials:
        np.testing.assert_array_equal(
            grown.of([history.individuals[t.number]])[0], space.encode(t.params)
        )
    assert grown.scores.tolist() == [-t.value for t in study.trials]  # minimised: negated
    # A one-off space (a trial's own distributions) is encoded apart, the cache kept.
    other = Space({**space.distributions, "x": FloatDistribution(-9, 9)})
    assert history.encoded(other).genomes.shape == (17, len(space))
    assert history.encoded(space).genomes is grown.genomes  # nothing new: the same arrays


def test_pruned_trials_are_encoded_apart() -> None:
    digest = History(StudyDirection.MINIMIZE)
    digest.update([trial(0, {"x": 1.0}, 1.0), trial(1, {"x": 2.0}, state=TrialState.PRUNED)])
    encoded = digest.encoded(digest.space)
    assert encoded.genomes.tolist() == [[1.0]] and encoded.pruned.tolist() == [[2.0]]


# -- populations -------------------------------------------------------------------------------

VALUES = [5.0, 1.0, 7.0, 2.0, 9.0, 0.0, 3.0, 8.0, 4.0, 6.0, 1.5, 2.5, 0.5]


def test_steady_population_is_the_best_finished_so_far_whatever_the_generation() -> None:
    digest = values_study(VALUES[:7])
    population = digest.population(1, population_size=3, n_elites=1, mode="steady")
    assert [i.number for i in population] == [5, 1, 3]  # values 0, 1, 2
    digest.update([trial(k, {"x": float(k % 5)}, v) for k, v in enumerate(VALUES)])
    # Kept incrementally: later individuals merge in; the generation asked for does not matter.
    for generation in (0, 1, 9):
        population = digest.population(generation, population_size=3, n_elites=1, mode="steady")
        assert [i.number for i in population] == [5, 12, 1]


@pytest.mark.parametrize("mode", ["hall_of_fame", "generational"])
def test_generational_populations_follow_next_population(mode: Any) -> None:
    # P = 4, E = 1: generation 0 is 0-3, then 3 numbers each.
    digest = values_study(VALUES)
    individuals = digest.individuals
    expected: list[Any] = []
    for generation in range(4):
        members = [individuals[n] for n in generation_range(generation, 4, 1)]
        expected = next_population(expected, members, population_size=4, n_elites=1, mode=mode)
        got = digest.population(generation, population_size=4, n_elites=1, mode=mode)
        assert got == expected, generation
    if mode == "hall_of_fame":
        assert expected == best(list(individuals.values()), 4)


def test_a_running_generation_contributes_its_completed_members() -> None:
    digest = History(StudyDirection.MINIMIZE)
    trials = [trial(k, {"x": float(k)}, v) for k, v in enumerate([5.0, 1.0, 7.0, 2.0])]
    running = trial(4, {"x": 4.0}, state=TrialState.RUNNING)
    digest.update([*trials, running, trial(5, {"x": 0.5}, 0.0)])
    population = digest.population(1, population_size=4, n_elites=1, mode="generational")
    assert [i.number for i in population] == [1, 5]  # the elite, then the completed member
    # Once trial 4 finishes, generation 1 is final and includes it.
    digest.update([*trials, trial(4, {"x": 4.0}, 3.0), trial(5, {"x": 0.5}, 0.0)])
    population = digest.population(1, population_size=4, n_elites=1, mode="generational")
    assert [i.number for i in population] == [1, 5, 4]


@pytest.mark.parametrize("mode", ["steady_state", "generation", "all"])
def test_an_unknown_population_mode_is_refused(mode: str) -> None:
    digest = values_study(VALUES[:3])
    for generation in (-1, 0, 2):
        with pytest.raises(ValueError, match="population must be one of"):
            digest.population(generation, population_size=2, n_elites=1, mode=mode)  # type: ignore[arg-type]


def test_scores_are_finite_even_for_huge_values() -> None:
    digest = values_study([1.7e308, -1.7e308])
    assert all(math.isfinite(i.score) for i in digest.individuals.values())
