"""GeneticSampler from OptunaHub on a small conditional search space.

Loads this folder with ``optunahub.load_local_module``, so it runs from a checkout of
optuna-ga or of the registry alike (``pip install optunahub optuna-ga`` first). Once the
package is published, ``optunahub.load_module("samplers/genetic_sampler")`` loads it from
OptunaHub instead.
"""

from __future__ import annotations

import os

import optuna
import optunahub


def objective(trial: optuna.Trial) -> float:
    n_layers = trial.suggest_int("n_layers", 1, 3)
    units = [trial.suggest_int(f"units_l{i}", 16, 256, log=True) for i in range(n_layers)]
    lr = trial.suggest_float("lr", 1e-4, 1e-1, log=True)
    activation = trial.suggest_categorical("activation", ["relu", "tanh"])
    # A stand-in for a validation loss: best near 3 layers of 64 units, lr 1e-2, relu.
    loss = sum((u - 64) ** 2 for u in units) / 1e4 + (3 - n_layers) + abs(lr - 1e-2) * 10
    return loss + (activation == "tanh") * 0.5


optuna.logging.set_verbosity(optuna.logging.WARNING)
# This folder is <registry_root>/samplers/genetic_sampler.
here = os.path.dirname(os.path.abspath(__file__))
registry_root = os.path.dirname(os.path.dirname(here))
module = optunahub.load_local_module("samplers/genetic_sampler", registry_root=registry_root)
sampler = module.GeneticSampler(population_size=10, seed=0)
study = optuna.create_study(sampler=sampler)
study.optimize(objective, n_trials=30)
generations = max(t.user_attrs["ga_generation"] for t in study.trials) + 1
print(f"{len(study.trials)} trials in {generations} generations")
print(f"best value {study.best_value:.4f}, params {study.best_params}")
