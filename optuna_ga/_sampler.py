"""``GeneticSampler``: a thin facade over Optuna's sampler hooks.

* ``before_trial`` proposes the trial's parameter set (its *genome*) from what storage holds
  and records it with the trial's lineage;
* ``sample_independent`` hands each suggested parameter its value from the genome, or draws it
  at random when the genome has no valid value for it (a new or changed parameter);
* ``after_trial`` stores the trial's constraint values (with a ``constraints_func``) and stops
  the study when a finite search space has no unseen point left.

The sampler object holds configuration only. The GA lives in pure modules:
:mod:`optuna_ga._evolution` (what a trial proposes), :mod:`optuna_ga._population`,
:mod:`optuna_ga._breeding`, :mod:`optuna_ga.operators`, :mod:`optuna_ga._guidance` (when and
how the surrogate of :mod:`optuna_ga._surrogate` picks among children) and
:mod:`optuna_ga._encoding`. Holding a proposal so that no two trials run one set is
:mod:`optuna_ga._claims`'s; storage I/O is :mod:`optuna_ga._store`'s.
"""

from __future__ import annotations

import dataclasses
import hashlib
import secrets
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Sequence
from typing import Any
from typing import NamedTuple

import numpy as np
from optuna.distributions import BaseDistribution
from optuna.samplers import BaseSampler
from optuna.samplers._base import _process_constraints_after_trial
from optuna.study import Study
from optuna.trial import FrozenTrial
from optuna.trial import TrialState

from optuna_ga import _claims
from optuna_ga import _store
from optuna_ga._breeding import Operators
from optuna_ga._breeding import Proposal
from optuna_ga._breeding import gene_values
from optuna_ga._claims import SearchSpaceExhausted
from optuna_ga._encoding import fits
from optuna_ga._evolution import Evolution
from optuna_ga._guidance import Guidance
from optuna_ga._history import History
from optuna_ga._population import PopulationMode
from optuna_ga._population import check_population
from optuna_ga.operators import Crossover
from optuna_ga.operators import Selection

__all__ = ["GeneticSampler", "SearchSpaceExhausted"]

#: ``n_candidates`` above this would make breeding allocate gigabytes per trial.
MAX_CANDIDATES = 4096


class Lineage(NamedTuple):
    """The parents and operator recorded for a trial whose parameters were fixed before."""

    parents: tuple[int, ...]
    operator: str


_ENQUEUED = Lineage((), "enqueued")


