"""Retrain the best trial longer, test it, save it and load it back.

A saved model is a directory with two files:

* ``config.json``: architecture (a registered name: ``"mlp"``, ``"cnn"``, ...), the trial's
  parameters, input shape,
  number of classes, normalisation statistics and metrics (plain JSON);
* ``weights.pt``: the ``state_dict``, loaded with ``torch.load(..., weights_only=True)``.

Both are written to temporary names and renamed into place, so an interrupted save never leaves
a half-written file under the final name.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import optuna
import torch
from optuna.trial import FrozenTrial
from torch import nn

from optuna_ga.torch._data import DataSplits
from optuna_ga.torch._data import load_dataset
from optuna_ga.torch._genes import check_bool
from optuna_ga.torch._genes import check_int
from optuna_ga.torch._objectives import _seeded
from optuna_ga.torch._training import TrainingLog
from optuna_ga.torch._training import evaluate
from optuna_ga.torch._training import fit_params
from optuna_ga.torch._training import resolve_device
from optuna_ga.torch.architectures import Architecture
from optuna_ga.torch.architectures import get_architecture
from optuna_ga.torch.architectures import list_architectures

__all__ = [
    "TrainedModel",
    "architecture_of",
    "load_config",
    "load_model",
    "save_model",
    "train_best",
]

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "weights.pt"
_FORMAT = "optuna_ga.torch.model/1"


@dataclass
class TrainedModel:
    """A retrained network with what it needs to be saved and used.

    Attributes:
        model: The trained network, in eval mode.
        architecture: The name of its architecture (``"mlp"``, ``"cnn"``, ...).
        params: The trial parameters it was built from.
        input_shape: Shape of one sample.
        n_classes: Number of classes.
        mean: Normalisation mean of the training split (see :meth:`DataSplits.normalize`).
        std: Normalisation standard deviation.
        test_accuracy: Accuracy on the held-out test split, or None without one.
        val_accuracy: Validation accuracy, or None when validation data was trained on.
        log: The training log (epochs, seconds, ...).

    Example:
        >>> import optuna
        >>> from optuna_ga.torch import MLPObjective
        >>> study = optuna.create_study(direction="maximize")
        >>> study.optimize(MLPObjective(max_layers=1, units=[32], epochs=1), n_trials=1)
        >>> trained = train_best(study.best_trial, epochs=2)
        >>> trained.architecture, trained.input_shape, trained.log.epochs, trained.val_accuracy
        ('mlp', (1, 8, 8), 2, None)
    """

    model: nn.Module
    architecture: str
    params: dict[str, Any]
    input_shape: tuple[int, ...]
    n_classes: int
    mean: torch.Tensor
    std: torch.Tensor
    test_accuracy: float | None
    val_accuracy: float | None
    log: TrainingLog

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Save to directory ``path`` (see :func:`save_model`); returns it."""
        return save_model(
            path,
            self.model,
            architecture=self.architecture,
            params=self.params,
            input_shape=self.input_shape,
            n_classes=self.n_classes,
            mean=self.mean,
            std=self.std,
            metrics={
                "test_accuracy": self.test_accuracy,
                "val_accuracy": self.val_accuracy,
                "epochs": self.log.epochs,
                "train_seconds": round(self.log.seconds, 4),
            },
        )


def architecture_of(params: Mapping[str, Any], trial: FrozenTrial | None = None) -> Architecture:
    """The architecture of a trial's (or a params dict's) network.

    The name the objective recorded in the trial (user attr ``architecture``) decides; for
    parameters without it (a bare dict, or a study made before the name was recorded) the
    architecture whose marker gene (``n_layers`` for ``"mlp"``, ``n_conv`` for ``"cnn"``, ...)
    the parameters hold.

    Raises:
        ValueError: If the recorded architecture is not registered in this process, or the
            parameters hold no architecture's marker.

    Example:
        >>> architecture_of({"n_conv": 1, "filters_c1": 8}).name
        'cnn'
    """
    recorded = None if trial is None else trial.user_attrs.get("architecture")
    if isinstance(recorded, str):
        return get_architecture(recorded)
    markers = {}
    for name in list_architectures():
        marker = get_architecture(name).marker
        if marker is not None:
            markers[marker] = name
            if marker in params:
                return get_architecture(name)
    raise ValueError(
        "Cannot tell the architecture from params: expected one of the genes "
        + ", ".join(f"{m!r} ({n})" for m, n in markers.items())
        + "; pass architecture=..."
    )


