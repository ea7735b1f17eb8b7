"""The surrogate's scores on small hand-computed cases, and guided breeding in the sampler."""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any

import numpy as np
import optuna
import pytest
from optuna.distributions import CategoricalDistribution
from optuna.distributions import FloatDistribution
from optuna.distributions import IntDistribution

import optuna_ga._sampler as sampler_module
from optuna_ga import GeneticSampler
from optuna_ga._encoding import Space
from optuna_ga._encoding import canonical_hash
from optuna_ga._history import History
from optuna_ga._surrogate import bandwidths
from optuna_ga._surrogate import best_first
from optuna_ga._surrogate import density_ratio
from optuna_ga._surrogate import log_density
from optuna_ga._surrogate import n_good

UNIT = (np.array([0.0]), np.array([1.0]), np.array([0]))


def _gauss(z: float, sigma: float) -> float:
    return math.exp(-0.5 * (z / sigma) ** 2) / (sigma * math.sqrt(2 * math.pi))


def test_log_density_one_numeric_point_by_hand() -> None:
    # n = 1, d = 1: sigma = 0.2 * 1 ** (-1/5) = 0.2; density = (prior 1 + kernel) / 2.
    x = np.array([[0.5], [0.8]])
    got = log_density(x, np.array([[0.5]]), *UNIT)
    want = [math.log((1 + _gauss(0.0, 0.2)) / 2), math.log((1 + _gauss(0.3, 0.2)) / 2)]
    assert got.tolist() == pytest.approx(want)
    assert got[0] == pytest.approx(0.403701, abs=1e-6)


def test_log_density_scales_numeric_genes_to_their_range() -> None:
    # The same point in a range 10x wider gives the same density relative to uniform.
    a = log_density(np.array([[0.3]]), np.array([[0.5]]), *UNIT)
    b = log_density(
        np.array([[3.0]]), np.array([[5.0]]), np.array([0.0]), np.array([10.0]), np.array([0])
    )
    assert a == pytest.approx(b)


def test_log_density_categorical_by_hand() -> None:
    # k = 3, one point at choice 1: w = 1/2, kernel = k (1 + w) / (1 + k w) = 1.8 on it and
    # k w / (1 + k w) = 0.6 elsewhere; with the prior: (1 + 1.8) / 2 and (1 + 0.6) / 2.
    low, high, k = np.array([-0.5]), np.array([2.5]), np.array([3])
    got = log_density(np.array([[1.0], [0.0], [2.0]]), np.array([[1.0]]), low, high, k)
    assert np.exp(got).tolist() == pytest.approx([1.4, 0.8, 0.8])


def test_log_density_two_genes_multiply_and_missing_genes_count_one() -> None:
    low, high, k = np.array([0.0, -0.5]), np.array([1.0, 1.5]), np.array([0, 2])
    observed = np.array([[0.5, 0.0], [0.2, np.nan]])  # the second point lacks gene 2
    x = np.array([[0.5, 0.0]])
    sigma = 0.2 * 2 ** (-1 / 6)  # n = 2, d = 2
    w = 1 / 3
    same = 2 * (1 + w) / (1 + 2 * w)
    kernels = [_gauss(0.0, sigma) * same, _gauss(0.3, sigma) * 1.0]
    want = math.log((1 + sum(kernels)) / 3)
    assert log_density(x, observed, low, high, k)[0] == pytest.approx(want)
    # A candidate gene that is NaN says nothing either.
    nan_x = np.array([[0.5, np.nan]])
    want_nan = math.log((1 + _gauss(0.0, sigma) + _gauss(0.3, sigma)) / 3)
    assert log_density(nan_x, observed, low, high, k)[0] == pytest.approx(want_nan)


def test_log_density_per_gene_bandwidths_by_hand() -> None:
    # n = 1, d = 2: sigma_i = b_i * 1 ** (-1/6) = b_i; the kernel is a product of Gaussians.
    low, high, k = np.zeros(2), np.ones(2), np.zeros(2, dtype=int)
    got = log_density(np.array([[0.3, 0.3]]), np.array([[0.5, 0.5]]), low, high, k, [0.2, 0.1])
    want = math.log((1 + _gauss(0.2, 0.2) * _gauss(0.2, 0.1)) / 2)
    assert got[0] == pytest.approx(want)


def test_fine_genes_get_the_sharper_bandwidth() -> None:
    space = Space(
        {
            "coarse": IntDistribution(0, 20),  # 21 values: fine
            "index": IntDistribution(0, 9),
            "x": FloatDistribution(0.0, 1.0),
            "grid": FloatDistribution(0.0, 1.0, step=0.25),
            "c": CategoricalDistribution(list(range(30))),
        }
    )
    assert space.sizes.tolist() == [21, 10, math.inf, 5, 30]
    assert bandwidths(space.sizes).tolist() == [0.1, 0.2, 0.1, 0.2, 0.1]  # "c" is unused


def test_log_density_with_nothing_observed_is_uniform() -> None:
    assert log_density(np.array([[0.1], [0.7]]), np.zeros((0, 1)), *UNIT).tolist() == [0.0, 0.0]


