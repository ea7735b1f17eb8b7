"""``GeneticSampler``: a thin facade over Optuna's sampler hooks.

* ``before_trial`` proposes the trial's parameter set (its *genome*) from what storage holds
  and records it with the trial's lineage;
* ``sample_independent`` hands each suggested parameter its value from the genome, or draws it
  at random when the genome has no valid value for it (a new or changed parameter);
* ``after_trial`` stops the study when a finite search space has no unseen point left.

The GA itself lives in pure modules: :mod:`optuna_ga._encoding`, :mod:`optuna_ga.operators`,
:mod:`optuna_ga._population` and :mod:`optuna_ga._breeding`. Storage I/O lives in
:mod:`optuna_ga._store`. The sampler object holds configuration only.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import random
import secrets
import time
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Sequence
from typing import Any

import numpy as np
import optuna
from optuna.distributions import BaseDistribution
from optuna.samplers import BaseSampler
from optuna.study import Study
from optuna.trial import FrozenTrial
from optuna.trial import TrialState

from optuna_ga import _store
from optuna_ga._breeding import MAX_ENUMERATION
from optuna_ga._breeding import MAX_RANDOM_DRAWS
from optuna_ga._breeding import Brood
from optuna_ga._breeding import Operators
from optuna_ga._breeding import Proposal
from optuna_ga._breeding import breed
from optuna_ga._breeding import breed_children
from optuna_ga._breeding import gene_values
from optuna_ga._breeding import random_candidates
from optuna_ga._breeding import random_proposal
from optuna_ga._encoding import Space
from optuna_ga._encoding import fits
from optuna_ga._history import Encoded
from optuna_ga._history import History
from optuna_ga._population import PopulationMode
from optuna_ga._population import check_population
from optuna_ga._population import generation_of
from optuna_ga._surrogate import FINE_SIZE
from optuna_ga._surrogate import bandwidths
from optuna_ga._surrogate import density_ratio
from optuna_ga.operators import Crossover
from optuna_ga.operators import Selection

_logger = optuna.logging.get_logger(__name__)

#: Times a worker proposes when other workers claimed the same parameter set concurrently.
MAX_CLAIM_ROUNDS = 8
#: Upper bound of the random pause before a repeated round, times the round number (seconds).
CLAIM_JITTER_S = 0.005
#: How long a tentative claim waits for a later trial's tentative claim on the same set to be
#: given up, and how often it looks (seconds). See :meth:`GeneticSampler._settle`.
SETTLE_TIMEOUT_S = 10.0
SETTLE_POLL_S = 0.02
#: Values of one gene tried before a trial gives up (see :meth:`GeneticSampler._claim_gene`).
MAX_GENE_VALUES = MAX_RANDOM_DRAWS + MAX_ENUMERATION
#: ``n_candidates`` above this would make breeding allocate gigabytes per trial.
MAX_CANDIDATES = 4096
#: Share of the individuals that the surrogate treats as good (see :mod:`optuna_ga._surrogate`).
SURROGATE_GAMMA = 0.15
#: Once ``MATURE_SIZES * population_size`` individuals have finished, the surrogate treats the
#: best ``MATURE_GAMMA`` of them as good. On a noisy objective the best few values of a long
#: study are largely lucky draws, and children bred to look like them chase the luck; a broader
#: good group follows the regions that are good on average (measured in
#: ``benchmarks/RESULTS.md``).
MATURE_SIZES = 10
MATURE_GAMMA = 0.25
#: While fewer than ``EARLY_SIZES * population_size`` individuals have finished, each trial
#: chooses among ``EARLY_FACTOR * n_candidates`` children: each early trial is a large share of
#: the budget, and later, on noisy objectives, sharper picks chase lucky values (measured in
#: ``benchmarks/RESULTS.md``).
EARLY_SIZES = 5
EARLY_FACTOR = 2
#: Once this many individuals have finished, each remaining random individual of generation 0 is
#: the most promising of ``n_candidates`` uniform random points, if some gene has more than
#: ``FINE_SIZE`` values: random points rarely land near a good value of such a gene. Where every
#: gene is coarse (all of the public tables), ten random points cover each gene, and guidance
#: only narrowed generation 0 (measured in ``benchmarks/RESULTS.md``). Immigrants stay uniform.
GUIDED_RANDOM_AFTER = 4


class SearchSpaceExhausted(optuna.exceptions.OptunaError):
    """No parameter set is left that was neither evaluated nor held by another trial.

    Raised from the trial's first ``suggest_*`` call, so the trial fails before the objective
    trains anything, and the study is stopped. ``study.optimize`` re-raises it unless it is in
    ``catch``: pass ``catch=(SearchSpaceExhausted,)`` to end a run on a finite space quietly.
    """


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
    sets were taken, or a conditional space) fails at its first ``suggest_*`` with
    :class:`SearchSpaceExhausted` instead of repeating one, and ``study.optimize`` re-raises it
    unless ``catch=(SearchSpaceExhausted,)``.

    Failed and pruned trials, and trials whose value is NaN or infinite, are never parents.

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

        self._population_size = population_size
        self._n_elites = n_elites
        self._n_immigrants = n_immigrants
        self._mode = check_population(population)
        self._n_candidates = n_candidates
        self._operators = operators
        self._seed = secrets.randbits(63) if seed is None else seed

    @property
    def population_size(self) -> int:
        """Individuals per generation (configuration, read-only)."""
        return self._population_size

    @property
    def population(self) -> PopulationMode:
        """Where parents come from: ``"steady"``, ``"hall_of_fame"`` or ``"generational"``."""
        return self._mode

    @property
    def n_elites(self) -> int:
        """Elites carried into every generation (configuration, read-only)."""
        return self._n_elites

    # -- Optuna hooks ----------------------------------------------------------------------

    def infer_relative_search_space(
        self, study: Study, trial: FrozenTrial
    ) -> dict[str, BaseDistribution]:
        self._raise_error_if_multi_objective(study)
        return {}

    def sample_relative(
        self, study: Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        self._raise_error_if_multi_objective(study)
        return {}

    def before_trial(self, study: Study, trial: FrozenTrial) -> None:
        try:
            self._before_trial(study, trial)
        except BaseException:
            # Optuna calls this in ``study.ask``, outside the code that fails a trial whose
            # objective raised: fail the trial here, or it would stay RUNNING for ever.
            _store.fail(study, trial)
            raise

    def _before_trial(self, study: Study, trial: FrozenTrial) -> None:
        # First, so that a worker killed while it proposes leaves a trial that goes stale.
        _store.record_heartbeat(study, trial)
        self._raise_error_if_multi_objective(study)
        self._check_settings(study)
        if _store.fixed_params(trial) is not None:
            generation, _ = generation_of(trial.number, self._population_size, self._n_elites)
            retried = _store.retried_number(trial)
            _store.write_lineage(
                study,
                trial,
                generation=generation,
                parents=[] if retried is None else [retried],
                operator="enqueued" if retried is None else "retry",
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
        self._raise_error_if_multi_objective(study)
        genome = _store.genome(study, trial)
        fixed = _store.fixed_params(trial) is not None
        if not genome and not fixed and not trial.params:
            # Proposed before any parameter was known (a new study, several workers starting at
            # once), or nothing unseen was found with the distributions known then: propose
            # again now that this parameter, and maybe others', are known.
            genome = self._claim(study, trial, {param_name: param_distribution})
        if param_name in genome and fits(param_distribution, genome[param_name]):
            return genome[param_name]
        if fixed:  # an enqueued trial that fixed some parameters only
            return self._random_value(trial.number, param_name, param_distribution)
        return self._claim_gene(study, trial, param_name, param_distribution, genome)

    def after_trial(
        self,
        study: Study,
        trial: FrozenTrial,
        state: TrialState,
        values: Sequence[float] | None,
    ) -> None:
        _store.forget(study, trial)
        if state not in (TrialState.COMPLETE, TrialState.PRUNED):
            return
        if not _store.history(study, refresh=False).may_exhaust():
            return
        digest, claims = _store.read(study, trial)
        if digest.is_exhausted([*(c.params for c in claims), trial.params]):
            _logger.info("Every point of the finite search space has been tried; stopping.")
            _stop(study)

    def reseed_rng(self) -> None:
        # Every trial number has its own random stream (see ``_rng``): nothing to reseed.
        pass

    # -- internals -------------------------------------------------------------------------

    def _check_settings(self, study: Study) -> None:
        settings = {"population_size": self._population_size, "n_elites": self._n_elites}
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
        self, study: Study, trial: FrozenTrial, known: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        """Propose the trial's genome and hold it in storage, so that no other worker runs it.

        Returns the genome, or ``{}`` when nothing can be proposed (no parameter known yet, or
        no unseen set held with the distributions known now): the trial's parameters are then
        chosen one by one (:meth:`_claim_gene`).
        """
        generation, slot = generation_of(trial.number, self._population_size, self._n_elites)
        rng = self._rng(trial.number, len(known))
        atomic = _store.claims_are_atomic(study)
        proposal = Proposal({}, "random")
        for round_ in range(MAX_CLAIM_ROUNDS):
            if round_ > 0:
                # Racing workers that both yielded would often pick alike again: desynchronise.
                time.sleep(random.uniform(0.0, CLAIM_JITTER_S * round_))
            with _store.claim_guard(study):
                digest, claims = _store.read(study, trial)
                proposal = self._propose(digest, claims, generation, slot, known, rng)
                if proposal.duplicate or not proposal.params:
                    break
                if atomic:  # no other thread can claim between this read and this write
                    self._hold(study, trial, generation, proposal)
                    return proposal.params
                _store.write_claim(study, trial, proposal.params)
            if self._settle(study, trial, proposal.params):
                self._hold(study, trial, generation, proposal)
                return proposal.params
        # Hold nothing (withdraw a tentative claim given up). The objective's parameters are
        # then chosen one by one as it suggests them (see ``_claim_gene``): a distribution not
        # suggested yet may have changed since the last trial, so the space may not be
        # exhausted after all.
        _store.write_proposal(
            study, trial, {}, generation=generation, parents=[], operator="random", held=False
        )
        return {}

    def _claim_gene(
        self,
        study: Study,
        trial: FrozenTrial,
        name: str,
        distribution: BaseDistribution,
        genome: dict[str, Any],
    ) -> Any:
        """A value for a gene the trial's genome lacks, held with the rest of its parameters.

        The value is the gene's random draw if the parameters so far (with the genome's values
        for the genes still to come) then repeat no evaluated or held set, else the first other
        value that does not (bounded draws, then the gene's values in random order). A
        deterministic define-by-run objective whose parameters so far agree with an evaluated
        trial on every gene it used would run that trial again.

        Raises:
            SearchSpaceExhausted: If every value repeats a set, or the values that do not were
                taken by other workers in every round (with nothing evaluated yet, the first
                draw is taken instead, as Optuna would).
        """
        atomic = _store.claims_are_atomic(study)
        values = itertools.islice(
            self._gene_values(trial.number, name, distribution), MAX_GENE_VALUES
        )
        first = None
        for _ in range(MAX_CLAIM_ROUNDS):
            with _store.claim_guard(study):
                digest, claims = _store.read(study, trial)
                claim_keys = digest.claim_keys(c.params for c in claims)
                params = None
                for value in values:
                    first = value if first is None else first
                    candidate = {**genome, **trial.params, name: value}
                    if not digest.repeats(candidate, claim_keys):
                        params = candidate
                        break
                if params is None:
                    break
                if atomic:  # no other thread can claim between this read and this write
                    _store.hold(study, trial, params)
                    return params[name]
                _store.write_claim(study, trial, params)
            if self._settle(study, trial, params):
                _store.hold(study, trial, params)
                return params[name]
        if not _store.history(study, refresh=False).structures:
            return first
        generation, _ = generation_of(trial.number, self._population_size, self._n_elites)
        _store.write_proposal(
            study, trial, {}, generation=generation, parents=[], operator="exhausted", held=False
        )
        _logger.warning(f"Trial {trial.number}: no unseen parameter set is left; it fails.")
        _stop(study)
        raise SearchSpaceExhausted(
            f"Trial {trial.number}: every parameter set of the search space was evaluated or is "
            f"held by another trial (no value of {name!r} is left with the parameters so far); "
            "the trial fails without being evaluated and the study stops."
        )

    def _gene_values(
        self, number: int, name: str, distribution: BaseDistribution
    ) -> Iterator[Any]:
        """The gene's values to try, from its own stream (see :func:`gene_values`)."""
        return gene_values(name, distribution, self._rng(number, _name_key(name)))

    def _settle(self, study: Study, trial: FrozenTrial, params: dict[str, Any]) -> bool:
        """Whether the trial may hold ``params``, which it has claimed tentatively.

        Two workers may claim the same set at the same moment; each wrote its claim before it
        reads again here, so the later reader sees both. A trial gives the set up when another
        trial holds it, claims it with a smaller trial number, or has evaluated it meanwhile.
        Against a tentative claim of a later trial it waits until that trial gives the set up
        (it sees this earlier claim when it reads) or holds it (it read before this claim was
        written). So no two trials ever hold one set, and of racing claims one is held.
        A claim still undecided after :data:`SETTLE_TIMEOUT_S` (its worker died) is given up.
        """
        deadline = time.monotonic() + SETTLE_TIMEOUT_S
        while True:
            digest, claims = _store.read(study, trial)
            keys = digest.duplicate_keys(params)
            if not keys.isdisjoint(digest.evaluated_hashes):
                return False
            rivals = [c for c in claims if not keys.isdisjoint(digest.duplicate_keys(c.params))]
            if not rivals:
                return True
            if any(c.held or c.number < trial.number for c in rivals):
                return False
            if time.monotonic() > deadline:
                return False
            time.sleep(SETTLE_POLL_S)

    def _hold(self, study: Study, trial: FrozenTrial, generation: int, proposal: Proposal) -> None:
        _store.write_proposal(
            study,
            trial,
            proposal.params,
            generation=generation,
            parents=proposal.parents,
            operator=proposal.operator,
            score=proposal.score,
        )

    def _rng(self, number: int, *key: int) -> np.random.Generator:
        return np.random.default_rng([self._seed, number, *key])

    def _random_value(self, number: int, name: str, distribution: BaseDistribution) -> Any:
        return next(self._gene_values(number, name, distribution))

    def _propose(
        self,
        digest: History,
        claims: list[_store.Claim],
        generation: int,
        slot: int,
        known: dict[str, BaseDistribution],
        rng: np.random.Generator,
    ) -> Proposal:
        space = digest.space_with(known)
        if len(space) == 0:  # nothing known yet: every parameter is drawn when suggested
            return Proposal({}, "random")
        claim_keys = digest.claim_keys(c.params for c in claims)

        def is_duplicate(params: dict[str, Any]) -> bool:
            return digest.repeats(params, claim_keys)

        n_children = self._population_size - self._n_elites
        if generation == 0:
            if self._n_candidates > 1 and bool(np.any(space.sizes > FINE_SIZE)):
                encoded = digest.encoded(space)
                if len(encoded.scores) >= GUIDED_RANDOM_AFTER:
                    brood = random_candidates(space, rng, self._n_candidates)
                    chosen = _choose(encoded, space, brood, is_duplicate, self._gamma(encoded))
                    if chosen is not None:
                        return chosen
            return random_proposal(space, is_duplicate, rng, "random")
        if slot >= n_children - self._n_immigrants:
            return random_proposal(space, is_duplicate, rng, "immigrant")
        population = digest.population(
            generation - 1,
            population_size=self._population_size,
            n_elites=self._n_elites,
            mode=self._mode,
        )
        if not population:
            return random_proposal(space, is_duplicate, rng, "random")
        encoded = digest.encoded(space)
        genomes = encoded.of(population)
        if self._n_candidates > 1:
            n_candidates = self._n_candidates
            if len(encoded.scores) < EARLY_SIZES * self._population_size:
                n_candidates *= EARLY_FACTOR
            brood = breed_children(
                space,
                population,
                genomes,
                self._operators,
                rng,
                n_candidates,
                at_least_one_mutation=True,
            )
            chosen = _choose(encoded, space, brood, is_duplicate, self._gamma(encoded))
            if chosen is not None:
                return chosen
        return breed(space, population, genomes, self._operators, is_duplicate, rng)

    def _gamma(self, encoded: Encoded) -> float:
        """The surrogate's share of good individuals: larger once the study is mature."""
        if len(encoded.scores) >= MATURE_SIZES * self._population_size:
            return MATURE_GAMMA
        return SURROGATE_GAMMA


def _choose(
    encoded: Encoded,
    space: Space,
    brood: Brood,
    is_duplicate: Callable[[dict[str, Any]], bool],
    gamma: float,
) -> Proposal | None:
    """The unseen child the surrogate scores highest, with its score; None if all repeat."""
    ratio = density_ratio(
        brood.genomes,
        encoded.genomes,
        encoded.scores,
        space.low,
        space.high,
        space.n_choices,
        gamma=gamma,
        extra_bad=encoded.pruned,
        bandwidth=bandwidths(space.sizes),
    )
    for k in np.argsort(-ratio, kind="stable"):
        proposal = brood.proposal(space, int(k), round(float(ratio[k]), 6))
        if not is_duplicate(proposal.params):
            return proposal
    return None


def _name_key(name: str) -> int:
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "little")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_probability(name: str, value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise ValueError(f"{name} must be a number in [0, 1], got {value!r}.")


def _stop(study: Study) -> None:
    with contextlib.suppress(RuntimeError):  # ask-and-tell: no optimize loop to stop
        study.stop()
