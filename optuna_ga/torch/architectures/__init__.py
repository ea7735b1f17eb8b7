"""Network architectures as plug-ins: one module per architecture, one registry.

An :class:`Architecture` says everything the rest of :mod:`optuna_ga.torch` needs to know of one
kind of network: its genes (the search space, and the keyword arguments of
:class:`~optuna_ga.torch.Objective` that shape it), how to build the network from stored
parameters, how weight inheritance walks its layers, and a gene that tells its parameters
apart. The objectives, ``train_best``, ``load_model``, weight inheritance, the command line's
``--model`` and the documentation all read the registry.

The built-in architectures are the modules of this package that ``optuna_ga/_architectures.py``
lists, one line each (:func:`list_architectures` names them): ``mlp.py``, ``cnn.py``, ...
Your own architecture registers the same way: write its genes and its builder, and register
them (:func:`register_architecture`) when your module is imported. Gene values take the forms of
:func:`int_gene`, :func:`float_gene` and :func:`choice_gene` (a single value fixes a gene, a
``(low, high)`` tuple is a range, a list gives choices).

Example:
    >>> import math
    >>> import optuna
    >>> from torch import nn
    >>> from optuna_ga.torch import Objective
    >>> from optuna_ga.torch.architectures import Architecture, int_gene, register_architecture
    >>> def wide_genes(input_shape, *, units=(8, 64)):
    ...     gene = int_gene("units", units, lower=1, upper=4096, log=True)
    ...     return lambda trial: {"units": gene.suggest(trial, "units")}
    >>> def build_wide(params, input_shape, n_classes):
    ...     return nn.Sequential(
    ...         nn.Flatten(), nn.Linear(math.prod(input_shape), params["units"]), nn.ReLU(),
    ...         nn.Linear(params["units"], n_classes))
    >>> _ = register_architecture(Architecture(name="wide", genes=wide_genes, build=build_wide))
    >>> objective = Objective(architecture="wide", units=[16, 32], epochs=3,
    ...                       optimizers="adam", learning_rate=0.01)
    >>> study = optuna.create_study(direction=objective.direction)
    >>> study.optimize(objective, n_trials=2)
    >>> study.best_trial.user_attrs["architecture"], study.best_value > 0.5
    ('wide', True)
"""

from optuna_ga.torch._genes import Gene
from optuna_ga.torch._genes import choice_gene
from optuna_ga.torch._genes import float_gene
from optuna_ga.torch._genes import int_gene
from optuna_ga.torch._genes import param
from optuna_ga.torch._layers import layer_modules
from optuna_ga.torch.architectures._registry import Architecture
from optuna_ga.torch.architectures._registry import genes_by_suffix
from optuna_ga.torch.architectures._registry import get_architecture
from optuna_ga.torch.architectures._registry import list_architectures
from optuna_ga.torch.architectures._registry import register_architecture

__all__ = [
    "Architecture",
    "Gene",
    "choice_gene",
    "float_gene",
    "genes_by_suffix",
    "get_architecture",
    "int_gene",
    "layer_modules",
    "list_architectures",
    "param",
    "register_architecture",
]
