"""OptunaHub package ``samplers/genetic_sampler``: optuna-ga's ``GeneticSampler``.

The sampler is the ``optuna-ga`` distribution on PyPI (``requirements.txt``); this package
re-exports it, so ``optunahub.load_module("samplers/genetic_sampler").GeneticSampler`` is
``optuna_ga.GeneticSampler``, and a fix reaches OptunaHub users with ``pip install -U optuna-ga``.
"""

try:
    from optuna_ga import GeneticSampler
except ModuleNotFoundError as error:
    if error.name != "optuna_ga":
        raise
    raise ModuleNotFoundError(
        "samplers/genetic_sampler needs the optuna-ga package: pip install optuna-ga",
        name="optuna_ga",
    ) from error

__all__ = ["GeneticSampler"]
