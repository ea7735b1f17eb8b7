"""Making new individuals: selection, crossover, mutation, and the bounded duplicate retries.

Pure: the caller passes the space, the parent population, a duplicate test and an RNG.
Children are bred in one form, :func:`breed_children` (a batch; a single child is a batch of
one), which the classic GA (:func:`breed`) and the surrogate's candidates both use.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from typing import Any

import numpy as np
from optuna.distributions import BaseDistribution

from optuna_ga._encoding import Space
from optuna_ga._encoding import cardinality
from optuna_ga._encoding import grid
from optuna_ga._population import Individual
from optuna_ga.operators import CROSSOVERS
from optuna_ga.operators import SELECTIONS
from optuna_ga.operators import Crossover
from optuna_ga.operators import Genes
from optuna_ga.operators import Selection
from optuna_ga.operators import mutate
from optuna_ga.operators import sample_uniform

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

    @classmethod
    def of(
        cls,
        selection: str | Selection,
        crossover: str | Crossover,
        crossover_prob: float,
        mutation_prob: float | None,
    ) -> Operators:
        """The operators of these names (see ``SELECTIONS`` and ``CROSSOVERS``) or callables.

        A callable is wrapped so that what it returns is checked when it is called.

        Raises:
            ValueError: If ``selection`` or ``crossover`` is neither a known name nor callable.
        """
        return cls(
            selection=_resolve("selection", selection, SELECTIONS, _SELECTION_CALL),
            crossover=_resolve("crossover", crossover, CROSSOVERS, _CROSSOVER_CALL),
            crossover_prob=crossover_prob,
            mutation_prob=mutation_prob,
        )

    def rate(self, n_genes: int) -> float:
        """The per-gene mutation probability for ``n_genes`` genes."""
        return self.mutation_prob if self.mutation_prob is not None else 1.0 / max(n_genes, 1)


_SELECTION_CALL = "(scores, n_pairs, rng) -> (n_pairs, 2) indices"
_CROSSOVER_CALL = "(parents_a, parents_b, genes, rng) -> children"


def _resolve(argument: str, value: Any, known: dict[str, Any], signature: str) -> Any:
    """The operator ``value`` names, or a user's callable wrapped to check what it returns."""
    if isinstance(value, str) and value in known:
        return known[value]
    if callable(value) and not isinstance(value, str):
        return _CheckedSelection(value) if argument == "selection" else _CheckedCrossover(value)
    raise ValueError(
        f"{argument} must be one of {sorted(known)} or a callable {signature}, got {value!r}."
    )


@dataclass(frozen=True)
class _CheckedSelection:
    """A user's selection, whose pairs must be integer indices of the right shape and range."""

    selection: Selection

    def __call__(self, scores: np.ndarray, n_pairs: int, rng: np.random.Generator) -> np.ndarray:
        pairs = np.asarray(self.selection(scores, n_pairs, rng))
        n = len(scores)
        if (
            pairs.shape != (n_pairs, 2)
            or pairs.dtype.kind not in "iu"
            or (n_pairs > 0 and not (pairs.min() >= 0 and pairs.max() < n))
        ):
            raise ValueError(
                f"selection {self.selection!r} must return integer indices in [0, {n - 1}] of "
                f"shape ({n_pairs}, 2), got {_describe(pairs)}."
            )
        return pairs


@dataclass(frozen=True)
class _CheckedCrossover:
    """A user's crossover, whose children must be an array of the parents' shape."""

    crossover: Crossover

    def __call__(
        self, parents_a: np.ndarray, parents_b: np.ndarray, genes: Genes, rng: np.random.Generator
    ) -> np.ndarray:
        children = np.asarray(self.crossover(parents_a, parents_b, genes, rng), dtype=float)
        if children.shape != parents_a.shape:
            raise ValueError(
                f"crossover {self.crossover!r} must return children of shape "
                f"{parents_a.shape}, got {_describe(children)}."
            )
        return children


def _describe(array: np.ndarray) -> str:
    return f"shape {array.shape}, dtype {array.dtype}"


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


