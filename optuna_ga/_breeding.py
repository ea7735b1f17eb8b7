"""Making one new individual: selection, crossover, mutation, and the bounded duplicate retries.

Pure: the caller passes the space, the parent population, a duplicate test and an RNG.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from typing import Any

import numpy as np

from optuna_ga._encoding import Space
from optuna_ga._encoding import cardinality
from optuna_ga._encoding import grid
from optuna_ga._population import Individual
from optuna_ga.operators import CROSSOVERS
from optuna_ga.operators import PAIR_SELECTIONS
from optuna_ga.operators import ROW_CROSSOVERS
from optuna_ga.operators import SELECTIONS
from optuna_ga.operators import mutate
from optuna_ga.operators import sample_uniform
from optuna_ga.operators._crossover import Crossover
from optuna_ga.operators._crossover import RowCrossover
from optuna_ga.operators._selection import PairSelection
from optuna_ga.operators._selection import Selection

#: Re-mutations of a bred child that repeats an evaluated or running parameter set.
MAX_REMUTATIONS = 8
#: Random draws tried after the re-mutations, before giving up.
MAX_RANDOM_DRAWS = 64
#: A finite space with at most this many points is enumerated when random draws keep
#: repeating known sets, so its last unseen points are found exactly.
MAX_ENUMERATION = 20_000


@dataclass(frozen=True)
class Operators:
    """The GA configuration that breeding needs: each operator in its single and batch form."""

    selection: Selection
    crossover: Crossover
    crossover_prob: float
    mutation_prob: float | None  # None: 1 / number of genes
    pair_selection: PairSelection
    row_crossover: RowCrossover

    @classmethod
    def named(
        cls, selection: str, crossover: str, crossover_prob: float, mutation_prob: float | None
    ) -> Operators:
        """The operators of :data:`~optuna_ga.operators.SELECTIONS` and ``CROSSOVERS`` names."""
        return cls(
            selection=SELECTIONS[selection],
            crossover=CROSSOVERS[crossover],
            crossover_prob=crossover_prob,
            mutation_prob=mutation_prob,
            pair_selection=PAIR_SELECTIONS[selection],
            row_crossover=ROW_CROSSOVERS[crossover],
        )


@dataclass(frozen=True)
class Proposal:
    """A proposed parameter set with its lineage.

    ``duplicate`` is True when every bounded attempt repeated a known parameter set;
    ``score`` is the surrogate's score when the proposal was chosen among several candidates.
    """

    params: dict[str, Any]
    operator: str
    parents: list[int] = field(default_factory=list)
    duplicate: bool = False
    score: float | None = None


def random_proposal(
    space: Space,
    is_duplicate: Callable[[dict[str, Any]], bool],
    rng: np.random.Generator,
    operator: str,
) -> Proposal:
    """An unseen uniform random point; else the last draw, flagged ``duplicate`` ("repeat")."""
    params: dict[str, Any] = {}
    for _ in range(MAX_RANDOM_DRAWS):
        params = space.decode(sample_uniform(space.low, space.high, space.n_choices, rng))
        if not is_duplicate(params):
            return Proposal(params, operator)
    unseen = enumerate_unseen(space, is_duplicate, rng)
    if unseen is not None:
        return Proposal(unseen, operator)
    return Proposal(params, "repeat", duplicate=True)


def enumerate_unseen(
    space: Space,
    is_duplicate: Callable[[dict[str, Any]], bool],
    rng: np.random.Generator,
) -> dict[str, Any] | None:
    """A random unseen point of a small finite space, found by enumeration; else None.

    Points are visited in a random order (a permutation of their mixed-radix indices), so the
    result is uniform among the unseen points. Returns None when the space is continuous, has
    more than :data:`MAX_ENUMERATION` points, or has no unseen point.
    """
    sizes = [cardinality(d) for d in space.distributions.values()]
    total = math.prod(sizes)
    if not sizes or not math.isfinite(total) or total > MAX_ENUMERATION:
        return None
    grids = [grid(d) for d in space.distributions.values()]
    for index in rng.permutation(int(total)):
        params = {}
        for name, values in zip(space.names, grids, strict=True):
            index, digit = divmod(int(index), len(values))
            params[name] = values[digit]
        if not is_duplicate(params):
            return params
    return None


def _cross(
    space: Space,
    population: Sequence[Individual],
    genomes: np.ndarray,
    operators: Operators,
    rng: np.random.Generator,
) -> tuple[np.ndarray, str, list[int]]:
    """Select two parents and cross them (or copy the first): the child before mutation.

    Genes the child did not inherit (a conditional gene absent in the parent on its side of the
    cut) are drawn at random. Returns the genome, the operator so far and the parents.
    """
    i, j = operators.selection(np.array([ind.score for ind in population]), rng)
    a, b = population[i], population[j]
    if i != j and rng.random() < operators.crossover_prob:
        x, _ = operators.crossover(genomes[i], genomes[j], rng)
        operator, parents = "crossover", [a.number, b.number]
    else:
        x, operator, parents = genomes[i].copy(), "", [a.number]
    missing = np.isnan(x)
    if missing.any():
        x[missing] = sample_uniform(space.low, space.high, space.n_choices, rng)[missing]
    return x, operator, parents


def _mutate_at_least_one(
    space: Space, x: np.ndarray, rate: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Mutate each gene with probability ``rate``; if none mutated, one random gene for sure."""
    y, hit = mutate(x, space.low, space.high, space.n_choices, rate, rng)
    n = len(x)
    if not hit.any() and n > 0:
        hit = np.arange(n) == rng.integers(n)
        y = np.where(hit, mutate(x, space.low, space.high, space.n_choices, 1.0, rng)[0], x)
    return y, hit


