from __future__ import annotations

import math
import subprocess
import sys
from typing import Any

import numpy as np
import pytest
from optuna.distributions import BaseDistribution
from optuna.distributions import CategoricalDistribution
from optuna.distributions import FloatDistribution
from optuna.distributions import IntDistribution

from optuna_ga._encoding import Space
from optuna_ga._encoding import canonical_hash
from optuna_ga._encoding import cardinality
from optuna_ga._encoding import fits
from optuna_ga._encoding import merge_order


def test_hash_is_order_independent_and_type_sensitive() -> None:
    assert canonical_hash({"a": 1, "b": "x"}) == canonical_hash({"b": "x", "a": 1})
    assert canonical_hash({"a": 1}) != canonical_hash({"a": 1.0})
    assert canonical_hash({"a": True}) != canonical_hash({"a": 1})
    assert canonical_hash({"a": None}) != canonical_hash({"a": "None"})
    assert canonical_hash({"a": 0.1 + 0.2}) == canonical_hash({"a": 0.3})
    assert canonical_hash({"a": np.float64(0.5)}) == canonical_hash({"a": 0.5})
    assert canonical_hash({"a": 1}) != canonical_hash({"b": 1})


def test_hash_is_stable_across_processes_and_hash_seeds() -> None:
    code = "from optuna_ga import canonical_hash; print(canonical_hash({'u': 64, 'act': 'relu'}))"
    outputs = {
        subprocess.run(
            [sys.executable, "-c", code],
            env={"PYTHONHASHSEED": seed, "PATH": ""},
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        for seed in ("1", "2", "3")
    }
    assert outputs == {canonical_hash({"act": "relu", "u": 64})}


def test_cardinality() -> None:
    assert cardinality(CategoricalDistribution(["a", "b", "c"])) == 3
    assert cardinality(IntDistribution(0, 10, step=2)) == 6
    assert cardinality(IntDistribution(1, 100, log=True)) == 100
    assert cardinality(FloatDistribution(0.0, 1.0, step=0.25)) == 5
    assert cardinality(FloatDistribution(0.0, 1.0)) == math.inf
    assert cardinality(FloatDistribution(1.0, 1.0)) == 1


SPACE = Space(
    {
        "f": FloatDistribution(-1.0, 1.0),
        "lr": FloatDistribution(1e-4, 1e-1, log=True),
        "i": IntDistribution(0, 10, step=2),
        "u": IntDistribution(16, 1024, log=True),
        "s": FloatDistribution(0.0, 0.5, step=0.1),
        "c": CategoricalDistribution(["relu", None, 3]),
    }
)


def test_encode_known_values() -> None:
    x = SPACE.encode({"f": 0.5, "lr": 1e-2, "i": 4, "u": 64, "s": 0.2, "c": 3})
    np.testing.assert_allclose(x, [0.5, math.log(1e-2), 4.0, math.log(64), 0.2, 2.0])


def test_encode_missing_and_out_of_range_genes_are_nan() -> None:
    x = SPACE.encode({"f": 2.0, "i": 3, "c": "gelu"})
    assert np.isnan(x).all()


def test_bounds_are_widened_by_half_a_step() -> None:
    np.testing.assert_allclose(SPACE.low[[0, 2, 4, 5]], [-1.0, -1.0, -0.05, -0.5])
    np.testing.assert_allclose(SPACE.high[[0, 2, 4, 5]], [1.0, 11.0, 0.55, 2.5])
    np.testing.assert_allclose(SPACE.low[3], math.log(15.5))
    np.testing.assert_allclose(SPACE.high[3], math.log(1024.5))


def test_decode_snaps_onto_grid_and_bounds() -> None:
    x = np.array([5.0, math.log(1.0), 3.4, math.log(100.2), 0.27, 1.6])
    assert SPACE.decode(x) == {"f": 1.0, "lr": 0.1, "i": 4, "u": 100, "s": 0.3, "c": 3}


def test_decode_returns_python_types_and_skips_nan() -> None:
    x = np.array([0.1, np.nan, 2.0, math.log(16), 0.0, 0.0])
    params = SPACE.decode(x)
    assert "lr" not in params
    assert type(params["f"]) is float and type(params["i"]) is int and type(params["u"]) is int
    assert params["c"] == "relu"


def test_roundtrip_of_random_vectors_stays_in_distributions() -> None:
    rng = np.random.default_rng(0)
    for _ in range(200):
        params = SPACE.decode(rng.uniform(SPACE.low, SPACE.high))
        for name, dist in SPACE.distributions.items():
            assert dist._contains(dist.to_internal_repr(params[name])), (name, params[name])
        assert SPACE.decode(SPACE.encode(params)) == params


@pytest.mark.parametrize(
    ("order", "names", "expected"),
    [
        ([], ["a", "b"], ["a", "b"]),
        (["n", "u1", "lr"], ["n", "u1", "u2", "u3", "lr"], ["n", "u1", "u2", "u3", "lr"]),
        (["a", "b"], ["z", "a"], ["z", "a", "b"]),
        (["a", "b"], ["b", "a"], ["a", "b"]),
    ],
)
def test_merge_order(order: list[str], names: list[str], expected: list[str]) -> None:
    assert merge_order(order, names) == expected


def test_grid_lists_every_value() -> None:
    from optuna_ga._encoding import grid

    assert grid(IntDistribution(1, 10, step=3)) == [1, 4, 7, 10]
    assert grid(IntDistribution(1, 8, log=True)) == list(range(1, 9))
    assert grid(FloatDistribution(0.0, 0.5, step=0.1)) == [0.0, 0.1, 0.2, 0.3, 0.4, 0.5]
    with pytest.raises(ValueError, match="continuous"):
        grid(FloatDistribution(0.0, 1.0))


def test_choices_equal_under_eq_are_one_value_in_the_encoding() -> None:
    from optuna_ga._encoding import grid

    dist = CategoricalDistribution([1, True, "x", 1.0])
    assert cardinality(dist) == 2 and grid(dist) == [1, "x"]
    space = Space({"c": dist})
    assert space.n_choices.tolist() == [2]
    assert space.encode({"c": True}).tolist() == space.encode({"c": 1}).tolist() == [0.0]
    assert {space.decode(np.array([x]))["c"] for x in (-0.4, 0.0, 0.6, 1.4)} == {1, "x"}


@pytest.mark.parametrize(
    ("distribution", "value", "expected"),
    [
        (IntDistribution(0, 10, step=2), 4, True),
        (IntDistribution(0, 10, step=2), 5, False),
        (IntDistribution(0, 10), 3.5, False),
        (IntDistribution(0, 10), 11, False),
        (FloatDistribution(0.0, 1.0), True, False),
        (FloatDistribution(0.0, 1.0), "0.5", False),
        (FloatDistribution(0.0, 1.0, step=0.1), 0.30000000000000004, True),
        (FloatDistribution(0.0, 1.0, step=0.1), 0.35, False),
        (FloatDistribution(1e-3, 1.0, log=True), 0.0, False),
        (CategoricalDistribution(["a", None]), None, True),
        (CategoricalDistribution(["a"]), "b", False),
    ],
)
def test_fits_agrees_with_what_optuna_accepts(
    distribution: BaseDistribution, value: Any, expected: bool
) -> None:
    assert fits(distribution, value) is expected


@pytest.mark.parametrize(
    "distribution",
    [
        IntDistribution(-3, 9, step=3),
        IntDistribution(1, 64, log=True),
        FloatDistribution(-1.0, 1.0),
        FloatDistribution(0.0, 1.0, step=0.1),
        FloatDistribution(1e-3, 1.0, log=True),
    ],
)
def test_fits_agrees_with_optunas_own_test_of_fixed_values(distribution: BaseDistribution) -> None:
    values = [v / 20 for v in range(-100, 260)] + [0.1 * 3, 0.7, 1e-3, float("nan"), float("inf")]
    for value in values:
        expected = distribution._contains(value)  # type: ignore[attr-defined]
        if isinstance(distribution, IntDistribution):
            expected = expected and value == int(value) if math.isfinite(value) else False
        assert fits(distribution, value) is bool(expected), value
