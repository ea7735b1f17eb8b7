"""GA operators: pure functions over numpy arrays and an explicit ``numpy.random.Generator``.

None of them sees a study, a trial or a storage, so each can be tested against hand-derived
outputs and reused outside Optuna. Each operator has one form, over batches: a selection draws
``n_pairs`` pairs of parents, a crossover crosses ``(m, d)`` arrays of parents row by row, a
mutation mutates ``(m, d)`` genomes; a single child is one pair, one row. Operators that work
on genes take them as a :class:`Genes` (bounds and numbers of choices). The sampler accepts
your own selection and crossover callables too: see :class:`Selection` and :class:`Crossover`.
"""

from optuna_ga.operators._crossover import CROSSOVERS
from optuna_ga.operators._crossover import Crossover
from optuna_ga.operators._crossover import differing
from optuna_ga.operators._crossover import single_point
from optuna_ga.operators._crossover import uniform
from optuna_ga.operators._genes import Genes
from optuna_ga.operators._mutation import mutate
from optuna_ga.operators._mutation import sample_uniform
from optuna_ga.operators._selection import SELECTIONS
from optuna_ga.operators._selection import Selection
from optuna_ga.operators._selection import pairs_by_weights
from optuna_ga.operators._selection import rank
from optuna_ga.operators._selection import rank_weights
from optuna_ga.operators._selection import roulette
from optuna_ga.operators._selection import roulette_weights
from optuna_ga.operators._selection import tournament

__all__ = [
    "CROSSOVERS",
    "SELECTIONS",
    "Crossover",
    "Genes",
    "Selection",
    "differing",
    "mutate",
    "pairs_by_weights",
    "rank",
    "rank_weights",
    "roulette",
    "roulette_weights",
    "sample_uniform",
    "single_point",
    "tournament",
    "uniform",
]
