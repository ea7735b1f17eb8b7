"""The sampler under hostile input: huge values, tampered storage, odd arguments and choices,
changed distributions, and many workers at the end of a finite space."""

from __future__ import annotations

from typing import Any

import numpy as np
import optuna
import pytest
from optuna.distributions import CategoricalDistribution
from optuna.trial import TrialState

from optuna_ga import GeneticSampler
from optuna_ga._encoding import Space
from optuna_ga._encoding import cardinality
from optuna_ga._encoding import grid
from optuna_ga._store import GENOME_KEY
from optuna_ga.operators import roulette_weights

EVALUATED = (TrialState.COMPLETE, TrialState.PRUNED)


def states(study: optuna.Study) -> set[TrialState]:
    return {t.state for t in study.trials}


# -- 13: finite values of any size; no trial left RUNNING ---------------------------------------


def test_roulette_weights_are_finite_for_the_largest_finite_scores() -> None:
    scores = np.array([-1.7e308, 0.0, 1e308, 1.7e308])
    weights = roulette_weights(scores)
    assert np.isfinite(weights).all() and weights.sum() == pytest.approx(1.0)
    assert (np.diff(weights) > 0).all() and weights[0] > 0
    # Scaling every score by a power of two changes nothing.
    small = np.array([-3.0, -1.0, 2.0])
    assert roulette_weights(small * 2.0**1000).tolist() == roulette_weights(small).tolist()


def test_values_near_the_float_limit_keep_the_study_running() -> None:
    study = optuna.create_study(sampler=GeneticSampler(population_size=4, n_elites=1, seed=0))
    study.optimize(lambda t: 1.7e308 * t.suggest_float("x", -1, 1), n_trials=20)
    assert len(study.trials) == 20 and states(study) == {TrialState.COMPLETE}
    assert study.trials[-1].user_attrs["ga_generation"] >= 3  # roulette bred generations


def test_an_error_before_the_trial_fails_it_instead_of_leaving_it_running() -> None:
    # Optuna calls before_trial in study.ask, where an exception would leave the trial RUNNING.
    study = optuna.create_study(directions=["minimize", "minimize"], sampler=GeneticSampler())
    with pytest.raises(ValueError, match="multi-objective"):
        study.ask()
    assert [t.state for t in study.trials] == [TrialState.FAIL]


# -- 14: malformed claims -----------------------------------------------------------------------


@pytest.mark.parametrize("value", [[1, 2], "x", 7, {"x": [0.5]}, {"x": {"nested": 1}}], ids=repr)
def test_a_malformed_claim_is_ignored_with_a_warning(sqlite_url: str, value: Any) -> None:
    study = optuna.create_study(storage=sqlite_url, sampler=GeneticSampler(population_size=4))
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=2)
    tampered = study.ask()
    study._storage.set_trial_system_attr(tampered._trial_id, GENOME_KEY, value)
    with pytest.warns(UserWarning, match=f"Trial {tampered.number}: ignoring its malformed"):
        study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=6)
    others = [t for t in study.trials if t.number != tampered.number]
    assert len(others) == 8 and {t.state for t in others} == {TrialState.COMPLETE}


# -- 15: arguments ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"n_elites": True}, "n_elites"),
        ({"n_immigrants": True}, "n_immigrants"),
        ({"population": "no"}, "population"),
        ({"population": 1}, "population"),
        ({"seed": 2**80}, "seed"),
        ({"seed": 2**63}, "seed"),
        ({"seed": -1}, "seed"),
        ({"selection": ["roulette"]}, "selection"),
    ],
)
def test_more_bad_arguments_name_the_argument(kwargs: dict[str, Any], name: str) -> None:
    with pytest.raises(ValueError, match=name):
        GeneticSampler(**kwargs)


def test_seeds_at_the_ends_of_the_range_give_their_own_streams() -> None:
    def params(seed: int) -> list[dict[str, Any]]:
        study = optuna.create_study(sampler=GeneticSampler(population_size=4, seed=seed))
        study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=6)
        return [t.params for t in study.trials]

    assert params(2**63 - 1) == params(2**63 - 1)
    assert params(2**63 - 1) != params(0)


# -- 16: choices equal under == -----------------------------------------------------------------


def test_choices_equal_under_eq_are_one_value_in_the_encoding() -> None:
    dist = CategoricalDistribution([1, True, "x", 1.0])
    assert cardinality(dist) == 2 and grid(dist) == [1, "x"]
    space = Space({"c": dist})
    assert space.n_choices.tolist() == [2]
    assert space.encode({"c": True}).tolist() == space.encode({"c": 1}).tolist() == [0.0]
    assert {space.decode(np.array([x]))["c"] for x in (-0.4, 0.0, 0.6, 1.4)} == {1, "x"}


# -- 19: what changing distributions means ------------------------------------------------------


def test_changed_ranges_work_and_a_changed_choice_set_is_refused_by_optuna() -> None:
    study = optuna.create_study(sampler=GeneticSampler(population_size=4, seed=0))
    study.optimize(
        lambda t: t.suggest_int("n", 0, 5) + t.suggest_float("x", 0, 1, step=0.25), n_trials=8
    )
    study.optimize(
        lambda t: t.suggest_int("n", 10, 50, step=10) + t.suggest_float("x", 2, 3), n_trials=8
    )
    assert states(study) == {TrialState.COMPLETE}
    assert all(t.params["n"] % 10 == 0 and 2 <= t.params["x"] <= 3 for t in study.trials[8:])

    study = optuna.create_study(sampler=GeneticSampler(population_size=4, seed=0))
    study.optimize(lambda t: len(t.suggest_categorical("act", ["relu", "tanh"])), n_trials=2)
    with pytest.raises(ValueError, match="does not support dynamic value space"):
        study.optimize(lambda t: len(t.suggest_categorical("act", ["relu", "gelu"])), n_trials=1)
    assert [t.state for t in study.trials] == [TrialState.COMPLETE] * 2 + [TrialState.FAIL]
