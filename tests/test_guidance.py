"""Guidance (optuna_ga._guidance): the schedule of the surrogate-guided search and the choice
among bred children, alone and in a study."""

from __future__ import annotations

from typing import Any

import numpy as np
import optuna
import pytest
from optuna.distributions import CategoricalDistribution
from optuna.distributions import FloatDistribution
from optuna.distributions import IntDistribution
from optuna.study import StudyDirection

from optuna_ga import GeneticSampler
from optuna_ga._breeding import Brood
from optuna_ga._encoding import Space
from optuna_ga._encoding import canonical_hash
from optuna_ga._guidance import Guidance
from optuna_ga._history import History
from optuna_ga._surrogate import bandwidths
from optuna_ga._surrogate import density_ratio

# -- the schedule ------------------------------------------------------------------------------


def test_defaults_are_the_tuned_schedule() -> None:
    guidance = Guidance()
    assert (guidance.n_candidates, guidance.gamma, guidance.mature_gamma) == (24, 0.15, 0.25)
    assert (guidance.early_sizes, guidance.early_factor, guidance.mature_sizes) == (5, 2, 10)
    assert guidance.guided_random_after == 4
    assert guidance.multi_objective_random == 24


def test_young_multi_objective_broods_add_random_points() -> None:
    guidance = Guidance(n_candidates=3, multi_objective_random=5)
    young = [guidance.random_in_brood(n, population_size=4, multi_objective=True) for n in (0, 19)]
    assert young == [5, 5]
    assert guidance.random_in_brood(20, population_size=4, multi_objective=True) == 0
    assert guidance.random_in_brood(0, population_size=4) == 0  # one objective: none
    single = Guidance(n_candidates=3, single_objective_random=2)  # experimental, off by default
    assert [single.random_in_brood(n, population_size=4) for n in (0, 19, 20)] == [2, 2, 0]
    assert single.random_in_brood(0, population_size=4, multi_objective=True) == 24


def test_young_studies_breed_more_children() -> None:
    guidance = Guidance(n_candidates=3)
    # Young below early_sizes (5) * population_size individuals.
    assert [guidance.brood_size(n, population_size=4) for n in (0, 19, 20, 500)] == [6, 6, 3, 3]
    assert Guidance(n_candidates=3, early_factor=1).brood_size(0, population_size=4) == 3


def test_mature_studies_count_more_individuals_as_good() -> None:
    guidance = Guidance(gamma=0.1, mature_gamma=0.3, mature_sizes=2)
    assert [guidance.gamma_at(n, population_size=5) for n in (0, 9, 10, 99)] == [
        0.1,
        0.1,
        0.3,
        0.3,
    ]


def test_generation_zero_is_guided_only_with_a_fine_gene_and_a_few_individuals() -> None:
    fine = Space({"x": FloatDistribution(0, 1), "n": IntDistribution(0, 3)})
    coarse = Space({"n": IntDistribution(0, 19), "c": CategoricalDistribution(["a", "b"])})
    wide_int = Space({"n": IntDistribution(0, 20)})  # 21 values: fine
    guidance = Guidance(n_candidates=8)
    assert [guidance.guides_random(fine, n) for n in (0, 3, 4, 50)] == [False, False, True, True]
    assert not guidance.guides_random(coarse, 50)
    assert guidance.guides_random(wide_int, 4)
    assert not Guidance(n_candidates=1).guides_random(fine, 50)  # the classic GA
    assert Guidance(n_candidates=1).enabled is False and guidance.enabled


# -- the choice --------------------------------------------------------------------------------

SPACE = Space({"x": FloatDistribution(0.0, 1.0)})


def encoded_study(xs: list[float], values: list[float]) -> Any:
    digest = History(StudyDirection.MINIMIZE)
    trials = []
    for number, (x, value) in enumerate(zip(xs, values, strict=True)):
        trial = optuna.trial.create_trial(
            params={"x": x}, distributions={"x": SPACE.distributions["x"]}, value=value
        )
        trial.number = number
        trials.append(trial)
    digest.update(trials)
    return digest.encoded(digest.space)


def brood(*xs: float) -> Brood:
    n = len(xs)
    return Brood(np.array([[x] for x in xs]), np.tile([0, 1], (n, 1)), np.ones(n, dtype=bool))


