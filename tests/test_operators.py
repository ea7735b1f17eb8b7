"""GA operators (optuna_ga.operators): hand-derived outputs with a scripted RNG, and the
distributions they draw from, measured over many seeded draws.

Every operator has one form, over batches; a single child is one row. The statistical tests
draw both ways (one big batch, and many batches of one row from separate seeds) and check the
same frequencies, so that breeding one child and breeding a brood follow the same law.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from math import comb
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from optuna_ga.operators import CROSSOVERS
from optuna_ga.operators import SELECTIONS
from optuna_ga.operators import differing
from optuna_ga.operators import mutate
from optuna_ga.operators import pairs_by_weights
from optuna_ga.operators import rank
from optuna_ga.operators import rank_weights
from optuna_ga.operators import roulette
from optuna_ga.operators import roulette_weights
from optuna_ga.operators import sample_uniform
from optuna_ga.operators import single_point
from optuna_ga.operators import tournament
from optuna_ga.operators import uniform

LOW = np.array([-0.5, 0.0, 0.0, -0.5])
HIGH = np.array([3.5, 10.0, 10.0, 0.5])
N_CHOICES = np.array([4, 0, 0, 1])  # a categorical of 4, two numbers, a categorical of 1
GENES = SimpleNamespace(low=LOW, high=HIGH, n_choices=N_CHOICES)


def genes(low: list[float], high: list[float], n_choices: list[int]) -> SimpleNamespace:
    return SimpleNamespace(low=np.array(low), high=np.array(high), n_choices=np.array(n_choices))


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

    def normal(self, *args: Any, **kwargs: Any) -> Any:
        return self._next("normal", *args, **kwargs)

    def gumbel(self, *args: Any, **kwargs: Any) -> Any:
        return self._next("gumbel", *args, **kwargs)


def one_row_at_a_time(draw: Callable[[np.random.Generator], np.ndarray], n: int) -> np.ndarray:
    """``n`` one-row draws, each from its own seeded stream (as the sampler breeds one child)."""
    return np.concatenate([draw(np.random.default_rng([7, k])) for k in range(n)])


# -- selection: hand-derived -------------------------------------------------------------------


def test_roulette_weights_hand_derived() -> None:
    # spread 3, n 3: weights (0 + 1, 1 + 1, 3 + 1) / 7
    np.testing.assert_allclose(roulette_weights(np.array([1.0, 2.0, 4.0])), [1 / 7, 2 / 7, 4 / 7])
    # negative scores (a minimized loss, negated): same shape, shifted
    np.testing.assert_allclose(
        roulette_weights(np.array([-4.0, -3.0, -1.0])), [1 / 7, 2 / 7, 4 / 7]
    )
    np.testing.assert_allclose(roulette_weights(np.array([2.0, 2.0])), [0.5, 0.5])


def test_roulette_weights_are_finite_for_the_largest_finite_scores() -> None:
    scores = np.array([-1.7e308, 0.0, 1e308, 1.7e308])
    weights = roulette_weights(scores)
    assert np.isfinite(weights).all() and weights.sum() == pytest.approx(1.0)
    assert (np.diff(weights) > 0).all() and weights[0] > 0
    # Scaling every score by a power of two changes nothing.
    small = np.array([-3.0, -1.0, 2.0])
    assert roulette_weights(small * 2.0**1000).tolist() == roulette_weights(small).tolist()


def test_rank_weights_are_linear_in_rank_with_ties_by_position() -> None:
    assert (rank_weights(np.array([10.0, -5.0, 3.0])) * 6).tolist() == [3.0, 1.0, 2.0]
    assert (rank_weights(np.array([1.0, 1.0])) * 3).tolist() == [1.0, 2.0]


def test_roulette_draws_the_two_largest_perturbed_log_weights() -> None:
    # Gumbel-top-2: keys log w + G with w = (1, 2, 4) / 7. With G = 0 the order is the weights';
    # G = 5 on the first lifts log(1/7) + 5 = 3.05 above log(4/7) = -0.56 > log(2/7) = -1.25.
    scores = np.array([1.0, 2.0, 4.0])
    rng = ScriptedRNG(gumbel=[np.zeros((2, 3)) + np.array([[0.0, 0, 0], [5.0, 0, 0]])])
    assert roulette(scores, 2, rng).tolist() == [[2, 1], [0, 2]]  # type: ignore[arg-type]
    assert rng.calls == [("gumbel", (), {"size": (2, 3)})]  # one call for every pair


def test_rank_draws_by_rank_weights() -> None:
    # weights (3, 1, 2) / 6; G = (0, 0, 1.2): keys log(1/2), log(1/6), log(1/3) + 1.2 = 0.10
    rng = ScriptedRNG(gumbel=[np.array([[0.0, 0.0, 0.0], [0.0, 0.0, 1.2]])])
    pairs = rank(np.array([10.0, -5.0, 3.0]), 2, rng)  # type: ignore[arg-type]
    assert pairs.tolist() == [[0, 2], [2, 0]]


def test_tournament_picks_the_best_of_the_first_entrants_of_a_random_order() -> None:
    # Keys order the candidates; the first 3 enter. Row 0: entrants 0, 3, 1 -> 3 wins (7.0);
    # the second tournament excludes 3: entrants 0, 1, 2 -> 2 wins (9.0).
    keys = np.array([[0.1, 0.3, 0.5, 0.2]])
    rng = ScriptedRNG(random=[keys])
    scores = np.array([5.0, 1.0, 9.0, 7.0])
    assert tournament(scores, 1, rng).tolist() == [[3, 2]]  # type: ignore[arg-type]


def test_tournament_of_three_candidates_is_deterministic() -> None:
    # The first tournament sees all three, the second the other two.
    pairs = tournament(np.array([5.0, 1.0, 9.0]), 50, np.random.default_rng(0))
    assert pairs.tolist() == [[2, 0]] * 50


@pytest.mark.parametrize("name", sorted(SELECTIONS))
def test_selection_with_one_candidate(name: str) -> None:
    select = SELECTIONS[name]
    assert select(np.array([1.0]), 3, np.random.default_rng(0)).tolist() == [[0, 0]] * 3


@pytest.mark.parametrize("name", sorted(SELECTIONS))
def test_selections_draw_distinct_integer_pairs(name: str) -> None:
    pairs = SELECTIONS[name](np.arange(6.0), 500, np.random.default_rng(0))
    assert pairs.shape == (500, 2) and pairs.dtype.kind == "i"
    assert not np.any(pairs[:, 0] == pairs[:, 1]) and pairs.min() >= 0 and pairs.max() <= 5


def test_pairs_by_weights_follow_the_weights_of_successive_draws() -> None:
    # weights (1, 2, 4) / 7; the second is drawn among the others, renormalised:
    # P(2, 1) = 4/7 * 2/3, P(0, 2) = 1/7 * 4/6, P(first = 1) = 2/7.
    pairs = pairs_by_weights(np.array([1.0, 2.0, 4.0]) / 7, 60000, np.random.default_rng(0))
    counts = Counter(map(tuple, pairs.tolist()))
    assert counts[(2, 1)] / 60000 == pytest.approx(8 / 21, abs=0.01)
    assert counts[(0, 2)] / 60000 == pytest.approx(4 / 42, abs=0.01)
    assert np.mean(pairs[:, 0] == 1) == pytest.approx(2 / 7, abs=0.01)


# -- selection: distributions, in one batch and one pair at a time ------------------------------

SCORES = np.array([1.0, 2.0, 4.0, 0.0, 3.0])
#: P(first parent = i) per selection: the weights; for a tournament of 3 among 5 distinct
#: scores, the candidate of rank r (0 = worst) wins iff it is the best of its 3 entrants:
#: C(r, 2) / C(5, 3).
FIRST_PARENT = {
    "roulette": roulette_weights(SCORES),
    "rank": rank_weights(SCORES),
    "tournament": np.array([comb(r, 2) for r in (1, 2, 4, 0, 3)]) / comb(5, 3),
}


@pytest.mark.parametrize("name", sorted(SELECTIONS))
@pytest.mark.parametrize("batched", [True, False], ids=["one batch", "one pair at a time"])
def test_selections_keep_their_first_parent_distribution(name: str, batched: bool) -> None:
    select, n = SELECTIONS[name], 20000
    if batched:
        pairs = select(SCORES, n, np.random.default_rng(1))
    else:
        pairs = one_row_at_a_time(lambda rng: select(SCORES, 1, rng), n)
    frequencies = np.bincount(pairs[:, 0], minlength=5) / n
    # Binomial standard error at n = 20000 is at most 0.0036: 0.015 is about 4 of them.
    np.testing.assert_allclose(frequencies, FIRST_PARENT[name], atol=0.015)


def test_tournament_second_parent_is_the_best_of_three_others() -> None:
    # Scores 0 < 1 < 2 < 3 (ranks = indices). Given first = 3, the second tournament draws 3
    # of {0, 1, 2}: always 2. Given first = 2: 3 of {0, 1, 3} -> 3.
    pairs = tournament(np.array([0.0, 1.0, 2.0, 3.0]), 4000, np.random.default_rng(2))
    second_given = {int(f): set(pairs[pairs[:, 0] == f, 1].tolist()) for f in (2, 3)}
    assert second_given == {2: {3}, 3: {2}}
    # A tournament of three never crowns the worst, and the best wins it 3 times in 4.
    assert not np.any(pairs[:, 0] == 0)
    assert np.mean(pairs[:, 0] == 3) == pytest.approx(0.75, abs=0.02)


# -- crossover ---------------------------------------------------------------------------------


def test_differing_treats_nan_as_equal_to_nan_only() -> None:
    a = np.array([0.0, np.nan, np.nan, 1.0])
    b = np.array([0.0, np.nan, 2.0, 3.0])
    assert differing(a, b).tolist() == [False, False, True, True]


def test_single_point_cuts_each_row_at_its_drawn_position() -> None:
    # Row 0 differs at 0, 2, 3 (d = 5): cuts 1..3 are nontrivial; u = 0.5 -> 1 + floor(1.5) = 2.
    # Row 1 differs at 1 and 4: cuts 2..4; u = 0.9 -> 2 + floor(2.7) = 4.
    a = np.zeros((2, 5))
    b = np.array([[1.0, 0.0, 1.0, 1.0, 0.0], [0.0, 1.0, 0.0, 0.0, 1.0]])
    rng = ScriptedRNG(random=[np.array([0.5, 0.9])])
    children = single_point(a, b, GENES, rng)  # type: ignore[arg-type]
    assert children.tolist() == [[0.0, 0.0, 1.0, 1.0, 0.0], [0.0, 0.0, 0.0, 0.0, 1.0]]
    assert rng.calls == [("random", (2,), {})]  # one draw per row, in one call


def test_single_point_without_a_nontrivial_cut_copies_the_first_parent() -> None:
    a = np.array([[0.0, 5.0, 0.0], [0.0, np.nan, 2.0], [1.0, 1.0, 1.0]])
    b = np.array([[0.0, 6.0, 0.0], [0.0, np.nan, 3.0], [1.0, 1.0, 1.0]])
    children = single_point(a, b, GENES, np.random.default_rng(0))
    np.testing.assert_array_equal(children, a)


def test_single_point_never_clones_a_parent() -> None:
    rng = np.random.default_rng(0)
    a = rng.integers(0, 2, (2000, 6)).astype(float)
    b = rng.integers(0, 2, (2000, 6)).astype(float)
    children = single_point(a, b, GENES, rng)
    cut = differing(a, b).sum(axis=1) >= 2
    assert cut.sum() > 1000
    assert not np.any(np.all(children[cut] == a[cut], axis=1))
    assert not np.any(np.all(children[cut] == b[cut], axis=1))


@pytest.mark.parametrize("batched", [True, False], ids=["one batch", "one row at a time"])
def test_single_point_cut_is_uniform_over_the_nontrivial_positions(batched: bool) -> None:
    # Parents that differ in every gene of 6: the nontrivial cuts are 1 .. 5, and the cut is
    # the number of leading genes taken from a (zeros).
    a, b = np.zeros((1, 6)), np.ones((1, 6))
    n = 15000
    if batched:
        children = single_point(np.repeat(a, n, 0), np.repeat(b, n, 0), GENES, _rng(3))
    else:
        children = one_row_at_a_time(lambda rng: single_point(a, b, GENES, rng), n)
    cuts = (children == 0).sum(axis=1)
    np.testing.assert_array_equal(children, np.arange(6) >= cuts[:, None])  # one cut each
    frequencies = np.bincount(cuts, minlength=6) / n
    np.testing.assert_allclose(frequencies, [0, 0.2, 0.2, 0.2, 0.2, 0.2], atol=0.015)


@pytest.mark.parametrize("batched", [True, False], ids=["one batch", "one row at a time"])
def test_uniform_crossover_takes_each_gene_from_either_parent_by_coin(batched: bool) -> None:
    a, b = np.zeros((1, 5)), np.ones((1, 5))
    n = 8000
    if batched:
        children = uniform(np.repeat(a, n, 0), np.repeat(b, n, 0), GENES, _rng(4))
    else:
        children = one_row_at_a_time(lambda rng: uniform(a, b, GENES, rng), n)
    assert set(np.unique(children)) == {0.0, 1.0}
    np.testing.assert_allclose(children.mean(axis=0), 0.5, atol=0.02)
    # Genes are independent: P(both genes 0 and 1 from b) = 1/4.
    assert np.mean(children[:, 0] * children[:, 1]) == pytest.approx(0.25, abs=0.02)


def test_uniform_crossover_hand_derived() -> None:
    rng = ScriptedRNG(random=[np.array([[0.1, 0.9, 0.4, 0.6]])])
    children = uniform(np.zeros((1, 4)), np.ones((1, 4)), GENES, rng)  # type: ignore[arg-type]
    assert children.tolist() == [[0.0, 1.0, 0.0, 1.0]]


def test_crossovers_keep_shapes_and_nan_genes_of_both_parents() -> None:
    a = np.array([[np.nan, 1.0, 2.0, 3.0]] * 3)
    b = np.array([[np.nan, 5.0, 6.0, 7.0]] * 3)
    for name, crossover in CROSSOVERS.items():
        children = crossover(a, b, GENES, np.random.default_rng(0))
        assert children.shape == (3, 4), name
        assert np.isnan(children[:, 0]).all(), name


# -- mutation ----------------------------------------------------------------------------------


def test_mutate_hand_derived() -> None:
    x = np.array([[1.0, 5.0, 5.0, 0.0]])
    uniforms = np.array(
        [
            [[0.0, 0.0, 0.0, 0.0]],  # hit: every gene (rate 1)
            [[0.9, 0.1, 0.9, 0.9]],  # resample: gene 1 only (< 1/2, numeric)
            [[0.0, 0.7, 0.0, 0.0]],  # uniform value: gene 1 -> 0 + 0.7 * 10 = 7
            [[0.5, 0.0, 0.0, 0.0]],  # categorical shift: 1 + floor(0.5 * (4 - 1)) = 2
        ]
    )
    rng = ScriptedRNG(random=[uniforms], normal=[np.array([[0.0, 0.0, 0.5, 0.0]])])
    y, hit = mutate(x, GENES, 1.0, rng)  # type: ignore[arg-type]
    # gene 0: categorical, (1 + 2) % 4 = 3; gene 1: resampled -> 7; gene 2: step 0.5 * 10 -> 10
    # (clipped); gene 3: one choice, unchanged
    assert y.tolist() == [[3.0, 7.0, 10.0, 0.0]]
    assert hit.all()
    assert [name for name, _, _ in rng.calls] == ["random", "normal"]


@pytest.mark.parametrize("rate", [0.05, 0.25, 0.6])
@pytest.mark.parametrize("batched", [True, False], ids=["one batch", "one row at a time"])
def test_mutation_rate_is_the_share_of_genes_hit(rate: float, batched: bool) -> None:
    x = np.array([[2.0, 5.0, 5.0, 0.0]])
    n = 6000
    if batched:
        _, hit = mutate(np.repeat(x, n, 0), GENES, rate, _rng(5))
    else:
        hit = one_row_at_a_time(lambda rng: mutate(x, GENES, rate, rng)[1], n)
    # Each gene is hit independently with probability ``rate``; n * 4 = 24000 genes.
    assert hit.mean() == pytest.approx(rate, abs=0.012)
    np.testing.assert_allclose(hit.mean(axis=0), rate, atol=0.025)


def test_mutate_rows_independently() -> None:
    x = np.tile([2.0, 5.0, np.nan, 0.0], (2000, 1))
    y, hit = mutate(x, GENES, 0.5, np.random.default_rng(0))
    changed = hit[:, 0]
    assert np.all(y[changed, 0] != 2.0) and np.all(y[~changed, 0] == 2.0)
    assert np.all(np.isin(y[changed, 0], [0.0, 1.0, 3.0]))
    assert np.all((LOW[1] <= y[:, 1]) & (y[:, 1] <= HIGH[1]))
    assert not np.isnan(y[hit[:, 2], 2]).any() and np.isnan(y[~hit[:, 2], 2]).all()
    assert len({tuple(row) for row in y[:, :2].tolist()}) > 500  # rows do not share draws


def test_mutated_categorical_shift_is_uniform_over_the_other_choices() -> None:
    x = np.full((30000, 1), 1.0)
    y, _ = mutate(x, genes([-0.5], [3.5], [4]), 1.0, _rng(1))
    counts = Counter(y[:, 0].tolist())
    assert set(counts) == {0.0, 2.0, 3.0}
    for choice in (0.0, 2.0, 3.0):
        assert counts[choice] / 30000 == pytest.approx(1 / 3, abs=0.015)


def test_mutated_number_is_half_redrawn_half_stepped() -> None:
    # From the middle of [0, 10]: a local step (sd 1) stays within 4 of 5 with probability
    # 0.99994; a uniform redraw lands within 4 of 5 with probability 0.8. So P(|y - 5| > 4) is
    # 1/2 * 0.2 + 1/2 * 0.00006 = 0.1.
    x = np.full((20000, 1), 5.0)
    y, _ = mutate(x, genes([0.0], [10.0], [0]), 1.0, _rng(6))
    assert np.mean(np.abs(y - 5.0) > 4.0) == pytest.approx(0.1, abs=0.01)
    assert (y >= 0.0).all() and (y <= 10.0).all()


def test_mutation_rate_zero_changes_nothing_and_nan_genes_are_resampled() -> None:
    rng = np.random.default_rng(0)
    x = np.array([[1.0, np.nan, 5.0, 0.0]])
    y, hit = mutate(x, GENES, 0.0, rng)
    assert not hit.any() and np.array_equal(y, x, equal_nan=True)
    y, _ = mutate(x, GENES, 1.0, rng)
    assert not np.isnan(y).any()


def test_at_least_one_mutates_one_uniform_gene_of_each_unhit_row_only() -> None:
    x = np.tile([2.0, 5.0, 5.0, 0.0], (8000, 1))
    plain, plain_hit = mutate(x, GENES, 0.1, _rng(7))
    y, hit = mutate(x, GENES, 0.1, _rng(7), at_least_one=True)  # the same first draws
    unhit = ~plain_hit.any(axis=1)
    assert unhit.sum() > 4000  # 0.9 ** 4 = 0.66 of the rows
    np.testing.assert_array_equal(y[~unhit], plain[~unhit])  # hit rows are left as they were
    np.testing.assert_array_equal(hit[~unhit], plain_hit[~unhit])
    assert (hit[unhit].sum(axis=1) == 1).all()
    np.testing.assert_allclose(hit[unhit].mean(axis=0), 0.25, atol=0.025)
    # The forced gene mutates as any hit gene does: a categorical takes another choice.
    forced_cat = unhit & hit[:, 0]
    assert np.all(y[forced_cat, 0] != 2.0)


def test_at_least_one_draws_nothing_more_when_every_row_was_hit() -> None:
    x = np.zeros((3, 2))
    uniforms = np.zeros((4, 3, 2))  # every gene hit
    rng = ScriptedRNG(random=[uniforms], normal=[np.zeros((3, 2))])
    mutate(x, genes([0, 0], [1, 1], [0, 0]), 0.5, rng, at_least_one=True)  # type: ignore[arg-type]
    assert [name for name, _, _ in rng.calls] == ["random", "normal"]


# -- uniform sampling --------------------------------------------------------------------------


def test_sample_uniform_shapes_bounds_and_choices() -> None:
    draws = sample_uniform(GENES, _rng(0), size=500)
    assert draws.shape == (500, 4)
    assert set(draws[:, 0]) == {0.0, 1.0, 2.0, 3.0} and set(draws[:, 3]) == {0.0}
    assert (draws[:, 1] >= 0).all() and (draws[:, 1] <= 10).all()
    assert sample_uniform(GENES, _rng(0)).tolist() == draws[0].tolist()  # one genome


def test_sample_uniform_choices_are_equally_likely() -> None:
    draws = sample_uniform(GENES, _rng(2), size=40000)
    counts = Counter(draws[:, 0].tolist())
    assert set(counts) == {0.0, 1.0, 2.0, 3.0}
    for choice in range(4):
        assert counts[float(choice)] / 40000 == pytest.approx(0.25, abs=0.01)
    assert draws[:, 1].mean() == pytest.approx(5.0, abs=0.1)


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)
