"""``optuna-ga train-best``: retrain a study's best network longer, test it and save it."""

from __future__ import annotations

import argparse

from optuna_ga.cli._common import CLIError
from optuna_ga.cli._common import flag_names
from optuna_ga.cli._common import load_study
from optuna_ga.cli._common import number
from optuna_ga.cli._common import recorded_config
from optuna_ga.cli._common import say
from optuna_ga.cli._common import storage_arguments
from optuna_ga.cli._common import torch_missing
from optuna_ga.cli._progress import best_or_none

FLAGS = {"num_threads": "--threads", "data_dir": "--data-dir", "download=True": "--download"}
WORDS = {"epochs": "--epochs", "device": "--device", "dataset": "--dataset"}


def add_arguments(train: argparse.ArgumentParser) -> None:
    storage_arguments(train)
    train.add_argument("--dataset", help="dataset (default: the one the study ran on)")
    train.add_argument(
        "--data-dir", help="folder of the torchvision datasets (default: the study's)"
    )
    train.add_argument(
        "--download", action="store_true", help="download a missing dataset (default: off)"
    )
    train.add_argument(
        "--epochs", type=number(integer=True, minimum=1), default=50, help="training epochs"
    )
    train.add_argument(
        "--device", help="cpu, cuda, cuda:1, ... (default: cuda if available, else cpu)"
    )
    train.add_argument(
        "--threads", type=number(integer=True, minimum=1), default=1, help="torch threads"
    )
    train.add_argument("--out", default="best_model", help="folder for the weights and config")


def cmd_train_best(args: argparse.Namespace) -> int:
    missing = torch_missing()
    if missing is not None:
        raise missing
    study = load_study(args.storage, args.study_name)
    best = best_or_none(study)
    if best is None:
        raise CLIError(f"study {study.study_name!r} has no completed trial yet")
    recorded = recorded_config(study)
    from optuna_ga.torch import list_architectures
    from optuna_ga.torch import train_best

    if best.user_attrs.get("architecture") not in list_architectures():
        raise CLIError(
            f"study {study.study_name!r} is not a network study of optuna-ga (its best trial "
            f"#{best.number} records none of the architectures {', '.join(list_architectures())}"
            " in its 'architecture' user attr): train-best retrains the networks of "
            "`optuna-ga run` and optuna_ga.torch.Objective"
        )

    dataset = args.dataset or recorded.get("dataset", "digits")
    try:
        result = train_best(
            study,
            dataset=dataset,
            data_dir=args.data_dir or recorded.get("data_dir"),
            download=args.download,
            epochs=args.epochs,
            device=args.device,
            num_threads=args.threads,
            save_to=args.out,
        )
    except (ValueError, FileNotFoundError) as error:
        raise CLIError(flag_names(str(error), FLAGS, WORDS)) from None
    say(
        f"retrained trial #{best.number} for {args.epochs} epochs on {dataset}: "
        f"test accuracy {result.test_accuracy:.4f}; saved to {args.out}"
    )
    return 0
