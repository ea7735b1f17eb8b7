"""Multilayer perceptron: fully connected hidden layers of searched widths (``"mlp"``).

Genes, in suggestion order: ``n_layers``, ``input_dropout``, then per hidden layer ``i``:
``units_l{i}``, ``dropout_l{i}``; then ``activation``, ``batch_norm``, ``initializer``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from optuna.trial import BaseTrial
from torch import nn

from optuna_ga.torch._genes import MAX_UNITS
from optuna_ga.torch._genes import FloatSpec
from optuna_ga.torch._genes import IntSpec
from optuna_ga.torch._genes import choice_gene
from optuna_ga.torch._genes import count_range
from optuna_ga.torch._genes import float_gene
from optuna_ga.torch._genes import int_gene
from optuna_ga.torch._genes import param
from optuna_ga.torch._models import ACTIVATIONS
from optuna_ga.torch._models import INITIALIZERS
from optuna_ga.torch._models import ParamsLike
from optuna_ga.torch._models import as_params
from optuna_ga.torch._models import dense_stack
from optuna_ga.torch._models import initialize
from optuna_ga.torch.architectures._registry import genes_by_suffix
from optuna_ga.torch.architectures._registry import register_architecture

__all__ = ["MLPGenes", "build_mlp"]


class MLPGenes:
    """The search space of an MLP; ``MLPGenes(input_shape, ...)(trial)`` suggests one network.

    Each argument is a single value (fixed gene), a ``(low, high)`` range or a list of choices
    (see :mod:`optuna_ga.torch.architectures`).

    Args:
        input_shape: Shape of one sample; any shape (the network flattens it).
        min_layers: Fewest hidden layers, in ``[1, 32]``.
        max_layers: Most hidden layers, in ``[min_layers, 32]``.
        units: Units per hidden layer, in ``[1, 65536]``; a range is searched on a log scale.
        activations: Among ``relu``, ``elu``, ``leaky_relu``, ``gelu``, ``tanh``, ``sigmoid``.
        input_dropout: Dropout on the inputs, in ``[0, 0.95]``.
        dropout: Dropout after each hidden layer, in ``[0, 0.95]``.
        batch_norm: ``False``, ``True`` or both.
        initializers: Among ``xavier_uniform``, ``xavier_normal``, ``kaiming_uniform``,
            ``kaiming_normal``, ``lecun_uniform``, ``lecun_normal``.

    Raises:
        ValueError: If an argument is out of range (the message names it).

    Example:
        >>> import optuna
        >>> suggest = MLPGenes((1, 8, 8), max_layers=1, units=[16], dropout=0.0)
        >>> params = suggest(optuna.create_study().ask())
        >>> params["n_layers"], params["units_l1"], params["dropout_l1"]
        (1, 16, 0.0)
    """

    def __init__(
        self,
        input_shape: Sequence[int],
        *,
        min_layers: int = 1,
        max_layers: int = 5,
        units: IntSpec = (16, 1024),
        activations: Sequence[str] | str = tuple(ACTIVATIONS),
        input_dropout: FloatSpec = (0.0, 0.5),
        dropout: FloatSpec = (0.0, 0.5),
        batch_norm: Sequence[bool] | bool = (False, True),
        initializers: Sequence[str] | str = INITIALIZERS,
    ) -> None:
        self._n_layers = count_range("min_layers", min_layers, "max_layers", max_layers, 1, 32)
        self._genes = {
            "units": int_gene("units", units, lower=1, upper=MAX_UNITS, log=True),
            "activation": choice_gene("activations", activations, tuple(ACTIVATIONS)),
            "input_dropout": float_gene("input_dropout", input_dropout, lower=0.0, upper=0.95),
            "dropout": float_gene("dropout", dropout, lower=0.0, upper=0.95),
            "batch_norm": choice_gene("batch_norm", batch_norm, (False, True)),
            "initializer": choice_gene("initializers", initializers, INITIALIZERS),
        }

    def __call__(self, trial: BaseTrial) -> dict[str, Any]:
        """Suggest one MLP's genes and return them."""
        g = self._genes
        p: dict[str, Any] = {}
        p["n_layers"] = trial.suggest_int("n_layers", *self._n_layers)
        p["input_dropout"] = g["input_dropout"].suggest(trial, "input_dropout")
        for i in range(1, p["n_layers"] + 1):
            p[f"units_l{i}"] = g["units"].suggest(trial, f"units_l{i}")
            p[f"dropout_l{i}"] = g["dropout"].suggest(trial, f"dropout_l{i}")
        for name in ("activation", "batch_norm", "initializer"):
            p[name] = g[name].suggest(trial, name)
        return p


@register_architecture(
    "mlp", genes=MLPGenes, layer_genes=genes_by_suffix({"dense": "_l"}), marker="n_layers"
)
def build_mlp(params: ParamsLike, input_shape: Sequence[int], n_classes: int) -> nn.Sequential:
    """Build the multilayer perceptron that ``params`` describes (weights freshly initialised).

    Layout: flatten, input dropout, then per hidden layer Linear, optional BatchNorm1d,
    activation and dropout, and a final Linear to ``n_classes`` logits.

    Args:
        params: ``trial.params`` of an ``"mlp"`` trial, or the FrozenTrial itself.
        input_shape: Shape of one sample, e.g. ``(1, 8, 8)`` or ``(64,)``.
        n_classes: Number of output classes.

    Raises:
        ValueError: If a parameter is missing or has an unknown value.

    Example:
        >>> from optuna_ga.torch import count_params
        >>> params = {"n_layers": 1, "input_dropout": 0.0, "units_l1": 32, "dropout_l1": 0.1,
        ...           "activation": "relu", "batch_norm": True, "initializer": "lecun_normal"}
        >>> model = build_mlp(params, (1, 8, 8), 10)
        >>> count_params(model)
        2474
    """
    params = as_params(params)
    n_in = math.prod(input_shape)
    layers: list[nn.Module] = [nn.Flatten()]
    input_dropout = float(param(params, "input_dropout"))
    if input_dropout > 0:
        layers.append(nn.Dropout(input_dropout))
    hidden, n_in = dense_stack(
        params,
        n_in,
        int(param(params, "n_layers")),
        "l",
        str(param(params, "activation")),
        bool(param(params, "batch_norm")),
    )
    layers += hidden
    layers.append(nn.Linear(n_in, n_classes))
    model = nn.Sequential(*layers)
    initialize(model, str(param(params, "initializer")))
    return model
