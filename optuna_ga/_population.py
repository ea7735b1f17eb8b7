"""Generation bookkeeping: which trial belongs to which generation, and who the parents are.

Pure functions; nothing here reads a study.

Generations follow from trial numbers, which every Optuna storage assigns atomically, so every
worker agrees on them without talking to the others:

* generation 0 holds trial numbers ``0 .. P-1`` (``P`` = ``population_size``): random
  individuals, enqueued trials, or trials that another sampler ran before;
* every later generation holds ``P - E`` numbers (``E`` = ``n_elites``): the elites are not
  trained again, they stay in the population as parents.

Where parents come from is the sampler's ``population`` (one of :data:`POPULATIONS`); the
population is rebuilt from the trials that completed with a finite value:

* ``"steady"``: the best ``P`` individuals finished so far, whatever their generation (kept
  incrementally by :meth:`optuna_ga._history.History.population`); a child may have a parent
  numbered after it, one that finished first;
* ``"hall_of_fame"``: ``Pop(g) = top_P(Pop(g-1) + members(g))``, the best ``P`` of all time up
  to generation ``g``;
* ``"generational"``: ``Pop(g) = top_E(Pop(g-1)) + members(g)``. The elites are the best
  individuals found so far (by induction the best of all time always survives).

In the last two, children of generation ``g + 1`` are bred from ``Pop(g)``
(:func:`next_population`).

*Best* is the score (the value, negated when minimising) in a single-objective study. In a
multi-objective study, or one with constraints, it is the Pareto order of
:mod:`optuna_ga._pareto` (feasible before infeasible, then fronts, then diversity within a
front), and a population's scores are each member's :func:`pareto_scores` within it: this
module is the one place where that fitness is defined (:func:`is_pareto`, :func:`best`,
:func:`rescore`, :func:`pareto_scores`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from typing import Literal
from typing import NamedTuple
from typing import cast

import numpy as np

from optuna_ga._pareto import Diversity
from optuna_ga._pareto import constrained_ranks
from optuna_ga._pareto import fitness
from optuna_ga._pareto import survivors

#: Where parents come from (see the module docstring).
PopulationMode = Literal["steady", "hall_of_fame", "generational"]
POPULATIONS: tuple[PopulationMode, ...] = ("steady", "hall_of_fame", "generational")


def check_population(value: Any, argument: str = "population") -> PopulationMode:
    """``value`` if it is one of :data:`POPULATIONS`, else a ``ValueError`` naming them.

    ``argument`` is the name that the error gives the value.

    Example:
        >>> check_population("steady")
        'steady'
        >>> check_population("all")
        Traceback (most recent call last):
        ...
        ValueError: population must be one of 'steady', 'hall_of_fame', 'generational', got 'all'.
    """
    if not isinstance(value, str) or value not in POPULATIONS:
        allowed = ", ".join(repr(p) for p in POPULATIONS)
        raise ValueError(f"{argument} must be one of {allowed}, got {value!r}.")
    return cast(PopulationMode, value)


#: How the points of one front are told apart in a Pareto study (``"crowding"`` or ``"hv"``,
#: see :func:`optuna_ga._pareto.diversity`): hypervolume contributions with two objectives,
#: crowding distance with more, chosen on ``benchmarks/MULTI_OBJECTIVE.md`` (ahead of crowding
#: distance at 100 trials and on HPOBench at 200, behind at 25 and 50).
DIVERSITY: Diversity = "hv"


class Individual(NamedTuple):
    """A trial that completed with finite objective values.

    ``losses`` is ``None`` in a single-objective study, else the values, negated where
    maximised. ``violation`` is ``None`` when the study has no constraints, else the total
    violation of the trial's constraints (NaN: unknown, see
    :func:`optuna_ga._pareto.violations`). ``score`` is higher-is-better: in a single-objective
    study the value, negated for a minimize study; in a Pareto study (:func:`is_pareto`) the
    individual's fitness within the population it belongs to (:func:`rescore`), NaN outside one.
    """

    number: int
    score: float
    params: dict[str, Any]
    losses: tuple[float, ...] | None = None
    violation: float | None = None


def is_pareto(individuals: Sequence[Individual]) -> bool:
    """Whether these individuals are ordered by Pareto rank (several objectives, constraints)."""
    return any(ind.losses is not None or ind.violation is not None for ind in individuals)


def pareto_arrays(individuals: Sequence[Individual]) -> tuple[np.ndarray, np.ndarray]:
    """``(losses, violation)`` of individuals, as :mod:`optuna_ga._pareto` reads them.

    A single-objective individual's loss is its negated score; no constraints means feasible.
    """
    if not individuals:
        return np.zeros((0, 1)), np.zeros(0)
    losses = np.array(
        [ind.losses if ind.losses is not None else (-ind.score,) for ind in individuals],
        dtype=float,
    ).reshape(len(individuals), -1)
    violation = np.array(
        [0.0 if ind.violation is None else ind.violation for ind in individuals], dtype=float
    )
    return losses, violation


def pareto_ranks(individuals: Sequence[Individual]) -> tuple[np.ndarray, np.ndarray]:
    """``(losses, ranks)`` of individuals: feasible first, then fronts (see :mod:`._pareto`)."""
    losses, violation = pareto_arrays(individuals)
    return losses, constrained_ranks(losses, violation)


def pareto_scores(individuals: Sequence[Individual]) -> np.ndarray:
    """Fitness of each individual among these ones, higher is better (Pareto studies).

    ``-rank + tie``, ``tie`` in ``[0, 1)`` by diversity within the front (see
    :func:`optuna_ga._pareto.fitness`); equal diversity goes to the earlier trial, so the
    scores do not depend on the order the individuals are given in.
    """
    losses, violation = pareto_arrays(individuals)
    numbers = np.fromiter((ind.number for ind in individuals), int, len(individuals))
    return pareto_scores_of(losses, violation, numbers)


def pareto_scores_of(losses: np.ndarray, violation: np.ndarray, numbers: np.ndarray) -> np.ndarray:
    """:func:`pareto_scores` of individuals given as arrays (see :func:`pareto_arrays`)."""
    by_number = np.argsort(numbers, kind="stable")
    scores = np.empty(len(numbers))
    ranks = constrained_ranks(losses[by_number], violation[by_number])
    scores[by_number] = fitness(losses[by_number], ranks, DIVERSITY)
    return scores


def rescore(individuals: Sequence[Individual]) -> list[Individual]:
    """The individuals, in the same order, scored by :func:`pareto_scores` among themselves."""
    scores = pareto_scores(individuals)
    return [ind._replace(score=float(s)) for ind, s in zip(individuals, scores, strict=True)]


def generation_of(number: int, population_size: int, n_elites: int) -> tuple[int, int]:
    """Return ``(generation, slot)`` of a trial number.

    Example:
        >>> [generation_of(n, 4, 1) for n in (0, 3, 4, 6, 7)]
        [(0, 0), (0, 3), (1, 0), (1, 2), (2, 0)]
    """
    if number < population_size:
        return 0, number
    per_generation = population_size - n_elites
    generation, slot = divmod(number - population_size, per_generation)
    return generation + 1, slot


def generation_range(generation: int, population_size: int, n_elites: int) -> range:
    """Trial numbers of a generation.

    Example:
        >>> generation_range(0, 4, 1), generation_range(2, 4, 1)
        (range(0, 4), range(7, 10))
    """
    if generation == 0:
        return range(population_size)
    start = population_size + (generation - 1) * (population_size - n_elites)
    return range(start, start + population_size - n_elites)


def best(
    individuals: Sequence[Individual], k: int, *, pareto: bool | None = None
) -> list[Individual]:
    """The ``k`` best individuals, best first; ties go to the earlier trial.

    With ``pareto`` (``None``: :func:`is_pareto` of the individuals) this is NSGA-II's
    survival (:func:`optuna_ga._pareto.survivors`): feasible before infeasible, whole fronts,
    the last one cut by diversity.

    Example:
        >>> two = [Individual(0, float("nan"), {}, (1.0, 3.0)),
        ...        Individual(1, float("nan"), {}, (2.0, 4.0)),
        ...        Individual(2, float("nan"), {}, (3.0, 1.0))]
        >>> [i.number for i in best(two, 2)], [i.number for i in best(two[:2], 1)]
        ([0, 2], [0])
    """
    if is_pareto(individuals) if pareto is None else pareto:
        ordered = sorted(individuals, key=lambda ind: ind.number)
        losses, ranks = pareto_ranks(ordered)
        return [ordered[i] for i in survivors(losses, ranks, k, DIVERSITY)]
    return sorted(individuals, key=lambda ind: (-ind.score, ind.number))[:k]


def next_population(
    previous: Sequence[Individual],
    members: Sequence[Individual],
    *,
    population_size: int,
    n_elites: int,
    mode: PopulationMode,
    pareto: bool | None = None,
) -> list[Individual]:
    """The population of a generation from the previous population and its own members.

    ``mode`` is ``"hall_of_fame"`` or ``"generational"``; a ``"steady"`` population has no
    generations (a ``ValueError``, as for any other value). ``pareto`` is passed to
    :func:`best`.

    Example:
        >>> prev = [Individual(0, 1.0, {}), Individual(1, 3.0, {}), Individual(2, 2.0, {})]
        >>> new = [Individual(3, 0.5, {})]
        >>> [i.number for i in next_population(prev, new, population_size=3, n_elites=1,
        ...                                    mode="generational")]
        [1, 3]
        >>> [i.number for i in next_population(prev, new, population_size=3, n_elites=1,
        ...                                    mode="hall_of_fame")]
        [1, 2, 0]
    """
    if mode == "hall_of_fame":
        return best([*previous, *members], population_size, pareto=pareto)
    if mode == "generational":
        return best(previous, n_elites, pareto=pareto) + best(members, len(members), pareto=pareto)
    raise ValueError(f"mode must be 'hall_of_fame' or 'generational', got {mode!r}.")