def train_best(
    source: optuna.Study | FrozenTrial | Mapping[str, Any],
    *,
    architecture: str | Architecture | None = None,
    dataset: str | DataSplits | tuple[Any, Any] | torch.utils.data.Dataset[Any] = "digits",
    data_dir: str | os.PathLike[str] | None = None,
    download: bool = False,
    epochs: int = 50,
    include_validation: bool = True,
    patience: int | None = None,
    max_training_time: float | None = None,
    seed: int | None = None,
    device: str | torch.device | None = None,
    num_threads: int | None = 1,
    save_to: str | os.PathLike[str] | None = None,
    after_epoch: Callable[[int], None] | None = None,
) -> TrainedModel:
    """Retrain the best trial's network (or any trial's or params dict's) and test it.

    Args:
        source: A study (its best trial is used), a FrozenTrial, or a ``trial.params`` dict of
            an :class:`~optuna_ga.torch.Objective`.
        architecture: The network's architecture; default: the one the trial recorded, or
            the one whose genes the parameters hold (see :func:`architecture_of`).
        dataset: What :func:`~optuna_ga.torch.load_dataset` should load, or ready splits;
            use the dataset the study searched on.
        data_dir: Passed to :func:`~optuna_ga.torch.load_dataset`.
        download: Passed to :func:`~optuna_ga.torch.load_dataset`.
        epochs: Training epochs, >= 1 (usually more than during the search).
        include_validation: Train on training plus validation data for exactly ``epochs``
            epochs. If False, train on the training split, keep the weights of the best
            validation epoch and stop early after ``patience`` epochs without improvement.
        patience: See ``include_validation``.
        max_training_time: Seconds of training at most; None for no cap.
        seed: Training seed; default: the trial's recorded ``seed`` user attr, else 0. With the
            trial's seed, ``include_validation=False`` and the search's epochs, the trial's
            run is reproduced.
        device: As for the objectives; None picks CUDA when available.
        num_threads: ``torch.set_num_threads`` on CPU; None leaves it alone.
        save_to: If given, save the model to this directory (see :func:`save_model`).
        after_epoch: Called with the epoch number after every training epoch (progress).

    Returns:
        The trained model with its test accuracy.

    Raises:
        ValueError: If the architecture is unknown, or an argument is out of range.
        TrainingDivergedError: If the loss becomes NaN or infinite.

    Example:
        >>> params = {"n_layers": 1, "input_dropout": 0.0, "units_l1": 64, "dropout_l1": 0.0,
        ...           "activation": "relu", "batch_norm": False, "initializer": "xavier_uniform",
        ...           "optimizer": "adam", "learning_rate": 0.01, "weight_decay": 1e-5,
        ...           "batch_size": 64}
        >>> best = train_best(params, epochs=3)
        >>> best.test_accuracy > 0.8
        True
    """
    check_int("epochs", epochs, 1)
    check_bool("download", download)
    check_bool("include_validation", include_validation)
    if seed is not None:
        check_int("seed", seed, 0)
    if num_threads is not None:
        check_int("num_threads", num_threads, 1)
    trial: FrozenTrial | None = None
    if isinstance(source, optuna.Study):
        trial = source.best_trial
    elif isinstance(source, FrozenTrial):
        trial = source
    if trial is not None:
        params = dict(trial.params)
    elif isinstance(source, Mapping):
        params = dict(source)
    else:
        raise ValueError(
            f"source must be a Study, a FrozenTrial or a params dict, got {type(source)}."
        )
    spec = (
        architecture_of(params, trial) if architecture is None else get_architecture(architecture)
    )
    if seed is None:
        seed = int(trial.user_attrs.get("seed", 0)) if trial is not None else 0

    data = (
        dataset
        if isinstance(dataset, DataSplits)
        else load_dataset(dataset, data_dir=data_dir, download=download)
    )
    dev = resolve_device(device)
    if dev.type == "cpu" and num_threads is not None:
        torch.set_num_threads(num_threads)
    on_device = data.to(dev)
    if include_validation:
        x = torch.cat([on_device.x_train, on_device.x_val])
        y = torch.cat([on_device.y_train, on_device.y_val])
        x_val = y_val = None
    else:
        x, y, x_val, y_val = on_device.x_train, on_device.y_train, on_device.x_val, on_device.y_val

    with _seeded(seed, dev):
        model = spec.build(params, data.input_shape, data.n_classes).to(dev)
        patience = None if include_validation else patience
        limits = {"patience": patience, "max_training_time": max_training_time, "seed": seed}
        log = fit_params(
            model,
            x,
            y,
            params,
            x_val=x_val,
            y_val=y_val,
            epochs=epochs,
            after_epoch=after_epoch,
            **limits,
        )
    model.eval()
    test_accuracy = None
    if on_device.x_test is not None and on_device.y_test is not None:
        test_accuracy = evaluate(model, on_device.x_test, on_device.y_test)[0]
    val_accuracy = None if include_validation else evaluate(model, x_val, y_val)[0]  # type: ignore[arg-type]
    trained = TrainedModel(
        model=model,
        architecture=spec.name,
        params=params,
        input_shape=data.input_shape,
        n_classes=data.n_classes,
        mean=data.mean,
        std=data.std,
        test_accuracy=test_accuracy,
        val_accuracy=val_accuracy,
        log=log,
    )
    if save_to is not None:
        trained.save(save_to)
    return trained


