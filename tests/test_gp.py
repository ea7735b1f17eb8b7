"""The Gaussian-process surrogate (optuna_ga._gp): distances, fit, posterior, expected
improvement, and its use by Guidance."""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import optuna
import pytest
from optuna.distributions import CategoricalDistribution
from optuna.distributions import FloatDistribution
from optuna.distributions import IntDistribution

from optuna_ga import GeneticSampler
from optuna_ga._breeding import Brood
from optuna_ga._encoding import Space
from optuna_ga._gp import LENGTHSCALES
from optuna_ga._gp import MAX_OBSERVED
from optuna_ga._gp import NOISES
from optuna_ga._gp import fit
from optuna_ga._gp import gene_sq_distances
from optuna_ga._gp import log_ei_scores
from optuna_ga._gp import log_expected_improvement
from optuna_ga._gp import predict
from optuna_ga._gp import sq_distances
from optuna_ga._gp import warp
from optuna_ga._guidance import Guidance
from optuna_ga._history import Encoded

ONE = (np.zeros(1), np.ones(1), np.zeros(1, int))  # one numeric gene over [0, 1]


def test_distances_scale_numeric_genes_and_count_categorical_mismatches() -> None:
    space = Space(
        {
            "x": FloatDistribution(0.0, 10.0),
            "c": CategoricalDistribution(["a", "b", "c"]),
        }
    )
    a = np.array([space.encode({"x": 0.0, "c": "a"}), space.encode({"x": 5.0, "c": "b"})])
    b = np.array([space.encode({"x": 10.0, "c": "a"})])
    sq = sq_distances(a, b, space.low, space.high, space.n_choices)
    assert sq[:, 0] == pytest.approx([(1.0 + 0.0) / 2, (0.25 + 1.0) / 2])
    per_gene = gene_sq_distances(a, b, space.low, space.high, space.n_choices)
    assert per_gene.shape == (2, 2, 1)
    assert per_gene.mean(axis=0) == pytest.approx(sq)


def test_absent_genes_are_a_value_of_their_own() -> None:
    low, high, k = np.zeros(2), np.ones(2), np.array([0, 2])
    a = np.array([[np.nan, np.nan], [0.5, np.nan], [0.5, 1.0]])
    sq = sq_distances(a, a, low, high, k)
    assert np.diag(sq) == pytest.approx(np.zeros(3))  # absent = absent
    assert sq[0, 1] == pytest.approx(0.5)  # one gene present on one side only
    assert sq[0, 2] == pytest.approx(1.0)
    assert sq[1, 2] == pytest.approx(0.5)
    assert np.all(np.isfinite(sq)) and np.allclose(sq, sq.T)


def test_noiseless_data_is_interpolated() -> None:
    x = np.linspace(0.0, 1.0, 8)[:, None]
    y = np.sin(4.0 * x[:, 0])
    post = fit(x, y, *ONE)
    assert post.lengthscale in LENGTHSCALES and post.noise in NOISES
    assert post.noise == min(NOISES)  # a smooth noiseless function
    mean, std = predict(post, x, *ONE)
    standardised = (y - y.mean()) / y.std()
    assert mean == pytest.approx(standardised, abs=0.02)
    assert np.all(std < 0.1)
    _, far = predict(post, np.array([[0.5 / 7.0]]), *ONE)  # between two points
    assert far[0] > std.max()


def test_expected_improvement_is_highest_near_the_known_good_point() -> None:
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(20, 2))
    y = -np.sum((x - 0.7) ** 2, axis=1)
    low, high, k = np.zeros(2), np.ones(2), np.zeros(2, int)
    candidates = np.array([[0.7, 0.7], [0.1, 0.1], [0.2, 0.9]])
    for options in ({}, {"warped": True}, {"warped": True, "ard": True}):
        s = log_ei_scores(candidates, x, y, low, high, k, **options)
        assert np.argmax(s) == 0, options


