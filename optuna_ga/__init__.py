"""optuna-ga: genetic-algorithm hyperparameter and architecture search as an Optuna sampler.

Example:
    >>> import optuna
    >>> from optuna_ga import GeneticSampler
    >>> study = optuna.create_study(sampler=GeneticSampler(seed=0))
"""

from optuna_ga._encoding import canonical_hash
from optuna_ga._sampler import GeneticSampler

__all__ = ["GeneticSampler", "__version__", "canonical_hash"]

__version__ = "0.1.0"
