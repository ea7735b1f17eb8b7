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
from optuna_ga._encoding import canonical_hash
from optuna_ga._encoding import cardinality
from optuna_ga._encoding import grid
from optuna_ga._population import Individual
from optuna_ga.operators import mutate
from optuna_ga.operators import sample_uniform
from optuna_ga.operators._crossover import Crossover
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
    """The GA configuration that breeding needs."""

    selection: Selection
    crossover: Crossover
    crossover_prob: float
    mutation_prob: float | None  # None: 1 / number of genes


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
    scores: np.ndarray,
    genomes: np.ndarray | None,
    operators: Operators,
    rng: np.random.Generator,
) -> tuple[np.ndarray, str, list[int]]:
    """Select two parents and cross them (or copy the first): the child before mutation.

    Genes the child did not inherit (a conditional gene absent in the parent on its side of the
    cut) are drawn at random. ``genomes`` are the population's encodings, or None to encode
    just the two parents; ``scores`` are the population's. Returns the genome, the operator so
    far and the parents.
    """
    i, j = operators.selection(scores, rng)
    a, b = population[i], population[j]
    if genomes is None:
        xa, xb = space.encode(a.params), space.encode(b.params)
    else:
        xa, xb = genomes[i], genomes[j]
    if i != j and rng.random() < operators.crossover_prob:
        x, _ = operators.crossover(xa, xb, rng)
        operator, parents = "crossover", [a.number, b.number]
    else:
        x, operator, parents = xa.copy(), "", [a.number]
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
    back to :func:`random_proposal`.
    """
    scores = np.array([ind.score for ind in population])
    x, operator, parents = _cross(space, population, scores, None, operators, rng)
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


def breed_candidates(
    space: Space,
    population: Sequence[Individual],
    operators: Operators,
    rng: np.random.Generator,
    n_candidates: int,
) -> list[Proposal]:
    """Up to ``n_candidates`` distinct children for the surrogate to choose from.

    Each is bred as in :func:`breed`, except that at least one gene always mutates (so no child
    is a copy of its first parent) and duplicates of known sets are *not* avoided here: the
    caller checks only the children it considers, best first, which saves most of the checks.
    """
    genomes = np.array([space.encode(ind.params) for ind in population])
    scores = np.array([ind.score for ind in population])
    rate = _rate(operators, len(space))
    children: dict[str, Proposal] = {}
    for _ in range(n_candidates):
        x, operator, parents = _cross(space, population, scores, genomes, operators, rng)
        y, _ = _mutate_at_least_one(space, x, rate, rng)
        params = space.decode(y)
        children.setdefault(
            canonical_hash(params), Proposal(params, _label(operator, True), parents)
        )
    return list(children.values())
