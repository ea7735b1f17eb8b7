"""Optuna's own sampler contract tests (the cases that apply to a GA with independent sampling).

``RelativeSamplerTestCase`` does not apply: the GA proposes whole genomes in ``before_trial``
and serves them through ``sample_independent``, so ``sample_relative`` returns nothing.
"""

from __future__ import annotations

from collections.abc import Callable

import optuna
import pytest
from optuna.samplers import BaseSampler
from optuna.testing.pytest_samplers import BasicSamplerTestCase
from optuna.testing.pytest_samplers import MultiObjectiveSamplerTestCase
from optuna.testing.pytest_samplers import parametrize_suggest_method
from optuna.trial import Trial
from optuna.trial import TrialState

from optuna_ga import GeneticSampler
from optuna_ga._encoding import cardinality


class TestGeneticSampler(BasicSamplerTestCase, MultiObjectiveSamplerTestCase):
    @pytest.fixture
    def sampler(self) -> Callable[[], BaseSampler]:
        return lambda: GeneticSampler(population_size=4, n_elites=1, seed=0)

    @parametrize_suggest_method("x")
    def test_single_parameter_objective(
        self, sampler: Callable[[], BaseSampler], suggest_method_x: Callable[[Trial], float]
    ) -> None:
        # Upstream expects 10 trials. Ours stops a study whose finite space is exhausted, so a
        # 3-choice categorical ends after 3 distinct trials; every other case runs all 10.
        study = optuna.create_study(sampler=sampler())
        study.optimize(suggest_method_x, n_trials=10)
        size = cardinality(study.trials[0].distributions["x"])
        assert len(study.trials) == min(10, size)
        assert all(t.state == TrialState.COMPLETE for t in study.trials)
        assert len({t.params["x"] for t in study.trials}) == len(study.trials)
