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

    With ``size``, a ``(size, d)`` array of genomes.

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
    x = rng.uniform(low, high, size=shape)
    categorical = n_choices > 0
    n_categorical = int(categorical.sum())
    x[..., categorical] = rng.integers(
        0, n_choices[categorical], size=(*shape[:-1], n_categorical)
    )
    return x


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

    ``x`` is one genome ``(d,)`` or a batch ``(m, d)``, mutated row by row.

    Reference for the Gaussian step: T. Bäck, *Evolutionary Algorithms in Theory and
    Practice*, 1996.

    Example:
        >>> y, hit = mutate(np.array([0.0]), np.array([-0.5]), np.array([2.5]), np.array([3]),
        ...                 1.0, np.random.default_rng(0))
        >>> bool(hit[0]) and y[0] in (1.0, 2.0)
        True
    """
    shape = x.shape
    hit = rng.random(shape) < rate
    uniform_draw = sample_uniform(low, high, n_choices, rng, None if x.ndim == 1 else len(x))
    resample = rng.random(shape) < 0.5
    noise = rng.normal(0.0, LOCAL_STEP, shape) * (high - low)
    shift = rng.integers(1, np.maximum(n_choices, 2), size=shape)
    if x.ndim > 1:  # per-gene bounds for every row, for the masked assignments below
        low, high, n_choices = (np.broadcast_to(a, shape) for a in (low, high, n_choices))
    y = x.copy()
    missing = np.isnan(x)
    categorical = n_choices > 0
    numeric = hit & ~missing & ~categorical
    drawn = (hit & missing) | (numeric & resample)
    y[drawn] = uniform_draw[drawn]
    local = numeric & ~resample
    y[local] = np.clip(x[local] + noise[local], low[local], high[local])
    other = hit & ~missing & categorical & (n_choices > 1)
    y[other] = (np.round(x[other]) + shift[other]) % n_choices[other]
    return y, hit
