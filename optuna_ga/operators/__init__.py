"""GA operators: pure functions over numpy arrays and an explicit ``numpy.random.Generator``.

None of them sees a study, a trial or a storage, so each can be tested against hand-derived
outputs and reused outside Optuna.
"""

from optuna_ga.operators._crossover import CROSSOVERS
from optuna_ga.operators._crossover import differing
from optuna_ga.operators._crossover import single_point
from optuna_ga.operators._crossover import uniform
from optuna_ga.operators._mutation import mutate
from optuna_ga.operators._mutation import sample_uniform
from optuna_ga.operators._selection import SELECTIONS
from optuna_ga.operators._selection import rank
from optuna_ga.operators._selection import roulette
from optuna_ga.operators._selection import roulette_weights
from optuna_ga.operators._selection import tournament

__all__ = [
    "CROSSOVERS",
    "SELECTIONS",
    "differing",
    "mutate",
    "rank",
    "roulette",
    "roulette_weights",
    "sample_uniform",
    "single_point",
    "tournament",
    "uniform",
]
