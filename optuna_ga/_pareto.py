"""Pareto maths for multi-objective evolution: pure numpy, nothing here sees a study.

Objective values enter as *losses*: an ``(n, m)`` array where lower is better in every column
(:func:`to_losses` negates the columns of objectives to maximise). On top of them:

* :func:`nondominated_ranks`: the front of each point (0 = non-dominated; rank ``r + 1`` is
  non-dominated once fronts ``0 .. r`` are removed), as NSGA-II's fast non-dominated sort;
* :func:`constrained_ranks`: feasible points first, ranked as above; then infeasible ones by
  their total violation (equal violations share a rank), as Optuna's NSGA-II does with a
  ``constraints_func`` (a constraint value ``<= 0`` is satisfied, see :func:`violations`);
* :func:`crowding_distance` (Deb et al., 2002) and, for two objectives,
  :func:`hv_contributions` (the hypervolume each point of a front alone covers): how much a
  point of a front adds to its diversity; the extremes of a front count as infinitely diverse;
* :func:`hypervolume_2d`: the area that a set of two-objective losses dominates;
* :func:`survivors` (NSGA-II's survival: whole fronts, the last one cut by diversity) and
  :func:`fitness` (one number per point, higher is better: minus the rank plus a diversity
  tie-break in ``[0, 1)``), which is what roulette and the other selections read.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from typing import Literal
from typing import cast

import numpy as np

#: How points of one front are told apart: crowding distance or hypervolume contribution.
Diversity = Literal["crowding", "hv"]
DIVERSITIES: tuple[Diversity, ...] = ("crowding", "hv")


def to_losses(values: np.ndarray, maximize: Sequence[bool]) -> np.ndarray:
    """``values`` (``(n, m)``) with the columns of objectives to maximise negated.

    Example:
        >>> to_losses(np.array([[1.0, 2.0]]), [True, False]).tolist()
        [[-1.0, 2.0]]
    """
    values = np.asarray(values, dtype=float)
    if values.ndim != 2 or values.shape[1] != len(maximize):
        raise ValueError(
            f"values must have shape (n, {len(maximize)}) to match maximize, got {values.shape}."
        )
    signs = np.where(np.asarray(maximize, dtype=bool), -1.0, 1.0)
    return values * signs


def dominates(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether loss vector ``a`` Pareto-dominates ``b`` (no worse anywhere, better somewhere).

    Example:
        >>> dominates(np.array([1.0, 2.0]), np.array([1.0, 3.0]))
        True
        >>> dominates(np.ones(2), np.ones(2))
        False
    """
    return bool(np.all(a <= b) and np.any(a < b))


def dominance_matrix(losses: np.ndarray, others: np.ndarray | None = None) -> np.ndarray:
    """Booleans ``[i, j]``: whether point ``i`` dominates point ``j`` of ``others``.

    ``others`` defaults to ``losses`` itself (an ``(n, n)`` matrix).
    """
    losses = _check_losses(losses)
    others = losses if others is None else _check_losses(others)
    no_worse = np.ones((len(losses), len(others)), dtype=bool)
    better = np.zeros((len(losses), len(others)), dtype=bool)
    for j in range(losses.shape[1]):  # one objective at a time: no (n, n, m) temporaries
        a, b = losses[:, j, None], others[None, :, j]
        no_worse &= a <= b
        better |= a < b
    return no_worse & better


def nondominated_ranks(losses: np.ndarray) -> np.ndarray:
    """The front (0-based) of each point of ``losses`` (``(n, m)``, lower is better).

    Equal points share a rank. One objective: ranks of the distinct values; two: a sweep in
    ``O(n log n)`` (points in lexicographic order, each lands on the first front whose smallest
    second loss so far is above its own); more: fronts peeled off a dominance matrix in
    ``O(m n**2)``.

    Example:
        >>> nondominated_ranks(np.array([[1, 4], [2, 2], [3, 3], [4, 1], [2, 2], [5, 5]])).tolist()
        [0, 0, 1, 0, 0, 2]
    """
    losses = _check_losses(losses)
    n, m = losses.shape
    if n == 0:
        return np.zeros(0, dtype=int)
    by = np.lexsort(losses.T[::-1])  # lexicographic: first loss, then the next ...
    ordered = losses[by]
    new = np.concatenate([[True], np.any(ordered[1:] != ordered[:-1], axis=1)])
    unique = ordered[new]
    inverse = np.empty(n, dtype=int)
    inverse[by] = np.cumsum(new) - 1
    if m == 1:
        return cast(np.ndarray, inverse.astype(int))
    if m == 2:
        fronts: list[int] = []
        tails: list[float] = []  # tails[r]: the smallest second loss on front r so far
        for second in unique[:, 1].tolist():
            r = bisect.bisect_right(tails, second)
            fronts.append(r)
            if r == len(tails):
                tails.append(second)
            else:
                tails[r] = second
        return cast(np.ndarray, np.array(fronts, dtype=int)[inverse])
    dominated = dominance_matrix(unique)
    count = dominated.sum(axis=0)
    ranks = np.full(len(unique), -1, dtype=int)
    for r in range(len(unique)):  # at most one front per point
        front = np.flatnonzero((count == 0) & (ranks < 0))
        if len(front) == 0:
            break
        ranks[front] = r
        count = count - dominated[front].sum(axis=0)
    return cast(np.ndarray, ranks[inverse])


