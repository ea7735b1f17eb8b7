"""Guidance: when the surrogate picks among bred children, among how many, and which it picks.

The surrogate's maths (a density ratio between good and bad individuals) is in
:mod:`optuna_ga._surrogate`; this module holds the policy that uses it, tuned on the benchmarks
in ``benchmarks/RESULTS.md``:

* each trial evaluates the most promising of ``n_candidates`` children bred for it; while the
  study is young it chooses among ``early_factor`` times as many: each early trial is a large
  share of the budget, and later, on noisy objectives, sharper picks chase lucky values;
* the surrogate treats the best ``gamma`` of the individuals as good, and the best
  ``mature_gamma`` once the study is mature: on a noisy objective the best few values of a long
  study are largely lucky draws, and children bred to look like them chase the luck; a broader
  good group follows the regions that are good on average;
* in a multi-objective study, a young brood also holds ``multi_objective_random`` uniform
  random points: the front to cover is wide, and the children of a few early parents cover
  little of it (measured in ``benchmarks/MULTI_OBJECTIVE.md``: ahead at 25 trials on both
  table families, on the 20 seeds it was chosen on and on 20 fresh ones, and level within the
  noise at 50 to 200; with one objective the same rule was ahead at 25 and 50 trials but
  behind at 100 and 200 on HPOBench, so a single-objective brood holds bred children only);
* once ``guided_random_after`` individuals have finished, each remaining random individual of
  generation 0 is the most promising of ``n_candidates`` uniform random points, if some gene
  has more than :data:`~optuna_ga._surrogate.FINE_SIZE` values: random points rarely land near
  a good value of such a gene. Where every gene is coarse (all of the public tables), ten random
  points cover each gene, and guidance only narrowed generation 0. Immigrants stay uniform;
* while a multi-objective study has fewer than ``multi_objective_gp_sizes`` populations of
  individuals, the children are scored by the expected improvement of a Gaussian process
  fitted to their Pareto scores (rank-warped, with one ARD sweep over the genes), plus the
  density ratio: ahead of the density ratio alone at 50 and 100 trials on both table families,
  on the 40 seeds it was chosen on and on 20 fresh ones (``benchmarks/MULTI_OBJECTIVE.md``).
  In a single-objective study the same model is experimental and off by default
  (``gp_sizes=0``): while it has fewer than ``gp_sizes`` populations of individuals, the
  children are scored by the expected improvement of a Gaussian process
  (:mod:`optuna_ga._gp`) instead of the density ratio: with few points a smooth regression
  model tells more than a split into good and bad. Pruned trials and running trials are not
  modelled by it (running ones are never repeated: the sampler skips duplicates). A
  single-objective study with constraints always uses the density ratio. In
  ``benchmarks/data/gp_surrogate.md`` (100 seeds) it was well ahead on HPOLib at 25 and 50
  trials, but level on HPOBench up to 100 and behind at 200, so it is not a default there yet.

Pure: nothing here sees a study.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from optuna_ga._breeding import Brood
from optuna_ga._breeding import Proposal
from optuna_ga._encoding import Space
from optuna_ga._gp import log_ei_scores
from optuna_ga._history import Encoded
from optuna_ga._surrogate import FINE_SIZE
from optuna_ga._surrogate import bandwidths
from optuna_ga._surrogate import density_ratio


@dataclass(frozen=True)
class Guidance:
    """The guidance policy of a sampler (see the module docstring).

    Study ages are counted in finished individuals (trials completed with a finite value), as
    multiples of ``population_size``.

    Args:
        n_candidates: Children bred per trial; 1 turns guidance off (the classic GA).
        gamma: Share of the individuals that the surrogate treats as good.
        mature_sizes: A study is mature from ``mature_sizes * population_size`` individuals on.
        mature_gamma: ``gamma`` of a mature study.
        early_sizes: A study is young below ``early_sizes * population_size`` individuals.
        early_factor: A young study chooses among ``early_factor * n_candidates`` children.
        multi_objective_random: Uniform random points added to a young multi-objective
            study's brood.
        single_objective_random: The same for a single-objective study (experimental, 0).
        guided_random_after: Individuals finished before generation 0 is guided.
        gp_sizes: A single-objective study is scored by the Gaussian process below
            ``gp_sizes * population_size`` individuals (0: never).
        multi_objective_gp_sizes: The same for a multi-objective study.
        gp_warped: The process is fitted to normal quantiles of the scores' ranks.
        gp_ard: One sweep of per-gene weights (automatic relevance determination).
        gp_beta: If given, the upper confidence bound with this ``beta`` instead of EI.
        gp_mix: The density ratio is added to the process's log EI.

    Example:
        >>> guidance = Guidance(n_candidates=24)
        >>> [guidance.brood_size(n, population_size=10) for n in (0, 49, 50)]
        [48, 48, 24]
        >>> [guidance.gamma_at(n, population_size=10) for n in (99, 100)]
        [0.15, 0.25]
        >>> [guidance.random_in_brood(n, population_size=10, multi_objective=True)
        ...  for n in (49, 50)], guidance.random_in_brood(0, population_size=10)
        ([24, 0], 0)
        >>> [guidance.uses_gp(n, population_size=10, multi_objective=True) for n in (49, 50)]
        [True, False]
        >>> guidance.uses_gp(0, population_size=10), Guidance(gp_sizes=5).uses_gp(
        ...     0, population_size=10)
        (False, True)
    """

    n_candidates: int = 24
    gamma: float = 0.15
    mature_sizes: int = 10
    mature_gamma: float = 0.25
    early_sizes: int = 5
    early_factor: int = 2
    multi_objective_random: int = 24
    single_objective_random: int = 0
    guided_random_after: int = 4
    gp_sizes: int = 0
    multi_objective_gp_sizes: int = 5
    gp_warped: bool = True
    gp_ard: bool = True
    gp_beta: float | None = None
    gp_mix: bool = True

    @property
    def enabled(self) -> bool:
        """Whether the surrogate chooses among several children (``n_candidates > 1``)."""
        return self.n_candidates > 1

    def brood_size(self, n_individuals: int, *, population_size: int) -> int:
        """Children to breed for a trial when ``n_individuals`` have finished."""
        if n_individuals < self.early_sizes * population_size:
            return self.n_candidates * self.early_factor
        return self.n_candidates

    def random_in_brood(
        self, n_individuals: int, *, population_size: int, multi_objective: bool = False
    ) -> int:
        """Uniform random points to add to the brood when ``n_individuals`` have finished."""
        young = n_individuals < self.early_sizes * population_size
        if not young:
            return 0
        return self.multi_objective_random if multi_objective else self.single_objective_random

    def gamma_at(self, n_individuals: int, *, population_size: int) -> float:
        """The surrogate's share of good individuals when ``n_individuals`` have finished."""
        if n_individuals >= self.mature_sizes * population_size:
            return self.mature_gamma
        return self.gamma

    def uses_gp(
        self,
        n_individuals: int,
        *,
        population_size: int,
        pareto: bool = False,
        multi_objective: bool = False,
    ) -> bool:
        """Whether children are scored by the Gaussian process (see the module docstring).

        ``pareto``: the scores are Pareto scores (several objectives or constraints);
        ``multi_objective``: the study has several objectives.
        """
        if multi_objective:
            sizes = self.multi_objective_gp_sizes
        elif pareto:  # a single objective with constraints
            return False
        else:
            sizes = self.gp_sizes
        return n_individuals < sizes * population_size

    def guides_random(self, space: Space, n_individuals: int) -> bool:
        """Whether a random individual of generation 0 is chosen among random candidates."""
        return (
            self.enabled
            and bool(np.any(space.sizes > FINE_SIZE))
            and n_individuals >= self.guided_random_after
        )

    def choose(
        self,
        encoded: Encoded,
        space: Space,
        brood: Brood,
        is_duplicate: Callable[[dict[str, Any]], bool],
        *,
        population_size: int,
        pareto: bool = False,
        multi_objective: bool = False,
    ) -> Proposal | None:
        """The unseen child the surrogate scores highest, with its score; None if all repeat.

        Args:
            encoded: The finished individuals and pruned trials, encoded over ``space``.
            space: The genes.
            brood: The children to choose from.
            is_duplicate: Whether a parameter set repeats an evaluated or claimed one.
            population_size: The sampler's population size (it measures the study's age).
            pareto: Whether ``encoded.scores`` are Pareto scores (several objectives or
                constraints).
            multi_objective: Whether the study has several objectives (see :meth:`uses_gp`).
        """
        n = len(encoded.scores)
        if self.uses_gp(
            n, population_size=population_size, pareto=pareto, multi_objective=multi_objective
        ):
            ratio = log_ei_scores(
                brood.genomes,
                encoded.genomes,
                encoded.scores,
                space.low,
                space.high,
                space.n_choices,
                warped=self.gp_warped,
                ard=self.gp_ard,
                beta=self.gp_beta,
            )
            if self.gp_mix:  # log(EI * l / g): the GP's improvement, near the good ones
                ratio = ratio + self._density_ratio(
                    encoded, space, brood, population_size=population_size
                )
        else:
            ratio = self._density_ratio(encoded, space, brood, population_size=population_size)
        for k in np.argsort(-ratio, kind="stable"):
            proposal = brood.proposal(space, int(k), round(float(ratio[k]), 6))
            if not is_duplicate(proposal.params):
                return proposal
        return None

    def _density_ratio(
        self, encoded: Encoded, space: Space, brood: Brood, *, population_size: int
    ) -> np.ndarray:
        """The density ratio (:mod:`optuna_ga._surrogate`) of each child."""
        gamma = self.gamma_at(len(encoded.scores), population_size=population_size)
        return density_ratio(
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
