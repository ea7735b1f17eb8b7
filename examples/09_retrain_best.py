"""Retrain the best network of a study, save it, load it back and classify new inputs.

During the search every network trains for a few epochs with early stopping; the winner
deserves a longer run. ``train_best`` rebuilds the best trial's network, trains it on the
training plus validation data, reports its accuracy on the held-out test split and saves
``weights.pt`` plus ``config.json`` (parameters, input shape, normalisation). ``load_model``
rebuilds the network from that folder without the study.

Run ``python examples/09_retrain_best.py`` after ``02_mlp_digits.py`` (it reads the study
``example-mlp-digits`` from ``sqlite:///optuna_ga.db``; a missing study is searched first), or
``--smoke`` for a seconds-long run. Needs the torch extra: ``pip install "optuna-ga[torch]"``.
"""

from __future__ import annotations

import argparse
import tempfile

import optuna
import torch
from sklearn.datasets import load_digits

from optuna_ga import GeneticSampler
from optuna_ga.torch import MLPObjective
from optuna_ga.torch import load_config
from optuna_ga.torch import load_model
from optuna_ga.torch import train_best


def main(argv: list[str] | None = None) -> optuna.Study:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--storage", default="sqlite:///optuna_ga.db")
    parser.add_argument("--study-name", default="example-mlp-digits")
    parser.add_argument("--n-trials", type=int, default=40, help="if the study has no trials")
    parser.add_argument("--epochs", type=int, default=60, help="retraining epochs")
    parser.add_argument("--out", default="best_model", help="folder for weights and config")
    parser.add_argument("--smoke", action="store_true", help="a seconds-long in-memory run")
    args = parser.parse_args(argv)
    if args.smoke:
        args.storage, args.n_trials, args.epochs = None, 4, 3
        args.out = tempfile.mkdtemp(prefix="optuna_ga_model_")

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        storage=args.storage,
        study_name=args.study_name,
        load_if_exists=True,
        direction="maximize",
        sampler=GeneticSampler(population_size=12, seed=0),
    )
    if not study.get_trials(states=[optuna.trial.TrialState.COMPLETE]):
        print(f"no finished trials in {args.study_name!r} yet: searching {args.n_trials} first")
        study.optimize(MLPObjective(dataset="digits", epochs=5), n_trials=args.n_trials)

    # 1. Retrain longer and test. Use the dataset the study searched on.
    trained = train_best(study, dataset="digits", epochs=args.epochs, save_to=args.out)
    print(
        f"trial {study.best_trial.number}: validation accuracy {study.best_value:.4f} in the "
        f"search; after {args.epochs} epochs on train+validation, test accuracy "
        f"{trained.test_accuracy:.4f}; saved to {args.out}"
    )

    # 2. Later, in another program: load it and classify raw inputs.
    model = load_model(args.out)
    config = load_config(args.out)
    norm = config["normalization"]
    mean, std = torch.tensor(norm["mean"]), torch.tensor(norm["std"])
    images, labels = load_digits(return_X_y=True)  # raw 8x8 images, pixel values 0..16
    x = torch.tensor(images[:10], dtype=torch.float32).reshape(-1, *config["input_shape"])
    with torch.no_grad():
        predicted = model((x - mean) / std).argmax(dim=1)
    print(f"loaded a {config['architecture']} with {config['params']['n_layers']} hidden layers")
    print(f"predicted {predicted.tolist()}\n   actual {labels[:10].tolist()}")
    return study


if __name__ == "__main__":
    main()