def violations(constraints: np.ndarray) -> np.ndarray:
    """Total violation of each row of constraint values: the sum of the positive ones.

    A value ``<= 0`` is satisfied (Optuna's convention); a row with a NaN (constraints unknown)
    gets NaN.

    Example:
        >>> violations(np.array([[-1.0, 0.0], [2.0, -3.0], [0.5, 1.0]])).tolist()
        [0.0, 2.0, 1.5]
    """
    constraints = np.asarray(constraints, dtype=float)
    if constraints.ndim != 2:
        raise ValueError(f"constraints must be a 2-d array, got shape {constraints.shape}.")
    total = np.sum(np.maximum(constraints, 0.0), axis=1)
    return cast(np.ndarray, np.where(np.any(np.isnan(constraints), axis=1), np.nan, total))


def constrained_ranks(losses: np.ndarray, violation: np.ndarray) -> np.ndarray:
    """Ranks where feasible points come first, as Optuna's constrained NSGA-II ranks them.

    Feasible points (``violation <= 0``) get their :func:`nondominated_ranks` among
    themselves; infeasible ones follow, ranked by total violation (equal violations share a
    rank); points with an unknown violation (NaN) share the last rank.

    Example:
        >>> losses = np.array([[1.0, 1.0], [2.0, 2.0], [0.0, 0.0], [0.0, 0.0], [5.0, 5.0]])
        >>> constrained_ranks(losses, np.array([0.0, 0.0, 3.0, 1.0, np.nan])).tolist()
        [0, 1, 3, 2, 4]
    """
    losses = _check_losses(losses)
    violation = np.asarray(violation, dtype=float).reshape(-1)
    if len(violation) != len(losses):
        raise ValueError(
            f"violation must have one value per point ({len(losses)}), got {len(violation)}."
        )
    unknown = np.isnan(violation)
    feasible = ~unknown & (violation <= 0)
    infeasible = ~unknown & (violation > 0)
    ranks = np.zeros(len(losses), dtype=int)
    ranks[feasible] = nondominated_ranks(losses[feasible])
    start = int(ranks[feasible].max(initial=-1)) + 1
    ranks[infeasible] = start + nondominated_ranks(violation[infeasible, None])
    ranks[unknown] = int(ranks[infeasible].max(initial=start - 1)) + 1
    return ranks


def constrained_dominance(losses: np.ndarray, violation: np.ndarray) -> np.ndarray:
    """``(n, n)`` booleans: ``[i, j]`` is whether point ``i`` ranks strictly ahead of ``j``.

    The order behind :func:`constrained_ranks`: a feasible point is ahead of an infeasible one;
    of two infeasible ones, the smaller violation; of two feasible ones, the dominating one;
    any point with a known violation is ahead of one with an unknown (NaN) violation. The
    relation is transitive, so a point that ``k`` others are ahead of ranks at least ``k``
    places from the top, and so does every point they are behind.

    Example:
        >>> constrained_dominance(np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]]),
        ...                       np.array([1.0, 0.0, 0.0])).astype(int).tolist()
        [[0, 0, 0], [1, 0, 1], [1, 0, 0]]
    """
    return constrained_dominance_between(losses, violation, losses, violation)


def constrained_dominance_between(
    losses: np.ndarray, violation: np.ndarray, others: np.ndarray, others_violation: np.ndarray
) -> np.ndarray:
    """Booleans ``[i, j]``: whether point ``i`` ranks ahead of point ``j`` of ``others``.

    The relation of :func:`constrained_dominance`, between two sets of points.
    """
    a, b = np.asarray(violation, dtype=float), np.asarray(others_violation, dtype=float)
    a_known, b_known = ~np.isnan(a), ~np.isnan(b)
    a_feasible, b_feasible = a_known & (a <= 0), b_known & (b <= 0)
    a_infeasible, b_infeasible = a_known & (a > 0), b_known & (b > 0)
    ahead = dominance_matrix(losses, others) & a_feasible[:, None] & b_feasible[None, :]
    ahead |= a_feasible[:, None] & b_infeasible[None, :]
    ahead |= a_infeasible[:, None] & b_infeasible[None, :] & (a[:, None] < b[None, :])
    ahead |= a_known[:, None] & ~b_known[None, :]
    return ahead