def test_the_child_most_like_the_good_individuals_is_chosen_with_its_score() -> None:
    encoded = encoded_study([0.1, 0.5, 0.9, 0.8], [0.0, 1.0, 2.0, 3.0])  # good near 0.1
    children = brood(0.85, 0.12, 0.5)
    chosen = Guidance().choose(encoded, SPACE, children, lambda p: False, population_size=10)
    assert chosen is not None and chosen.params == {"x": 0.12}
    assert chosen.operator == "crossover+mutation" and chosen.parents == [0, 1]
    ratio = density_ratio(
        children.genomes,
        encoded.genomes,
        encoded.scores,
        SPACE.low,
        SPACE.high,
        SPACE.n_choices,
        gamma=0.15,
        bandwidth=bandwidths(SPACE.sizes),
    )
    assert chosen.score == round(float(ratio[1]), 6) == round(float(ratio.max()), 6)


def test_repeated_children_are_passed_over_and_none_is_left_when_all_repeat() -> None:
    encoded = encoded_study([0.1, 0.5, 0.9, 0.8], [0.0, 1.0, 2.0, 3.0])
    children = brood(0.85, 0.12, 0.5)
    guidance = Guidance()

    def choose(repeated: set[float]) -> Any:
        return guidance.choose(
            encoded, SPACE, children, lambda p: p["x"] in repeated, population_size=10
        )

    assert choose({0.12}).params == {"x": 0.5}  # the next best
    assert choose({0.12, 0.5}).params == {"x": 0.85}
    assert choose({0.12, 0.5, 0.85}) is None


def test_the_choice_uses_the_gamma_of_the_study_s_age() -> None:
    # Ten individuals along x, the best at 0: with gamma 0.1 the good group is {0.0}, with 0.5
    # it is {0.0 .. 0.4}, and a child at 0.4 scores higher against the bad ones.
    xs = [k / 10 for k in range(10)]
    encoded = encoded_study(xs, xs)
    children = brood(0.0, 0.4)
    young = Guidance(gamma=0.1, mature_gamma=0.5, mature_sizes=10)
    mature = Guidance(gamma=0.1, mature_gamma=0.5, mature_sizes=1)
    pick = [
        g.choose(encoded, SPACE, children, lambda p: p["x"] == 0.0, population_size=10)
        for g in (young, mature)
    ]
    assert pick[0] is not None and pick[1] is not None
    assert pick[0].score is not None and pick[1].score is not None
    assert pick[1].score > pick[0].score


# -- in a study --------------------------------------------------------------------------------


def conditional(trial: optuna.Trial) -> float:
    x = trial.suggest_float("x", -5, 5)
    n = trial.suggest_int("n", 1, 3)
    units = [trial.suggest_int(f"u{i}", 8, 256, log=True) for i in range(n)]
    act = trial.suggest_categorical("act", ["relu", "tanh", "gelu"])
    lr = trial.suggest_float("lr", 1e-4, 1e-1, log=True)
    return (x - 1) ** 2 + sum(units) / 100 + (act == "tanh") + abs(lr - 0.01)


@pytest.fixture
def choices(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int, float]]:
    """Every choice the sampler's guidance makes: (individuals, children, gamma)."""
    seen: list[tuple[int, int, float]] = []
    real = Guidance.choose

    def spy(self: Guidance, encoded: Any, space: Any, brood: Brood, *args: Any, **kw: Any) -> Any:
        n = len(encoded.scores)
        seen.append((n, len(brood), self.gamma_at(n, population_size=kw["population_size"])))
        return real(self, encoded, space, brood, *args, **kw)

    monkeypatch.setattr(Guidance, "choose", spy)
    return seen


def test_a_study_follows_the_schedule(choices: list[tuple[int, int, float]]) -> None:
    study = optuna.create_study(sampler=GeneticSampler(seed=0, population_size=4, n_candidates=3))
    study.optimize(conditional, n_trials=60)
    bred = [(n, m, gamma) for n, m, gamma in choices if m > 3 or n >= 4]
    assert bred
    # Young (< 5 * 4 individuals): 6 children, at most (duplicates are dropped); mature from
    # 10 * 4 individuals: the broader good group.
    assert max(m for n, m, _ in choices if n < 20) == 6
    assert max(m for n, m, _ in choices if n >= 20) == 3
    assert {gamma for n, _, gamma in choices if n < 40} == {Guidance().gamma}
    assert {gamma for n, _, gamma in choices if n >= 40} == {Guidance().mature_gamma}