def test_density_ratio_by_hand_and_groups() -> None:
    observed = np.array([[0.1], [0.9], [0.5]])
    scores = np.array([3.0, 1.0, 2.0])  # good group (gamma 0.3 -> 1 point): 0.1
    x = np.array([[0.1], [0.5], [0.9]])
    got = density_ratio(x, observed, scores, *UNIT, gamma=0.3)
    s1, s2 = 0.2, 0.2 * 2 ** (-1 / 5)
    for xi, g in zip([0.1, 0.5, 0.9], got, strict=True):
        good = (1 + _gauss(xi - 0.1, s1)) / 2
        bad = (1 + _gauss(xi - 0.9, s2) + _gauss(xi - 0.5, s2)) / 3
        assert g == pytest.approx(math.log(good / bad))
    assert got[0] > got[1] > got[2]


def test_density_ratio_pruned_trials_count_as_bad() -> None:
    observed, scores = np.array([[0.1], [0.9]]), np.array([2.0, 1.0])
    x = np.array([[0.4]])
    plain = density_ratio(x, observed, scores, *UNIT, gamma=0.5)
    with_pruned = density_ratio(x, observed, scores, *UNIT, gamma=0.5, extra_bad=np.array([[0.4]]))
    assert with_pruned[0] < plain[0]


def test_density_ratio_needs_two_observations() -> None:
    got = density_ratio(np.array([[0.2]]), np.array([[0.1]]), np.array([1.0]), *UNIT, gamma=0.2)
    assert got.tolist() == [0.0]


def test_density_ratio_caps_its_groups_in_long_studies() -> None:
    from optuna_ga._surrogate import MAX_BAD
    from optuna_ga._surrogate import MAX_GOOD

    rng = np.random.default_rng(0)
    observed = rng.uniform(0, 1, (1000, 1))
    scores = rng.normal(size=1000)
    x = rng.uniform(0, 1, (5, 1))
    got = density_ratio(x, observed, scores, *UNIT, gamma=0.15)
    order = np.argsort(-scores, kind="stable")
    good = observed[order[:MAX_GOOD]]
    bad = observed[np.sort(order[150:])][-MAX_BAD:]
    want = log_density(x, good, *UNIT) - log_density(x, bad, *UNIT)
    assert got == pytest.approx(want)


def test_n_good_bounds() -> None:
    assert [n_good(n, 0.15) for n in (1, 2, 7, 20, 1000)] == [1, 1, 2, 3, 150]


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
        value = _conditional(trial)
        trial.report(value, 0)
        if trial.number % 3 == 0:
            raise optuna.TrialPruned()
        return value

    study = optuna.create_study(sampler=GeneticSampler(seed=4, n_candidates=16))
    study.optimize(objective, n_trials=60)
    keys = [canonical_hash(t.params) for t in study.trials]
    assert len(set(keys)) == len(keys)


def _conditional(trial: optuna.Trial) -> float:
    x = trial.suggest_float("x", -5, 5)
    n = trial.suggest_int("n", 1, 3)
    units = [trial.suggest_int(f"u{i}", 8, 256, log=True) for i in range(n)]
    act = trial.suggest_categorical("act", ["relu", "tanh", "gelu"])
    lr = trial.suggest_float("lr", 1e-4, 1e-1, log=True)
    return (x - 1) ** 2 + sum(units) / 100 + (act == "tanh") + abs(lr - 0.01)


