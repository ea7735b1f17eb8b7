"""Your own architecture, registered: the objective, weight inheritance and retraining take it.

An architecture is two functions and one decorator: ``genes(input_shape, **options)`` checks
its search space once and returns ``suggest(trial) -> params``; ``build(params, input_shape,
n_classes)`` builds the network from stored parameters alone; ``@register_architecture`` on
the builder makes its name known, as the built-in architectures do. Here: a residual MLP (a
stem layer, then ``blocks`` residual blocks of ``width`` units, each with its own activation)
on scikit-learn's digits, bred by ``GeneticSampler`` with weight inheritance, then retrained
from scratch.

Run ``python examples/10_own_architecture.py`` (or ``--smoke`` for a seconds-long run).
Needs the torch extra: ``pip install "optuna-ga[torch]"``.
"""

from __future__ import annotations

import argparse
import math
import tempfile
from collections import OrderedDict
from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any

import optuna
import torch
from optuna.artifacts import FileSystemArtifactStore
from torch import nn

from optuna_ga import GeneticSampler
from optuna_ga.torch import Objective
from optuna_ga.torch import train_best
from optuna_ga.torch.architectures import choice_gene
from optuna_ga.torch.architectures import genes_by_suffix
from optuna_ga.torch.architectures import int_gene
from optuna_ga.torch.architectures import register_architecture

# --8<-- [start:architecture]
ACTIVATIONS = {"relu": nn.ReLU, "gelu": nn.GELU, "tanh": nn.Tanh}


def residual_mlp_genes(
    input_shape: Sequence[int],
    *,
    blocks: Any = (1, 4),
    width: Any = (16, 256),
    activations: Any = ("relu", "gelu"),
) -> Any:
    """The search space. Each argument: a value (fixed), a (low, high) range or a list."""
    blocks_gene = int_gene("blocks", blocks, lower=1, upper=16)
    width_gene = int_gene("width", width, lower=2, upper=4096, log=True)
    activation_gene = choice_gene("activations", activations, list(ACTIVATIONS))

    def suggest(trial: optuna.trial.BaseTrial) -> dict[str, Any]:
        params = {"width": width_gene.suggest(trial, "width")}
        params["blocks"] = blocks_gene.suggest(trial, "blocks")
        for b in range(1, params["blocks"] + 1):  # block b's genes end in _b{b}
            params[f"activation_b{b}"] = activation_gene.suggest(trial, f"activation_b{b}")
        return params

    return suggest


class Block(nn.Module):
    """``x + act(norm(dense(x)))``."""

    def __init__(self, width: int, activation: str) -> None:
        super().__init__()
        self.dense = nn.Linear(width, width)
        self.norm = nn.BatchNorm1d(width)  # registered after dense: inherited with it
        self.act = ACTIVATIONS[activation]()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.act(self.norm(self.dense(x)))


# Registered under its name when this module is imported; the decorator returns the function.
@register_architecture(
    "residual-mlp",
    genes=residual_mlp_genes,
    # A crossover child takes block b from the parent it got activation_b{b} from.
    layer_genes=genes_by_suffix({"block": "_b"}),
    marker="blocks",
)
def build_residual_mlp(
    params: Mapping[str, Any], input_shape: Sequence[int], n_classes: int
) -> nn.Module:
    """The network of stored parameters; reads nothing else."""
    width = int(params["width"])
    layers: OrderedDict[str, nn.Module] = OrderedDict(
        flatten=nn.Flatten(), stem=nn.Linear(math.prod(input_shape), width)
    )
    for b in range(1, int(params["blocks"]) + 1):
        layers[f"block{b}"] = Block(width, params[f"activation_b{b}"])
    layers["output"] = nn.Linear(width, n_classes)
    return nn.Sequential(layers)


# --8<-- [end:architecture]


def main(argv: list[str] | None = None) -> optuna.Study:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--storage", default="sqlite:///optuna_ga.db")
    parser.add_argument("--study-name", default="example-residual-mlp")
    parser.add_argument("--n-trials", type=int, default=40)
    parser.add_argument("--epochs", type=int, default=10, help="most epochs per trial")
    parser.add_argument("--retrain-epochs", type=int, default=40)
    parser.add_argument("--smoke", action="store_true", help="a seconds-long in-memory run")
    args = parser.parse_args(argv)
    if args.smoke:
        args.storage, args.n_trials, args.epochs, args.retrain_epochs = None, 8, 2, 2

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="optuna_ga_weights_") as weights:
        objective = Objective(
            architecture="residual-mlp",
            dataset="digits",
            blocks=(1, 3),  # the architecture's own arguments, checked by its genes
            width=[32, 64, 128],
            epochs=args.epochs,
            inherit_weights=True,
            artifact_store=FileSystemArtifactStore(weights),
            inherit_epochs=max(1, args.epochs // 4),
        )
        study = optuna.create_study(
            storage=args.storage,
            study_name=args.study_name,
            load_if_exists=True,
            direction=objective.direction,
            sampler=GeneticSampler(population_size=4 if args.smoke else 10, seed=0),
        )
        study.optimize(objective, n_trials=args.n_trials)
    heirs = sum(bool(t.user_attrs.get("ga_inherited", {}).get("tensors")) for t in study.trials)
    best = study.best_trial
    print(
        f"{len(study.trials)} residual MLPs, {heirs} started from their parents' weights; "
        f"best #{best.number}: {best.params['blocks']} block(s) of {best.params['width']} units, "
        f"validation accuracy {best.value:.4f}"
    )
    # The trial recorded its architecture: train_best rebuilds the network from scratch.
    trained = train_best(study, dataset="digits", epochs=args.retrain_epochs)
    print(f"retrained for {args.retrain_epochs} epochs: test accuracy {trained.test_accuracy:.4f}")
    return study


if __name__ == "__main__":
    main()