def crowding_distance(losses: np.ndarray) -> np.ndarray:
    """Crowding distance of each point of one front (Deb et al., NSGA-II, 2002).

    Per objective, the points are sorted; the two extremes get ``inf``, every other point the
    gap between its neighbours over the objective's range; the distances are summed over the
    objectives. An objective on which every point is equal adds nothing; fronts of at most two
    points are all ``inf``.

    Example:
        >>> crowding_distance(np.array([[0.0, 4.0], [1.0, 2.0], [3.0, 1.0], [4.0, 0.0]])).tolist()
        [inf, 1.5, 1.25, inf]
    """
    losses = _check_losses(losses)
    n, m = losses.shape
    if n <= 2:
        return np.full(n, np.inf)
    distance = np.zeros(n)
    for j in range(m):
        order = np.argsort(losses[:, j], kind="stable")
        column = losses[order, j]
        span = column[-1] - column[0]
        distance[order[0]] = distance[order[-1]] = np.inf
        if span > 0:
            distance[order[1:-1]] += (column[2:] - column[:-2]) / span
    return distance


def hv_contributions(losses: np.ndarray) -> np.ndarray:
    """Exclusive hypervolume of each point of one two-objective front.

    Sorted by the first loss, each inner point alone covers the rectangle between its two
    neighbours; the extremes get ``inf`` (their share depends on a reference point), and so do
    fronts of at most two points. A point that equals another covers nothing alone (0).

    Example:
        >>> hv_contributions(np.array([[0.0, 4.0], [1.0, 2.0], [3.0, 1.0], [4.0, 0.0]])).tolist()
        [inf, 4.0, 1.0, inf]
    """
    losses = _check_losses(losses)
    n, m = losses.shape
    if m != 2:
        raise ValueError(f"hv_contributions needs 2 objectives, got {m}.")
    if n <= 2:
        return np.full(n, np.inf)
    order = np.lexsort((losses[:, 1], losses[:, 0]))
    x, y = losses[order, 0], losses[order, 1]
    share = np.empty(n)
    share[0] = share[-1] = np.inf
    share[1:-1] = (x[2:] - x[1:-1]) * (y[:-2] - y[1:-1])
    out = np.empty(n)
    out[order] = np.maximum(share, 0.0)
    return out


def hypervolume_2d(losses: np.ndarray, reference: np.ndarray) -> float:
    """Area dominated by two-objective ``losses`` and bounded by ``reference``.

    Points not strictly better than the reference in both objectives add nothing.

    Example:
        >>> hypervolume_2d(np.array([[1.0, 3.0], [2.0, 2.0], [3.0, 1.0], [3.0, 3.0]]),
        ...                np.array([4.0, 4.0]))
        6.0
    """
    losses = _check_losses(losses)
    if losses.shape[1] != 2:
        raise ValueError(f"hypervolume_2d needs 2 objectives, got {losses.shape[1]}.")
    reference = np.asarray(reference, dtype=float)
    inside = losses[np.all(losses < reference, axis=1)]
    if len(inside) == 0:
        return 0.0
    inside = inside[np.lexsort((inside[:, 1], inside[:, 0]))]
    best_second = np.minimum.accumulate(inside[:, 1])
    on_front = np.concatenate([[True], best_second[1:] < best_second[:-1]])
    x, y = inside[on_front, 0], best_second[on_front]
    widths = np.diff(np.append(x, reference[0]))
    return float(np.sum(widths * (reference[1] - y)))


