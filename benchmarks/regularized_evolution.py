"""Regularized (aging) evolution as a small Optuna sampler: the standard evolutionary NAS baseline.

E. Real, A. Aggarwal, Y. Huang and Q. V. Le, *Regularized Evolution for Image Classifier
Architecture Search*, AAAI 2019, Algorithm 1: the population is the ``population_size`` most
recent completed trials (the oldest dies, not the worst); each child copies the best of
``sample_size`` individuals drawn at random from the population and mutates exactly one
parameter to another value. Until the population is full, trials are random.

Stateless like :class:`optuna_ga.GeneticSampler` (everything is read from the trials), for the
benchmarks only. Parameters outside the intersection search space are drawn at random.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import optuna
from optuna.distributions import BaseDistribution
from optuna.distributions import CategoricalDistribution
from optuna.distributions import FloatDistribution
from optuna.distributions import IntDistribution
from optuna.samplers import BaseSampler
from optuna.samplers import RandomSampler
from optuna.search_space import IntersectionSearchSpace
from optuna.study import Study
from optuna.study import StudyDirection
from optuna.trial import FrozenTrial
from optuna.trial import TrialState


class RegularizedEvolutionSampler(BaseSampler):
    """Aging evolution (Real et al. 2019).

    Args:
        population_size: Most recent completed trials that form the population.
        sample_size: Individuals drawn per tournament (the best one is the parent).
        seed: Seed; each trial number has its own stream.
    """

    def __init__(
        self, *, population_size: int = 20, sample_size: int = 5, seed: int | None = None
    ) -> None:
        if not 2 <= sample_size <= population_size:
            raise ValueError("need 2 <= sample_size <= population_size")
        self._population_size = population_size
        self._sample_size = sample_size
        self._seed = 0 if seed is None else seed
        self._random = RandomSampler(seed=seed)
        self._space = IntersectionSearchSpace()

    def infer_relative_search_space(
        self, study: Study, trial: FrozenTrial
    ) -> dict[str, BaseDistribution]:
        return self._space.calculate(study)

    def sample_relative(
        self, study: Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        if not search_space:
            return {}
        done = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        population = done[-self._population_size :]
        if len(population) < self._population_size:
            return {}
        rng = np.random.default_rng([self._seed, trial.number])
        drawn = rng.choice(len(population), size=self._sample_size, replace=False)
        sign = 1.0 if study.direction == StudyDirection.MAXIMIZE else -1.0
        parent = max((population[i] for i in drawn), key=lambda t: sign * float(t.value or 0))
        child = {k: v for k, v in parent.params.items() if k in search_space}
        name = list(search_space)[int(rng.integers(len(search_space)))]
        child[name] = _other_value(search_space[name], child.get(name), rng)
        return child

    def sample_independent(
        self,
        study: Study,
        trial: FrozenTrial,
        param_name: str,
        param_distribution: BaseDistribution,
    ) -> Any:
        return self._random.sample_independent(study, trial, param_name, param_distribution)

    def reseed_rng(self) -> None:
        self._random.reseed_rng()


def _other_value(distribution: BaseDistribution, value: Any, rng: np.random.Generator) -> Any:
    """A value of ``distribution`` other than ``value`` (where there is one), uniformly."""
    if isinstance(distribution, CategoricalDistribution):
        choices = [c for c in distribution.choices if c != value] or list(distribution.choices)
        return choices[int(rng.integers(len(choices)))]
    if isinstance(distribution, IntDistribution):
        grid = list(range(distribution.low, distribution.high + 1, distribution.step))
        grid = [g for g in grid if g != value] or grid
        return grid[int(rng.integers(len(grid)))]
    if isinstance(distribution, FloatDistribution):
        return float(rng.uniform(distribution.low, distribution.high))
    raise ValueError(f"unsupported distribution {distribution!r}")


if __name__ == "__main__":  # pragma: no cover - a smoke run
    study = optuna.create_study(sampler=RegularizedEvolutionSampler(seed=0))
    study.optimize(lambda t: (t.suggest_int("x", 0, 20) - 7) ** 2, n_trials=60)
    print(study.best_params)
