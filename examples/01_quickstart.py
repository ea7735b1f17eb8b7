"""Quickstart: a GA study of a toy function with a conditional parameter, in SQLite.

Run ``python examples/01_quickstart.py`` (or ``--smoke`` for a seconds-long run).
"""

from __future__ import annotations

import argparse
import math

import optuna

from optuna_ga import GeneticSampler


def objective(trial: optuna.Trial) -> float:
    """A mixed search space: a float, a log-scale int, a categorical and a conditional float."""
    x = trial.suggest_float("x", -5.0, 5.0)
    n = trial.suggest_int("n", 1, 64, log=True)
    kind = trial.suggest_categorical("kind", ["sin", "square"])
    if kind == "sin":
        y = trial.suggest_float("phase", 0.0, math.pi)
        return math.sin(x + y) + abs(math.log2(n) - 3)
    return (x - 1.0) ** 2 + abs(math.log2(n) - 3)


def main(argv: list[str] | None = None) -> optuna.Study:
    parser = argparse.ArgumentParser(description=__doc__)
    # Its own file: ./optuna_ga.db holds the README's main job, and `optuna-ga best` reads it.
    parser.add_argument("--storage", default="sqlite:///quickstart.db")
    parser.add_argument("--study-name", default="quickstart")
    parser.add_argument("--n-trials", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--smoke", action="store_true", help="a seconds-long in-memory run")
    args = parser.parse_args(argv)
    if args.smoke:
        args.storage, args.n_trials = None, 40

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        storage=args.storage,
        study_name=args.study_name,
        load_if_exists=True,
        sampler=GeneticSampler(population_size=20, n_elites=2, seed=args.seed),
    )
    study.optimize(objective, n_trials=args.n_trials)
    best = study.best_trial
    print(
        f"best value {best.value:.4f} in trial {best.number} "
        f"(generation {best.user_attrs.get('ga_generation')}): {best.params}"
    )
    return study


if __name__ == "__main__":
    main()
