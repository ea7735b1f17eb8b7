"""The surrogate's maths (optuna_ga._surrogate) on small hand-computed cases.

How the sampler uses it (when, among how many children, with which good group) is in
test_guidance.py.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from optuna.distributions import CategoricalDistribution
from optuna.distributions import FloatDistribution
from optuna.distributions import IntDistribution

from optuna_ga._encoding import Space
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