def test_ard_drops_an_irrelevant_gene() -> None:
    rng = np.random.default_rng(1)
    x = rng.uniform(size=(30, 2))
    y = np.sin(5.0 * x[:, 0])  # the second gene does not matter
    post = fit(x, y, np.zeros(2), np.ones(2), np.zeros(2, int), ard=True)
    assert post.weights[1] < post.weights[0]


def test_categorical_genes_are_modelled() -> None:
    space = Space({"c": CategoricalDistribution(["a", "b", "c"]), "x": IntDistribution(0, 3)})
    observed = np.array(
        [space.encode({"c": c, "x": x}) for c in ("a", "b", "c") for x in range(4)]
    )
    scores = np.array([1.0 if row[0] == 1 else 0.0 for row in observed])  # "b" is good
    candidates = np.array([space.encode({"c": "b", "x": 2}), space.encode({"c": "a", "x": 2})])
    s = log_ei_scores(candidates, observed, scores, space.low, space.high, space.n_choices)
    assert s[0] > s[1]


def test_nan_genes_in_candidates_and_observations() -> None:
    low, high, k = np.zeros(2), np.ones(2), np.zeros(2, int)
    observed = np.array([[0.1, np.nan], [0.5, 0.5], [0.9, np.nan], [0.3, 0.2]])
    scores = np.array([1.0, 0.0, -1.0, 0.5])
    candidates = np.array([[0.1, np.nan], [np.nan, np.nan], [0.9, 0.9]])
    s = log_ei_scores(candidates, observed, scores, low, high, k)
    assert s.shape == (3,) and np.all(np.isfinite(s))


def test_fewer_than_two_observations_score_zero_and_constant_scores_are_fine() -> None:
    candidates = np.array([[0.2], [0.4]])
    assert log_ei_scores(candidates, np.zeros((1, 1)), np.ones(1), *ONE).tolist() == [0.0, 0.0]
    s = log_ei_scores(candidates, np.array([[0.1], [0.9]]), np.ones(2), *ONE)
    assert np.all(np.isfinite(s))


def test_log_expected_improvement_is_stable_and_monotone() -> None:
    mean = np.linspace(-60.0, 5.0, 200)
    log_ei = log_expected_improvement(mean, np.ones_like(mean), 0.0)
    assert np.all(np.isfinite(log_ei))
    assert np.all(np.diff(log_ei) > 0)
    # The closed form where it does not underflow.
    z = np.array([-3.0, 0.0, 2.0])
    phi = np.exp(-0.5 * z * z) / np.sqrt(2 * np.pi)
    cdf = np.array([0.0013498980316301, 0.5, 0.9772498680518208])
    assert log_expected_improvement(z, np.ones(3), 0.0) == pytest.approx(
        np.log(phi + z * cdf), rel=1e-9
    )
    # Across the switch to the asymptotic series at z = -10.
    edge = log_expected_improvement(np.array([-10.0 - 1e-9, -10.0]), np.ones(2), 0.0)
    assert edge[0] == pytest.approx(edge[1], abs=1e-5)


def test_warp_keeps_the_order_and_ties() -> None:
    scores = np.array([3.0, -1e6, 3.0, 7.0, 0.5])
    w = warp(scores)
    assert np.argsort(w, kind="stable").tolist() == np.argsort(scores, kind="stable").tolist()
    assert w[0] == w[2]
    assert warp(np.array([5.0, -1e9, 1e9])) == pytest.approx([0.0, -0.967422, 0.967422])


def test_cost_is_bounded() -> None:
    rng = np.random.default_rng(2)
    d = 9
    low, high, k = np.zeros(d), np.ones(d), np.array([0] * 6 + [2, 3, 4])
    x = rng.uniform(size=(MAX_OBSERVED + 50, d))
    x[:, 6:] = rng.integers(0, 2, size=(len(x), 3))
    y = rng.normal(size=len(x))
    post = fit(x, y, low, high, k)
    assert len(post.genomes) == MAX_OBSERVED  # only the most recent are fitted
    start = time.perf_counter()
    log_ei_scores(x[:48], x[:100], y[:100], low, high, k, warped=True, ard=True)
    assert time.perf_counter() - start < 1.0