def _label(operator: str, mutated: bool) -> str:
    return "+".join(op for op in (operator, "mutation" if mutated else "") if op) or "copy"


def _rate(operators: Operators, n: int) -> float:
    return operators.mutation_prob if operators.mutation_prob is not None else 1.0 / max(n, 1)


def breed(
    space: Space,
    population: Sequence[Individual],
    genomes: np.ndarray,
    operators: Operators,
    is_duplicate: Callable[[dict[str, Any]], bool],
    rng: np.random.Generator,
) -> Proposal:
    """Breed one child from ``population`` (not empty), avoiding known parameter sets.

    Two parents are selected on their scores; with probability ``crossover_prob`` they are
    crossed, otherwise the child starts as a copy of the first; then each gene mutates with
    probability ``mutation_prob``. Genes the child did not inherit (a conditional gene absent in
    the parent on its side of the cut) are drawn at random. A child that repeats a known set is
    mutated again, with a rising rate, up to :data:`MAX_REMUTATIONS` times; then the sampler falls
    back to :func:`random_proposal`. ``genomes`` are the population's encodings over ``space``
    (as in :func:`breed_candidates`).
    """
    x, operator, parents = _cross(space, population, genomes, operators, rng)
    rate = _rate(operators, len(space))
    for attempt in range(MAX_REMUTATIONS + 1):
        if attempt == 0:
            y, hit = mutate(x, space.low, space.high, space.n_choices, rate, rng)
        else:  # a retry must differ from the repeated set
            y, hit = _mutate_at_least_one(space, x, rate, rng)
        params = space.decode(y)
        if not is_duplicate(params):
            return Proposal(params, _label(operator, bool(hit.any())), parents)
        x = y
        rate = min(1.0, rate * 2.0)
    return random_proposal(space, is_duplicate, rng, "random-fallback")


@dataclass(frozen=True)
class Brood:
    """Children bred at once: their genomes and parents, decoded only when considered.

    ``parents[k]`` holds the trial numbers of child ``k``'s parents; the second is -1 when the
    child is a mutated copy of the first, both are -1 for a random point.
    """

    genomes: np.ndarray  # (m, d)
    parents: np.ndarray  # (m, 2)

    def __len__(self) -> int:
        return len(self.genomes)

    def proposal(self, space: Space, k: int, score: float | None = None) -> Proposal:
        """Child ``k`` decoded, with its true lineage."""
        first, second = (int(p) for p in self.parents[k])
        if first < 0:  # a random point (see :func:`random_candidates`)
            return Proposal(space.decode(self.genomes[k]), "random", score=score)
        crossed = second >= 0
        return Proposal(
            space.decode(self.genomes[k]),
            _label("crossover" if crossed else "", mutated=True),
            [first, second] if crossed else [first],
            score=score,
        )


def breed_candidates(
    space: Space,
    population: Sequence[Individual],
    genomes: np.ndarray,
    operators: Operators,
    rng: np.random.Generator,
    n_candidates: int,
) -> Brood:
    """``n_candidates`` children bred at once, for the surrogate to choose from.

    Each is bred as in :func:`breed` (selection, crossover with probability ``crossover_prob``,
    missing genes drawn at random, mutation), all in a few numpy operations over ``(m, d)``
    arrays, except that at least one gene always mutates (so that few children are copies of
    their first parent: a discrete gene may round back to its value). Duplicates of known sets
    are *not* avoided here: the caller checks only the children it considers, best first, which
    saves most of the checks. Children with equal genomes are kept once.

    Args:
        space: The genes.
        population: The parents to draw from (not empty).
        genomes: ``(len(population), d)`` their encodings over ``space``.
        operators: The GA's operators (their batch forms are used).
        rng: The random stream.
        n_candidates: How many children to breed.
    """
    scores = np.array([ind.score for ind in population])
    numbers = np.array([ind.number for ind in population])
    m, d = n_candidates, len(space)
    pairs = operators.pair_selection(scores, m, rng)
    first, second = pairs[:, 0], pairs[:, 1]
    crossed = (first != second) & (rng.random(m) < operators.crossover_prob)
    child, _ = operators.row_crossover(genomes[first], genomes[second], rng)
    x = np.where(crossed[:, None], child, genomes[first])
    missing = np.isnan(x)
    x[missing] = sample_uniform(space.low, space.high, space.n_choices, rng, m)[missing]
    y, hit = mutate(x, space.low, space.high, space.n_choices, _rate(operators, d), rng)
    unmutated = ~np.any(hit, axis=1)
    if unmutated.any() and d > 0:  # mutate one random gene of those for sure
        forced, _ = mutate(x, space.low, space.high, space.n_choices, 1.0, rng)
        gene = rng.integers(d, size=m)
        y = np.where(unmutated[:, None] & (np.arange(d) == gene[:, None]), forced, y)
    first_of: dict[bytes, int] = {}
    for k, row in enumerate(y):
        first_of.setdefault(row.tobytes(), k)
    keep = list(first_of.values())
    parents = np.stack([numbers[first], np.where(crossed, numbers[second], -1)], axis=1)
    return Brood(y[keep], parents[keep])


def random_candidates(space: Space, rng: np.random.Generator, n_candidates: int) -> Brood:
    """``n_candidates`` uniform random points, for the surrogate to choose from (no parents)."""
    genomes = sample_uniform(space.low, space.high, space.n_choices, rng, n_candidates)
    return Brood(genomes, np.full((n_candidates, 2), -1))