def test_one_candidate_reproduces_the_classic_ga(monkeypatch: pytest.MonkeyPatch) -> None:
    # n_candidates=1 is the GA without guidance: the surrogate is never fitted, and each child
    # comes from ``breed`` alone. The golden hash pins its random stream. The algorithm is the
    # one of optuna-ga 0.1.0 (74e1800); this hash was made when breeding took one form (issue
    # 21: a child is a brood of one, drawn as the batch operators draw). Before, with the
    # single-genome forms of the operators: 8c152cb1de480e99ee842a3d850585262f1a9c2b5400fb14....
    def never(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the classic GA fits no surrogate")

    monkeypatch.setattr(sampler_module, "density_ratio", never)
    sampler = GeneticSampler(
        seed=3, population_size=8, n_elites=2, n_candidates=1, population="hall_of_fame"
    )
    study = optuna.create_study(sampler=sampler)
    study.optimize(_conditional, n_trials=60)
    text = json.dumps([t.params for t in study.trials], sort_keys=True)
    assert hashlib.sha256(text.encode()).hexdigest() == (
        "e4697e5f945730fc4bca086ee5fe71367243e355c364c5d6a9aad3a4a7e7e666"
    )
    assert not any("ga_surrogate_score" in t.user_attrs for t in study.trials)
    operators = {t.user_attrs["ga_operator"] for t in study.trials}
    assert {"crossover+mutation", "mutation"} <= operators


def test_guided_children_record_their_score_and_true_lineage() -> None:
    study = optuna.create_study(sampler=GeneticSampler(seed=0, population_size=8, n_candidates=16))
    study.optimize(_conditional, n_trials=50)
    children = [t for t in study.trials if t.user_attrs["ga_generation"] > 0]
    assert children
    for t in children:
        if t.user_attrs["ga_operator"] in ("random", "immigrant"):
            continue
        assert isinstance(t.user_attrs["ga_surrogate_score"], float)
        assert all(p < t.number for p in t.user_attrs["ga_parents"])
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
    def run() -> list[dict]:
        study = optuna.create_study(sampler=GeneticSampler(seed=5, n_candidates=8))
        study.optimize(_conditional, n_trials=40)
        return [t.params for t in study.trials]

    assert run() == run()


@pytest.mark.parametrize("bad", [0, -1, 2.0, True, "8", None])
def test_bad_n_candidates_raise(bad: object) -> None:
    with pytest.raises(ValueError, match="n_candidates"):
        GeneticSampler(n_candidates=bad)  # type: ignore[arg-type]


def test_history_encodings_grow_with_the_study_and_match_encode() -> None:
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    study.optimize(_conditional, n_trials=12)
    history = History(study.direction)
    history.update(study.trials)
    space = history.space
    first = history.encoded(space)
    assert first.genomes.shape == (12, len(space))
    study.optimize(_conditional, n_trials=5)
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


def test_young_studies_choose_among_twice_as_many_children(
    monkeypatch: pytest.MonkeyPatch,
) -> None:

    seen: list[tuple[int, int]] = []
    real = sampler_module.breed_children

    def spy(space: Space, population: Any, genomes: Any, *args: Any, **kwargs: Any) -> Any:
        operators, rng, n = args
        seen.append((n_finished[0], n))
        return real(space, population, genomes, operators, rng, n, **kwargs)

    n_finished = [0]
    monkeypatch.setattr(sampler_module, "breed_children", spy)
    study = optuna.create_study(sampler=GeneticSampler(seed=0, population_size=4, n_candidates=3))
    study.optimize(
        _conditional, n_trials=40, callbacks=[lambda s, t: n_finished.__setitem__(0, t.number + 1)]
    )
    assert seen and {n for done, n in seen if done < 20} == {6}
    assert {n for done, n in seen if done >= 20} == {3}


def test_mature_studies_count_more_individuals_as_good(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[int, float]] = []
    real = sampler_module.density_ratio

    def spy(candidates: Any, observed: Any, *args: Any, gamma: float, **kwargs: Any) -> Any:
        seen.append((len(observed), gamma))
        return real(candidates, observed, *args, gamma=gamma, **kwargs)

    monkeypatch.setattr(sampler_module, "density_ratio", spy)
    study = optuna.create_study(sampler=GeneticSampler(seed=0, population_size=4, n_candidates=3))
    study.optimize(_conditional, n_trials=60)
    assert {gamma for n, gamma in seen if n < 40} == {sampler_module.SURROGATE_GAMMA}
    assert {gamma for n, gamma in seen if n >= 40} == {sampler_module.MATURE_GAMMA}


def test_best_first_is_a_stable_sort_of_the_best() -> None:
    scores = np.array([2.0, 5.0, 2.0, 5.0, 1.0, 2.0])
    assert best_first(scores, 1).tolist() == [1]
    assert best_first(scores, 3).tolist() == [1, 3, 0]  # of the tied 2.0s, the first
    assert best_first(scores, 4).tolist() == [1, 3, 0, 2]
    assert best_first(scores, 9).tolist() == [1, 3, 0, 2, 5, 4]
    rng = np.random.default_rng(0)
    for _ in range(200):
        s = rng.integers(0, 4, size=30).astype(float)
        k = int(rng.integers(1, 31))
        assert best_first(s, k).tolist() == np.argsort(-s, kind="stable")[:k].tolist()


def test_random_individuals_are_guided_once_a_few_have_finished() -> None:
    study = optuna.create_study(sampler=GeneticSampler(seed=2, population_size=10, n_candidates=8))
    study.optimize(_conditional, n_trials=10)  # generation 0
    after = sampler_module.GUIDED_RANDOM_AFTER
    for t in study.trials:
        assert t.user_attrs["ga_generation"] == 0
        assert t.user_attrs["ga_operator"] == "random" and t.user_attrs["ga_parents"] == []
        assert ("ga_surrogate_score" in t.user_attrs) == (t.number >= after)
    classic = optuna.create_study(sampler=GeneticSampler(seed=2, n_candidates=1))
    classic.optimize(_conditional, n_trials=10)
    assert not any("ga_surrogate_score" in t.user_attrs for t in classic.trials)

    def coarse(trial: optuna.Trial) -> float:  # every gene has at most 20 values: not guided
        return trial.suggest_int("a", 0, 19) + (trial.suggest_categorical("b", ["x", "y"]) == "x")

    study = optuna.create_study(sampler=GeneticSampler(seed=2, population_size=10, n_candidates=8))
    study.optimize(coarse, n_trials=10)
    assert not any("ga_surrogate_score" in t.user_attrs for t in study.trials)