@dataclass(frozen=True)
class Brood:
    """Children bred at once: their genomes and parents, decoded only when considered.

    ``parents[k]`` holds the trial numbers of child ``k``'s parents; the second is -1 when the
    child is a mutated copy of the first, both are -1 for a random point. ``mutated[k]`` says
    whether a gene of child ``k`` mutated.
    """

    genomes: np.ndarray  # (m, d)
    parents: np.ndarray  # (m, 2)
    mutated: np.ndarray  # (m,)

    def __len__(self) -> int:
        return len(self.genomes)

    def joined(self, other: Brood) -> Brood:
        """This brood followed by ``other``'s children."""
        return Brood(
            np.concatenate([self.genomes, other.genomes]),
            np.concatenate([self.parents, other.parents]),
            np.concatenate([self.mutated, other.mutated]),
        )

    def proposal(self, space: Space, k: int, score: float | None = None) -> Proposal:
        """Child ``k`` decoded, with its true lineage."""
        first, second = self.parents[k].tolist()
        if first < 0:  # a random point (see :func:`random_candidates`)
            return Proposal(space.decode(self.genomes[k]), "random", score=score)
        crossed = second >= 0
        return Proposal(
            space.decode(self.genomes[k]),
            _label("crossover" if crossed else "", bool(self.mutated[k])),
            [first, second] if crossed else [first],
            score=score,
        )


def _label(operator: str, mutated: bool) -> str:
    return "+".join(op for op in (operator, "mutation" if mutated else "") if op) or "copy"


def breed_children(
    space: Space,
    population: Sequence[Individual],
    genomes: np.ndarray,
    operators: Operators,
    rng: np.random.Generator,
    n_children: int,
    *,
    at_least_one_mutation: bool,
) -> Brood:
    """``n_children`` children bred at once, in a few numpy operations over ``(m, d)`` arrays.

    For each child two parents are selected on their scores; with probability
    ``crossover_prob`` they are crossed, otherwise the child starts as a copy of the first.
    Genes the child did not inherit (a conditional gene absent in the parent on its side of the
    cut) are drawn at random; then each gene mutates with probability ``mutation_prob``. With
    ``at_least_one_mutation``, a child in which no gene mutated has one mutated for sure (so
    that few candidates are copies of their first parent; a discrete gene may still round back
    to its value). Duplicates of known sets are *not* avoided here: the caller checks only the
    children it considers. Children with equal genomes are kept once.

    Every draw is made for all children at once, whatever each one needs, so the random
    stream of a batch depends only on its size.

    Args:
        space: The genes.
        population: The parents to draw from (not empty).
        genomes: ``(len(population), d)`` their encodings over ``space``.
        operators: The GA's operators.
        rng: The random stream.
        n_children: How many children to breed.
        at_least_one_mutation: Whether every child mutates at least one gene.

    Raises:
        ValueError: If a user's selection or crossover returns an array of the wrong shape
            (or, for a selection, indices out of range).
    """
    n = len(population)
    scores = np.fromiter((ind.score for ind in population), float, n)
    m, d = n_children, len(space)
    pairs = operators.selection(scores, m, rng)
    first, second = pairs[:, 0], pairs[:, 1]
    crossed = (first != second) & (rng.random(m) < operators.crossover_prob)
    parents_a = genomes[first]
    child = operators.crossover(parents_a, genomes[second], space, rng)
    x = np.where(crossed[:, None], child, parents_a)
    x = np.where(np.isnan(x), sample_uniform(space, rng, m), x)
    y, hit = mutate(x, space, operators.rate(d), rng, at_least_one=at_least_one_mutation)
    parents = np.fromiter((ind.number for ind in population), int, n)[pairs]
    parents[~crossed, 1] = -1
    mutated: np.ndarray = np.any(hit, axis=1)
    if m > 1:  # keep each distinct child once
        first_of: dict[bytes, int] = {}
        for k, row in enumerate(y):
            first_of.setdefault(row.tobytes(), k)
        if len(first_of) < m:
            keep = list(first_of.values())
            y, parents, mutated = y[keep], parents[keep], mutated[keep]
    return Brood(y, parents, mutated)


