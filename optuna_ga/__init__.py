"""optuna-ga: genetic-algorithm hyperparameter and architecture search as an Optuna sampler.

The public names are imported on first use, so that ``import optuna_ga.cli`` (the
``optuna-ga`` command) starts before Optuna is imported.

Example:
    >>> import optuna
    >>> from optuna_ga import GeneticSampler
    >>> study = optuna.create_study(sampler=GeneticSampler(seed=0))
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from typing import Any

if TYPE_CHECKING:
    from optuna_ga._encoding import canonical_hash
    from optuna_ga._sampler import GeneticSampler
    from optuna_ga._sampler import SearchSpaceExhausted

__all__ = ["GeneticSampler", "SearchSpaceExhausted", "__version__", "canonical_hash"]

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    if name in ("GeneticSampler", "SearchSpaceExhausted"):
        from optuna_ga import _sampler

        return getattr(_sampler, name)
    if name == "canonical_hash":
        from optuna_ga._encoding import canonical_hash

        return canonical_hash
    raise AttributeError(f"module 'optuna_ga' has no attribute {name!r}")
