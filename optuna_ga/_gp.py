"""A small Gaussian process that scores bred children by their expected improvement.

Pure numpy over encoded genomes (see :mod:`optuna_ga._encoding`); nothing here sees a study,
and nothing is random. :class:`~optuna_ga._guidance.Guidance` decides when it is used (while a
single-objective study is young) instead of the density ratio of :mod:`optuna_ga._surrogate`.

The model, kept cheap and bounded:

* **distance** between two genomes: the mean over genes of a per-gene squared distance ``q``:
  a numeric gene is scaled to ``[0, 1]`` over its transformed range and ``q = (u - v) ** 2``; a
  categorical gene has ``q = 0`` where the choices agree and 1 where they differ (Hamming); a
  gene that neither genome has (a conditional gene, NaN) has ``q = 0``, one that only one of
  them has ``q = 1`` (absence is a value of its own);
* **kernel**: Matern-5/2 of ``r = sqrt(mean q) / lengthscale``, times a signal variance, plus
  a noise variance on the diagonal;
* **scores**: standardised (mean 0, standard deviation 1) before fitting;
* **hyperparameters**: the lengthscale and the noise (as a share of the signal variance) are the
  pair of :data:`LENGTHSCALES` x :data:`NOISES` with the highest log marginal likelihood; the
  signal variance has a closed-form maximum for each pair (it is profiled out). That is
  ``len(LENGTHSCALES) * len(NOISES)`` Cholesky factorisations of an ``n x n`` matrix, with ``n``
  at most :data:`MAX_OBSERVED` (the most recent individuals);
* **acquisition**: the logarithm of the expected improvement over the best posterior mean at
  an observed genome (the plug-in incumbent, steadier than the best observed score when the
  objective is noisy), computed without underflow far below the incumbent.

Higher acquisition values mean "more promising".
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

#: Lengthscales tried, on the root-mean-square per-gene distance (genes scaled to [0, 1]).
LENGTHSCALES = (0.1, 0.2, 0.4, 0.8, 1.6)
#: Noise variances tried, as a share of the signal variance.
NOISES = (1e-4, 1e-2, 0.1, 0.5)
#: At most this many observations (the most recent) are fitted: the cost of a fit stays bounded.
MAX_OBSERVED = 300
#: Added to the diagonal for numerical stability (a share of the signal variance).
JITTER = 1e-6

_SQRT5 = math.sqrt(5.0)
_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


@dataclass(frozen=True)
class Posterior:
    """A fitted Gaussian process (see :func:`fit`); the arrays are over the fitted genomes.

    Attributes:
        genomes: ``(n, d)`` the fitted genomes, as given.
        weights: ``(d,)`` each gene's weight in the distance (all 1 without ARD).
        lengthscale: The chosen lengthscale.
        noise: The chosen noise variance, as a share of ``signal``.
        signal: The signal variance (of the standardised scores).
        chol: ``(n, n)`` lower Cholesky factor of the kernel matrix (with noise).
        alpha: ``(n,)`` the kernel matrix's inverse times the standardised scores.
        log_likelihood: The log marginal likelihood of the chosen hyperparameters.
    """

    genomes: np.ndarray
    weights: np.ndarray
    lengthscale: float
    noise: float
    signal: float
    chol: np.ndarray
    alpha: np.ndarray
    log_likelihood: float


def sq_distances(
    a: np.ndarray, b: np.ndarray, low: np.ndarray, high: np.ndarray, n_choices: np.ndarray
) -> np.ndarray:
    """``(m, n)`` mean over genes of the per-gene squared distances between rows of ``a``, ``b``.

    Args:
        a: ``(m, d)`` encoded genomes; NaN marks a gene a genome does not have.
        b: ``(n, d)`` encoded genomes.
        low: ``(d,)`` transformed lower bounds of the genes.
        high: ``(d,)`` transformed upper bounds.
        n_choices: ``(d,)`` choices of each categorical gene, 0 for a numeric one.

    Example:
        >>> low, high, k = np.array([0.0, -0.5]), np.array([1.0, 2.5]), np.array([0, 3])
        >>> a = np.array([[0.0, 0.0], [1.0, 2.0], [np.nan, 0.0]])
        >>> sq_distances(a, a[:1], low, high, k).ravel().tolist()  # (1 + 1) / 2, (1 + 0) / 2
        [0.0, 1.0, 0.5]
    """
    d = a.shape[1]
    if d == 0:
        return np.zeros((len(a), len(b)))
    numeric = n_choices == 0
    span = np.where(high > low, high - low, 1.0)
    has_a, has_b = ~np.isnan(a), ~np.isnan(b)
    fa, fb = has_a.astype(float), has_b.astype(float)
    # Where exactly one genome has a gene: 1 (absence is its own value); neither: 0.
    total = fa @ (1.0 - fb).T + (1.0 - fa) @ fb.T
    if numeric.any():
        u = np.where(has_a[:, numeric], (a[:, numeric] - low[numeric]) / span[numeric], 0.0)
        v = np.where(has_b[:, numeric], (b[:, numeric] - low[numeric]) / span[numeric], 0.0)
        ha, hb = fa[:, numeric], fb[:, numeric]
        # (u - v)^2 summed over the genes both have, as matrix products.
        total += (u * u) @ hb.T + ha @ (v * v).T - 2.0 * (u @ v.T)
    if not numeric.all():
        cat = ~numeric
        both = fa[:, cat] @ fb[:, cat].T
        agree = _one_hot(a[:, cat], n_choices[cat]) @ _one_hot(b[:, cat], n_choices[cat]).T
        total += both - agree
    return np.maximum(total, 0.0) / d


def _one_hot(x: np.ndarray, n_choices: np.ndarray) -> np.ndarray:
    """Rows of choice indices (NaN: none) as one-hot blocks, one block per gene."""
    offsets = np.concatenate([[0], np.cumsum(n_choices)[:-1]]).astype(int)
    hot = np.zeros((len(x), int(n_choices.sum())))
    rows, genes = np.nonzero(~np.isnan(x))
    index = np.clip(np.round(x[rows, genes]).astype(int), 0, n_choices[genes] - 1)
    hot[rows, offsets[genes] + index] = 1.0
    return hot


def gene_sq_distances(
    a: np.ndarray, b: np.ndarray, low: np.ndarray, high: np.ndarray, n_choices: np.ndarray
) -> np.ndarray:
    """``(d, m, n)`` per-gene squared distances (see :func:`sq_distances`, their mean).

    Example:
        >>> low, high, k = np.array([0.0, -0.5]), np.array([1.0, 2.5]), np.array([0, 3])
        >>> a = np.array([[0.0, 0.0], [1.0, 2.0]])
        >>> gene_sq_distances(a, a[1:], low, high, k)[:, 0, 0].tolist()
        [1.0, 1.0]
    """
    return np.stack(
        [
            sq_distances(a[:, [g]], b[:, [g]], low[[g]], high[[g]], n_choices[[g]])
            for g in range(a.shape[1])
        ]
    )


def warp(scores: np.ndarray) -> np.ndarray:
    """Scores replaced by normal quantiles of their ranks (ties share the mean rank).

    A Gaussian process fits these better than heavy-tailed raw scores (a validation loss that
    spans orders of magnitude), and only the order of the scores matters to a search.

    Example:
        >>> warp(np.array([1.0, 1000.0, 2.0])).round(3).tolist()
        [-0.967, 0.967, 0.0]
    """
    n = len(scores)
    order = np.argsort(scores, kind="stable")
    ranks = np.empty(n)
    ranks[order] = np.arange(n, dtype=float)
    sorted_scores = scores[order]
    for value in np.unique(sorted_scores[:-1][np.diff(sorted_scores) == 0]):
        tied = scores == value
        ranks[tied] = ranks[tied].mean()
    quantile = NormalDist().inv_cdf
    return np.array([quantile((r + 0.5) / n) for r in ranks.tolist()])


def matern52(sq_dist: np.ndarray, lengthscale: float) -> np.ndarray:
    """The Matern-5/2 correlation at squared distances ``sq_dist`` (1 at distance 0).

    Example:
        >>> matern52(np.array([0.0, 1.0]), 1.0).round(4).tolist()
        [1.0, 0.524]
    """
    r = _SQRT5 * np.sqrt(sq_dist) / lengthscale
    return (1.0 + r + r * r / 3.0) * np.exp(-r)


def fit(
    genomes: np.ndarray,
    scores: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    n_choices: np.ndarray,
    *,
    warped: bool = False,
    ard: bool = False,
) -> Posterior:
    """Fit the Gaussian process to the scores (see the module docstring).

    Args:
        genomes: ``(n, d)`` encoded genomes of the observations, ``n >= 1``, in the order
            observed (only the last :data:`MAX_OBSERVED` are used).
        scores: ``(n,)`` their finite scores, higher is better.
        low: ``(d,)`` transformed lower bounds of the genes.
        high: ``(d,)`` transformed upper bounds.
        n_choices: ``(d,)`` choices of each categorical gene, 0 for a numeric one.
        warped: Fit the normal quantiles of the scores' ranks (:func:`warp`) rather than the
            standardised scores.
        ard: After the grid, one sweep over the genes scales each gene's weight in the
            distance by each of :data:`ARD_FACTORS` and keeps a change that raises the
            likelihood (``0`` drops an irrelevant gene); then the grid again.

    Returns:
        The posterior over the standardised (or warped) scores.

    Example:
        >>> x = np.linspace(0, 1, 6)[:, None]
        >>> post = fit(x, np.sin(3 * x[:, 0]), np.zeros(1), np.ones(1), np.zeros(1, int))
        >>> post.lengthscale in LENGTHSCALES and post.noise in NOISES
        True
    """
    genomes, scores = genomes[-MAX_OBSERVED:], scores[-MAX_OBSERVED:]
    if warped:
        y = warp(scores)
    else:
        std = float(np.std(scores))
        y = (scores - float(np.mean(scores))) / (std if std > 0 else 1.0)
    d = genomes.shape[1]
    weights = np.ones(d)
    if not ard:
        post = _grid(sq_distances(genomes, genomes, low, high, n_choices), y, genomes, weights)
        return post
    per_gene = gene_sq_distances(genomes, genomes, low, high, n_choices)
    post = _grid(per_gene.mean(axis=0), y, genomes, weights)
    for g in range(d):
        for factor in ARD_FACTORS:
            trial = post.weights.copy()
            trial[g] *= factor
            if not trial.any():
                continue
            sq = np.tensordot(trial, per_gene, axes=1) / d
            candidate = _posterior(sq, y, genomes, trial, post.lengthscale, post.noise)
            if candidate is not None and candidate.log_likelihood > post.log_likelihood + 1e-9:
                post = candidate
    sq = np.tensordot(post.weights, per_gene, axes=1) / d
    return _grid(sq, y, genomes, post.weights)


#: Factors tried on each gene's weight by the ARD sweep of :func:`fit`.
ARD_FACTORS = (0.0, 0.25, 4.0)


def _grid(sq: np.ndarray, y: np.ndarray, genomes: np.ndarray, weights: np.ndarray) -> Posterior:
    """The posterior of the grid's lengthscale and noise with the highest likelihood."""
    best: Posterior | None = None
    for lengthscale in LENGTHSCALES:
        for noise in NOISES:
            post = _posterior(sq, y, genomes, weights, lengthscale, noise)
            if post is not None and (best is None or post.log_likelihood > best.log_likelihood):
                best = post
    assert best is not None
    return best


