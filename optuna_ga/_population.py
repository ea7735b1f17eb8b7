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
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from typing import Literal
from typing import NamedTuple
from typing import cast

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


class Individual(NamedTuple):
    """A trial that completed with a finite objective value."""

    number: int
    score: float  # higher is better: the value, negated for a minimize study
    params: dict[str, Any]


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


def best(individuals: Sequence[Individual], k: int) -> list[Individual]:
    """The ``k`` best individuals, best first; ties go to the earlier trial."""
    return sorted(individuals, key=lambda ind: (-ind.score, ind.number))[:k]


def next_population(
    previous: Sequence[Individual],
    members: Sequence[Individual],
    *,
    population_size: int,
    n_elites: int,
    mode: PopulationMode,
) -> list[Individual]:
    """The population of a generation from the previous population and its own members.

    ``mode`` is ``"hall_of_fame"`` or ``"generational"``; a ``"steady"`` population has no
    generations (a ``ValueError``, as for any other value).

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
        return best([*previous, *members], population_size)
    if mode == "generational":
        return best(previous, n_elites) + best(members, len(members))
    raise ValueError(f"mode must be 'hall_of_fame' or 'generational', got {mode!r}.")
