"""``optuna-ga train-best``: retrain a study's best network (or a chosen trial's) longer, test
it and save it."""

from __future__ import annotations

import argparse
import sys
import time

import optuna
from optuna.trial import FrozenTrial
from optuna.trial import TrialState

from optuna_ga.cli import Interrupted
from optuna_ga.cli._best import pareto_front
from optuna_ga.cli._common import CLIError
from optuna_ga.cli._common import count
from optuna_ga.cli._common import flag_names
from optuna_ga.cli._common import load_study
from optuna_ga.cli._common import number
from optuna_ga.cli._common import recorded_setting
from optuna_ga.cli._common import say
from optuna_ga.cli._common import storage_arguments
from optuna_ga.cli._common import torch_missing
from optuna_ga.cli._config import add_option
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
        "--threads",
        type=number(integer=True, minimum=1, maximum=256),
        default=1,
        help="torch threads",
    )
    train.add_argument(
        "--trial",
        type=number(integer=True, minimum=0),
        metavar="N",
        help="the trial to retrain, a completed one (default: the best; a multi-objective "
        "study has no single best: pick one of its Pareto front, see optuna-ga best)",
    )
    train.add_argument("--out", default="best_model", help="folder for the weights and config")
    add_option(train, "progress_interval")


class _EpochProgress:
    """After each epoch: a live line on a terminal, else a line every ``interval`` seconds."""

    def __init__(self, *, epochs: int, tty: bool, interval: float) -> None:
        self.epochs = epochs
        self.done = 0
        self._tty = tty
        self._interval = interval
        self._started = self._last = time.monotonic()

    def __call__(self, epoch: int) -> None:
        self.done = epoch
        now = time.monotonic()
        minutes, seconds = divmod(int(now - self._started), 60)
        text = f"epoch {epoch} of {self.epochs} done [{minutes}:{seconds:02d}]"
        if self._tty:
            say(f"\r\033[K{text}", end="")
        elif self._interval > 0 and now - self._last >= self._interval:
            say(text)
            self._last = now

    def close(self) -> None:
        if self._tty and self.done:
            say("\r\033[K", end="")


def _said(state: TrialState) -> str:
    return "failed" if state == TrialState.FAIL else state.name.lower()


def chosen_trial(study: optuna.Study, number: int | None) -> FrozenTrial:
    """Trial ``number`` of the study if it completed; by default the best one.

    Raises:
        CLIError: If that trial is missing or did not complete, if no trial completed, or if
            the study has several objectives and no ``number`` says which trial of its front.
    """
    if number is not None:
        trials = study.get_trials(deepcopy=False)
        if number >= len(trials):
            raise CLIError(
                f"--trial {number}: study {study.study_name!r} has trials 0 to "
                f"{len(trials) - 1} only"
                if trials
                else f"--trial {number}: study {study.study_name!r} has no trial yet"
            )
        if trials[number].state != TrialState.COMPLETE:
            raise CLIError(
                f"--trial {number}: trial #{number} of study {study.study_name!r} is "
                f"{_said(trials[number].state)}, not complete: only a completed trial "
                "can be retrained"
            )
        return trials[number]
    if len(study.directions) > 1:
        front = ", ".join(str(t.number) for t in pareto_front(study))
        raise CLIError(
            f"study {study.study_name!r} has several objectives, hence no single best trial: "
            f"choose one of its Pareto front ({front}) with --trial N"
        )
    best = best_or_none(study)
    if best is None:
        raise CLIError(f"study {study.study_name!r} has no completed trial yet")
    return best


def cmd_train_best(args: argparse.Namespace) -> int:
    missing = torch_missing()
    if missing is not None:
        raise missing
    study = load_study(args.storage, args.study_name)
    best = chosen_trial(study, args.trial)
    from optuna_ga.torch import DATASETS
    from optuna_ga.torch import list_architectures
    from optuna_ga.torch import train_best
    from optuna_ga.torch._training import resolve_device

    if best.user_attrs.get("architecture") not in list_architectures():
        which = "best trial" if args.trial is None else "trial"
        raise CLIError(
            f"study {study.study_name!r} is not a network study of optuna-ga (its {which} "
            f"#{best.number} records none of the architectures {', '.join(list_architectures())}"
            " in its 'architecture' user attr): train-best retrains the networks of "
            "`optuna-ga run` and optuna_ga.torch.Objective"
        )

    dataset = args.dataset or recorded_setting(study, "dataset", flag="--dataset") or "digits"
    if dataset.lower() not in DATASETS:
        raise CLIError(f"--dataset must be one of {', '.join(DATASETS)}, got {dataset!r}")
    data_dir = args.data_dir or recorded_setting(study, "data_dir", flag="--data-dir")
    progress = _EpochProgress(
        epochs=args.epochs, tty=sys.stdout.isatty(), interval=args.progress_interval
    )
    try:
        device = resolve_device(args.device)
        say(
            f"retraining trial #{best.number} of study {study.study_name!r} "
            f"({best.user_attrs['architecture']}) on {dataset} for "
            f"{count(args.epochs, 'epoch')} on {device}; Ctrl-C stops it, saving nothing"
        )
        result = train_best(
            best,
            dataset=dataset,
            data_dir=data_dir,
            download=args.download,
            epochs=args.epochs,
            device=device,
            num_threads=args.threads,
            save_to=args.out,
            after_epoch=progress,
        )
    except (ValueError, FileNotFoundError) as error:
        raise CLIError(flag_names(str(error), FLAGS, WORDS)) from None
    except KeyboardInterrupt:
        progress.close()
        where = (
            f"in epoch {progress.done + 1} of {args.epochs}: nothing saved to {args.out}"
            if progress.done < args.epochs
            else f"while testing and saving to {args.out}"
        )
        raise Interrupted(f"optuna-ga: train-best interrupted {where}") from None
    progress.close()
    say(
        f"retrained trial #{best.number} for {count(args.epochs, 'epoch')} on {dataset}: "
        f"test accuracy {result.test_accuracy:.4f}; saved to {args.out}"
    )
    return 0
