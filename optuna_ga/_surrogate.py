"""A cheap surrogate that picks the most promising of several bred children.

Pure numpy over encoded genomes (see :mod:`optuna_ga._encoding`); nothing here sees a study.

The model is a *density ratio* between good and bad individuals, as in the tree-structured
Parzen estimator (Bergstra et al., *Algorithms for Hyper-Parameter Optimization*, NeurIPS 2011),
but multivariate: each observed genome is one kernel over all genes at once, so genes that are
good *together* stay together. With the observed genomes split into the best ``n_good`` and the
rest, a candidate ``x`` scores

    score(x) = log l(x) - log g(x),
    l(x) = (1 + sum_{i good} K(x, x_i)) / (1 + n_good),   g(x) likewise over the rest,

where ``K`` is a product over genes of kernel densities *relative to the uniform density* of the
gene, and the leading 1 is a uniform prior kernel (``K = 1`` everywhere), so a region nobody has
tried yet scores 0, not minus infinity:

* numeric gene (scaled to ``[0, 1]`` over its transformed range): a Gaussian of width
  ``sigma = b * n ** (-1 / (d + 4))`` (Scott's rule; ``n`` points in the group, ``d`` genes),
  floored at :data:`MIN_BANDWIDTH`, where ``b`` is :data:`BANDWIDTH` for a gene with at most
  :data:`FINE_SIZE` values and :data:`FINE_BANDWIDTH` for a finer one (see :func:`bandwidths`);
* categorical gene with ``k`` choices: weight ``1 + w`` on the observed choice and ``w`` on every
  choice, normalised (``w = PRIOR_WEIGHT / (n + 1)``, Optuna's TPE smoothing), times ``k``;
* a gene the observed individual does not have (a conditional gene) says nothing: factor 1.

Higher scores mean "more like the good individuals than the bad ones".
"""

from __future__ import annotations

import math

import numpy as np

#: Kernel width of a numeric gene for one point, as a share of its transformed range.
BANDWIDTH = 0.2
#: Kernel width for one point of a gene with more than :data:`FINE_SIZE` values (a continuous
#: one, or a fine grid): sharper, so that children near a good value are told apart from
#: children a little further off.
FINE_BANDWIDTH = 0.1
FINE_SIZE = 20
#: Smallest kernel width, as a share of the range.
MIN_BANDWIDTH = 0.01
#: Weight of the uniform prior in a categorical kernel (Optuna's TPE ``prior_weight``).
PRIOR_WEIGHT = 1.0
#: At most this many of the best individuals form the good group (its best ones).
MAX_GOOD = 50
#: At most this many others form the bad group (the last ones: the latest individuals, then the
#: pruned trials), so that the cost of a score stays flat in long studies. Neither cap binds
#: before about 330 trials.
MAX_BAD = 500


def n_good(n: int, gamma: float) -> int:
    """Size of the good group among ``n`` observations: ``ceil(gamma * n)``, within ``[1, n-1]``.

    Example:
        >>> [n_good(n, 0.15) for n in (2, 10, 40, 100)]
        [1, 2, 6, 15]
    """
    return min(max(math.ceil(gamma * n), 1), max(n - 1, 1))


def bandwidths(sizes: np.ndarray) -> np.ndarray:
    """Kernel width for one point of each gene, from its number of values (``inf``: continuous).

    Example:
        >>> bandwidths(np.array([5, 21, np.inf])).tolist()
        [0.2, 0.1, 0.1]
    """
    return np.where(np.asarray(sizes) > FINE_SIZE, FINE_BANDWIDTH, BANDWIDTH)


