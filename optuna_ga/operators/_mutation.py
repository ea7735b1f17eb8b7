"""Mutation and random sampling of encoded genomes (see :mod:`optuna_ga._encoding`).

Genes are described by their transformed-space bounds ``low``/``high`` and ``n_choices``
(the number of choices of a categorical gene, 0 for a numeric one).
"""

from __future__ import annotations

import numpy as np

#: Standard deviation of a local step, as a share of the gene's transformed range.
LOCAL_STEP = 0.1


def sample_uniform(
    low: np.ndarray,
    high: np.ndarray,
    n_choices: np.ndarray,
    rng: np.random.Generator,
    size: int | None = None,
) -> np.ndarray:
    """A genome drawn uniformly in the transformed space (categorical: uniform choice).

    With ``size``, a ``(size, d)`` array of genomes. One uniform draw per gene makes both kinds
    (see :func:`_uniform_from`): a single call into the RNG, whatever the genes.

    Example:
        >>> from optuna_ga.operators import sample_uniform
        >>> x = sample_uniform(np.array([0.0, -0.5]), np.array([1.0, 2.5]), np.array([0, 3]),
        ...                    np.random.default_rng(0))
        >>> bool(0.0 <= x[0] <= 1.0) and x[1] in (0.0, 1.0, 2.0)
        True
        >>> sample_uniform(np.zeros(2), np.ones(2), np.zeros(2, int), np.random.default_rng(0),
        ...                size=5).shape
        (5, 2)
    """
    shape = low.shape if size is None else (size, len(low))
    return _uniform_from(rng.random(shape), low, high, n_choices)


def _uniform_from(
    u: np.ndarray, low: np.ndarray, high: np.ndarray, n_choices: np.ndarray
) -> np.ndarray:
    """Uniform genes from uniform ``u`` in ``[0, 1)``: ``low + u (high - low)``, or a choice.

    A categorical gene with ``n`` choices takes ``floor(u n)``, each choice with probability
    ``1 / n`` (``u n`` rounds below ``n`` for every ``u < 1``).
    """
    return np.where(n_choices > 0, np.floor(u * n_choices), low + u * (high - low))


def mutate(
    x: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    n_choices: np.ndarray,
    rate: float,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Mutate each gene with probability ``rate``; return the new genome and the mutated mask.

    * A categorical gene with more than one choice always takes a *different* choice.
    * A numeric gene, with probability 1/2, is resampled uniformly in its range; otherwise it
      takes a local Gaussian step of ``LOCAL_STEP`` times its range, clipped to the range. In
      both cases the step happens in the transformed (log, where ``log=True``) space; decoding
      snaps the value onto ``step`` and the bounds.
    * A NaN gene that mutates is resampled uniformly.

    ``x`` is one genome ``(d,)`` or a batch ``(m, d)``, mutated row by row. All the draws come
    from two calls into the RNG (uniforms and normals), so a mutation costs about as much for
    one genome as for a batch of them.

    Reference for the Gaussian step: T. Bäck, *Evolutionary Algorithms in Theory and
    Practice*, 1996.

    Example:
        >>> y, hit = mutate(np.array([0.0]), np.array([-0.5]), np.array([2.5]), np.array([3]),
        ...                 1.0, np.random.default_rng(0))
        >>> bool(hit[0]) and y[0] in (1.0, 2.0)
        True
    """
    u = rng.random((4, *x.shape))  # hit, resample, uniform value, categorical shift
    noise = rng.normal(0.0, LOCAL_STEP, x.shape) * (high - low)
    hit = u[0] < rate
    if not hit.any():  # common at the default rate of 1 / d: nothing to compute
        return x.copy(), hit
    missing = np.isnan(x)
    categorical = n_choices > 0
    x0 = np.where(missing, 0.0, x)  # no NaN arithmetic below (its results are never used)
    drawn = hit & (missing | (~categorical & (u[1] < 0.5)))
    stepped = hit & ~drawn & ~categorical
    shifted = hit & ~missing & (n_choices > 1)
    # A categorical gene moves by 1 .. n-1 choices, each shift with probability 1 / (n - 1).
    shift = 1.0 + np.floor(u[3] * (np.maximum(n_choices, 2) - 1))
    y = np.where(stepped, np.minimum(np.maximum(x0 + noise, low), high), x)
    y = np.where(shifted, (np.round(x0) + shift) % np.maximum(n_choices, 1), y)
    y = np.where(drawn, _uniform_from(u[2], low, high, n_choices), y)
    return y, hit
