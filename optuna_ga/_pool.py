"""The individuals of a Pareto study that may still rank among its best ``k``, kept as they come.

A Pareto study orders individuals by :func:`optuna_ga._pareto.constrained_dominance`: feasible
before infeasible, then Pareto dominance. An individual that ``k`` others rank ahead of can never
be among the best ``k`` again: newcomers only add to those ahead of it. The individuals that
fewer than ``k`` others rank ahead of form the *pool*, and three facts make it enough:

* whoever ranks ahead of a member is a member (fewer rank ahead of it: the order is transitive),
  so each member's front (its Pareto rank) is the same among the members as among all;
* every individual of the fronts that hold the best ``k`` is a member: whoever ranks ahead of it
  is on an earlier front, and those fronts hold fewer than ``k``. These fronts are whole in the
  pool, so the diversity that orders each of them is the same too;
* a newcomer that is not a member ranks ahead of no member (or fewer would rank ahead of it than
  of that member), so the pool stays as it was.

So NSGA-II's survival of ``k`` over the pool is the survival over all the individuals, and each
newcomer costs one comparison with the members. Late in a study most newcomers stay outside, and
the survivors (:meth:`ParetoPool.survivors`) are reused as they are.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from optuna_ga._pareto import constrained_dominance_between
from optuna_ga._population import Individual
from optuna_ga._population import best
from optuna_ga._population import pareto_arrays
from optuna_ga._population import rescore


class ParetoPool:
    """The individuals that fewer than ``k`` others rank ahead of (see the module docstring).

    Args:
        k: How many of the best individuals the pool must hold, ``>= 1``.

    Example:
        >>> three = [Individual(0, float("nan"), {}, (1.0, 3.0)),
        ...          Individual(1, float("nan"), {}, (2.0, 4.0)),
        ...          Individual(2, float("nan"), {}, (3.0, 1.0))]
        >>> pool = ParetoPool(1)
        >>> pool.update(three)
        >>> [ind.number for ind in pool.members]
        [0, 2]
        >>> [(ind.number, ind.score) for ind in pool.survivors()]
        [(0, 0.0)]
    """

    def __init__(self, k: int) -> None:
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}.")
        self.k = k
        self.seen = 0  # individuals digested: a prefix of the list given to :meth:`update`
        self.members: list[Individual] = []
        self._losses = np.zeros((0, 0))
        self._violation = np.zeros(0)
        self._ahead = np.zeros(0, dtype=int)  # how many individuals rank ahead of each member
        self._survivors: list[Individual] | None = None

    def update(self, individuals: Sequence[Individual]) -> None:
        """Digest ``individuals[self.seen:]``; ``individuals`` only ever grows at its end."""
        new = individuals[self.seen :]
        if not new:
            return
        new_losses, new_violation = pareto_arrays(new)
        losses = self._losses.reshape(len(self.members), new_losses.shape[1])
        ahead = self._ahead + constrained_dominance_between(
            new_losses, new_violation, losses, self._violation
        ).sum(axis=0)
        losses = np.concatenate([losses, new_losses])
        violation = np.concatenate([self._violation, new_violation])
        new_ahead = constrained_dominance_between(losses, violation, new_losses, new_violation)
        ahead = np.concatenate([ahead, new_ahead.sum(axis=0)])
        keep = ahead < self.k
        self.seen = len(individuals)
        if keep[: len(self.members)].all() and not keep[len(self.members) :].any():
            # No newcomer is a member, so none ranks ahead of one: the members stay as they were.
            self._ahead = ahead[: len(self.members)]
            return
        self.members = [ind for ind, kept in zip([*self.members, *new], keep, strict=True) if kept]
        self._ahead = ahead[keep]
        self._losses, self._violation = losses[keep], violation[keep]
        self._survivors = None

    def survivors(self) -> list[Individual]:
        """NSGA-II's survival of ``k`` over every individual digested, each scored among them.

        The best ``k`` (:func:`optuna_ga._population.best`), rescored within themselves
        (:func:`optuna_ga._population.rescore`): a steady population.
        """
        if self._survivors is None:
            self._survivors = rescore(best(self.members, self.k, pareto=True))
        return self._survivors
