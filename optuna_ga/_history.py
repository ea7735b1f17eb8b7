"""An incremental digest of a study's trials: what the sampler needs to know, rebuilt from storage.

:class:`History` is fed the study's trial list (sorted by number) on every ask. It looks only at
trials it has not digested yet, so the cost of an ask grows with the number of new and running
trials, not with the size of the study. Everything in it is a function of the stored trials:
two workers, or a resumed study, that read the same storage hold the same digest.

It never touches a storage itself (:mod:`optuna_ga._store` does).
"""

from __future__ import annotations

import dataclasses
import math
import threading
from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from optuna.distributions import BaseDistribution
from optuna.study import StudyDirection
from optuna.study._constrained_optimization import _CONSTRAINTS_KEY
from optuna.trial import FrozenTrial
from optuna.trial import TrialState

from optuna_ga._encoding import Space
from optuna_ga._encoding import canonical_hash
from optuna_ga._encoding import cardinality
from optuna_ga._encoding import fits
from optuna_ga._encoding import merge_order
from optuna_ga._encoding import representative
from optuna_ga._pool import ParetoPool
from optuna_ga._population import Individual
from optuna_ga._population import PopulationMode
from optuna_ga._population import best
from optuna_ga._population import check_population
from optuna_ga._population import generation_range
from optuna_ga._population import next_population
from optuna_ga._population import pareto_scores_of
from optuna_ga._population import rescore

#: States whose parameter sets must never be proposed again.
EVALUATED = (TrialState.COMPLETE, TrialState.PRUNED)


@dataclass(frozen=True)
class Encoded:
    """Individuals and pruned trials encoded over one space (see :meth:`History.encoded`)."""

    genomes: np.ndarray  # (n, d) the individuals, in the order digested
    scores: np.ndarray  # (n,) their scores
    pruned: np.ndarray  # (b, d) the pruned trials, in the order digested
    row: Mapping[int, int]  # trial number -> row of ``genomes``

    def of(self, individuals: Sequence[Individual]) -> np.ndarray:
        """The genomes of these individuals (all digested), as ``(len(individuals), d)``."""
        return self.genomes[[self.row[ind.number] for ind in individuals]]


class _Rows:
    """A growing array of rows: appending copies amortised O(1) per row (capacity doubles)."""

    def __init__(self, *tail: int) -> None:
        self._buffer = np.zeros((16, *tail))
        self.n = 0

    def extend(self, rows: Sequence[Any]) -> None:
        if not len(rows):
            return
        end = self.n + len(rows)
        if end > len(self._buffer):
            grown = np.zeros((max(end, 2 * len(self._buffer)), *self._buffer.shape[1:]))
            grown[: self.n] = self._buffer[: self.n]
            self._buffer = grown
        self._buffer[self.n : end] = rows
        self.n = end

    @property
    def array(self) -> np.ndarray:
        """The rows so far (a view: later appends never change these rows)."""
        return self._buffer[: self.n]


class _Encodings:
    """Encodings over one space, grown as trials arrive (each trial is encoded once)."""

    def __init__(self, space: Space) -> None:
        self.space = space
        d = len(space)
        self._genomes, self._scores, self._pruned = _Rows(d), _Rows(), _Rows(d)
        self._row: dict[int, int] = {}
        self._last: Encoded | None = None

    def extend(self, individuals: list[Individual], pruned: list[dict[str, Any]]) -> Encoded:
        new = individuals[self._genomes.n :]
        new_pruned = pruned[self._pruned.n :]
        if self._last is not None and not new and not new_pruned:
            return self._last
        for k, ind in enumerate(new, start=self._genomes.n):
            self._row[ind.number] = k
        self._genomes.extend([self.space.encode(ind.params) for ind in new])
        self._scores.extend([ind.score for ind in new])
        self._pruned.extend([self.space.encode(p) for p in new_pruned])
        self._last = Encoded(
            self._genomes.array, self._scores.array, self._pruned.array, self._row
        )
        return self._last