def log_density(
    candidates: np.ndarray,
    observed: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    n_choices: np.ndarray,
    bandwidth: float | np.ndarray = BANDWIDTH,
) -> np.ndarray:
    """Log of the kernel density of ``observed`` (with the uniform prior kernel) at each candidate.

    Args:
        candidates: ``(m, d)`` encoded genomes; NaN genes count as unknown (factor 1).
        observed: ``(n, d)`` encoded genomes; NaN marks a gene the individual does not have.
        low: ``(d,)`` transformed lower bounds of the genes.
        high: ``(d,)`` transformed upper bounds.
        n_choices: ``(d,)`` choices of each categorical gene, 0 for a numeric one.
        bandwidth: Kernel width for one point, for all genes or ``(d,)`` per gene (only the
            numeric genes' entries are used).

    Returns:
        ``(m,)`` log densities relative to the uniform density (0 means "uniform").

    Example:
        >>> low, high, k = np.array([0.0]), np.array([1.0]), np.array([0])
        >>> log_density(np.array([[0.5]]), np.zeros((0, 1)), low, high, k).tolist()
        [0.0]
        >>> near, far = log_density(np.array([[0.1], [0.9]]), np.array([[0.1]]), low, high, k)
        >>> bool(near > 0 > far)
        True
    """
    m, d = candidates.shape
    n = len(observed)
    if n == 0:
        return np.zeros(m)
    numeric = n_choices == 0
    width = np.broadcast_to(np.asarray(bandwidth, dtype=float), (d,))[numeric]
    sigma = np.maximum(width * n ** (-1.0 / (d + 4)), MIN_BANDWIDTH)
    span = np.where(high > low, high - low, 1.0)[numeric]
    per_point = _numeric_log_kernels(
        (candidates[:, numeric] - low[numeric]) / span,
        (observed[:, numeric] - low[numeric]) / span,
        sigma,
    )
    if not numeric.all():
        per_point += _categorical_log_kernels(
            candidates[:, ~numeric], observed[:, ~numeric], n_choices[~numeric], n
        )
    # logsumexp over the n kernels and the uniform prior kernel (log 1 = 0).
    top = np.maximum(per_point.max(axis=1), 0.0)
    total = np.exp(-top) + np.exp(per_point - top[:, None]).sum(axis=1)
    return top + np.log(total) - math.log(n + 1)


