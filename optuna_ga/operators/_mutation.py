"""Mutation and random sampling of encoded genomes (see :mod:`optuna_ga._encoding`).

Genes are described by a :class:`~optuna_ga.operators.Genes`: their transformed-space bounds
``low``/``high`` and ``n_choices`` (the number of choices of a categorical gene, 0 for a
numeric one).
"""

from __future__ import annotations

import numpy as np

from optuna_ga.operators._genes import Genes

#: Standard deviation of a local step, as a share of the gene's transformed range.
LOCAL_STEP = 0.1


def sample_uniform(genes: Genes, rng: np.random.Generator, size: int | None = None) -> np.ndarray:
    """Genomes drawn uniformly in the transformed space (categorical: uniform choice).

    With ``size``, a ``(size, d)`` array of genomes (without, one ``(d,)`` genome: the same
    draws as ``size=1``). One uniform draw per gene makes both kinds (see
    :func:`_uniform_from`): a single call into the RNG, whatever the genes.

    Example:
        >>> from types import SimpleNamespace
        >>> genes = SimpleNamespace(low=np.array([0.0, -0.5]), high=np.array([1.0, 2.5]),
        ...                         n_choices=np.array([0, 3]))
        >>> x = sample_uniform(genes, np.random.default_rng(0), size=5)
        >>> x.shape, bool(np.all((0.0 <= x[:, 0]) & (x[:, 0] <= 1.0)))
        ((5, 2), True)
        >>> set(x[:, 1].tolist()) <= {0.0, 1.0, 2.0}
        True
    """
    shape = genes.low.shape if size is None else (size, len(genes.low))
    return _uniform_from(rng.random(shape), genes)


def _uniform_from(u: np.ndarray, genes: Genes) -> np.ndarray:
    """Uniform genes from uniform ``u`` in ``[0, 1)``: ``low + u (high - low)``, or a choice.

    A categorical gene with ``n`` choices takes ``floor(u n)``, each choice with probability
    ``1 / n`` (``u n`` rounds below ``n`` for every ``u < 1``).
    """
    n_choices = genes.n_choices
    return np.where(
        n_choices > 0, np.floor(u * n_choices), genes.low + u * (genes.high - genes.low)
    )


def mutate(
    x: np.ndarray,
    genes: Genes,
    rate: float,
    rng: np.random.Generator,
    *,
    at_least_one: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Mutate each gene with probability ``rate``; return the new genomes and the mutated mask.

    * A categorical gene with more than one choice always takes a *different* choice.
    * A numeric gene, with probability 1/2, is resampled uniformly in its range; otherwise it
      takes a local Gaussian step of ``LOCAL_STEP`` times its range, clipped to the range. In
      both cases the step happens in the transformed (log, where ``log=True``) space; decoding
      snaps the value onto ``step`` and the bounds.
    * A NaN gene that mutates is resampled uniformly.

    ``x`` is a batch ``(m, d)`` of genomes, mutated row by row (a single genome is one row; a
    ``(d,)`` vector works as well). All the draws come from two calls into the RNG (uniforms
    and normals), so a mutation costs about as much for one genome as for a batch of them.

    With ``at_least_one``, a row in which no gene was hit has one gene, drawn uniformly, mutated
    for sure (a mutation at rate 1 and a gene index per row: more draws, made only when some
    row needs them).

    Reference for the Gaussian step: T. Bäck, *Evolutionary Algorithms in Theory and
    Practice*, 1996.

    Example:
        >>> from types import SimpleNamespace
        >>> genes = SimpleNamespace(low=np.array([-0.5]), high=np.array([2.5]),
        ...                         n_choices=np.array([3]))
        >>> y, hit = mutate(np.array([[0.0]]), genes, 1.0, np.random.default_rng(0))
        >>> bool(hit[0, 0]) and y[0, 0] in (1.0, 2.0)
        True
        >>> y, hit = mutate(np.zeros((4, 1)), genes, 0.0, np.random.default_rng(0),
        ...                 at_least_one=True)
        >>> hit.sum(axis=1).tolist()
        [1, 1, 1, 1]
    """
    u = rng.random((4, *x.shape))  # hit, resample, uniform value, categorical shift
    noise = rng.normal(0.0, LOCAL_STEP, x.shape)
    hit = u[0] < rate
    # Nothing to compute when no gene is hit (common at the default rate of 1 / d).
    y = _mutated(x, genes, u, noise, hit) if hit.any() else x.copy()
    d = x.shape[-1]
    if not at_least_one or d == 0:
        return y, hit
    unmutated = ~np.any(hit, axis=-1)
    if not unmutated.any():
        return y, hit
    forced, _ = mutate(x, genes, 1.0, rng)
    gene = rng.integers(d, size=unmutated.shape)
    picked = unmutated[..., None] & (np.arange(d) == gene[..., None])
    return np.where(picked, forced, y), hit | picked


def _mutated(
    x: np.ndarray, genes: Genes, u: np.ndarray, noise: np.ndarray, hit: np.ndarray
) -> np.ndarray:
    """The genes of ``x`` that ``hit`` marks, mutated with the uniforms ``u`` and ``noise``."""
    low, high, n_choices = genes.low, genes.high, genes.n_choices
    missing = np.isnan(x)
    categorical = n_choices > 0
    x0 = np.where(missing, 0.0, x)  # no NaN arithmetic below (its results are never used)
    drawn = hit & (missing | (~categorical & (u[1] < 0.5)))
    stepped = hit & ~drawn & ~categorical
    shifted = hit & ~missing & (n_choices > 1)
    # A categorical gene moves by 1 .. n-1 choices, each shift with probability 1 / (n - 1).
    shift = 1.0 + np.floor(u[3] * (np.maximum(n_choices, 2) - 1))
    y = np.where(stepped, np.minimum(np.maximum(x0 + noise * (high - low), low), high), x)
    y = np.where(shifted, (np.round(x0) + shift) % np.maximum(n_choices, 1), y)
    return np.where(drawn, _uniform_from(u[2], genes), y)
