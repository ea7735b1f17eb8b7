"""GA operators: pure functions over numpy arrays and an explicit ``numpy.random.Generator``.

None of them sees a study, a trial or a storage, so each can be tested against hand-derived
outputs and reused outside Optuna. Each operator has a batch form (``*_pairs``, ``*_rows``) that
breeds many children at once, as the model-guided sampler does.
"""

from optuna_ga.operators._crossover import CROSSOVERS
from optuna_ga.operators._crossover import ROW_CROSSOVERS
from optuna_ga.operators._crossover import differing
from optuna_ga.operators._crossover import single_point
from optuna_ga.operators._crossover import single_point_rows
from optuna_ga.operators._crossover import uniform
from optuna_ga.operators._crossover import uniform_rows
from optuna_ga.operators._mutation import mutate
from optuna_ga.operators._mutation import sample_uniform
from optuna_ga.operators._selection import PAIR_SELECTIONS
from optuna_ga.operators._selection import SELECTIONS
from optuna_ga.operators._selection import pairs_by_weights
from optuna_ga.operators._selection import rank
from optuna_ga.operators._selection import rank_pairs
from optuna_ga.operators._selection import roulette
from optuna_ga.operators._selection import roulette_pairs
from optuna_ga.operators._selection import roulette_weights
from optuna_ga.operators._selection import tournament
from optuna_ga.operators._selection import tournament_pairs

__all__ = [
    "CROSSOVERS",
    "PAIR_SELECTIONS",
    "ROW_CROSSOVERS",
    "SELECTIONS",
    "differing",
    "mutate",
    "pairs_by_weights",
    "rank",
    "rank_pairs",
    "roulette",
    "roulette_pairs",
    "roulette_weights",
    "sample_uniform",
    "single_point",
    "single_point_rows",
    "tournament",
    "tournament_pairs",
    "uniform",
    "uniform_rows",
]