class GeneticSampler(BaseSampler):
    """Genetic-algorithm sampler: elitism, roulette breeding, crossover and mutation.

    Generation 0 is ``population_size`` random individuals (or trials that were enqueued or ran
    before); with ``n_candidates > 1`` and some gene of more than 20 values (a float, a wide int
    range), each one after the first four finished is the most promising of ``n_candidates``
    uniform random points. Every later generation keeps the ``n_elites`` best individuals found
    so far as parents (they are not trained again) and fills ``population_size - n_elites``
    trials with children: two parents are drawn by ``selection``, crossed with probability
    ``crossover_prob``, and each gene mutates with probability ``mutation_prob``. The last
    ``n_immigrants`` trials of each generation are random newcomers. By default
    (``population="steady"``) parents are the best ``population_size`` individuals finished so
    far, and each trial evaluates the most promising of ``n_candidates`` bred children, as
    judged by a surrogate fitted on the finished trials.

    A trial's generation follows from its number, and parents, hashes and populations are read
    back from storage, so any number of processes or machines sharing a storage cooperate on one
    evolution, and a resumed study continues where it stopped. The first sampler to ask records
    ``population_size`` and ``n_elites`` in the study; a sampler with other values raises
    ``ValueError`` (they decide which generation each trial number belongs to).

    No parameter set that is already complete, pruned, running or waiting is evaluated again
    (hashes over canonical JSON, claimed in storage). When a finite search space is exhausted,
    the study stops; a trial that finds no unseen set left (a worker that asked while the last
    sets were taken, or a conditional space) fails with :class:`SearchSpaceExhausted` at the
    ``suggest_*`` call that would repeat one, and ``study.optimize`` re-raises it unless
    ``catch=(SearchSpaceExhausted,)``.

    Failed and pruned trials, and trials whose value is NaN or infinite, are never parents.

    Multi-objective studies (``directions=[...]``, any number of objectives) rank individuals
    by Pareto front, NSGA-II style: the elites and populations keep the best fronts (the last
    one cut by diversity: hypervolume contribution with two objectives, crowding distance with
    more), selection reads ``-front + diversity tie-break``, and the surrogate's good group is
    the best fronts. With ``constraints_func`` (or ``trial.set_constraint``), feasible
    individuals rank before infeasible ones (those by total violation); a single-objective
    study keeps its value order while every individual is feasible. See
    ``docs/guide/multi-objective.md``. Optuna does not let multi-objective trials report
    intermediate values, so they are not pruned.

    Args:
        population_size: Individuals per generation, at least 2. The defaults (10, steady
            population, 24 candidates) were chosen on the benchmarks in
            ``benchmarks/RESULTS.md``.
        n_elites: Best individuals carried into every next generation, in
            ``[0, population_size - 1]``.
        selection: ``"roulette"`` (fitness-proportionate: scores shifted so that the worst
            candidate keeps a small positive weight, see
            :func:`optuna_ga.operators.roulette_weights`), ``"tournament"`` (of 3), ``"rank"``
            (linear ranking), or your own callable ``(scores, n_pairs, rng) -> (n_pairs, 2)``
            parent indices (see :class:`optuna_ga.operators.Selection`).
        crossover: ``"single_point"`` (the cut lies between genes that differ, in the order the
            objective suggests parameters), ``"uniform"``, or your own callable
            ``(parents_a, parents_b, genes, rng) -> children`` over encoded genomes (see
            :class:`optuna_ga.operators.Crossover`).
        crossover_prob: Probability in ``[0, 1]`` that a child is a crossover of two parents;
            otherwise it is a mutated copy of one.
        mutation_prob: Per-gene mutation probability in ``[0, 1]``; ``None`` means
            ``1 / number of genes``.
        n_immigrants: Random newcomers per generation, in ``[0, population_size - n_elites]``.
        population: Where parents come from. ``"steady"`` (default): the best
            ``population_size`` individuals finished so far, whatever their generation, so a
            good trial becomes a parent as soon as it finishes. ``"hall_of_fame"``: a
            generation's parents are the best ``population_size`` individuals of all time up to
            the previous generation. ``"generational"``: the elites plus the previous
            generation's completed children. Generations (trial numbers) and elites are counted
            the same way in all three.
        n_candidates: Children bred per trial, in ``[1, 4096]``. With more than one, a surrogate
            fitted on the finished trials (a density ratio between good and bad trials, see
            :mod:`optuna_ga._surrogate`) picks the one that is evaluated and records its score
            as the ``ga_surrogate_score`` user attr; until ``5 * population_size`` individuals
            have finished, twice as many children are bred, and from ``10 * population_size``
            on, the surrogate's good group grows from the best 15% to the best 25%.
            ``1`` is the classic GA.
        seed: Seed for reproducible runs, an int in ``[0, 2**63 - 1]``. ``None`` draws one at
            construction; workers that share a seed still breed different children (each trial
            number has its own stream).
        constraints_func: ``None`` or a function of a finished trial (complete or pruned) that
            returns its constraint values, a sequence of floats where ``<= 0`` means
            satisfied, as for Optuna's own samplers. The values are stored in the trial's
            system attrs (Optuna's ``"constraints"`` key); feasible individuals rank before
            infeasible ones, and infeasible ones by the sum of their positive values.

    Example:
        >>> import optuna
        >>> from optuna_ga import GeneticSampler
        >>> optuna.logging.set_verbosity(optuna.logging.WARNING)
        >>> def objective(trial):
        ...     x = trial.suggest_float("x", -5, 5)
        ...     act = trial.suggest_categorical("act", ["relu", "tanh"])
        ...     return x**2 + (act == "tanh")
        >>> study = optuna.create_study(sampler=GeneticSampler(population_size=8, seed=1))
        >>> study.optimize(objective, n_trials=40)
        >>> study.best_value < 0.5
        True
        >>> study.trials[20].user_attrs["ga_generation"]  # 8 in generation 0, then 6 each
        3

        Your own crossover (here: the mean of the parents' numeric genes, which are encoded on
        a log scale where ``log=True``; categorical genes from the first parent):

        >>> import numpy as np
        >>> def midpoint(parents_a, parents_b, genes, rng):
        ...     return np.where(genes.n_choices > 0, parents_a, (parents_a + parents_b) / 2)
        >>> sampler = GeneticSampler(crossover=midpoint, population="hall_of_fame", seed=1)
        >>> study = optuna.create_study(sampler=sampler)
        >>> study.optimize(objective, n_trials=40)
        >>> study.best_value < 0.5
        True
    """

    def __init__(
        self,
        *,
        population_size: int = 10,
        n_elites: int = 2,
        selection: str | Selection = "roulette",
        crossover: str | Crossover = "single_point",
        crossover_prob: float = 0.9,
        mutation_prob: float | None = None,
        n_immigrants: int = 0,
        population: PopulationMode = "steady",
        n_candidates: int = 24,
        seed: int | None = None,
        constraints_func: Callable[[FrozenTrial], Sequence[float]] | None = None,
    ) -> None:
        if not _is_int(population_size):
            raise ValueError(f"population_size must be an int >= 2, got {population_size!r}.")
        if population_size < 2:
            raise ValueError(f"population_size must be >= 2, got {population_size}.")
        if not _is_int(n_elites) or not 0 <= n_elites < population_size:
            raise ValueError(
                f"n_elites must be an int in [0, population_size - 1] = "
                f"[0, {population_size - 1}], got {n_elites!r}."
            )
        _check_probability("crossover_prob", crossover_prob)
        if mutation_prob is not None:
            _check_probability("mutation_prob", mutation_prob)
        operators = Operators.of(
            selection,
            crossover,
            float(crossover_prob),
            None if mutation_prob is None else float(mutation_prob),
        )
        n_children = population_size - n_elites
        if not _is_int(n_immigrants) or not 0 <= n_immigrants <= n_children:
            raise ValueError(
                f"n_immigrants must be an int in [0, population_size - n_elites] = "
                f"[0, {n_children}], got {n_immigrants!r}."
            )
        if not _is_int(n_candidates) or not 1 <= n_candidates <= MAX_CANDIDATES:
            raise ValueError(
                f"n_candidates must be an int in [1, {MAX_CANDIDATES}], got {n_candidates!r}."
            )
        if seed is not None and (not _is_int(seed) or not 0 <= seed < 2**63):
            raise ValueError(f"seed must be None or an int in [0, 2**63 - 1], got {seed!r}.")
        if constraints_func is not None and not callable(constraints_func):
            raise ValueError(
                "constraints_func must be None or a callable (FrozenTrial) -> sequence of "
                f"floats, got {constraints_func!r}."
            )

        self._evolution = Evolution(
            population_size=population_size,
            n_elites=n_elites,
            n_immigrants=n_immigrants,
            population=check_population(population),
            operators=operators,
            guidance=Guidance(n_candidates=n_candidates),
        )
        self._seed = secrets.randbits(63) if seed is None else seed
        self._constraints_func = constraints_func

    @property
    def population_size(self) -> int:
        """Individuals per generation (configuration, read-only)."""
        return self._evolution.population_size

    @property
    def n_elites(self) -> int:
        """Elites carried into every generation (configuration, read-only)."""
        return self._evolution.n_elites

    @property
    def population(self) -> PopulationMode:
        """Where parents come from: ``"steady"``, ``"hall_of_fame"`` or ``"generational"``."""
        return self._evolution.population

    # -- Optuna hooks ----------------------------------------------------------------------

    def infer_relative_search_space(
        self, study: Study, trial: FrozenTrial
    ) -> dict[str, BaseDistribution]:
        return {}

    def sample_relative(
        self, study: Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        return {}

    def before_trial(self, study: Study, trial: FrozenTrial) -> None:
        try:
            self._before_trial(study, trial)
        except BaseException:
            # Optuna calls this in ``study.ask``, outside the code that fails a trial whose
            # objective raised: end the trial here, or it would stay RUNNING for ever. A trial
            # that was waiting (enqueued, or a retry) goes back to waiting: it never ran, and
            # the user's request must not be lost to, say, a sampler with the wrong settings.
            _store.release(study, trial)
            raise

    def _before_trial(self, study: Study, trial: FrozenTrial) -> None:
        # First, so that a worker killed while it proposes leaves a trial that goes stale.
        _store.record_heartbeat(study, trial)
        self._check_settings(study)
        fixed = _store.fixed_params(trial)
        if fixed is not None:
            generation, _ = self._evolution.generation_of(trial.number)
            retried = _store.retried_number(trial)
            lineage = _ENQUEUED if retried is None else Lineage((retried,), "retry")
            # An enqueued trial, or a retry of a trial that failed with some of its parameters,
            # holds an unseen set with those values fixed, where one is left. (A retry's copy
            # of the failed trial's genome is no claim: other workers may have run it since.)
            if self._claim(study, trial, {}, fixed=fixed, lineage=lineage):
                return
            _store.write_lineage(
                study,
                trial,
                generation=generation,
                parents=list(lineage.parents),
                operator=lineage.operator,
            )
            return
        self._claim(study, trial, {})

    def sample_independent(
        self,
        study: Study,
        trial: FrozenTrial,
        param_name: str,
        param_distribution: BaseDistribution,
    ) -> Any:
        genome = _store.genome(study, trial)
        fixed = _store.fixed_params(trial)
        if not genome and fixed is None and not trial.params:
            # Proposed before any parameter was known (a new study, several workers starting at
            # once), or nothing unseen was found with the distributions known then: propose
            # again now that this parameter, and maybe others', are known.
            genome = self._claim(study, trial, {param_name: param_distribution})
        if param_name in genome and fits(param_distribution, genome[param_name]):
            return genome[param_name]
        values = self._gene_values(trial.number, param_name, param_distribution)
        generation, _ = self._evolution.generation_of(trial.number)
        if fixed is not None:  # enqueued with some parameters only: an unseen set if one is left
            return _claims.claim_gene(
                study, trial, param_name, values, {**fixed, **genome}, generation, enqueued=True
            )
        return _claims.claim_gene(study, trial, param_name, values, genome, generation)

    def after_trial(
        self,
        study: Study,
        trial: FrozenTrial,
        state: TrialState,
        values: Sequence[float] | None,
    ) -> None:
        if self._constraints_func is not None:
            _process_constraints_after_trial(self._constraints_func, study, trial, state)
        _store.forget(study, trial)
        if state in (TrialState.COMPLETE, TrialState.PRUNED):
            _claims.stop_if_exhausted(study, trial)

    def reseed_rng(self) -> None:
        # Every trial number has its own random stream (see ``_rng``): nothing to reseed.
        pass

    # -- internals -------------------------------------------------------------------------

    def _check_settings(self, study: Study) -> None:
        settings = {"population_size": self.population_size, "n_elites": self.n_elites}
        stored = _store.check_settings(study, settings)
        if stored is not None:
            mine = ", ".join(f"{k}={v}" for k, v in settings.items() if stored[k] != v)
            theirs = ", ".join(f"{k}={v}" for k, v in stored.items())
            raise ValueError(
                f"GeneticSampler({mine}) does not match study {study.study_name!r}, whose "
                f"trials are numbered into generations with {theirs}: pass {theirs}, or use "
                "another study."
            )

    def _claim(
        self,
        study: Study,
        trial: FrozenTrial,
        known: dict[str, BaseDistribution],
        *,
        fixed: dict[str, Any] | None = None,
        lineage: Lineage = _ENQUEUED,
    ) -> dict[str, Any]:
        """Propose the trial's genome and hold it (see :func:`optuna_ga._claims.claim`).

        With ``fixed`` (an enqueued or retried trial's parameters) the genome keeps those
        values, and the trial records ``lineage``.
        """
        rng = self._rng(trial.number, len(known))
        generation, _ = self._evolution.generation_of(trial.number)

        def propose(digest: History, claim_keys: set[str]) -> Proposal:
            if fixed is not None:
                proposal = self._evolution.propose_enqueued(digest, claim_keys, fixed, known, rng)
                return dataclasses.replace(
                    proposal, parents=list(lineage.parents), operator=lineage.operator
                )
            return self._evolution.propose(digest, claim_keys, trial.number, known, rng)

        return _claims.claim(study, trial, generation, propose)

    def _gene_values(
        self, number: int, name: str, distribution: BaseDistribution
    ) -> Iterator[Any]:
        """The gene's values to try, from its own stream (see :func:`gene_values`)."""
        return gene_values(name, distribution, self._rng(number, _name_key(name)))

    def _rng(self, number: int, *key: int) -> np.random.Generator:
        return np.random.default_rng([self._seed, number, *key])


def _name_key(name: str) -> int:
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "little")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_probability(name: str, value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise ValueError(f"{name} must be a number in [0, 1], got {value!r}.")