def _atomic_write(path: Path, write: Any) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_model(
    path: str | os.PathLike[str],
    model: nn.Module,
    *,
    architecture: str,
    params: Mapping[str, Any],
    input_shape: Sequence[int],
    n_classes: int,
    mean: torch.Tensor | None = None,
    std: torch.Tensor | None = None,
    metrics: Mapping[str, Any] | None = None,
) -> Path:
    """Save a network's weights and JSON config into directory ``path`` (created if needed).

    Args:
        path: Target directory.
        model: A network built by the architecture's ``build`` from ``params``.
        architecture: A registered architecture's name (``"mlp"``, ``"cnn"``, ...).
        params: The parameters the network was built from (JSON values).
        input_shape: Shape of one sample.
        n_classes: Number of classes.
        mean: Normalisation mean, stored so that raw inputs can be normalised later.
        std: Normalisation standard deviation.
        metrics: Anything JSON to keep alongside (accuracies, epochs).

    Returns:
        The directory.

    Example:
        >>> import tempfile
        >>> from optuna_ga.torch import build_mlp, load_config, save_model
        >>> params = {"n_layers": 1, "input_dropout": 0.0, "units_l1": 8, "dropout_l1": 0.0,
        ...           "activation": "relu", "batch_norm": False, "initializer": "xavier_uniform"}
        >>> with tempfile.TemporaryDirectory() as d:
        ...     _ = save_model(d, build_mlp(params, (4,), 3), architecture="mlp", params=params,
        ...                    input_shape=(4,), n_classes=3, metrics={"test_accuracy": 0.9})
        ...     config = load_config(d)
        >>> config["architecture"], config["input_shape"], config["metrics"]
        ('mlp', [4], {'test_accuracy': 0.9})
    """
    architecture = get_architecture(architecture).name
    directory = Path(path)
    directory.mkdir(parents=True, exist_ok=True)
    config = {
        "format": _FORMAT,
        "architecture": architecture,
        "params": dict(params),
        "input_shape": [int(s) for s in input_shape],
        "n_classes": int(n_classes),
        "normalization": None
        if mean is None or std is None
        else {"mean": mean.cpu().tolist(), "std": std.cpu().tolist()},
        "metrics": dict(metrics or {}),
        "torch_version": torch.__version__,
    }
    text = json.dumps(config, indent=2, sort_keys=True)
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    _atomic_write(directory / WEIGHTS_FILE, lambda tmp: torch.save(state, tmp))
    _atomic_write(directory / CONFIG_FILE, lambda tmp: Path(tmp).write_text(text + "\n"))
    return directory


def load_config(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read the JSON config of a model saved by :func:`save_model`.

    Example:
        >>> import tempfile
        >>> from optuna_ga.torch import build_mlp
        >>> params = {"n_layers": 1, "input_dropout": 0.0, "units_l1": 8, "dropout_l1": 0.0,
        ...           "activation": "relu", "batch_norm": False, "initializer": "xavier_uniform"}
        >>> with tempfile.TemporaryDirectory() as d:
        ...     _ = save_model(d, build_mlp(params, (4,), 3), architecture="mlp", params=params,
        ...                    input_shape=(4,), n_classes=3)
        ...     config = load_config(d)
        >>> config["architecture"], config["params"] == params
        ('mlp', True)
    """
    config_path = Path(path) / CONFIG_FILE
    try:
        config: dict[str, Any] = json.loads(config_path.read_text())
    except FileNotFoundError:
        raise FileNotFoundError(f"No saved model at {path}: {config_path} is missing.") from None
    except json.JSONDecodeError as error:
        raise ValueError(f"{config_path} is corrupt (not JSON: {error}).") from None
    if not isinstance(config, dict) or config.get("format") != _FORMAT:
        raise ValueError(f"{config_path} is not a model saved by optuna_ga.torch.")
    return config


def load_model(path: str | os.PathLike[str], *, device: str | torch.device = "cpu") -> nn.Module:
    """Rebuild a saved network and load its weights (``weights_only=True``); eval mode.

    Example:
        >>> import tempfile
        >>> from optuna_ga.torch import build_mlp
        >>> params = {"n_layers": 1, "input_dropout": 0.0, "units_l1": 8, "dropout_l1": 0.0,
        ...           "activation": "tanh", "batch_norm": False, "initializer": "xavier_normal"}
        >>> model = build_mlp(params, (4,), 3)
        >>> with tempfile.TemporaryDirectory() as d:
        ...     _ = save_model(d, model, architecture="mlp", params=params, input_shape=(4,),
        ...                    n_classes=3)
        ...     loaded = load_model(d)
        >>> x = torch.randn(5, 4)
        >>> torch.equal(model(x), loaded(x))
        True
    """
    config = load_config(path)
    model = get_architecture(config["architecture"]).build(
        config["params"], tuple(config["input_shape"]), int(config["n_classes"])
    )
    weights = Path(path) / WEIGHTS_FILE
    try:
        state = torch.load(weights, map_location=device, weights_only=True)
        model.load_state_dict(state)
    except FileNotFoundError:
        raise FileNotFoundError(f"No weights at {weights}.") from None
    except Exception as error:  # torch raises many kinds on a damaged file
        first = (str(error).strip() or type(error).__name__).splitlines()[0]
        raise ValueError(f"{weights} is corrupt or does not fit its config: {first}") from None
    return model.to(device).eval()
