"""Parent selection: fitness-proportionate (roulette), tournament and rank.

Every function takes *scores* where higher is better (the sampler negates the objective of a
``minimize`` study) and returns the indices of two distinct parents. With a single candidate,
both indices are 0.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

Selection = Callable[[np.ndarray, np.random.Generator], tuple[int, int]]

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
    largest = float(np.abs(scores).max())
    if not 0.0 < largest < np.inf:
        return np.full(len(scores), 1.0 / len(scores))
    scores = np.ldexp(scores, -np.frexp(largest)[1])  # max - min cannot overflow now
    spread = float(scores.max() - scores.min())
    if spread <= 0.0:
        return np.full(len(scores), 1.0 / len(scores))
    weights = scores - scores.min() + spread / len(scores)
    return weights / weights.sum()


def _two_by_weights(weights: np.ndarray, rng: np.random.Generator) -> tuple[int, int]:
    n = len(weights)
    first = int(rng.choice(n, p=weights))
    if n == 1:
        return first, first
    rest = weights.copy()
    rest[first] = 0.0
    if rest.sum() <= 0.0:
        rest = np.ones(n)
        rest[first] = 0.0
    second = int(rng.choice(n, p=rest / rest.sum()))
    return first, second


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
    order = np.argsort(np.asarray(scores, dtype=float), kind="stable")
    weights = np.empty(len(order))
    weights[order] = np.arange(1, len(order) + 1, dtype=float)
    return _two_by_weights(weights / weights.sum(), rng)


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


SELECTIONS: dict[str, Selection] = {"roulette": roulette, "tournament": tournament, "rank": rank}