# -- its use by Guidance -----------------------------------------------------------------------


def test_guidance_uses_the_gp_only_while_young() -> None:
    guidance = Guidance(gp_sizes=3)
    assert [guidance.uses_gp(n, population_size=10) for n in (0, 29, 30)] == [True, True, False]
    assert not guidance.uses_gp(0, population_size=10, pareto=True)  # one objective, constraints
    assert not Guidance(gp_sizes=0).uses_gp(0, population_size=10)
    # By default: off with one objective, on below 5 populations with several.
    default = Guidance()
    assert not default.uses_gp(0, population_size=10)
    several = [
        default.uses_gp(n, population_size=10, pareto=True, multi_objective=True) for n in (49, 50)
    ]
    assert several == [True, False]


def test_guidance_picks_the_child_with_the_highest_expected_improvement() -> None:
    space = Space({"x": FloatDistribution(0.0, 1.0)})
    xs = np.array([[0.1], [0.3], [0.5], [0.7], [0.9]])
    encoded = Encoded(xs, -((xs[:, 0] - 0.3) ** 2), np.zeros((0, 1)), {})
    brood = Brood(np.array([[0.95], [0.32], [0.6]]), np.array([[0, 1]] * 3), np.array([False] * 3))
    guidance = Guidance(gp_sizes=5)
    chosen = guidance.choose(encoded, space, brood, lambda p: False, population_size=10)
    assert chosen is not None and chosen.params["x"] == pytest.approx(0.32)
    # A single-objective study with constraints keeps the density ratio: same call, other score.
    ratio = guidance.choose(
        encoded, space, brood, lambda p: False, population_size=10, pareto=True
    )
    assert ratio is not None and ratio.score != chosen.score


@pytest.mark.parametrize("directions", [["minimize"], ["minimize", "minimize"]])
def test_a_study_with_the_gp_runs(directions: list[str]) -> None:
    sampler = GeneticSampler(seed=0)
    evolution = sampler._evolution
    sampler._evolution = dataclasses.replace(
        evolution, guidance=dataclasses.replace(evolution.guidance, gp_sizes=5, gp_warped=True)
    )

    def objective(trial: optuna.Trial) -> float | tuple[float, float]:
        x = trial.suggest_float("x", -2.0, 2.0)
        c = trial.suggest_categorical("c", ["a", "b"])
        y = trial.suggest_int("y", 0, 3) if c == "a" else 0  # conditional gene
        value = x * x + y + (c == "b")
        return value if len(directions) == 1 else (value, (x - 1.0) ** 2)

    study = optuna.create_study(directions=directions, sampler=sampler)
    study.optimize(objective, n_trials=40)
    assert len(study.trials) == 40
    if len(directions) == 1:
        assert study.best_value < 1.01


def test_mixed_scores_add_the_density_ratio_to_the_log_ei() -> None:
    space = Space({"x": FloatDistribution(0.0, 1.0)})
    xs = np.array([[0.1], [0.3], [0.5], [0.7], [0.9]])
    encoded = Encoded(xs, -((xs[:, 0] - 0.3) ** 2), np.zeros((0, 1)), {})
    brood = Brood(np.array([[0.32]]), np.array([[0, 1]]), np.array([False]))
    scores = [
        Guidance(gp_sizes=5, gp_mix=mix).choose(
            encoded, space, brood, lambda p: False, population_size=10
        )
        for mix in (False, True)
    ]
    ratio = Guidance(gp_sizes=0).choose(encoded, space, brood, lambda p: False, population_size=10)
    assert scores[0] is not None and scores[1] is not None and ratio is not None
    assert scores[1].score == pytest.approx(scores[0].score + ratio.score, abs=1e-5)
