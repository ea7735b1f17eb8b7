"""Building blocks the architectures share, and measures of any network.

The architectures themselves live in :mod:`optuna_ga.torch.architectures`, one module each.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any

import torch
from optuna.trial import FrozenTrial
from torch import nn

from optuna_ga.torch._genes import param

__all__ = [
    "ACTIVATIONS",
    "INITIALIZERS",
    "ParamsLike",
    "as_params",
    "count_params",
    "dense_stack",
    "estimate_macs",
    "image_shape",
    "initialize",
    "make_activation",
]

#: Activation names and their modules.
ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "elu": nn.ELU,
    "leaky_relu": nn.LeakyReLU,
    "gelu": nn.GELU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
}

#: Weight initialiser names. LeCun initialisation is Kaiming's with gain 1 (``"linear"``).
INITIALIZERS: tuple[str, ...] = (
    "xavier_uniform",
    "xavier_normal",
    "kaiming_uniform",
    "kaiming_normal",
    "lecun_uniform",
    "lecun_normal",
)

ParamsLike = Mapping[str, Any] | FrozenTrial


def as_params(params: ParamsLike) -> Mapping[str, Any]:
    """``trial.params`` of a FrozenTrial, or the mapping itself."""
    if isinstance(params, FrozenTrial):
        return params.params
    if isinstance(params, Mapping):
        return params
    raise TypeError(
        f"params must be a mapping (e.g. trial.params) or a FrozenTrial, got {type(params)}."
    )


def make_activation(name: str) -> nn.Module:
    """A new module of one of :data:`ACTIVATIONS`."""
    try:
        return ACTIVATIONS[name]()
    except KeyError:
        raise ValueError(f"Unknown activation {name!r}; known: {sorted(ACTIVATIONS)}.") from None


def initialize(module: nn.Module, name: str) -> None:
    """Initialise the weights of every Linear layer in ``module``; biases become zero."""
    if name not in INITIALIZERS:
        raise ValueError(f"Unknown initializer {name!r}; known: {list(INITIALIZERS)}.")
    for layer in module.modules():
        if not isinstance(layer, nn.Linear):
            continue
        w = layer.weight
        if name == "xavier_uniform":
            nn.init.xavier_uniform_(w)
        elif name == "xavier_normal":
            nn.init.xavier_normal_(w)
        elif name == "kaiming_uniform":
            nn.init.kaiming_uniform_(w, nonlinearity="relu")
        elif name == "kaiming_normal":
            nn.init.kaiming_normal_(w, nonlinearity="relu")
        elif name == "lecun_uniform":
            nn.init.kaiming_uniform_(w, nonlinearity="linear")
        else:
            nn.init.kaiming_normal_(w, nonlinearity="linear")
        if layer.bias is not None:
            nn.init.zeros_(layer.bias)


def dense_stack(
    params: Mapping[str, Any], n_in: int, n_layers: int, prefix: str, activation: str, bn: bool
) -> tuple[list[nn.Module], int]:
    """Hidden dense layers ``units_{prefix}{i}``/``dropout_{prefix}{i}``; and the width out."""
    layers: list[nn.Module] = []
    for i in range(1, n_layers + 1):
        units = int(param(params, f"units_{prefix}{i}"))
        layers.append(nn.Linear(n_in, units))
        if bn:
            layers.append(nn.BatchNorm1d(units))
        layers.append(make_activation(activation))
        dropout = float(param(params, f"dropout_{prefix}{i}"))
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        n_in = units
    return layers, n_in


def image_shape(input_shape: Sequence[int]) -> tuple[int, int, int]:
    """``(channels, height, width)`` of image samples, or a ValueError for other data.

    Example:
        >>> image_shape((64,))
        Traceback (most recent call last):
        ...
        ValueError: dataset samples must be images (channels, height, width), got shape (64,).
    """
    if len(input_shape) != 3:
        raise ValueError(
            "dataset samples must be images (channels, height, width), got shape "
            f"{tuple(input_shape)}."
        )
    channels, height, width = (int(s) for s in input_shape)
    return channels, height, width


def count_params(model: nn.Module) -> int:
    """Number of trainable parameters.

    Example:
        >>> from torch import nn
        >>> from optuna_ga.torch import count_params
        >>> count_params(nn.Linear(64, 10))
        650
    """
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def estimate_macs(model: nn.Module, input_shape: Sequence[int]) -> int:
    """Multiply-accumulates of the Linear and Conv layers for one sample (a FLOPs estimate).

    Example:
        >>> estimate_macs(nn.Sequential(nn.Flatten(), nn.Linear(64, 10)), (1, 8, 8))
        640
    """
    total = 0

    def hook(module: nn.Module, inputs: tuple[torch.Tensor, ...], output: torch.Tensor) -> None:
        nonlocal total
        if isinstance(module, nn.Linear):
            total += module.in_features * module.out_features
        elif isinstance(module, nn.Conv2d):
            k = math.prod(module.kernel_size) * module.in_channels // module.groups
            total += output[0].numel() * k

    handles = [
        m.register_forward_hook(hook)
        for m in model.modules()
        if isinstance(m, (nn.Linear, nn.Conv2d))
    ]
    was_training = model.training
    try:
        model.eval()
        device = next(model.parameters()).device
        with torch.no_grad():
            model(torch.zeros(1, *input_shape, device=device))
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    return total


def measure_latency(model: nn.Module, inputs: torch.Tensor, *, repeats: int = 5) -> float:
    """Inference latency in milliseconds per sample: the median of timed batched passes.

    The model runs in eval mode without gradients on ``inputs`` (a batch on the model's
    device), once to warm up and then ``repeats`` times; on CUDA each pass is synchronised.
    A wall-clock figure: it varies with the machine and its load.

    Example:
        >>> import torch
        >>> latency = measure_latency(nn.Linear(64, 10), torch.zeros(32, 64))
        >>> latency > 0.0
        True
    """
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats!r}.")
    if len(inputs) == 0:
        raise ValueError("inputs must hold at least one sample.")
    cuda = inputs.device.type == "cuda"
    times = []
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            for i in range(repeats + 1):
                start = time.perf_counter()
                model(inputs)
                if cuda:
                    torch.cuda.synchronize(inputs.device)
                if i:  # the first pass warms up
                    times.append(time.perf_counter() - start)
    finally:
        model.train(was_training)
    return 1000.0 * statistics.median(times) / len(inputs)
