"""What an operator knows of the genes: their bounds in the encoded space and their choices."""

from __future__ import annotations

from typing import Protocol

import numpy as np


class Genes(Protocol):
    """The genes of a genome, as operators see them (see :mod:`optuna_ga._encoding`).

    Any object with these three ``(d,)`` arrays will do; the sampler passes its search space.
    A numeric gene lives in ``[low, high]`` (on a log scale where the parameter has
    ``log=True``, widened by half a step where it has a ``step``); a categorical gene is the
    index of a choice, with ``n_choices`` choices (0 for a numeric gene).

    Example:
        >>> from types import SimpleNamespace
        >>> genes = SimpleNamespace(low=np.array([0.0, -0.5]), high=np.array([1.0, 2.5]),
        ...                         n_choices=np.array([0, 3]))
        >>> genes.n_choices.tolist()  # a number in [0, 1], then a categorical of 3 choices
        [0, 3]
    """

    @property
    def low(self) -> np.ndarray:
        """``(d,)`` lower bounds (for a categorical gene, ``-0.5``)."""

    @property
    def high(self) -> np.ndarray:
        """``(d,)`` upper bounds (for a categorical gene, ``n_choices - 0.5``)."""

    @property
    def n_choices(self) -> np.ndarray:
        """``(d,)`` choices of each categorical gene, 0 for a numeric one."""
