"""Parent selection: fitness-proportionate (roulette), tournament and rank.

Every function takes *scores* where higher is better (the sampler negates the objective of a
``minimize`` study) and returns the indices of two distinct parents. With a single candidate,
both indices are 0.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

Selection = Callable[[np.ndarray, np.random.Generator], tuple[int, int]]
#: ``(scores, size, rng) -> (size, 2)`` parent indices: ``size`` draws of a selection at once.
PairSelection = Callable[[np.ndarray, int, np.random.Generator], np.ndarray]

TOURNAMENT_SIZE = 3


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


def _two_by_weights(weights: np.ndarray, rng: np.random.Generator) -> tuple[int, int]:
    first, second = pairs_by_weights(weights, 1, rng)[0]
    return int(first), int(second)


def roulette(scores: np.ndarray, rng: np.random.Generator) -> tuple[int, int]:
    """Draw two distinct parents with probability proportional to :func:`roulette_weights`.

    Reference: J. H. Holland, *Adaptation in Natural and Artificial Systems*, 1975.

    Example:
        >>> from optuna_ga.operators import rank, roulette, tournament
        >>> i, j = roulette(np.array([0.0, 1.0, 10.0]), np.random.default_rng(0))
        >>> i != j and {i, j} <= {0, 1, 2}
        True
    """
    return _two_by_weights(roulette_weights(scores), rng)


def rank(scores: np.ndarray, rng: np.random.Generator) -> tuple[int, int]:
    """Linear rank selection: the worst weighs 1, the best ``n`` (ties by position).

    Insensitive to the scale of the objective. Reference: J. E. Baker, *Adaptive selection
    methods for genetic algorithms*, ICGA 1985.

    Example:
        >>> from optuna_ga.operators import rank, roulette, tournament
        >>> i, j = rank(np.array([1.0, 5.0, 3.0]), np.random.default_rng(0))
        >>> i != j
        True
    """
    return _two_by_weights(_rank_weights(scores), rng)


def tournament(scores: np.ndarray, rng: np.random.Generator) -> tuple[int, int]:
    """Two tournaments of :data:`TOURNAMENT_SIZE` candidates drawn without replacement.

    The second tournament excludes the first winner. Reference: B. L. Miller and D. E.
    Goldberg, *Genetic algorithms, tournament selection, and the effects of noise*, 1995.

    Example:
        >>> from optuna_ga.operators import rank, roulette, tournament
        >>> i, j = tournament(np.array([0.0, 1.0, 2.0, 3.0]), np.random.default_rng(0))
        >>> i != j
        True
    """
    scores = np.asarray(scores, dtype=float)
    n = len(scores)

    def one(candidates: np.ndarray) -> int:
        size = min(TOURNAMENT_SIZE, len(candidates))
        drawn = rng.choice(candidates, size=size, replace=False)
        return int(drawn[np.argmax(scores[drawn])])

    first = one(np.arange(n))
    if n == 1:
        return first, first
    return first, one(np.delete(np.arange(n), first))


def _rank_weights(scores: np.ndarray) -> np.ndarray:
    order = np.argsort(np.asarray(scores, dtype=float), kind="stable")
    weights = np.empty(len(order))
    weights[order] = np.arange(1, len(order) + 1, dtype=float)
    return weights / weights.sum()


def pairs_by_weights(weights: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """``size`` pairs of distinct indices, each drawn as :func:`roulette` draws one pair.

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
        return np.zeros((size, 2), dtype=int)
    keys = np.log(weights) + rng.gumbel(size=(size, n))
    return np.argsort(-keys, axis=1, kind="stable")[:, :2]


def roulette_pairs(scores: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """``size`` draws of :func:`roulette` at once, as a ``(size, 2)`` array."""
    return pairs_by_weights(roulette_weights(scores), size, rng)


def rank_pairs(scores: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """``size`` draws of :func:`rank` at once, as a ``(size, 2)`` array."""
    return pairs_by_weights(_rank_weights(scores), size, rng)


def tournament_pairs(scores: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """``size`` draws of :func:`tournament` at once, as a ``(size, 2)`` array.

    Each tournament's entrants are the first :data:`TOURNAMENT_SIZE` of a random order; the
    second tournament's order excludes the first winner.
    """
    scores = np.asarray(scores, dtype=float)
    n = len(scores)
    if n == 1:
        return np.zeros((size, 2), dtype=int)
    rows = np.arange(size)

    def winners(keys: np.ndarray, k: int) -> np.ndarray:
        entrants = np.argpartition(keys, k - 1, axis=1)[:, :k]
        return entrants[rows, np.argmax(scores[entrants], axis=1)]

    keys = rng.random((size, n))
    first = winners(keys, min(TOURNAMENT_SIZE, n))
    keys[rows, first] = np.inf  # never an entrant of the second tournament
    return np.stack([first, winners(keys, min(TOURNAMENT_SIZE, n - 1))], axis=1)


SELECTIONS: dict[str, Selection] = {"roulette": roulette, "tournament": tournament, "rank": rank}
PAIR_SELECTIONS: dict[str, PairSelection] = {
    "roulette": roulette_pairs,
    "tournament": tournament_pairs,
    "rank": rank_pairs,
}
