"""GA operators against hand-derived outputs, with a scripted RNG or a fixed seed."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import pytest

from optuna_ga.operators import differing
from optuna_ga.operators import mutate
from optuna_ga.operators import rank
from optuna_ga.operators import rank_pairs
from optuna_ga.operators import roulette
from optuna_ga.operators import roulette_pairs
from optuna_ga.operators import roulette_weights
from optuna_ga.operators import sample_uniform
from optuna_ga.operators import single_point
from optuna_ga.operators import single_point_rows
from optuna_ga.operators import tournament
from optuna_ga.operators import tournament_pairs
from optuna_ga.operators import uniform
from optuna_ga.operators import uniform_rows


class ScriptedRNG:
    """Returns scripted values and records each call, so outputs can be derived by hand."""

    def __init__(self, **script: list[Any]) -> None:
        self.script = {k: list(v) for k, v in script.items()}
        self.calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []

    def _next(self, name: str, *args: Any, **kwargs: Any) -> Any:
        self.calls.append((name, args, kwargs))
        return self.script[name].pop(0)

    def integers(self, *args: Any, **kwargs: Any) -> Any:
        return self._next("integers", *args, **kwargs)

    def random(self, *args: Any, **kwargs: Any) -> Any:
        return self._next("random", *args, **kwargs)

    def choice(self, *args: Any, **kwargs: Any) -> Any:
        return self._next("choice", *args, **kwargs)

    def uniform(self, *args: Any, **kwargs: Any) -> Any:
        return self._next("uniform", *args, **kwargs)

    def normal(self, *args: Any, **kwargs: Any) -> Any:
        return self._next("normal", *args, **kwargs)

    def gumbel(self, *args: Any, **kwargs: Any) -> Any:
        return self._next("gumbel", *args, **kwargs)


# -- crossover ---------------------------------------------------------------------------------


def test_differing_treats_nan_as_equal_to_nan_only() -> None:
    a = np.array([0.0, np.nan, np.nan, 1.0])
    b = np.array([0.0, np.nan, 2.0, 3.0])
    assert differing(a, b).tolist() == [False, False, True, True]


def test_single_point_draws_the_cut_among_nontrivial_positions() -> None:
    a = np.array([0.0, 0.0, 0.0, 0.0, 0.0])
    b = np.array([1.0, 0.0, 1.0, 1.0, 0.0])  # differs at 0, 2, 3: cuts 1..3 are nontrivial
    rng = ScriptedRNG(integers=[2])
    child, from_a = single_point(a, b, rng)  # type: ignore[arg-type]
    assert rng.calls == [("integers", (1, 4), {})]
    assert child.tolist() == [0.0, 0.0, 1.0, 1.0, 0.0]
    assert from_a.tolist() == [True, True, False, False, False]


@pytest.mark.parametrize(("cut", "expected"), [(1, [0, 1, 1, 1]), (3, [0, 0, 0, 1])])
def test_single_point_table(cut: int, expected: list[float]) -> None:
    a, b = np.zeros(4), np.array([1.0, 1.0, 1.0, 1.0])
    child, _ = single_point(a, b, ScriptedRNG(integers=[cut]))  # type: ignore[arg-type]
    assert child.tolist() == expected


def test_single_point_never_clones_a_parent() -> None:
    rng = np.random.default_rng(0)
    for _ in range(500):
        a = rng.integers(0, 2, 6).astype(float)
        b = rng.integers(0, 2, 6).astype(float)
        child, _ = single_point(a, b, rng)
        if differing(a, b).sum() >= 2:
            assert not np.array_equal(child, a) and not np.array_equal(child, b)


def test_single_point_without_a_nontrivial_cut_copies_the_first_parent() -> None:
    a, b = np.array([0.0, 5.0, 0.0]), np.array([0.0, 6.0, 0.0])
    rng = ScriptedRNG()
    child, from_a = single_point(a, b, rng)  # type: ignore[arg-type]
    assert child.tolist() == a.tolist() and from_a.all() and rng.calls == []


def test_uniform_crossover_takes_genes_by_coin() -> None:
    rng = ScriptedRNG(random=[np.array([0.1, 0.9, 0.4, 0.6])])
    child, from_a = uniform(np.zeros(4), np.ones(4), rng)  # type: ignore[arg-type]
    assert child.tolist() == [0.0, 1.0, 0.0, 1.0]
    assert from_a.tolist() == [True, False, True, False]


# -- selection ---------------------------------------------------------------------------------


def test_roulette_weights_hand_derived() -> None:
    # spread 3, n 3: weights (0 + 1, 1 + 1, 3 + 1) / 7
    np.testing.assert_allclose(roulette_weights(np.array([1.0, 2.0, 4.0])), [1 / 7, 2 / 7, 4 / 7])
    # negative scores (a minimized loss, negated): same shape, shifted
    np.testing.assert_allclose(
        roulette_weights(np.array([-4.0, -3.0, -1.0])), [1 / 7, 2 / 7, 4 / 7]
    )
    np.testing.assert_allclose(roulette_weights(np.array([2.0, 2.0])), [0.5, 0.5])


def test_roulette_draws_the_two_largest_perturbed_log_weights() -> None:
    # Gumbel-top-2: keys log w + G with w = (1, 2, 4) / 7. With G = 0 the order is the weights';
    # G = 5 on the first lifts log(1/7) + 5 = 3.05 above log(4/7) = -0.56 > log(2/7) = -1.25.
    scores = np.array([1.0, 2.0, 4.0])
    rng = ScriptedRNG(gumbel=[np.zeros((1, 3)), np.array([[5.0, 0.0, 0.0]])])
    assert roulette(scores, rng) == (2, 1)  # type: ignore[arg-type]
    assert roulette(scores, rng) == (0, 2)  # type: ignore[arg-type]
    assert rng.calls[0][2] == {"size": (1, 3)}


def test_roulette_frequencies_follow_fitness() -> None:
    rng = np.random.default_rng(0)
    scores = np.array([1.0, 2.0, 4.0])
    counts = Counter(roulette(scores, rng)[0] for _ in range(20000))
    np.testing.assert_allclose(
        [counts[i] / 20000 for i in range(3)], [1 / 7, 2 / 7, 4 / 7], atol=0.015
    )


def test_rank_weights_are_linear_in_rank() -> None:
    # weights (3, 1, 2) / 6; G = (0, 0, 1.2): keys log(1/2), log(1/6), log(1/3) + 1.2 = 0.10
    rng = ScriptedRNG(gumbel=[np.zeros((1, 3)), np.array([[0.0, 0.0, 1.2]])])
    scores = np.array([10.0, -5.0, 3.0])
    assert rank(scores, rng) == (0, 2)  # type: ignore[arg-type]
    assert rank(scores, rng) == (2, 0)  # type: ignore[arg-type]


def test_tournament_picks_the_best_of_the_drawn() -> None:
    rng = ScriptedRNG(choice=[np.array([0, 3, 1]), np.array([2, 1, 3])])
    scores = np.array([5.0, 1.0, 9.0, 7.0])
    assert tournament(scores, rng) == (3, 2)  # type: ignore[arg-type]
    assert rng.calls[1][1][0].tolist() == [0, 1, 2]  # the first winner is excluded


def test_selection_with_one_candidate() -> None:
    rng = np.random.default_rng(0)
    for select in (roulette, rank, tournament):
        assert select(np.array([1.0]), rng) == (0, 0)


# -- batch forms -------------------------------------------------------------------------------


def test_roulette_pairs_follow_the_weights_of_successive_draws() -> None:
    # weights (1, 2, 4) / 7; the second is drawn among the others, renormalised:
    # P(2, 1) = 4/7 * 2/3, P(0, 2) = 1/7 * 4/6, P(first = 1) = 2/7.
    pairs = roulette_pairs(np.array([1.0, 2.0, 4.0]), 60000, np.random.default_rng(0))
    assert pairs.shape == (60000, 2) and not np.any(pairs[:, 0] == pairs[:, 1])
    counts = Counter(map(tuple, pairs.tolist()))
    assert counts[(2, 1)] / 60000 == pytest.approx(8 / 21, abs=0.01)
    assert counts[(0, 2)] / 60000 == pytest.approx(4 / 42, abs=0.01)
    assert np.mean(pairs[:, 0] == 1) == pytest.approx(2 / 7, abs=0.01)


def test_rank_pairs_are_linear_in_rank() -> None:
    pairs = rank_pairs(np.array([10.0, -5.0, 3.0]), 30000, np.random.default_rng(0))
    first = np.bincount(pairs[:, 0], minlength=3) / 30000
    np.testing.assert_allclose(first, [3 / 6, 1 / 6, 2 / 6], atol=0.01)


def test_tournament_pairs_hand_derived_and_exclusive() -> None:
    # Three candidates: the first tournament sees all three, the second the other two.
    pairs = tournament_pairs(np.array([5.0, 1.0, 9.0]), 50, np.random.default_rng(0))
    assert pairs.tolist() == [[2, 0]] * 50
    # Four: a tournament of three never crowns the worst; the best wins it 3 times in 4.
    pairs = tournament_pairs(np.array([5.0, 1.0, 9.0, 7.0]), 20000, np.random.default_rng(1))
    assert not np.any(pairs[:, 0] == 1) and not np.any(pairs[:, 0] == pairs[:, 1])
    assert np.mean(pairs[:, 0] == 2) == pytest.approx(0.75, abs=0.015)


def test_batch_selection_with_one_candidate() -> None:
    for select in (roulette_pairs, rank_pairs, tournament_pairs):
        assert select(np.array([1.0]), 3, np.random.default_rng(0)).tolist() == [[0, 0]] * 3


def test_single_point_rows_cut_each_row_uniformly_among_nontrivial_positions() -> None:
    a = np.zeros((30000, 4))
    b = np.tile([1.0, 0.0, 1.0, 1.0], (30000, 1))  # differing genes 0, 2, 3: cuts 1, 2, 3
    child, from_a = single_point_rows(a, b, np.random.default_rng(0))
    cuts = Counter(from_a.sum(axis=1).tolist())
    assert set(cuts) == {1, 2, 3}
    for cut in (1, 2, 3):
        assert cuts[cut] / 30000 == pytest.approx(1 / 3, abs=0.015)
    np.testing.assert_array_equal(child, np.where(from_a, a, b))
    # A row whose parents differ in fewer than two genes is a copy of its first parent.
    one = single_point_rows(
        np.array([[0.0, np.nan, 2.0]]), np.array([[0.0, np.nan, 3.0]]), np.random.default_rng(0)
    )[0]
    np.testing.assert_array_equal(one, [[0.0, np.nan, 2.0]])


def test_uniform_rows_take_genes_by_coin() -> None:
    child, from_a = uniform_rows(np.zeros((4000, 5)), np.ones((4000, 5)), np.random.default_rng(0))
    np.testing.assert_array_equal(child, np.where(from_a, 0.0, 1.0))
    assert from_a.mean() == pytest.approx(0.5, abs=0.02)


def test_mutate_batch_mutates_rows_independently() -> None:
    x = np.tile([2.0, 5.0, np.nan, 0.0], (2000, 1))
    y, hit = mutate(x, LOW, HIGH, N_CHOICES, 0.5, np.random.default_rng(0))
    assert y.shape == x.shape and hit.mean() == pytest.approx(0.5, abs=0.02)
    changed = hit[:, 0]
    assert np.all(y[changed, 0] != 2.0) and np.all(y[~changed, 0] == 2.0)
    assert np.all(np.isin(y[changed, 0], [0.0, 1.0, 3.0]))
    assert np.all((LOW[1] <= y[:, 1]) & (y[:, 1] <= HIGH[1]))
    assert not np.isnan(y[hit[:, 2], 2]).any() and np.isnan(y[~hit[:, 2], 2]).all()
    assert len({tuple(row) for row in y[:, :2].tolist()}) > 500  # rows do not share draws


def test_sample_uniform_batch_shape_and_bounds() -> None:
    draws = sample_uniform(LOW, HIGH, N_CHOICES, np.random.default_rng(0), size=500)
    assert draws.shape == (500, 4)
    assert set(draws[:, 0]) == {0.0, 1.0, 2.0, 3.0} and set(draws[:, 3]) == {0.0}
    assert (draws[:, 1] >= 0).all() and (draws[:, 1] <= 10).all()


# -- mutation ----------------------------------------------------------------------------------

LOW = np.array([-0.5, 0.0, 0.0, -0.5])
HIGH = np.array([3.5, 10.0, 10.0, 0.5])
N_CHOICES = np.array([4, 0, 0, 1])


def test_mutate_hand_derived() -> None:
    x = np.array([1.0, 5.0, 5.0, 0.0])
    uniforms = np.array(
        [
            [0.0, 0.0, 0.0, 0.0],  # hit: every gene (rate 1)
            [0.9, 0.1, 0.9, 0.9],  # resample: gene 1 only (< 1/2, numeric)
            [0.0, 0.7, 0.0, 0.0],  # uniform value: gene 1 -> 0 + 0.7 * 10 = 7
            [0.5, 0.0, 0.0, 0.0],  # categorical shift: 1 + floor(0.5 * (4 - 1)) = 2
        ]
    )
    rng = ScriptedRNG(random=[uniforms], normal=[np.array([0.0, 0.0, 0.5, 0.0])])
    y, hit = mutate(x, LOW, HIGH, N_CHOICES, 1.0, rng)  # type: ignore[arg-type]
    # gene 0: categorical, (1 + 2) % 4 = 3; gene 1: resampled -> 7; gene 2: step 0.5 * 10 -> 10
    # (clipped); gene 3: one choice, unchanged
    assert y.tolist() == [3.0, 7.0, 10.0, 0.0]
    assert hit.all()
    assert [name for name, _, _ in rng.calls] == ["random", "normal"]


def test_mutated_categorical_shift_is_uniform_over_the_other_choices() -> None:
    x = np.full((30000, 1), 1.0)
    rng = np.random.default_rng(1)
    y, _ = mutate(x, np.array([-0.5]), np.array([3.5]), np.array([4]), 1.0, rng)
    counts = Counter(y[:, 0].tolist())
    assert set(counts) == {0.0, 2.0, 3.0}
    for choice in (0.0, 2.0, 3.0):
        assert counts[choice] / 30000 == pytest.approx(1 / 3, abs=0.015)


def test_sample_uniform_choices_are_equally_likely() -> None:
    draws = sample_uniform(LOW, HIGH, N_CHOICES, np.random.default_rng(2), size=40000)
    counts = Counter(draws[:, 0].tolist())
    assert set(counts) == {0.0, 1.0, 2.0, 3.0}
    for choice in range(4):
        assert counts[float(choice)] / 40000 == pytest.approx(0.25, abs=0.01)
    assert draws[:, 1].mean() == pytest.approx(5.0, abs=0.1)


def test_mutated_categorical_always_changes() -> None:
    rng = np.random.default_rng(0)
    x = np.array([2.0, 5.0, 5.0, 0.0])
    for _ in range(300):
        y, _ = mutate(x, LOW, HIGH, N_CHOICES, 1.0, rng)
        assert y[0] != x[0] and y[0] in (0.0, 1.0, 3.0)
        assert LOW[1] <= y[1] <= HIGH[1]


def test_mutation_rate_zero_changes_nothing_and_nan_genes_are_resampled() -> None:
    rng = np.random.default_rng(0)
    x = np.array([1.0, np.nan, 5.0, 0.0])
    y, hit = mutate(x, LOW, HIGH, N_CHOICES, 0.0, rng)
    assert not hit.any() and np.array_equal(y, x, equal_nan=True)
    y, _ = mutate(x, LOW, HIGH, N_CHOICES, 1.0, rng)
    assert not np.isnan(y).any()


def test_sample_uniform_respects_bounds_and_choices() -> None:
    rng = np.random.default_rng(0)
    draws = np.array([sample_uniform(LOW, HIGH, N_CHOICES, rng) for _ in range(500)])
    assert set(draws[:, 0]) == {0.0, 1.0, 2.0, 3.0}
    assert (draws[:, 1] >= 0).all() and (draws[:, 1] <= 10).all()
    assert set(draws[:, 3]) == {0.0}
