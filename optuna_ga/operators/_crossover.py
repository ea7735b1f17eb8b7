"""Crossover of encoded genomes (see :mod:`optuna_ga._encoding`), many children at once.

A crossover takes two ``(m, d)`` arrays of parents, row ``k`` of each being the parents of
child ``k``, and returns the ``(m, d)`` children (see :class:`Crossover`): a single child is
one row. NaN genes (absent in that parent) may stay NaN; the sampler fills them at random.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from optuna_ga.operators._genes import Genes


class Crossover(Protocol):
    """What ``GeneticSampler(crossover=...)`` accepts besides a name: a callable.

    ``crossover(parents_a, parents_b, genes, rng)`` returns the ``(m, d)`` children of ``m``
    pairs of parents, given as two ``(m, d)`` arrays of encoded genomes; ``genes``
    (:class:`~optuna_ga.operators.Genes`) holds the genes' encoded bounds and numbers of choices.
    A NaN gene is one the parent does not have (a conditional parameter); a NaN in a child is
    drawn at random afterwards, and every value is snapped onto its distribution (bounds,
    ``step``, choices) when the child is decoded. Draw every random number from ``rng``, so
    that the study stays reproducible.

    Example:
        >>> import numpy as np
        >>> from types import SimpleNamespace
        >>> def midpoint(parents_a, parents_b, genes, rng):
        ...     # numeric genes: the parents' mean; categorical genes: the first parent's choice
        ...     return np.where(genes.n_choices > 0, parents_a, (parents_a + parents_b) / 2)
        >>> genes = SimpleNamespace(low=np.zeros(2), high=np.array([1.0, 2.5]),
        ...                         n_choices=np.array([0, 3]))
        >>> midpoint(np.array([[0.0, 2.0]]), np.array([[1.0, 0.0]]), genes, None).tolist()
        [[0.5, 2.0]]
    """

    def __call__(
        self, parents_a: np.ndarray, parents_b: np.ndarray, genes: Genes, rng: np.random.Generator
    ) -> np.ndarray:
        """The ``(m, d)`` children, row ``k`` bred from row ``k`` of each parent array."""


def differing(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Boolean mask of the genes where two genomes (or rows of them) differ (NaN equals NaN).

    Example:
        >>> import numpy as np
        >>> differing(np.array([0.0, np.nan, 2.0]), np.array([0.0, np.nan, 3.0])).tolist()
        [False, False, True]
    """
    return (a != b) & ~(np.isnan(a) & np.isnan(b))  # NaN != NaN, so drop both-NaN genes


def single_point(
    parents_a: np.ndarray, parents_b: np.ndarray, genes: Genes, rng: np.random.Generator
) -> np.ndarray:
    """Single-point crossover: genes before the cut from ``parents_a``, from the cut on from ``b``.

    Each row's cut is drawn uniformly from its nontrivial positions only: those that leave at
    least one differing gene on each side, so a child is never a clone of a parent because of
    the cut. When a row's parents differ in fewer than two genes there is no such cut and the
    child is a copy of its first parent (mutation must then make it new). The genes' bounds are
    not used.

    Reference: J. H. Holland, *Adaptation in Natural and Artificial Systems*, 1975.

    Example:
        >>> a, b = np.zeros((2, 4)), np.array([[1.0, 0, 1, 1], [0, 0, 0, 1]])
        >>> children = single_point(a, b, None, np.random.default_rng(0))  # genes not used
        >>> children[0].tolist() in ([0.0, 0.0, 1.0, 1.0], [0.0, 0.0, 0.0, 1.0])
        True
        >>> children[1].tolist()  # one differing gene: no nontrivial cut, a copy of a
        [0.0, 0.0, 0.0, 0.0]
    """
    m, d = parents_a.shape
    diff = differing(parents_a, parents_b)
    first = diff.argmax(axis=1)
    last = d - 1 - diff[:, ::-1].argmax(axis=1)
    # Cut c: genes [0, c) from a, [c, d) from b; nontrivial iff first < c <= last, so c is
    # uniform in [first + 1, last] where the parents differ in two genes or more.
    # (last - first >= 0, so truncation is the floor.)
    cut = first + 1 + (rng.random(m) * (last - first)).astype(int)
    cut[diff.sum(axis=1) < 2] = d
    return np.where(np.arange(d) < cut[:, None], parents_a, parents_b)


def uniform(
    parents_a: np.ndarray, parents_b: np.ndarray, genes: Genes, rng: np.random.Generator
) -> np.ndarray:
    """Uniform crossover: each gene from either parent with probability 1/2.

    The genes' bounds are not used. Reference: G. Syswerda, *Uniform crossover in genetic
    algorithms*, ICGA 1989.

    Example:
        >>> child = uniform(np.zeros((1, 3)), np.ones((1, 3)), None, np.random.default_rng(0))
        >>> set(child[0].tolist()) <= {0.0, 1.0}
        True
    """
    from_a = rng.random(parents_a.shape) < 0.5
    return np.where(from_a, parents_a, parents_b)


#: The crossovers that ``GeneticSampler(crossover=...)`` knows by name.
CROSSOVERS: dict[str, Crossover] = {"single_point": single_point, "uniform": uniform}