def diversity(losses: np.ndarray, ranks: np.ndarray, kind: Diversity = "crowding") -> np.ndarray:
    """Each point's diversity within its own front (higher: more worth keeping).

    ``kind="hv"`` is :func:`hv_contributions` for two objectives and falls back to
    :func:`crowding_distance` otherwise.

    Example:
        >>> losses = np.array([[0.0, 4.0], [1.0, 2.0], [3.0, 1.0], [4.0, 0.0], [5.0, 5.0]])
        >>> diversity(losses, np.array([0, 0, 0, 0, 1])).tolist()
        [inf, 1.5, 1.25, inf, inf]
    """
    losses = _check_losses(losses)
    if kind not in DIVERSITIES:
        raise ValueError(f"kind must be one of {DIVERSITIES}, got {kind!r}.")
    ranks = np.asarray(ranks, dtype=int)
    n, m = losses.shape
    out = np.zeros(n)
    if n == 0:
        return out
    # Every front at once: sorted by rank, then within each front as the per-front functions
    # sort it (stable, so the results are the same to the last bit).
    if kind == "hv" and m == 2:
        by = np.lexsort((losses[:, 1], losses[:, 0], ranks))
        x, y = losses[by, 0], losses[by, 1]
        first, last = _group_ends(ranks[by])
        share = np.full(n, np.inf)
        inner = np.flatnonzero(~(first | last))
        share[inner] = np.maximum((x[inner + 1] - x[inner]) * (y[inner - 1] - y[inner]), 0.0)
        out[by] = share
        return out
    for j in range(m):
        by = np.lexsort((losses[:, j], ranks))
        column = losses[by, j]
        first, last = _group_ends(ranks[by])
        group = np.cumsum(first) - 1
        span = (column[last] - column[first])[group]
        gap = np.zeros(n)
        inner = np.flatnonzero(~(first | last) & (span > 0))
        gap[inner] = (column[inner + 1] - column[inner - 1]) / span[inner]
        gap[first | last] = np.inf
        out[by] += gap
    return out


def _group_ends(sorted_ranks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Masks of the first and the last element of each run of equal sorted ranks."""
    change = sorted_ranks[1:] != sorted_ranks[:-1]
    return np.concatenate([[True], change]), np.concatenate([change, [True]])


def order(ranks: np.ndarray, spread: np.ndarray) -> np.ndarray:
    """Indices best first: lower rank, then higher ``spread``, then the earlier index."""
    return np.lexsort((np.arange(len(ranks)), -np.asarray(spread), np.asarray(ranks)))


def survivors(
    losses: np.ndarray, ranks: np.ndarray, k: int, kind: Diversity = "crowding"
) -> np.ndarray:
    """NSGA-II survival: indices of the ``k`` best points, best first.

    Whole fronts are kept in rank order; the first front that does not fit is cut, keeping
    its most diverse points (diversity measured within that front alone, as NSGA-II does).

    Example:
        >>> losses = np.array([[0.0, 4.0], [1.0, 2.0], [3.0, 1.0], [4.0, 0.0], [5.0, 5.0]])
        >>> ranks = nondominated_ranks(losses)
        >>> survivors(losses, ranks, 3).tolist()
        [0, 3, 1]
    """
    losses = _check_losses(losses)
    ranks = np.asarray(ranks, dtype=int)
    if k >= len(ranks):
        return order(ranks, diversity(losses, ranks, kind))
    best_order = np.lexsort((np.arange(len(ranks)), ranks))
    cut = int(ranks[best_order[k - 1]])
    kept = ranks < cut
    last = np.flatnonzero(ranks == cut)
    spread = np.zeros(len(ranks))
    spread[kept] = diversity(losses[kept], ranks[kept], kind)
    spread[last] = diversity(losses[last], ranks[last], kind)
    ordered = order(ranks, spread)
    return ordered[:k]


def fitness(losses: np.ndarray, ranks: np.ndarray, kind: Diversity = "crowding") -> np.ndarray:
    """One score per point, higher is better: ``-rank + tie``, ``tie`` in ``[0, 1)``.

    ``tie`` is the point's place in its front by :func:`diversity` (0 for the least diverse,
    ``(f - 1) / f`` for the most diverse of ``f``; equal diversity: the earlier point ranks
    higher), so that scores order points as :func:`survivors` does and stay on a scale that
    roulette weights read as "a front is worth one step".

    Example:
        >>> losses = np.array([[0.0, 4.0], [1.0, 2.0], [3.0, 1.0], [4.0, 0.0], [5.0, 5.0]])
        >>> fitness(losses, nondominated_ranks(losses)).tolist()
        [0.75, 0.25, 0.0, 0.5, -1.0]
    """
    ranks = np.asarray(ranks, dtype=int)
    spread = diversity(losses, ranks, kind)
    ordered = order(ranks, spread)  # fronts in rank order, each best first
    scores = np.empty(len(ranks))
    if len(ranks) == 0:
        return scores
    first, last = _group_ends(ranks[ordered])
    place = np.arange(len(ranks))
    start = np.maximum.accumulate(np.where(first, place, 0))
    size = (np.flatnonzero(last) - np.flatnonzero(first) + 1)[np.cumsum(first) - 1]
    scores[ordered] = -ranks[ordered].astype(float) + (size - 1 - (place - start)) / size
    return scores


def _check_losses(losses: np.ndarray) -> np.ndarray:
    losses = np.asarray(losses, dtype=float)
    if losses.ndim != 2:
        raise ValueError(f"losses must be a 2-d array (n, m), got shape {losses.shape}.")
    return losses