def _numeric_log_kernels(u: np.ndarray, v: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """``(m, n)`` sums over genes of log Gaussian kernels (widths ``sigma``) between rows.

    A NaN gene on either side contributes 0. By ``(a - b)^2 = a^2 - 2ab + b^2`` over the genes
    both rows have, the sums are four matrix products rather than an ``(m, n, d)`` array.
    """
    has_u, has_v = ~np.isnan(u), ~np.isnan(v)
    u, v = np.where(has_u, u / sigma, 0.0), np.where(has_v, v / sigma, 0.0)
    has_u_f, has_v_f = has_u.astype(float), has_v.astype(float)
    squares = (u * u) @ has_v_f.T + has_u_f @ (v * v).T - 2.0 * (u @ v.T)
    log_norm = np.log(sigma * math.sqrt(2.0 * math.pi))
    shared_norm = (has_u_f * log_norm) @ has_v_f.T  # over the genes both rows have
    return -0.5 * np.maximum(squares, 0.0) - shared_norm


def _categorical_log_kernels(
    x: np.ndarray, y: np.ndarray, n_choices: np.ndarray, n: int
) -> np.ndarray:
    """``(m, n)`` sums over categorical genes of log kernels between rows of ``x`` and ``y``.

    A gene weighs ``log same`` where the two rows agree, ``log other`` where they differ and 0
    where either lacks it; as matrix products over one-hot encodings of the choices.
    """
    k = n_choices.astype(float)
    w = PRIOR_WEIGHT / (n + 1)
    same = np.log(k * (1.0 + w) / (1.0 + k * w))
    other = np.log(k * w / (1.0 + k * w))
    has_x, has_y = (~np.isnan(x)).astype(float), (~np.isnan(y)).astype(float)
    offsets = np.concatenate([[0], np.cumsum(n_choices)[:-1]])
    total = int(n_choices.sum())
    agree = _one_hot(x, offsets, total) * np.repeat(same - other, n_choices)
    return (has_x * other) @ has_y.T + agree @ _one_hot(y, offsets, total).T


def _one_hot(x: np.ndarray, offsets: np.ndarray, total: int) -> np.ndarray:
    """Rows of choice indices (NaN: none) as ``(rows, total)`` one-hot blocks, one per gene."""
    hot = np.zeros((len(x), total))
    rows, genes = np.nonzero(~np.isnan(x))
    hot[rows, offsets[genes] + np.round(x[rows, genes]).astype(int)] = 1.0
    return hot


def best_first(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` highest scores, best first, equal scores in the order given.

    The same as ``np.argsort(-scores, kind="stable")[:k]``, in O(n) rather than O(n log n): a
    partition finds the ``k``-th score, and only the ``k`` best are sorted. Which of several
    equal scores count as good matters on tables of repeated accuracies: the earlier ones
    (measured in ``benchmarks/RESULTS.md``).

    Example:
        >>> best_first(np.array([1.0, 3.0, 2.0, 3.0, 0.0]), 3).tolist()
        [1, 3, 2]
    """
    n = len(scores)
    if k >= n:
        return np.argsort(-scores, kind="stable")
    kth = np.partition(scores, n - k)[n - k]
    above = np.flatnonzero(scores > kth)
    top = np.concatenate([above, np.flatnonzero(scores == kth)[: k - len(above)]])
    return top[np.argsort(-scores[top], kind="stable")]


def density_ratio(
    candidates: np.ndarray,
    observed: np.ndarray,
    scores: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    n_choices: np.ndarray,
    *,
    gamma: float,
    extra_bad: np.ndarray | None = None,
    bandwidth: float | np.ndarray = BANDWIDTH,
) -> np.ndarray:
    """Score candidates by ``log l(x) - log g(x)`` (see the module docstring).

    Args:
        candidates: ``(m, d)`` encoded genomes to score.
        observed: ``(n, d)`` encoded genomes of the individuals with a finite score.
        scores: ``(n,)`` their scores, higher is better.
        low: ``(d,)`` transformed lower bounds.
        high: ``(d,)`` transformed upper bounds.
        n_choices: ``(d,)`` choices of each categorical gene, 0 for numeric ones.
        gamma: Share of the observed individuals that form the good group, in ``(0, 1)``.
        extra_bad: ``(b, d)`` genomes known to be bad without a score (pruned trials), in the
            order observed.
        bandwidth: As in :func:`log_density`.

    Returns:
        ``(m,)`` scores; all zero when there is nothing to compare yet (fewer than 2 observed).

    Example:
        >>> low, high, k = np.array([0.0]), np.array([1.0]), np.array([0])
        >>> observed, scores = np.array([[0.1], [0.5], [0.9]]), np.array([3.0, 2.0, 1.0])
        >>> s = density_ratio(np.array([[0.1], [0.9]]), observed, scores, low, high, k,
        ...                   gamma=0.3)
        >>> bool(s[0] > s[1])
        True
    """
    if len(observed) < 2:
        return np.zeros(len(candidates))
    n = len(observed)
    k = n_good(n, gamma)
    top = best_first(scores, k)
    good = observed[top[:MAX_GOOD]]
    is_rest = np.ones(n, dtype=bool)
    is_rest[top] = False
    rest = np.flatnonzero(is_rest)  # in the order observed: the most recent last
    extra = np.zeros((0, observed.shape[1])) if extra_bad is None else extra_bad[-MAX_BAD:]
    n_rest = MAX_BAD - len(extra)
    bad = np.concatenate([observed[rest[-n_rest:]], extra]) if n_rest else extra
    return log_density(candidates, good, low, high, n_choices, bandwidth) - log_density(
        candidates, bad, low, high, n_choices, bandwidth
    )
