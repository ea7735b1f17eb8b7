"""What every study run by several GeneticSampler workers must satisfy (shared by the tests)."""

from __future__ import annotations

import math
from collections import Counter

import optuna
from optuna.trial import TrialState

from optuna_ga import canonical_hash
from optuna_ga._population import generation_of
from optuna_ga._population import generation_range


def check_worker_study(
    study: optuna.Study,
    *,
    n_trials: int,
    population_size: int,
    n_elites: int,
    population: str = "steady",
) -> None:
    """All ``n_trials`` completed, no parameter set twice, generations and lineage right.

    Parents are individuals that had completed when the child was bred: in a steady population
    any of them, also one numbered after the child (a later trial that finished first); in a
    hall of fame (or a generational population), members of earlier generations.
    """
    trials = study.trials
    assert len(trials) == n_trials
    assert all(t.state == TrialState.COMPLETE for t in trials)
    hashes = [canonical_hash(t.params) for t in trials]
    assert len(set(hashes)) == len(hashes), "duplicate parameter sets"
    # Every trial knows its generation, and every generation has exactly its slots.
    for trial in trials:
        expected = generation_of(trial.number, population_size, n_elites)[0]
        assert trial.user_attrs["ga_generation"] == expected
    generations = Counter(t.user_attrs["ga_generation"] for t in trials)
    for g in range(max(generations)):
        assert generations[g] == len(generation_range(g, population_size, n_elites))
    for trial in trials:
        for number in trial.user_attrs["ga_parents"]:
            parent = study.trials[number]
            assert number != trial.number and all(math.isfinite(v) for v in parent.values)
            assert parent.datetime_complete <= trial.datetime_complete
            if population != "steady":
                generation = parent.user_attrs["ga_generation"]
                assert generation < trial.user_attrs["ga_generation"]