def test_the_classic_ga_consults_no_surrogate(choices: list[tuple[int, int, float]]) -> None:
    study = optuna.create_study(sampler=GeneticSampler(seed=0, n_candidates=1))
    study.optimize(conditional, n_trials=40)
    assert choices == []
    assert not any("ga_surrogate_score" in t.user_attrs for t in study.trials)


def test_random_individuals_are_guided_once_a_few_have_finished() -> None:
    study = optuna.create_study(sampler=GeneticSampler(seed=2, population_size=10, n_candidates=8))
    study.optimize(conditional, n_trials=10)  # generation 0
    after = Guidance().guided_random_after
    for t in study.trials:
        assert t.user_attrs["ga_generation"] == 0
        assert t.user_attrs["ga_operator"] == "random" and t.user_attrs["ga_parents"] == []
        assert ("ga_surrogate_score" in t.user_attrs) == (t.number >= after)

    def coarse(trial: optuna.Trial) -> float:  # every gene has at most 20 values: not guided
        return trial.suggest_int("a", 0, 19) + (trial.suggest_categorical("b", ["x", "y"]) == "x")

    study = optuna.create_study(sampler=GeneticSampler(seed=2, population_size=10, n_candidates=8))
    study.optimize(coarse, n_trials=10)
    assert not any("ga_surrogate_score" in t.user_attrs for t in study.trials)


def test_guided_children_record_their_score_and_true_lineage() -> None:
    study = optuna.create_study(sampler=GeneticSampler(seed=0, population_size=8, n_candidates=16))
    study.optimize(conditional, n_trials=50)
    children = [t for t in study.trials if t.user_attrs["ga_generation"] > 0]
    assert children
    for t in children:
        if t.user_attrs["ga_operator"] in ("random", "immigrant"):
            continue
        assert isinstance(t.user_attrs["ga_surrogate_score"], float)
        assert t.user_attrs["ga_operator"] in ("mutation", "crossover+mutation")
        assert all(p < t.number for p in t.user_attrs["ga_parents"])
    keys = [canonical_hash(t.params) for t in study.trials]
    assert len(set(keys)) == len(keys)


@pytest.mark.parametrize("n_candidates", [2, 24])
def test_guided_search_finds_the_last_points_of_a_finite_space(n_candidates: int) -> None:
    def objective(trial: optuna.Trial) -> float:
        return trial.suggest_int("a", 0, 4) + 10 * trial.suggest_int("b", 0, 3)

    study = optuna.create_study(sampler=GeneticSampler(seed=2, n_candidates=n_candidates))
    study.optimize(objective, n_trials=40)
    assert sorted(t.value for t in study.trials) == sorted(
        a + 10 * b for a in range(5) for b in range(4)
    )


def test_guided_children_are_unseen_with_a_pruner_and_conditional_genes() -> None:
    def objective(trial: optuna.Trial) -> float:
        value = conditional(trial)
        trial.report(value, 0)
        if trial.number % 3 == 0:
            raise optuna.TrialPruned()
        return value

    study = optuna.create_study(sampler=GeneticSampler(seed=4, n_candidates=16))
    study.optimize(objective, n_trials=60)
    keys = [canonical_hash(t.params) for t in study.trials]
    assert len(set(keys)) == len(keys)


def test_guided_breeding_beats_the_classic_ga_on_a_smooth_problem() -> None:
    def sphere(trial: optuna.Trial) -> float:
        return sum(trial.suggest_float(f"x{i}", -5, 5) ** 2 for i in range(4))

    def median_best(**kwargs: Any) -> float:
        best = []
        for seed in range(5):
            study = optuna.create_study(sampler=GeneticSampler(seed=seed, **kwargs))
            study.optimize(sphere, n_trials=80)
            best.append(study.best_value)
        return float(np.median(best))

    assert median_best() < 0.7 * median_best(n_candidates=1, population="hall_of_fame")


def test_same_seed_guided_runs_are_reproducible() -> None:
    def run() -> list[dict[str, Any]]:
        study = optuna.create_study(sampler=GeneticSampler(seed=5, n_candidates=8))
        study.optimize(conditional, n_trials=40)
        return [t.params for t in study.trials]

    assert run() == run()