class History:
    """Digest of the finished trials of one study.

    Args:
        direction: The study's direction (scores are the values, negated when minimizing), or
            its directions: with several, individuals carry their losses (the values, negated
            where maximised) and are ordered by Pareto rank (see
            :mod:`optuna_ga._population`). A single-objective study is ordered that way too
            (feasible first) once an individual violates its constraints (values that a
            ``constraints_func`` stored or the objective set with ``trial.set_constraint``).
    """

    def __init__(self, direction: StudyDirection | Sequence[StudyDirection]) -> None:
        directions = [direction] if isinstance(direction, StudyDirection) else list(direction)
        self._sign = 1.0 if directions[0] == StudyDirection.MAXIMIZE else -1.0
        self._maximize = [d == StudyDirection.MAXIMIZE for d in directions]
        self._multi = len(directions) > 1
        self._constrained = False  # set once an infeasible individual is digested
        self._pools: dict[int, ParetoPool] = {}  # population size -> its steady pool (Pareto)
        self._pareto_scores: tuple[int, np.ndarray] = (0, np.zeros(0))
        # The individuals' losses, violations (NaN: unknown; none: 0) and numbers, in digest
        # order, for the surrogate's Pareto scores.
        self._losses, self._violations, self._numbers = _Rows(len(directions)), _Rows(), _Rows()
        self._lock = threading.Lock()
        self._watermark = 0  # every trial with a smaller number is finished and digested
        self._digested: set[int] = set()  # finished trials at or above the watermark
        self.finished: dict[int, FrozenTrial] = {}
        self.individuals: dict[int, Individual] = {}
        self._in_order: list[Individual] = []  # the same, in the order digested (append-only)
        self._steady: dict[int, tuple[int, list[Individual]]] = {}  # size -> (digested, best)
        self._pruned: list[dict[str, Any]] = []  # parameter sets of pruned trials, in digest order
        self._encoded: _Encodings | None = None  # over one space, extended as trials arrive
        self.evaluated_hashes: set[str] = set()
        self.structures: set[frozenset[str]] = set()
        self._order: list[str] = []
        self._distributions: dict[str, BaseDistribution] = {}
        self._space: Space | None = None
        # (population_size, n_elites, mode) -> (last final generation, its population)
        self._populations: dict[tuple[int, int, PopulationMode], tuple[int, list[Individual]]]
        self._populations = {}

    def update(self, trials: Sequence[FrozenTrial]) -> list[FrozenTrial]:
        """Digest the trials not seen yet and return the unfinished ones.

        ``trials`` is the study's list, sorted by number. The unfinished trials are returned
        rather than kept: threads sharing this digest each need those of their own read.
        """
        with self._lock:
            unfinished = []
            for trial in trials[self._watermark :]:
                if trial.number in self._digested:
                    continue
                if trial.state.is_finished():
                    self._digest(trial)
                else:
                    unfinished.append(trial)
                    self._learn_space(trial)
            while self._watermark in self._digested:
                self._digested.remove(self._watermark)
                self._watermark += 1
            return unfinished

    def _digest(self, trial: FrozenTrial) -> None:
        self._digested.add(trial.number)
        self.finished[trial.number] = trial
        self._learn_space(trial)
        if trial.state in EVALUATED:
            self.evaluated_hashes.add(canonical_hash(trial.params))
            self.structures.add(frozenset(trial.params))
        if trial.state == TrialState.PRUNED:
            self._pruned.append(dict(trial.params))
        values = trial.values if trial.state == TrialState.COMPLETE else None
        if values is None or not all(math.isfinite(v) for v in values):
            return
        violation = _violation(trial)
        # A single-objective study turns to Pareto ranks at its first infeasible individual:
        # while all are feasible, the constrained order is the order of the values.
        self._constrained |= violation is not None and not violation <= 0
        if self._multi:
            losses = tuple(-v if up else v for v, up in zip(values, self._maximize, strict=True))
            individual = Individual(trial.number, math.nan, dict(trial.params), losses, violation)
        else:
            individual = Individual(
                trial.number, self._sign * values[0], dict(trial.params), violation=violation
            )
        self.individuals[trial.number] = individual
        self._in_order.append(individual)
        self._losses.extend([individual.losses or (-individual.score,)])
        self._violations.extend([0.0 if violation is None else violation])
        self._numbers.extend([trial.number])

    def _learn_space(self, trial: FrozenTrial) -> None:
        names = list(trial.distributions)
        if any(name not in self._distributions for name in names):
            self._order = merge_order(self._order, names)
            self._space = None
        for name, distribution in trial.distributions.items():
            if self._distributions.get(name) != distribution:
                self._distributions[name] = distribution
                self._space = None

    @property
    def multi_objective(self) -> bool:
        """Whether the study has several objectives."""
        return self._multi

    @property
    def pareto(self) -> bool:
        """Whether individuals are ordered by Pareto rank (several objectives, constraints)."""
        return self._multi or self._constrained

    @property
    def space(self) -> Space:
        """Every gene seen so far, in gene order, with its most recent distribution."""
        with self._lock:
            if self._space is None:
                self._space = Space({name: self._distributions[name] for name in self._order})
            return self._space

    def space_with(self, distributions: Mapping[str, BaseDistribution]) -> Space:
        """:attr:`space` with the given genes' distributions (the trial's own, so the newest)."""
        space = self.space
        if all(space.distributions.get(k) == v for k, v in distributions.items()):
            return space
        return Space({**space.distributions, **distributions})

    def _canonical(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """``params`` as Optuna stores them: a choice equal to an earlier one becomes that one."""
        known = self._distributions
        return {k: representative(known[k], v) if k in known else v for k, v in params.items()}

    def duplicate_keys(self, params: Mapping[str, Any]) -> set[str]:
        """Hashes under which ``params`` would repeat an evaluated trial.

        A deterministic define-by-run objective given ``params`` uses exactly the genes of an
        earlier trial whenever ``params`` agrees with that trial on every gene it used. So
        ``params`` repeats a trial iff, for some known structure (set of genes used by an
        evaluated trial), its restriction to that structure hashes like that trial.
        """
        params = self._canonical(params)
        keys = {canonical_hash(params)}
        names = set(params)
        for structure in tuple(self.structures):  # a snapshot: other threads may add
            if structure <= names and len(structure) < len(names):
                keys.add(canonical_hash({name: params[name] for name in structure}))
        return keys

    def may_exhaust(self) -> bool:
        """Cheap test: could :meth:`is_exhausted` be true (one structure, all genes discrete)?"""
        if len(self.structures) > 1:
            return False
        return all(math.isfinite(cardinality(d)) for d in self._distributions.values())

    def claim_keys(self, claims: Iterable[Mapping[str, Any]]) -> set[str]:
        """Duplicate keys of the parameter sets held by running and waiting trials."""
        keys: set[str] = set()
        for params in claims:
            keys |= self.duplicate_keys(params)
        return keys

    def repeats(self, params: Mapping[str, Any], claim_keys: set[str]) -> bool:
        """Whether ``params`` repeats an evaluated trial or a claim (see :meth:`claim_keys`)."""
        keys = self.duplicate_keys(params)
        return not (keys.isdisjoint(self.evaluated_hashes) and keys.isdisjoint(claim_keys))

    def is_exhausted(self, claimed: Iterable[Mapping[str, Any]]) -> bool:
        """Whether every point of a finite, unconditional space is evaluated or claimed.

        ``claimed`` are the parameter sets of running and waiting trials. Points are those of the
        newest distributions: a range widened since the last trial has new points, and points
        outside a narrowed one do not count. Conditional spaces (several structures) are not
        detected here: the sampler's bounded fallback handles them.
        """
        if len(self.structures) != 1:
            return False
        (structure,) = self.structures
        distributions = {name: self._distributions[name] for name in structure}
        size = math.prod(cardinality(d) for d in distributions.values())
        claims = [p for p in claimed if set(p) == structure]
        if not math.isfinite(size) or len(self.evaluated_hashes) + len(claims) < size:
            return False
        evaluated = [t.params for t in tuple(self.finished.values()) if t.state in EVALUATED]
        tried = {
            canonical_hash(self._canonical(p))
            for p in (*evaluated, *claims)
            if all(fits(d, p[name]) for name, d in distributions.items())
        }
        return len(tried) >= size

    def encoded(self, space: Space) -> Encoded:
        """The individuals and the pruned trials encoded over ``space``.

        Encodings are kept and extended as trials arrive, while the space stays the same object
        (:attr:`space` is rebuilt only when a gene or a distribution changes). In a Pareto
        study the scores are each individual's :func:`~optuna_ga._population.pareto_scores`
        among all of them, so the surrogate's good group is the best fronts, the most diverse
        points first where a front is cut.
        """
        with self._lock:
            encodings = self._encoded
            if encodings is None or encodings.space is not space:
                encodings = _Encodings(space)
                if space is self._space:  # not a one-off space (see :meth:`space_with`)
                    self._encoded = encodings
            encoded = encodings.extend(self._in_order, self._pruned)
            if not (self._multi or self._constrained):
                return encoded
            seen, scores = self._pareto_scores
            if seen != len(self._in_order):
                scores = pareto_scores_of(
                    self._losses.array, self._violations.array, self._numbers.array
                )
                self._pareto_scores = (len(self._in_order), scores)
            return dataclasses.replace(encoded, scores=scores)

    def population(
        self, generation: int, *, population_size: int, n_elites: int, mode: PopulationMode
    ) -> list[Individual]:
        """``Pop(generation)`` from what has finished so far (see :mod:`optuna_ga._population`).

        With ``mode="steady"`` the population is the best ``population_size`` individuals
        finished so far, whatever their generation (``generation`` is not used). Otherwise
        populations of generations whose trials have all finished are cached, and a generation
        still running contributes the members that have completed.

        Raises:
            ValueError: If ``mode`` is not one of :data:`~optuna_ga._population.POPULATIONS`.
        """
        check_population(mode)
        if mode == "steady" and self.pareto:
            with self._lock:
                return self._pool(population_size).survivors()
        if mode == "steady":
            with self._lock:
                # Kept incrementally: the best so far, merged with the individuals since.
                seen, top = self._steady.get(population_size, (0, []))
                top = best([*top, *self._in_order[seen:]], population_size, pareto=False)
                self._steady[population_size] = (len(self._in_order), top)
                return top
        key = (population_size, n_elites, mode)
        with self._lock:
            last, population = self._populations.get(key, (-1, []))
            for g in range(last + 1, generation + 1):
                numbers = generation_range(g, population_size, n_elites)
                members = [self.individuals[n] for n in numbers if n in self.individuals]
                population = next_population(
                    population,
                    members,
                    population_size=population_size,
                    n_elites=n_elites,
                    mode=mode,
                    pareto=self.pareto,
                )
                if g == last + 1 and all(n in self.finished for n in numbers):
                    last = g
                    self._populations[key] = (last, population)
        return rescore(population) if self.pareto else population

    def _pool(self, k: int) -> ParetoPool:
        """The pool of the best ``k`` individuals so far (call with the lock held)."""
        pool = self._pools.setdefault(k, ParetoPool(k))
        pool.update(self._in_order)
        return pool


def _violation(trial: FrozenTrial) -> float | None:
    """Total violation of a trial's constraints (see :func:`optuna_ga._pareto.violations`).

    Constraints are those a ``constraints_func`` stored (Optuna's ``"constraints"`` system
    attr) or the objective set with ``trial.set_constraint``. ``None`` when the trial has none
    (a study without constraints); NaN when a constraints function failed for it (stored as
    ``None``) or a value is NaN.
    """
    constraints = list(trial.constraints.values())
    if not constraints:
        failed = _CONSTRAINTS_KEY in trial.system_attrs
        return math.nan if failed and trial.system_attrs[_CONSTRAINTS_KEY] is None else None
    values = [float(c) for c in constraints]
    if any(math.isnan(c) for c in values):
        return math.nan
    return float(sum(c for c in values if c > 0))
