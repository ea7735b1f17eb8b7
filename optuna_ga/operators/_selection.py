"""Parent selection: fitness-proportionate (roulette), tournament and rank.

A selection draws ``n_pairs`` pairs of parents at once (see :class:`Selection`): one pair per
child to breed, so a single child is one pair. Every selection takes *scores* where higher is
better (the sampler negates the objective of a ``minimize`` study) and returns the indices of
two distinct parents per pair. With a single candidate, both indices are 0.
"""

from __future__ import annotations

import math
from typing import Protocol

import numpy as np

TOURNAMENT_SIZE = 3


class Selection(Protocol):
    """What ``GeneticSampler(selection=...)`` accepts besides a name: a callable.

    ``selection(scores, n_pairs, rng)`` returns an ``(n_pairs, 2)`` integer array: row ``k``
    holds the indices (into ``scores``) of the two parents of child ``k``. The two should
    differ when there are two candidates or more; a child of two equal indices is a mutated
    copy of that parent. Draw every random number from ``rng``, so that the study stays
    reproducible.

    Example:
        >>> import numpy as np
        >>> def best_two(scores, n_pairs, rng):  # no randomness: always the two best
        ...     top = np.argsort(-scores, kind="stable")[:2]
        ...     return np.tile(top, (n_pairs, 1))
        >>> best_two(np.array([1.0, 5.0, 3.0]), 2, np.random.default_rng(0)).tolist()
        [[1, 2], [1, 2]]
    """

    def __call__(self, scores: np.ndarray, n_pairs: int, rng: np.random.Generator) -> np.ndarray:
        """``(n_pairs, 2)`` parent indices drawn from candidates with these ``scores``."""


def roulette_weights(scores: np.ndarray) -> np.ndarray:
    """Fitness-proportionate weights that are well defined for any sign of the objective.

    Scores are shifted so that the worst candidate weighs ``spread / n`` and the best
    ``spread + spread / n``, where ``spread = max - min`` and ``n`` is the number of candidates.
    With equal scores every candidate weighs the same. The result sums to 1. Scores are first
    scaled by a power of two into ``(-1, 1)`` (exact, and the weights do not change), so that
    finite scores of any size, up to ``±1.7e308``, give finite weights.

    Example:
        >>> roulette_weights(np.array([-3.0, -1.0])).tolist()
        [0.25, 0.75]
        >>> roulette_weights(np.array([5.0, 5.0, 5.0])).round(3).tolist()
        [0.333, 0.333, 0.333]
        >>> roulette_weights(np.array([-1.7e308, 1.7e308])).round(3).tolist()
        [0.25, 0.75]
    """
    scores = np.asarray(scores, dtype=float)
    low, high = float(scores.min()), float(scores.max())
    largest = max(-low, high)
    if not 0.0 < largest < math.inf:
        return np.full(len(scores), 1.0 / len(scores))
    scale = math.ldexp(1.0, -math.frexp(largest)[1])  # max - min cannot overflow now
    low, high = low * scale, high * scale
    spread = high - low
    if spread <= 0.0:
        return np.full(len(scores), 1.0 / len(scores))
    weights = scores * scale - (low - spread / len(scores))
    return weights / weights.sum()


def rank_weights(scores: np.ndarray) -> np.ndarray:
    """Linear ranking weights: the worst weighs 1, the best ``n`` (ties by position), normalised.

    Example:
        >>> (rank_weights(np.array([10.0, -5.0, 3.0])) * 6).tolist()
        [3.0, 1.0, 2.0]
    """
    order = np.argsort(np.asarray(scores, dtype=float), kind="stable")
    weights = np.empty(len(order))
    weights[order] = np.arange(1, len(order) + 1, dtype=float)
    return weights / weights.sum()


def pairs_by_weights(weights: np.ndarray, n_pairs: int, rng: np.random.Generator) -> np.ndarray:
    """``n_pairs`` pairs of distinct indices, drawn with probability proportional to ``weights``.

    The first of a pair is drawn with probability proportional to ``weights`` (all positive),
    the second likewise among the others. Both at once by the Gumbel-top-2 trick: the two
    largest of ``log w_i + G_i`` (``G_i`` standard Gumbel) are such a draw (Vieira, *Gumbel-max
    trick and weighted reservoir sampling*, 2014). With a single index, both are 0.

    Example:
        >>> pairs = pairs_by_weights(np.array([0.2, 0.3, 0.5]), 4, np.random.default_rng(0))
        >>> pairs.shape, bool(np.all(pairs[:, 0] != pairs[:, 1]))
        ((4, 2), True)
    """
    n = len(weights)
    if n == 1:
        return np.zeros((n_pairs, 2), dtype=int)
    keys = np.log(weights) + rng.gumbel(size=(n_pairs, n))
    return np.argsort(-keys, axis=1, kind="stable")[:, :2]


def roulette(scores: np.ndarray, n_pairs: int, rng: np.random.Generator) -> np.ndarray:
    """Pairs drawn with probability proportional to :func:`roulette_weights`.

    Reference: J. H. Holland, *Adaptation in Natural and Artificial Systems*, 1975.

    Example:
        >>> pairs = roulette(np.array([0.0, 1.0, 10.0]), 3, np.random.default_rng(0))
        >>> pairs.shape, bool(np.all(pairs[:, 0] != pairs[:, 1]))
        ((3, 2), True)
    """
    return pairs_by_weights(roulette_weights(scores), n_pairs, rng)


def rank(scores: np.ndarray, n_pairs: int, rng: np.random.Generator) -> np.ndarray:
    """Pairs drawn with probability proportional to :func:`rank_weights` (linear ranking).

    Insensitive to the scale of the objective. Reference: J. E. Baker, *Adaptive selection
    methods for genetic algorithms*, ICGA 1985.

    Example:
        >>> rank(np.array([1.0, 5.0, 3.0]), 1, np.random.default_rng(0)).shape
        (1, 2)
    """
    return pairs_by_weights(rank_weights(scores), n_pairs, rng)


def tournament(scores: np.ndarray, n_pairs: int, rng: np.random.Generator) -> np.ndarray:
    """Per pair, two tournaments of :data:`TOURNAMENT_SIZE` candidates drawn without replacement.

    Each tournament's entrants are the first :data:`TOURNAMENT_SIZE` of a random order; the
    second tournament's order excludes the first winner. Reference: B. L. Miller and D. E.
    Goldberg, *Genetic algorithms, tournament selection, and the effects of noise*, 1995.

    Example:
        >>> tournament(np.array([5.0, 1.0, 9.0]), 2, np.random.default_rng(0)).tolist()
        [[2, 0], [2, 0]]
    """
    scores = np.asarray(scores, dtype=float)
    n = len(scores)
    if n == 1:
        return np.zeros((n_pairs, 2), dtype=int)
    rows = np.arange(n_pairs)

    def winners(keys: np.ndarray, k: int) -> np.ndarray:
        entrants = np.argpartition(keys, k - 1, axis=1)[:, :k]
        return entrants[rows, np.argmax(scores[entrants], axis=1)]

    keys = rng.random((n_pairs, n))
    first = winners(keys, min(TOURNAMENT_SIZE, n))
    keys[rows, first] = np.inf  # never an entrant of the second tournament
    return np.stack([first, winners(keys, min(TOURNAMENT_SIZE, n - 1))], axis=1)


#: The selections that ``GeneticSampler(selection=...)`` knows by name.
SELECTIONS: dict[str, Selection] = {"roulette": roulette, "tournament": tournament, "rank": rank}