def _posterior(
    sq: np.ndarray,
    y: np.ndarray,
    genomes: np.ndarray,
    weights: np.ndarray,
    lengthscale: float,
    noise: float,
) -> Posterior | None:
    """The posterior with these hyperparameters (the signal variance profiled out)."""
    n = len(y)
    matrix = matern52(sq, lengthscale) + (noise + JITTER) * np.eye(n)
    try:
        chol = np.linalg.cholesky(matrix)
    except np.linalg.LinAlgError:  # pragma: no cover - the jitter keeps it positive
        return None
    beta = _solve(chol, y)
    # Its maximum-likelihood value is y' C^-1 y / n.
    signal = max(float(y @ beta) / n, 1e-12)
    log_det = 2.0 * float(np.log(np.diag(chol)).sum()) + n * math.log(signal)
    ll = -0.5 * (n + log_det) - n * _LOG_SQRT_2PI
    return Posterior(genomes, weights, lengthscale, noise, signal, chol, beta, ll)


def _solve(chol: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``(L L')^-1 y`` from the lower Cholesky factor ``L``."""
    return np.linalg.solve(chol.T, np.linalg.solve(chol, y))


def predict(
    post: Posterior,
    candidates: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    n_choices: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Posterior mean and standard deviation of the (standardised, noiseless) score.

    Args:
        post: A fitted process (:func:`fit`).
        candidates: ``(m, d)`` encoded genomes.
        low: ``(d,)`` as in :func:`fit`.
        high: ``(d,)`` as in :func:`fit`.
        n_choices: ``(d,)`` as in :func:`fit`.

    Returns:
        ``(m,)`` means and ``(m,)`` standard deviations.

    Example:
        >>> x = np.array([[0.0], [1.0]])
        >>> post = fit(x, np.array([0.0, 1.0]), np.zeros(1), np.ones(1), np.zeros(1, int))
        >>> mu, sd = predict(post, np.array([[1.0], [0.5]]), np.zeros(1), np.ones(1),
        ...                  np.zeros(1, int))
        >>> bool(mu[0] > mu[1] and sd[1] > sd[0])
        True
    """
    if np.all(post.weights == 1.0):
        sq = sq_distances(candidates, post.genomes, low, high, n_choices)
    else:
        per_gene = gene_sq_distances(candidates, post.genomes, low, high, n_choices)
        sq = np.tensordot(post.weights, per_gene, axes=1) / len(post.weights)
    cross = post.signal * matern52(sq, post.lengthscale)
    mean = cross @ post.alpha / post.signal
    v = np.linalg.solve(post.chol, cross.T)
    var = post.signal - (v * v).sum(axis=0) / post.signal
    return mean, np.sqrt(np.maximum(var, 1e-12 * post.signal))


def log_expected_improvement(mean: np.ndarray, std: np.ndarray, best: float) -> np.ndarray:
    """``log E[max(f - best, 0)]`` for ``f ~ N(mean, std ** 2)``, stable far below ``best``.

    Example:
        >>> log_expected_improvement(np.array([0.0, 0.0]), np.array([1.0, 1.0]), 0.0).round(4)
        array([-0.9189, -0.9189])
        >>> bool(np.isfinite(log_expected_improvement(np.array([-60.0]), np.ones(1), 0.0)[0]))
        True
    """
    z = (mean - best) / std
    return np.log(std) + _log_h(z)


def _log_h(z: np.ndarray) -> np.ndarray:
    """``log(phi(z) + z * Phi(z))``: ``erfc`` above -10, an asymptotic series below."""
    out = np.empty_like(z, dtype=float)
    tail = z < -10.0
    zt = z[tail]
    out[tail] = (
        -0.5 * zt * zt
        - _LOG_SQRT_2PI
        - 2.0 * np.log(-zt)
        + np.log1p(-3.0 / zt**2 + 15.0 / zt**4 - 105.0 / zt**6 + 945.0 / zt**8)
    )
    zh = z[~tail]
    cdf = 0.5 * np.array([math.erfc(-t / math.sqrt(2.0)) for t in zh.tolist()])
    pdf = np.exp(-0.5 * zh * zh - _LOG_SQRT_2PI)
    out[~tail] = np.log(np.maximum(pdf + zh * cdf, 1e-300))
    return out


def log_ei_scores(
    candidates: np.ndarray,
    observed: np.ndarray,
    scores: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    n_choices: np.ndarray,
    *,
    warped: bool = False,
    ard: bool = False,
    beta: float | None = None,
) -> np.ndarray:
    """Score candidates by the log expected improvement of a process fitted to the observations.

    Args:
        candidates: ``(m, d)`` encoded genomes to score.
        observed: ``(n, d)`` encoded genomes of the individuals with a finite score.
        scores: ``(n,)`` their scores, higher is better.
        low: ``(d,)`` transformed lower bounds.
        high: ``(d,)`` transformed upper bounds.
        n_choices: ``(d,)`` choices of each categorical gene, 0 for numeric ones.
        warped: As in :func:`fit`.
        ard: As in :func:`fit`.
        beta: If given, score by the upper confidence bound ``mean + beta * std`` instead.

    Returns:
        ``(m,)`` scores, higher is more promising; all zero with fewer than 2 observations.

    Example:
        >>> low, high, k = np.zeros(1), np.ones(1), np.zeros(1, int)
        >>> observed = np.array([[0.1], [0.3], [0.5], [0.7], [0.9]])
        >>> scores = -((observed[:, 0] - 0.3) ** 2)  # best near 0.3
        >>> s = log_ei_scores(np.array([[0.35], [0.95]]), observed, scores, low, high, k)
        >>> bool(s[0] > s[1])
        True
    """
    if len(observed) < 2:
        return np.zeros(len(candidates))
    post = fit(observed, scores, low, high, n_choices, warped=warped, ard=ard)
    mean, std = predict(post, candidates, low, high, n_choices)
    if beta is not None:
        return mean + beta * std
    fitted = post.genomes
    incumbent = float(np.max(predict(post, fitted, low, high, n_choices)[0]))
    return log_expected_improvement(mean, std, incumbent)
