"""Watch a GA study live in optuna-dashboard: generation plot, allele frequencies, genealogy.

Run ``python examples/08_dashboard.py`` (or ``--smoke`` for a seconds-long run), then open the
dashboard with the command it prints; the study's top page shows the three GA panels and the
study note holds a per-generation summary table. They are refreshed every time a generation
completes and, in between, at most every 10 seconds, so you can open the dashboard while the
study runs; ``optuna-ga dashboard --storage URL`` also keeps them current by itself.

Needs ``pip install "optuna-ga[dashboard]"``.
"""

from __future__ import annotations

import argparse
import math
import tempfile

import optuna

from optuna_ga import GeneticSampler
from optuna_ga.dashboard import GenerationPublisher


def objective(trial: optuna.Trial) -> float:
    """A stand-in for a network's validation error; Adam and ReLU are the genes to find."""
    optimizer = trial.suggest_categorical("optimizer", ["sgd", "adam", "rmsprop", "adagrad"])
    activation = trial.suggest_categorical("activation", ["relu", "tanh", "sigmoid"])
    n_layers = trial.suggest_int("n_layers", 1, 4)
    units = trial.suggest_int("units", 8, 512, log=True)
    lr = trial.suggest_float("lr", 1e-5, 1e-1, log=True)
    if lr > 0.05 and optimizer == "sgd":
        raise optuna.TrialPruned()  # "diverged": shown as a grey cross in the genealogy
    error = {"sgd": 0.12, "adam": 0.0, "rmsprop": 0.03, "adagrad": 0.08}[optimizer]
    error += {"relu": 0.0, "tanh": 0.04, "sigmoid": 0.1}[activation]
    error += 0.02 * abs(n_layers - 3) + 0.03 * abs(math.log2(units) - 7) / 3
    error += 0.05 * abs(math.log10(lr) + 3)
    return 0.05 + error


def main(argv: list[str] | None = None) -> optuna.Study:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--storage", default="sqlite:///optuna_ga_dashboard.db")
    parser.add_argument("--study-name", default="ga-dashboard")
    parser.add_argument("--n-trials", type=int, default=300)
    parser.add_argument("--population-size", type=int, default=20)
    parser.add_argument("--n-elites", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--smoke", action="store_true", help="a seconds-long run in a temp dir")
    args = parser.parse_args(argv)
    if args.smoke:
        args.storage = f"sqlite:///{tempfile.mkdtemp(prefix='optuna_ga_')}/smoke.db"
        args.n_trials, args.population_size = 30, 10

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        storage=args.storage,
        study_name=args.study_name,
        load_if_exists=True,
        sampler=GeneticSampler(
            population_size=args.population_size, n_elites=args.n_elites, seed=args.seed
        ),
    )
    publisher = GenerationPublisher()  # population size and elites come from the sampler
    study.optimize(objective, n_trials=args.n_trials, callbacks=[publisher])
    publisher.flush()  # the last trials, held back by the 10 s interval: publish them now
    best = study.best_trial
    seconds = sorted(publisher.seconds)
    median = seconds[len(seconds) // 2] if seconds else float("nan")
    print(
        f"best value {best.value:.4f} in trial {best.number} "
        f"(generation {best.user_attrs.get('ga_generation')}): {best.params}\n"
        f"published the panels {len(seconds)} times ({len(publisher.published)} completed "
        f"generations), median {median * 1000:.0f} ms each\n"
        f"open the dashboard:  optuna-dashboard {args.storage}\n"
        f"then the study '{study.study_name}' (panels on its top page, summary in its note)"
    )
    return study


if __name__ == "__main__":
    main()
