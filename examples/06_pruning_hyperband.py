"""Pruning with Hyperband: stop poor networks after a few epochs, breed only from finished ones.

``MLPObjective`` reports the validation accuracy after every epoch, so any Optuna pruner works
with it. ``HyperbandPruner`` splits trials into brackets (by trial number) and, in each bracket,
stops those that rank in the bottom part at 1, 3, 9 ... epochs. A pruned trial is never a GA
parent and its parameter set is never proposed again.

Run ``python examples/06_pruning_hyperband.py`` (or ``--smoke`` for a seconds-long run).
Needs the torch extra: ``pip install "optuna-ga[torch]"``.
"""

from __future__ import annotations

import argparse
from collections import Counter

import optuna

from optuna_ga import GeneticSampler
from optuna_ga.torch import MLPObjective


def main(argv: list[str] | None = None) -> optuna.Study:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--storage", default=None, help="e.g. sqlite:///optuna_ga.db")
    parser.add_argument("--study-name", default="example-mlp-digits-hyperband")
    parser.add_argument("--n-trials", type=int, default=60)
    parser.add_argument("--population-size", type=int, default=12)
    parser.add_argument("--epochs", type=int, default=27, help="most epochs per trial")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--smoke", action="store_true", help="a seconds-long in-memory run")
    args = parser.parse_args(argv)
    if args.smoke:
        args.storage, args.n_trials, args.population_size, args.epochs = None, 8, 4, 3

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    # patience=None: let the pruner, not early stopping, decide which runs end early.
    objective = MLPObjective(dataset="digits", epochs=args.epochs, patience=None, seed=args.seed)
    study = optuna.create_study(
        storage=args.storage,
        study_name=args.study_name,
        load_if_exists=True,
        direction=objective.direction,
        sampler=GeneticSampler(population_size=args.population_size, n_elites=2, seed=args.seed),
        pruner=optuna.pruners.HyperbandPruner(
            min_resource=1, max_resource=args.epochs, reduction_factor=3
        ),
    )
    study.optimize(objective, n_trials=args.n_trials)

    pruned = study.get_trials(deepcopy=False, states=[optuna.trial.TrialState.PRUNED])
    complete = study.get_trials(deepcopy=False, states=[optuna.trial.TrialState.COMPLETE])
    trained = sum(t.user_attrs.get("epochs", 0) for t in pruned + complete)
    print(
        f"{len(complete)} complete, {len(pruned)} pruned; {trained} epochs trained in all "
        f"instead of {len(pruned + complete) * args.epochs} without pruning"
    )
    if pruned:
        by_pruner = [t for t in pruned if "failure" not in t.user_attrs]  # not diverged
        stops = Counter(t.user_attrs["epochs"] for t in by_pruner)
        print(f"pruned by Hyperband after (epochs: trials): {dict(sorted(stops.items()))}")
    best = study.best_trial
    print(
        f"best validation accuracy {best.value:.4f} in trial {best.number} "
        f"(generation {best.user_attrs['ga_generation']}): {best.params}"
    )
    return study


if __name__ == "__main__":
    main()
