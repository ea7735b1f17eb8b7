"""Evolve an MLP classifier for scikit-learn's digits (offline), then retrain the best one.

Run ``python examples/02_mlp_digits.py`` (or ``--smoke`` for a seconds-long run). Needs the
torch extra: ``pip install "optuna-ga[torch]"``.

Every trial trains one network with early stopping; the median pruner stops runs that fall
behind at the same epoch; diverging runs end as pruned trials. Several processes can share
one study: start the script again with the same ``--storage`` and ``--study-name``.
"""

from __future__ import annotations

import argparse

import optuna

from optuna_ga import GeneticSampler
from optuna_ga.torch import MLPObjective
from optuna_ga.torch import train_best


def main(argv: list[str] | None = None) -> optuna.Study:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--storage", default="sqlite:///optuna_ga.db")
    parser.add_argument("--study-name", default="example-mlp-digits")
    parser.add_argument("--n-trials", type=int, default=60)
    parser.add_argument("--population-size", type=int, default=12)
    parser.add_argument("--epochs", type=int, default=20, help="most epochs per trial")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--retrain-epochs", type=int, default=60, help="epochs for the best network; 0 skips"
    )
    parser.add_argument("--save-dir", default=None, help="save the retrained network here")
    parser.add_argument("--smoke", action="store_true", help="a seconds-long in-memory run")
    args = parser.parse_args(argv)
    if args.smoke:
        args.storage, args.n_trials, args.population_size = None, 6, 4
        args.epochs, args.retrain_epochs = 3, 3

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    objective = MLPObjective(dataset="digits", epochs=args.epochs, patience=5, seed=args.seed)
    study = optuna.create_study(
        storage=args.storage,
        study_name=args.study_name,
        load_if_exists=True,
        direction=objective.direction,
        sampler=GeneticSampler(population_size=args.population_size, n_elites=2, seed=args.seed),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=2),
    )
    study.optimize(objective, n_trials=args.n_trials)

    states = [t.state.name for t in study.trials]
    best = study.best_trial
    print(
        f"{len(states)} trials ({states.count('COMPLETE')} complete, "
        f"{states.count('PRUNED')} pruned); best validation accuracy {best.value:.4f} "
        f"in trial {best.number} ({best.user_attrs['n_params']} parameters, "
        f"{best.user_attrs['epochs']} epochs)"
    )
    print(f"best params: {best.params}")
    if args.retrain_epochs > 0:
        trained = train_best(study, epochs=args.retrain_epochs, save_to=args.save_dir)
        print(
            f"retrained {args.retrain_epochs} epochs on train+validation: "
            f"test accuracy {trained.test_accuracy:.4f}"
            + (f", saved to {args.save_dir}" if args.save_dir else "")
        )
    return study


if __name__ == "__main__":
    main()
