"""One step of the GA: what the trial of a given generation and slot proposes.

:class:`Evolution` is the sampler's configuration of the algorithm (sizes, population,
operators, guidance). It reads a study's digest (:class:`~optuna_ga._history.History`) and
returns a :class:`~optuna_ga._breeding.Proposal`; holding it in storage is
:mod:`optuna_ga._claims`'s business. Pure: nothing here sees a study.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from optuna.distributions import BaseDistribution

from optuna_ga._breeding import Brood
from optuna_ga._breeding import Operators
from optuna_ga._breeding import Proposal
from optuna_ga._breeding import breed
from optuna_ga._breeding import breed_children
from optuna_ga._breeding import pinned_proposal
from optuna_ga._breeding import random_candidates
from optuna_ga._breeding import random_proposal
from optuna_ga._guidance import Guidance
from optuna_ga._history import Encoded
from optuna_ga._history import History
from optuna_ga._population import PopulationMode
from optuna_ga._population import generation_of


@dataclass(frozen=True)
class Evolution:
    """How a :class:`~optuna_ga.GeneticSampler` evolves its population (validated by it).

    Generation 0 is random (guided once a few individuals have finished, see
    :meth:`Guidance.guides_random`); in every later generation the last ``n_immigrants``
    slots are random newcomers and the others children of the population that ``population``
    names (:mod:`optuna_ga._population`): the most promising of a brood when guidance is on,
    else one child bred by the classic GA.
    """

    population_size: int
    n_elites: int
    n_immigrants: int
    population: PopulationMode
    operators: Operators
    guidance: Guidance

    def generation_of(self, number: int) -> tuple[int, int]:
        """``(generation, slot)`` of a trial number."""
        return generation_of(number, self.population_size, self.n_elites)

    def propose_enqueued(
        self,
        digest: History,
        claim_keys: set[str],
        fixed: dict[str, Any],
        known: Mapping[str, BaseDistribution],
        rng: np.random.Generator,
    ) -> Proposal:
        """The parameter set of an enqueued trial that fixed ``fixed``: the rest drawn at random
        so that the whole set repeats no evaluated or claimed one (``duplicate`` if none is
        left). Its params are empty when no parameter is known yet.
        """
        space = digest.space_with(known)
        if len(space) == 0:
            return Proposal({}, "enqueued")

        def is_duplicate(params: dict[str, Any]) -> bool:
            return digest.repeats(params, claim_keys)

        return pinned_proposal(space, fixed, is_duplicate, rng, "enqueued")

    def propose(
        self,
        digest: History,
        claim_keys: set[str],
        number: int,
        known: Mapping[str, BaseDistribution],
        rng: np.random.Generator,
    ) -> Proposal:
        """The parameter set that trial ``number`` proposes.

        Args:
            digest: The study's digest, up to date.
            claim_keys: Duplicate keys of the sets that unfinished trials hold
                (:meth:`History.claim_keys`): no proposal repeats them or an evaluated set.
            number: The trial's number.
            known: Distributions the trial knows already (its own, the newest).
            rng: The trial's random stream.

        Returns:
            The proposal; its ``params`` are empty when no parameter is known yet.
        """
        space = digest.space_with(known)
        if len(space) == 0:  # nothing known yet: every parameter is drawn when suggested
            return Proposal({}, "random")

        def is_duplicate(params: dict[str, Any]) -> bool:
            return digest.repeats(params, claim_keys)

        generation, slot = self.generation_of(number)
        guidance, size = self.guidance, self.population_size

        def choose(encoded: Encoded, brood: Brood) -> Proposal | None:
            return guidance.choose(
                encoded,
                space,
                brood,
                is_duplicate,
                population_size=size,
                pareto=digest.pareto,
                multi_objective=digest.multi_objective,
            )

        if generation == 0:
            if guidance.guides_random(space, len(digest.individuals)):
                brood = random_candidates(space, rng, guidance.n_candidates)
                chosen = choose(digest.encoded(space), brood)
                if chosen is not None:
                    return chosen
            return random_proposal(space, is_duplicate, rng, "random")
        if slot >= size - self.n_elites - self.n_immigrants:
            return random_proposal(space, is_duplicate, rng, "immigrant")
        population = digest.population(
            generation - 1, population_size=size, n_elites=self.n_elites, mode=self.population
        )
        if not population:
            return random_proposal(space, is_duplicate, rng, "random")
        encoded = digest.encoded(space)
        genomes = encoded.of(population)
        if guidance.enabled:
            n_individuals = len(encoded.scores)
            brood = breed_children(
                space,
                population,
                genomes,
                self.operators,
                rng,
                guidance.brood_size(n_individuals, population_size=size),
                at_least_one_mutation=True,
            )
            n_random = guidance.random_in_brood(
                n_individuals, population_size=size, multi_objective=digest.multi_objective
            )
            if n_random:
                brood = brood.joined(random_candidates(space, rng, n_random))
            chosen = choose(encoded, brood)
            if chosen is not None:
                return chosen
        return breed(space, population, genomes, self.operators, is_duplicate, rng)
