"""Genome encoding: Optuna parameters <-> float vectors, and canonical hashes.

A *genome* is a float vector with one entry per gene (parameter name). Each entry lives in a
transformed space where the GA operators work:

* float and int parameters: the value itself, or its logarithm when ``log=True``; discrete
  parameters (ints and floats with a ``step``) are widened by half a step on both sides so that
  rounding back to the grid gives every grid point the same share of the interval;
* categorical parameters: the index of the choice among the *distinct* choices. Optuna stores a
  choice by the index of the first choice equal to it under ``==`` (``True`` in ``[1, True]``
  is stored as ``1``), so choices equal under ``==`` are one point (see :func:`choices`).

``NaN`` marks a gene the individual does not have (a conditional parameter it never used, or a
value that no longer fits the current distribution). Decoding snaps every value back onto its
distribution (bounds, ``step``, ``log``), so any vector an operator returns decodes to valid
parameters. The idea follows Optuna's ``_SearchSpaceTransform``; this module is our own.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any

import numpy as np
from optuna.distributions import BaseDistribution
from optuna.distributions import CategoricalDistribution
from optuna.distributions import FloatDistribution
from optuna.distributions import IntDistribution

__all__ = ["Space", "canonical_hash", "cardinality", "choices", "grid", "merge_order"]


def _canonical_value(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        # 12 significant digits: 0.30000000000000004 and 0.3 are the same grid point.
        return float(f"{value:.12g}")
    return str(value)


_JSON = json.JSONEncoder(separators=(",", ":"), ensure_ascii=True)  # as json.dumps, made once


def canonical_hash(params: Mapping[str, Any]) -> str:
    """Return a process-independent hash of a parameter set.

    The hash is SHA-256 over canonical JSON: names sorted, floats rounded to 12 significant
    digits, no whitespace. It never depends on ``PYTHONHASHSEED`` or on dict order.

    Args:
        params: Parameter names mapped to their (external) values.

    Returns:
        32 hexadecimal characters.

    Example:
        >>> canonical_hash({"b": 1, "a": 0.1}) == canonical_hash({"a": 0.1, "b": 1})
        True
        >>> canonical_hash({"a": 1}) == canonical_hash({"a": 1.0})
        False
    """
    items = sorted((str(k), _canonical_value(v)) for k, v in params.items())
    text = _JSON.encode(items)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def choices(distribution: CategoricalDistribution) -> tuple[Any, ...]:
    """The distinct choices of a categorical distribution: those Optuna can store.

    Optuna records a choice as the index of the first choice equal to it, so a choice equal to an
    earlier one (``True`` after ``1``, ``1.0`` after ``1``) is never stored as itself.

    Example:
        >>> choices(CategoricalDistribution([1, True, "x", 1.0]))
        (1, 'x')
    """
    return tuple(
        c for i, c in enumerate(distribution.choices) if distribution.to_internal_repr(c) == i
    )


def representative(distribution: BaseDistribution, value: Any) -> Any:
    """The value Optuna stores for ``value``: for a categorical, the first choice equal to it.

    Example:
        >>> representative(CategoricalDistribution([1, True]), True)
        1
        >>> representative(CategoricalDistribution([1]), 2)  # not a choice: left as is
        2
    """
    if isinstance(distribution, CategoricalDistribution):
        try:
            return distribution.choices[int(distribution.to_internal_repr(value))]
        except (ValueError, TypeError):  # not a choice: left as is
            return value
    return value


def cardinality(distribution: BaseDistribution) -> float:
    """Number of distinct values a distribution can take (``math.inf`` for continuous ones).

    Example:
        >>> cardinality(IntDistribution(1, 10, step=3))
        4
        >>> cardinality(FloatDistribution(0.0, 1.0))
        inf
    """
    if isinstance(distribution, CategoricalDistribution):
        return len(choices(distribution))
    if isinstance(distribution, IntDistribution):
        return (distribution.high - distribution.low) // distribution.step + 1
    if isinstance(distribution, FloatDistribution):
        if distribution.step is None:
            return math.inf if distribution.high > distribution.low else 1
        return round((distribution.high - distribution.low) / distribution.step) + 1
    raise ValueError(f"Unsupported distribution: {distribution!r}.")


def grid(distribution: BaseDistribution) -> list[Any]:
    """Every value of a finite distribution, in order.

    Example:
        >>> grid(FloatDistribution(0.0, 0.3, step=0.1))
        [0.0, 0.1, 0.2, 0.3]
        >>> grid(CategoricalDistribution(["a", "b"]))
        ['a', 'b']
    """
    if isinstance(distribution, CategoricalDistribution):
        return list(choices(distribution))
    n = cardinality(distribution)
    if not math.isfinite(n):
        raise ValueError(f"{distribution!r} is continuous: it has no finite grid.")
    assert isinstance(distribution, (IntDistribution, FloatDistribution))
    step = distribution.step or 1
    values = (distribution.low + k * step for k in range(int(n)))
    return [_snap(distribution, math.log(v) if distribution.log else v) for v in values]


def _bounds(distribution: BaseDistribution) -> tuple[float, float]:
    """Transformed-space bounds of a distribution (see the module docstring)."""
    if isinstance(distribution, CategoricalDistribution):
        return -0.5, len(choices(distribution)) - 0.5
    assert isinstance(distribution, (IntDistribution, FloatDistribution))
    low, high = float(distribution.low), float(distribution.high)
    if isinstance(distribution, IntDistribution) or distribution.step is not None:
        half = 0.5 * float(distribution.step or 1)
        low, high = low - half, high + half
        if distribution.log:
            low = max(low, float(distribution.low) / 2.0)  # stays positive for log
    if distribution.log:
        return math.log(low), math.log(high)
    return low, high


class Space:
    """An ordered set of genes with their distributions, and the vector encoding over them.

    Args:
        distributions: Gene names mapped to Optuna distributions, in gene order (the order in
            which the objective suggests them, so that crossover keeps related genes together).

    Example:
        >>> from optuna.distributions import CategoricalDistribution, IntDistribution
        >>> space = Space({"n": IntDistribution(1, 4), "act": CategoricalDistribution(["a", "b"])})
        >>> x = space.encode({"n": 3, "act": "b"})
        >>> x.tolist()
        [3.0, 1.0]
        >>> space.decode(x)
        {'n': 3, 'act': 'b'}
    """

    def __init__(self, distributions: Mapping[str, BaseDistribution]) -> None:
        self.distributions = dict(distributions)
        self.names = tuple(self.distributions)
        bounds = np.array([_bounds(d) for d in self.distributions.values()], dtype=float)
        self.low = bounds[:, 0] if len(bounds) else np.zeros(0)
        self.high = bounds[:, 1] if len(bounds) else np.zeros(0)
        self._choices = {
            name: choices(d)
            for name, d in self.distributions.items()
            if isinstance(d, CategoricalDistribution)
        }
        self.n_choices = np.array(
            [len(self._choices.get(name, ())) for name in self.names], dtype=int
        )
        #: Distinct values of each gene (``inf`` for a continuous one), see :func:`cardinality`.
        self.sizes = np.array([cardinality(d) for d in self.distributions.values()], dtype=float)
        self._decoders = [self._decoder(name) for name in self.names]

    def __len__(self) -> int:
        return len(self.names)

    def encode(self, params: Mapping[str, Any]) -> np.ndarray:
        """Encode parameters; genes that are missing or do not fit their distribution are NaN."""
        x = np.full(len(self.names), np.nan)
        for i, (name, dist) in enumerate(self.distributions.items()):
            if name not in params:
                continue
            value = params[name]
            if not fits(dist, value):
                continue
            if isinstance(dist, CategoricalDistribution):
                x[i] = self._choices[name].index(representative(dist, value))
                continue
            assert isinstance(dist, (IntDistribution, FloatDistribution))
            x[i] = math.log(value) if dist.log else float(value)
        return x

    def decode(self, x: np.ndarray) -> dict[str, Any]:
        """Decode to parameters snapped onto their distributions; NaN genes are left out."""
        return {
            name: decode(t)
            for name, decode, t in zip(self.names, self._decoders, x.tolist(), strict=True)
            if t == t  # not NaN
        }

    def _decoder(self, name: str) -> Callable[[float], Any]:
        """The function that maps gene ``name``'s transformed value to a valid value."""
        if name in self._choices:
            values = self._choices[name]
            return lambda t: values[_clip(round(t), 0, len(values) - 1)]
        return functools.partial(_snap, self.distributions[name])


