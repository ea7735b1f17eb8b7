"""The training loop: in-memory tensors, index-sliced batches, early stopping, time cap.

Nothing here knows about Optuna: the objectives pass an ``on_epoch`` callback that reports to
the trial and raises :class:`optuna.TrialPruned`.

Batches are slices of one ``torch.randperm`` per epoch over tensors that already live on the
device, so an epoch costs one gather per batch and no per-sample Python work (compare
``benchmarks/training_loop.py``).
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from optuna_ga.torch._genes import param

__all__ = [
    "OPTIMIZERS",
    "TRAINING_GENES",
    "TrainingDivergedError",
    "TrainingLog",
    "device_for",
    "evaluate",
    "fit",
    "fit_params",
    "make_optimizer",
    "resolve_device",
    "trial_seed",
    "visible_devices",
]

#: Optimiser names. ``sgd`` uses momentum 0.9.
OPTIMIZERS: tuple[str, ...] = ("sgd", "adam", "adamw", "rmsprop", "adagrad", "adamax", "nadam")
#: The training genes of every trial, suggested after the architecture's.
TRAINING_GENES: tuple[str, ...] = ("optimizer", "learning_rate", "weight_decay", "batch_size")


class TrainingDivergedError(RuntimeError):
    """The training loss became NaN or infinite.

    Example:
        >>> from optuna_ga.torch import fit
        >>> from optuna_ga.torch import TrainingDivergedError
        >>> x = torch.full((8, 4), float("nan"))  # stands in for a run whose loss blew up
        >>> try:
        ...     fit(nn.Linear(4, 2), x, torch.zeros(8, dtype=torch.long), optimizer="adam",
        ...         learning_rate=0.01, weight_decay=0.0, batch_size=4, epochs=1, seed=0)
        ... except TrainingDivergedError as error:
        ...     print(error)
        training loss is nan in epoch 1
    """


@dataclass
class TrainingLog:
    """What a run did; filled in while it runs, so it is complete even after an exception.

    Attributes:
        epochs: Epochs started (the last may be partial when the time cap ends it).
        seconds: Wall-clock training time, evaluation included.
        stopped_by: ``"epochs"``, ``"early_stopping"``, ``"time_limit"``, ``"diverged"`` or
            ``"pruned"`` (set by the caller).
        best_epoch: 1-based epoch of the best validation value, or None without validation.
        best_value: Best validation value (accuracy or loss), or None.
        history: Validation value of every epoch.

    Example:
        >>> from torch import nn
        >>> from optuna_ga.torch import load_dataset
        >>> data = load_dataset("digits")
        >>> log = TrainingLog()
        >>> _ = fit(nn.Sequential(nn.Flatten(), nn.Linear(64, 10)), data.x_train, data.y_train,
        ...         optimizer="adam", learning_rate=0.01, weight_decay=0.0, batch_size=64,
        ...         epochs=2, seed=0, x_val=data.x_val, y_val=data.y_val, log=log)
        >>> log.epochs, len(log.history), log.stopped_by
        (2, 2, 'epochs')
    """

    epochs: int = 0
    seconds: float = 0.0
    stopped_by: str = "epochs"
    best_epoch: int | None = None
    best_value: float | None = None
    history: list[float] = field(default_factory=list)


def resolve_device(device: str | torch.device | None) -> torch.device:
    """``None`` or ``"auto"`` picks CUDA when available, else CPU; any other device must work.

    Raises:
        ValueError: If ``device`` is not a device name, or that device cannot hold a tensor
            here (``"cuda"`` without a GPU, ``"cuda:3"`` with fewer GPUs).

    Example:
        >>> resolve_device("cpu")
        device(type='cpu')
        >>> resolve_device("nosuchdev")
        Traceback (most recent call last):
        ...
        ValueError: device must be a name such as 'cpu' or 'cuda:1', got 'nosuchdev'.
    """
    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError):
        raise ValueError(
            f"device must be a name such as 'cpu' or 'cuda:1', got {device!r}."
        ) from None
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} is not available: PyTorch sees no CUDA GPU here.")
    try:
        torch.empty(1, device=resolved)
    except Exception as error:  # any failure to place a tensor there
        reason = " ".join(str(error).split()) or type(error).__name__
        raise ValueError(f"device {device!r} is not usable here: {reason}") from None
    return resolved


def visible_devices() -> list[str]:
    """Every CUDA device PyTorch sees (``cuda:0``, ``cuda:1``...), or ``["cpu"]`` without one.

    ``CUDA_VISIBLE_DEVICES`` decides what PyTorch sees.

    Example:
        >>> from unittest import mock
        >>> with mock.patch("torch.cuda.is_available", return_value=True), \\
        ...         mock.patch("torch.cuda.device_count", return_value=2):
        ...     visible_devices()
        ['cuda:0', 'cuda:1']
    """
    if torch.cuda.is_available():
        count = torch.cuda.device_count()
        if count > 0:
            return [f"cuda:{i}" for i in range(count)]
    return ["cpu"]


def device_for(worker: int, devices: Sequence[str] | str | None = None) -> str:
    """The device of worker ``worker`` (0-based) of several: round robin over ``devices``.

    Give every worker process its own device this way, and each GPU gets
    ``ceil(n_workers / n_devices)`` or one fewer workers.

    Args:
        worker: The worker's number, >= 0.
        devices: Device names (a list, or one comma-separated string such as
            ``"cuda:0,cuda:2"``); a device may be named twice to get twice the workers.
            Default: :func:`visible_devices`.

    Raises:
        ValueError: If ``worker`` is negative, or ``devices`` is empty or names an empty
            device.

    Example:
        >>> [device_for(w, "cuda:0,cuda:2") for w in range(3)]
        ['cuda:0', 'cuda:2', 'cuda:0']
    """
    if isinstance(worker, bool) or not isinstance(worker, int) or worker < 0:
        raise ValueError(f"worker must be an int >= 0, got {worker!r}.")
    if devices is None:
        names = visible_devices()
    else:
        names = (
            [d.strip() for d in devices.split(",")] if isinstance(devices, str) else list(devices)
        )
        if not names or not all(isinstance(d, str) and d.strip() for d in names):
            raise ValueError(
                f"devices must name at least one device, such as 'cpu' or 'cuda:0,cuda:1', "
                f"got {devices!r}."
            )
    return names[worker % len(names)].strip()


def trial_seed(base_seed: int, trial_number: int) -> int:
    """A 31-bit seed for one trial, derived from the study's base seed and the trial number.

    Example:
        >>> trial_seed(0, 3) == trial_seed(0, 3) != trial_seed(0, 4)
        True
    """
    state = np.random.SeedSequence([base_seed, trial_number]).generate_state(1)[0]
    return int(state) & 0x7FFFFFFF


def make_optimizer(
    name: str, params: list[nn.Parameter], learning_rate: float, weight_decay: float
) -> torch.optim.Optimizer:
    """Create one of :data:`OPTIMIZERS`."""
    if name == "sgd":
        return torch.optim.SGD(params, lr=learning_rate, weight_decay=weight_decay, momentum=0.9)
    classes: dict[str, type[torch.optim.Optimizer]] = {
        "adam": torch.optim.Adam,
        "adamw": torch.optim.AdamW,
        "rmsprop": torch.optim.RMSprop,
        "adagrad": torch.optim.Adagrad,
        "adamax": torch.optim.Adamax,
        "nadam": torch.optim.NAdam,
    }
    if name not in classes:
        raise ValueError(f"Unknown optimizer {name!r}; known: {list(OPTIMIZERS)}.")
    return classes[name](params, lr=learning_rate, weight_decay=weight_decay)  # type: ignore[call-arg]


@torch.no_grad()
def evaluate(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, *, batch_size: int = 4096
) -> tuple[float, float]:
    """Accuracy and mean cross-entropy loss of ``model`` on ``(x, y)`` in eval mode.

    Example:
        >>> model = nn.Sequential(nn.Flatten(), nn.Linear(4, 2))
        >>> acc, loss = evaluate(model, torch.zeros(6, 4), torch.zeros(6, dtype=torch.long))
        >>> 0.0 <= acc <= 1.0 and loss > 0
        True
    """
    was_training = model.training
    model.eval()
    correct = torch.zeros((), dtype=torch.int64, device=x.device)
    loss_sum = torch.zeros((), dtype=torch.float64, device=x.device)
    for start in range(0, len(x), batch_size):
        out = model(x[start : start + batch_size])
        target = y[start : start + batch_size]
        loss_sum += F.cross_entropy(out, target, reduction="sum").double()
        correct += (out.argmax(dim=1) == target).sum()
    model.train(was_training)
    n = max(len(x), 1)
    return int(correct) / n, float(loss_sum) / n


def fit(
    model: nn.Module,
    x_train: torch.Tensor,
    y_train: torch.Tensor,
    *,
    optimizer: str,
    learning_rate: float,
    weight_decay: float,
    batch_size: int,
    epochs: int,
    seed: int,
    x_val: torch.Tensor | None = None,
    y_val: torch.Tensor | None = None,
    metric: str = "accuracy",
    patience: int | None = None,
    max_training_time: float | None = None,
    on_epoch: Callable[[int, float], None] | None = None,
    log: TrainingLog | None = None,
    after_epoch: Callable[[int], None] | None = None,
) -> TrainingLog:
    """Train ``model`` in place with index-sliced mini-batches.

    With validation data, the model ends with the weights of its best epoch, early stopping
    ends the run after ``patience`` epochs without improvement, and ``on_epoch(epoch, value)``
    (1-based epoch) is called after every epoch (it may raise to stop the run, e.g.
    :class:`optuna.TrialPruned`).

    Args:
        model: The network, already on the device of the data.
        x_train: Training inputs on the device.
        y_train: Training labels on the device.
        optimizer: One of :data:`OPTIMIZERS`.
        learning_rate: Learning rate.
        weight_decay: Weight decay (L2 penalty).
        batch_size: Mini-batch size; a last batch of one sample is skipped (BatchNorm).
        epochs: Maximum number of epochs.
        seed: Seed of the batch order (a private ``torch.Generator``).
        x_val: Validation inputs, or None to train for ``epochs`` without validation.
        y_val: Validation labels.
        metric: ``"accuracy"`` (higher is better) or ``"loss"`` (lower is better).
        patience: Epochs without improvement before stopping; None never stops early.
        max_training_time: Seconds after which the run stops (checked after every batch).
        on_epoch: Called with the epoch number and the validation value.
        log: A log to fill in; a new one by default.
        after_epoch: Called with the epoch number after every epoch, with or without
            validation data (for progress reports).

    Returns:
        The log.

    Raises:
        TrainingDivergedError: If the training or validation loss is NaN or infinite.

    Example:
        >>> import torch
        >>> from optuna_ga.torch import fit, load_dataset
        >>> data = load_dataset("digits")
        >>> model = nn.Sequential(nn.Flatten(), nn.Linear(64, 10))
        >>> log = fit(model, data.x_train, data.y_train, optimizer="adam", learning_rate=0.01,
        ...           weight_decay=0.0, batch_size=64, epochs=3, seed=0,
        ...           x_val=data.x_val, y_val=data.y_val, patience=2)
        >>> log.epochs, log.best_value > 0.8, len(log.history), log.stopped_by
        (3, True, 3, 'epochs')
    """
    log = log if log is not None else TrainingLog()
    device = x_train.device
    generator = torch.Generator().manual_seed(seed)
    opt = make_optimizer(optimizer, list(model.parameters()), learning_rate, weight_decay)
    n = len(x_train)
    sign = 1.0 if metric == "accuracy" else -1.0
    best_state: dict[str, torch.Tensor] | None = None
    bad_epochs = 0
    start = time.perf_counter()
    try:
        for epoch in range(1, epochs + 1):
            log.epochs = epoch
            model.train()
            order = torch.randperm(n, generator=generator).to(device)
            loss_sum = torch.zeros((), device=device)
            timed_out = False
            for s in range(0, n, batch_size):
                idx = order[s : s + batch_size]
                if len(idx) < 2 and s > 0:
                    break
                loss = F.cross_entropy(model(x_train[idx]), y_train[idx])
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                loss_sum += loss.detach()
                if max_training_time is not None and (
                    time.perf_counter() - start >= max_training_time
                ):
                    timed_out = True
                    break
            if not math.isfinite(float(loss_sum)):
                log.stopped_by = "diverged"
                raise TrainingDivergedError(f"training loss is {float(loss_sum)} in epoch {epoch}")
            if x_val is not None and y_val is not None:
                acc, val_loss = evaluate(model, x_val, y_val)
                if not math.isfinite(val_loss):
                    log.stopped_by = "diverged"
                    raise TrainingDivergedError(f"validation loss is {val_loss} in epoch {epoch}")
                value = acc if metric == "accuracy" else val_loss
                log.history.append(value)
                if log.best_value is None or sign * value > sign * log.best_value:
                    log.best_value, log.best_epoch, bad_epochs = value, epoch, 0
                    best_state = copy.deepcopy(model.state_dict())
                else:
                    bad_epochs += 1
                log.seconds = time.perf_counter() - start
                if on_epoch is not None:
                    on_epoch(epoch, value)
                if after_epoch is not None:
                    after_epoch(epoch)
                if patience is not None and bad_epochs >= patience and epoch < epochs:
                    log.stopped_by = "early_stopping"
                    break
            elif after_epoch is not None:
                after_epoch(epoch)
            if timed_out:
                log.stopped_by = "time_limit"
                break
    finally:
        log.seconds = time.perf_counter() - start
    if best_state is not None:
        model.load_state_dict(best_state)
    return log


def fit_params(
    model: nn.Module,
    x_train: torch.Tensor,
    y_train: torch.Tensor,
    params: Mapping[str, Any],
    **options: Any,
) -> TrainingLog:
    """:func:`fit` with the training genes of a trial's parameters (:data:`TRAINING_GENES`).

    Example:
        >>> from optuna_ga.torch import load_dataset
        >>> data = load_dataset("digits")
        >>> genes = {"optimizer": "adam", "learning_rate": 0.01, "weight_decay": 0.0,
        ...          "batch_size": 64}
        >>> fit_params(nn.Sequential(nn.Flatten(), nn.Linear(64, 10)), data.x_train,
        ...            data.y_train, genes, epochs=1, seed=0).epochs
        1
    """
    genes = {name: param(params, name) for name in TRAINING_GENES}
    return fit(model, x_train, y_train, **genes, **options)
