"""A conditional search space: which parameters exist depends on earlier choices.

The objective picks a scikit-learn classifier for the digits data, then only that model's
parameters; an SVM's ``gamma`` exists only with the RBF kernel, and a network has one
``units_l{i}`` gene per layer. GeneticSampler treats a parameter a trial did not suggest as a
missing gene: crossover takes it from the parent on its side of the cut (or draws it when that
parent lacks it), and duplicates are judged on the parameters a trial actually used.

Run ``python examples/05_conditional_space.py`` (or ``--smoke`` for a seconds-long run).
Needs scikit-learn (part of the torch extra: ``pip install "optuna-ga[torch]"``).
"""

from __future__ import annotations

import argparse
import warnings
from collections import Counter

import numpy as np
import optuna
from sklearn.datasets import load_digits
from sklearn.ensemble import RandomForestClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import cross_val_score
from sklearn.neural_network import MLPClassifier
from sklearn.svm import SVC

from optuna_ga import GeneticSampler
from optuna_ga import canonical_hash


def make_model(trial: optuna.Trial) -> object:
    """Suggest a classifier and only the parameters it uses."""
    kind = trial.suggest_categorical("model", ["svm", "forest", "mlp"])
    if kind == "svm":
        kernel = trial.suggest_categorical("svm_kernel", ["linear", "rbf"])
        c = trial.suggest_float("svm_c", 1e-3, 1e3, log=True)
        gamma = trial.suggest_float("svm_gamma", 1e-5, 1e-1, log=True) if kernel == "rbf" else 1
        return SVC(kernel=kernel, C=c, gamma=gamma)
    if kind == "forest":
        return RandomForestClassifier(
            n_estimators=trial.suggest_int("forest_trees", 10, 100, log=True),
            max_depth=trial.suggest_int("forest_depth", 2, 16),
            random_state=0,
        )
    n_layers = trial.suggest_int("mlp_layers", 1, 3)
    units = [trial.suggest_int(f"units_l{i}", 16, 128, log=True) for i in range(1, n_layers + 1)]
    alpha = trial.suggest_float("mlp_alpha", 1e-6, 1e-1, log=True)
    return MLPClassifier(hidden_layer_sizes=units, alpha=alpha, max_iter=30, random_state=0)


def main(argv: list[str] | None = None) -> optuna.Study:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--storage", default=None, help="e.g. sqlite:///optuna_ga.db")
    parser.add_argument("--study-name", default="conditional")
    parser.add_argument("--n-trials", type=int, default=48)
    parser.add_argument("--population-size", type=int, default=12)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--smoke", action="store_true", help="a seconds-long in-memory run")
    args = parser.parse_args(argv)
    x, y = load_digits(return_X_y=True)
    x = x / 16.0
    if args.smoke:
        args.storage, args.n_trials, args.population_size = None, 10, 5
        x, y = x[:400], y[:400]

    def objective(trial: optuna.Trial) -> float:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            return float(np.mean(cross_val_score(make_model(trial), x, y, cv=3)))

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        storage=args.storage,
        study_name=args.study_name,
        load_if_exists=True,
        direction="maximize",
        sampler=GeneticSampler(population_size=args.population_size, n_elites=2, seed=args.seed),
    )
    study.optimize(objective, n_trials=args.n_trials)

    done = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    models = Counter(t.params["model"] for t in done)
    distinct = len({canonical_hash(t.params) for t in done})
    print(f"trials per model: {dict(models)}; {distinct} distinct parameter sets of {len(done)}")
    for generation in sorted({t.user_attrs["ga_generation"] for t in done}):
        members = [t for t in done if t.user_attrs["ga_generation"] == generation]
        share = Counter(t.params["model"] for t in members)
        print(f"  generation {generation}: {dict(sorted(share.items()))}")
    best = study.best_trial
    print(f"best 3-fold accuracy {best.value:.4f} in trial {best.number}: {best.params}")
    return study


if __name__ == "__main__":
    main()