def _snap(dist: BaseDistribution, t: float) -> Any:
    """Map a transformed-space value to the nearest valid value of a numeric ``dist``."""
    assert isinstance(dist, (IntDistribution, FloatDistribution))
    value = math.exp(t) if dist.log else t
    if isinstance(dist, IntDistribution):
        k = _clip(round((value - dist.low) / dist.step), 0, (dist.high - dist.low) // dist.step)
        return int(dist.low + k * dist.step)
    if dist.step is not None:
        n_steps = round((dist.high - dist.low) / dist.step)
        k = _clip(round((value - dist.low) / dist.step), 0, n_steps)
        # 15 significant digits drop float noise: 0.1 * 3 gives 0.3, not 0.30000000000000004.
        return float(f"{min(dist.low + k * dist.step, dist.high):.15g}")
    return float(min(max(value, dist.low), dist.high))


def _clip(k: int, low: int, high: int) -> int:
    return int(min(max(k, low), high))


def fits(distribution: BaseDistribution, value: Any) -> bool:
    """Whether ``value`` is a valid external value of ``distribution``.

    Example:
        >>> fits(IntDistribution(0, 10, step=2), 4), fits(IntDistribution(0, 10, step=2), 5)
        (True, False)
        >>> fits(CategoricalDistribution(["a"]), "b"), fits(FloatDistribution(0, 1), True)
        (False, False)
    """
    if isinstance(distribution, CategoricalDistribution):
        return value in distribution.choices
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
        return False
    assert isinstance(distribution, (IntDistribution, FloatDistribution))
    number = float(value)
    if not distribution.low <= number <= distribution.high:
        return False
    if isinstance(distribution, IntDistribution):
        return number == int(number) and (int(number) - distribution.low) % distribution.step == 0
    if distribution.step is None:
        return True
    # The tolerance of Optuna's own test of a fixed value (private ``_contains``, optuna 5).
    k = (number - distribution.low) / distribution.step
    return abs(k - round(k)) < 1e-8


def merge_order(order: Sequence[str], names: Sequence[str]) -> list[str]:
    """Insert the unseen ``names`` into ``order``, each right after its predecessor in ``names``.

    A conditional gene first met in a later trial (``units_l3``) lands beside its neighbours
    (after ``units_l2``), not at the end, so that single-point crossover keeps layers together.

    Example:
        >>> merge_order(["n", "u1", "lr"], ["n", "u1", "u2", "lr"])
        ['n', 'u1', 'u2', 'lr']
    """
    result = list(order)
    known = set(result)
    previous: str | None = None
    for name in names:
        if name not in known:
            position = 0 if previous is None else result.index(previous) + 1
            result.insert(position, name)
            known.add(name)
        previous = name
    return result