def breed(
    space: Space,
    population: Sequence[Individual],
    genomes: np.ndarray,
    operators: Operators,
    is_duplicate: Callable[[dict[str, Any]], bool],
    rng: np.random.Generator,
) -> Proposal:
    """Breed one child from ``population`` (not empty), avoiding known parameter sets.

    The child is bred by :func:`breed_children` as a batch of one, each gene mutating with
    probability ``mutation_prob`` (none may). A child that repeats a known set is mutated again,
    with a doubling rate and at least one gene, up to :data:`MAX_REMUTATIONS` times; then the
    sampler falls back to :func:`random_proposal`. ``genomes`` are the population's encodings
    over ``space``.
    """
    brood = breed_children(
        space, population, genomes, operators, rng, 1, at_least_one_mutation=False
    )
    rate = operators.rate(len(space))
    for attempt in range(MAX_REMUTATIONS + 1):
        if attempt > 0:  # a retry must differ from the repeated set
            rate = min(1.0, rate * 2.0)
            y, _ = mutate(brood.genomes, space, rate, rng, at_least_one=True)
            brood = Brood(y, brood.parents, np.ones(1, dtype=bool))
        proposal = brood.proposal(space, 0)
        if not is_duplicate(proposal.params):
            return proposal
    return random_proposal(space, is_duplicate, rng, "random-fallback")


def random_candidates(space: Space, rng: np.random.Generator, n_candidates: int) -> Brood:
    """``n_candidates`` uniform random points, for the surrogate to choose from (no parents)."""
    genomes = sample_uniform(space, rng, n_candidates)
    return Brood(genomes, np.full((n_candidates, 2), -1), np.zeros(n_candidates, dtype=bool))


def random_proposal(
    space: Space,
    is_duplicate: Callable[[dict[str, Any]], bool],
    rng: np.random.Generator,
    operator: str,
) -> Proposal:
    """An unseen uniform random point; else the last draw, flagged ``duplicate`` ("repeat")."""
    params: dict[str, Any] = {}
    for _ in range(MAX_RANDOM_DRAWS):
        params = space.decode(sample_uniform(space, rng))
        if not is_duplicate(params):
            return Proposal(params, operator)
    unseen = enumerate_unseen(space, is_duplicate, rng)
    if unseen is not None:
        return Proposal(unseen, operator)
    return Proposal(params, "repeat", duplicate=True)


def pinned_proposal(
    space: Space,
    fixed: dict[str, Any],
    is_duplicate: Callable[[dict[str, Any]], bool],
    rng: np.random.Generator,
    operator: str,
) -> Proposal:
    """:func:`random_proposal` over the genes not in ``fixed``, which keep those values.

    The whole set, ``fixed`` included, is what must be unseen (enqueued trials); ``fixed`` may
    name genes the space does not know yet. Only the free genes are drawn, and enumerated once
    draws fail, so a small set of completions is found even in a large space.
    """
    free = Space({k: d for k, d in space.distributions.items() if k not in fixed})

    def repeats(params: dict[str, Any]) -> bool:
        return is_duplicate({**params, **fixed})

    proposal = random_proposal(free, repeats, rng, operator)
    return dataclasses.replace(proposal, params={**proposal.params, **fixed})


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


def gene_values(
    name: str, distribution: BaseDistribution, rng: np.random.Generator
) -> Iterator[Any]:
    """Values of one gene: a uniform random draw, more draws, then every value.

    The first value is the gene's uniform random draw, then come :data:`MAX_RANDOM_DRAWS` more
    draws and, for a gene of at most :data:`MAX_ENUMERATION` values, every value in random
    order.
    """
    space = Space({name: distribution})
    for _ in range(1 + MAX_RANDOM_DRAWS):
        yield space.decode(sample_uniform(space, rng))[name]
    if cardinality(distribution) <= MAX_ENUMERATION:
        values = grid(distribution)
        for k in rng.permutation(len(values)):
            yield values[int(k)]
