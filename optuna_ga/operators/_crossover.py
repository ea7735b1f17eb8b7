"""Crossover of two encoded genomes (see :mod:`optuna_ga._encoding`).

Both operators return the child and a boolean mask that is True where the child's gene comes
from the first parent. NaN genes (absent in that parent) stay NaN; the sampler fills them later.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

Crossover = Callable[[np.ndarray, np.ndarray, np.random.Generator], tuple[np.ndarray, np.ndarray]]
#: The same over ``(m, d)`` arrays: row ``k`` of the child crosses row ``k`` of each parent.
RowCrossover = Crossover


def differing(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Boolean mask of the genes where two genomes differ (NaN equals NaN).

    Example:
        >>> import numpy as np
        >>> differing(np.array([0.0, np.nan, 2.0]), np.array([0.0, np.nan, 3.0])).tolist()
        [False, False, True]
    """
    both_nan = np.isnan(a) & np.isnan(b)
    return ~both_nan & ~(a == b)


def single_point(
    a: np.ndarray, b: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Single-point crossover: genes before the cut from ``a``, from the cut on from ``b``.

    The cut is drawn uniformly from the nontrivial positions only: those that leave at least one
    differing gene on each side, so the child is never a clone of a parent because of the cut.
    When the parents differ in fewer than two genes there is no such cut and the child is a copy
    of ``a`` (mutation must then make it new).

    Reference: J. H. Holland, *Adaptation in Natural and Artificial Systems*, 1975.

    Example:
        >>> a, b = np.array([0.0, 0, 0, 0]), np.array([1.0, 0, 1, 1])
        >>> child, from_a = single_point(a, b, np.random.default_rng(0))
        >>> child.tolist() in ([0.0, 0.0, 1.0, 1.0], [0.0, 0.0, 0.0, 1.0])
        True
    """
    diff = np.flatnonzero(differing(a, b))
    from_a = np.ones(len(a), dtype=bool)
    if len(diff) >= 2:
        # Cut c: genes [0, c) from a, [c, n) from b; nontrivial iff diff[0] < c <= diff[-1].
        cut = int(rng.integers(diff[0] + 1, diff[-1] + 1))
        from_a[cut:] = False
    return np.where(from_a, a, b), from_a


def uniform(
    a: np.ndarray, b: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Uniform crossover: each gene from either parent with probability 1/2.

    Reference: G. Syswerda, *Uniform crossover in genetic algorithms*, ICGA 1989.

    Example:
        >>> child, from_a = uniform(np.zeros(3), np.ones(3), np.random.default_rng(0))
        >>> bool(np.all(child == np.where(from_a, 0.0, 1.0)))
        True
    """
    from_a = rng.random(len(a)) < 0.5
    return np.where(from_a, a, b), from_a


def single_point_rows(
    a: np.ndarray, b: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`single_point` for each row of two ``(m, d)`` arrays at once.

    Example:
        >>> a, b = np.zeros((2, 4)), np.array([[1.0, 0, 1, 1], [0, 0, 0, 1]])
        >>> child, from_a = single_point_rows(a, b, np.random.default_rng(0))
        >>> child[1].tolist()  # one differing gene: no nontrivial cut, a copy of a
        [0.0, 0.0, 0.0, 0.0]
    """
    m, d = a.shape
    diff = differing(a, b)
    first = np.argmax(diff, axis=1)
    last = d - 1 - np.argmax(diff[:, ::-1], axis=1)
    # Cut c uniform in [first + 1, last] where the parents differ in two genes or more.
    cut = first + 1 + np.floor(rng.random(m) * (last - first)).astype(int)
    cut = np.where(diff.sum(axis=1) >= 2, cut, d)
    from_a = np.arange(d) < cut[:, None]
    return np.where(from_a, a, b), from_a


def uniform_rows(
    a: np.ndarray, b: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`uniform` for each row of two ``(m, d)`` arrays at once."""
    from_a = rng.random(a.shape) < 0.5
    return np.where(from_a, a, b), from_a


CROSSOVERS: dict[str, Crossover] = {"single_point": single_point, "uniform": uniform}
ROW_CROSSOVERS: dict[str, RowCrossover] = {
    "single_point": single_point_rows,
    "uniform": uniform_rows,
}
