"""Networks built from stored parameters: the same dict gives the same architecture.

:func:`build_mlp` and :func:`build_cnn` read nothing but the parameter dict (``trial.params``,
a :class:`~optuna.trial.FrozenTrial` or a JSON file's content), so a model is rebuilt for
retraining or inference without the objective that searched it. Parameter names are listed in
:class:`~optuna_ga.torch.MLPObjective` and :class:`~optuna_ga.torch.CNNObjective`.
"""

from __future__ import annotations

import math
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
    "build_cnn",
    "build_mlp",
    "count_params",
    "estimate_macs",
    "max_pooling_blocks",
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


def _as_params(params: ParamsLike) -> Mapping[str, Any]:
    if isinstance(params, FrozenTrial):
        return params.params
    if isinstance(params, Mapping):
        return params
    raise TypeError(
        f"params must be a mapping (e.g. trial.params) or a FrozenTrial, got {type(params)}."
    )


def _activation(name: str) -> nn.Module:
    try:
        return ACTIVATIONS[name]()
    except KeyError:
        raise ValueError(f"Unknown activation {name!r}; known: {sorted(ACTIVATIONS)}.") from None


def _initialize(module: nn.Module, name: str) -> None:
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


def _dense_stack(
    params: Mapping[str, Any], n_in: int, n_layers: int, prefix: str, activation: str, bn: bool
) -> tuple[list[nn.Module], int]:
    layers: list[nn.Module] = []
    for i in range(1, n_layers + 1):
        units = int(param(params, f"units_{prefix}{i}"))
        layers.append(nn.Linear(n_in, units))
        if bn:
            layers.append(nn.BatchNorm1d(units))
        layers.append(_activation(activation))
        dropout = float(param(params, f"dropout_{prefix}{i}"))
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        n_in = units
    return layers, n_in


def build_mlp(params: ParamsLike, input_shape: Sequence[int], n_classes: int) -> nn.Sequential:
    """Build the multilayer perceptron that ``params`` describes (weights freshly initialised).

    Layout: flatten, input dropout, then per hidden layer Linear, optional BatchNorm1d,
    activation and dropout, and a final Linear to ``n_classes`` logits.

    Args:
        params: ``trial.params`` of an :class:`~optuna_ga.torch.MLPObjective` trial, or the
            FrozenTrial itself.
        input_shape: Shape of one sample, e.g. ``(1, 8, 8)`` or ``(64,)``.
        n_classes: Number of output classes.

    Raises:
        ValueError: If a parameter is missing or has an unknown value.

    Example:
        >>> params = {"n_layers": 1, "input_dropout": 0.0, "units_l1": 32, "dropout_l1": 0.1,
        ...           "activation": "relu", "batch_norm": True, "initializer": "lecun_normal"}
        >>> model = build_mlp(params, (1, 8, 8), 10)
        >>> count_params(model)
        2474
    """
    params = _as_params(params)
    n_in = math.prod(input_shape)
    layers: list[nn.Module] = [nn.Flatten()]
    input_dropout = float(param(params, "input_dropout"))
    if input_dropout > 0:
        layers.append(nn.Dropout(input_dropout))
    hidden, n_in = _dense_stack(
        params,
        n_in,
        int(param(params, "n_layers")),
        "l",
        str(param(params, "activation")),
        bool(param(params, "batch_norm")),
    )
    layers += hidden
    layers.append(nn.Linear(n_in, n_classes))
    model = nn.Sequential(*layers)
    _initialize(model, str(param(params, "initializer")))
    return model


def max_pooling_blocks(input_shape: Sequence[int]) -> int:
    """How many 2x2 max-poolings an image of ``input_shape`` (C, H, W) survives (>= 1 pixel).

    Example:
        >>> max_pooling_blocks((1, 8, 8)), max_pooling_blocks((1, 28, 28))
        (3, 4)
    """
    if len(input_shape) != 3:
        raise ValueError(f"input_shape must be (channels, height, width), got {input_shape!r}.")
    return max(0, math.floor(math.log2(min(input_shape[1], input_shape[2]))))


def build_cnn(params: ParamsLike, input_shape: Sequence[int], n_classes: int) -> nn.Sequential:
    """Build the convolutional network that ``params`` describes (weights freshly initialised).

    Layout: per conv block Conv2d (``same`` padding), optional BatchNorm2d, activation, optional
    2x2 max pooling and dropout; then flatten, ``n_dense`` dense layers as in
    :func:`build_mlp`, and a final Linear to ``n_classes`` logits.

    Args:
        params: ``trial.params`` of a :class:`~optuna_ga.torch.CNNObjective` trial, or the
            FrozenTrial itself.
        input_shape: ``(channels, height, width)`` of one image.
        n_classes: Number of output classes.

    Raises:
        ValueError: If a parameter is missing, or pooling would shrink the image below 1x1.

    Example:
        >>> params = {"n_conv": 1, "filters_c1": 8, "kernel_c1": 3, "activation_c1": "relu",
        ...           "batch_norm_c1": False, "pool_c1": True, "dropout_c1": 0.0, "n_dense": 0}
        >>> build_cnn(params, (1, 8, 8), 10)(torch.zeros(2, 1, 8, 8)).shape
        torch.Size([2, 10])
    """
    params = _as_params(params)
    if len(input_shape) != 3:
        raise ValueError(f"input_shape must be (channels, height, width), got {input_shape!r}.")
    channels, height, width = (int(s) for s in input_shape)
    layers: list[nn.Module] = []
    for i in range(1, int(param(params, "n_conv")) + 1):
        filters = int(param(params, f"filters_c{i}"))
        kernel = int(param(params, f"kernel_c{i}"))
        layers.append(nn.Conv2d(channels, filters, kernel, padding=kernel // 2))
        # An even kernel with padding k // 2 grows the image by one pixel.
        height, width = height + 1 - kernel % 2, width + 1 - kernel % 2
        if bool(param(params, f"batch_norm_c{i}")):
            layers.append(nn.BatchNorm2d(filters))
        layers.append(_activation(str(param(params, f"activation_c{i}"))))
        if bool(param(params, f"pool_c{i}")):
            if min(height, width) < 2:
                raise ValueError(
                    f"pool_c{i} would shrink a {height}x{width} image below 1x1; "
                    f"input_shape {tuple(input_shape)} allows at most "
                    f"{max_pooling_blocks(input_shape)} pooling blocks."
                )
            layers.append(nn.MaxPool2d(2))
            height, width = height // 2, width // 2
        dropout = float(param(params, f"dropout_c{i}"))
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        channels = filters
    layers.append(nn.Flatten())
    n_in = channels * height * width
    n_dense = int(param(params, "n_dense"))
    if n_dense > 0:
        dense, n_in = _dense_stack(
            params,
            n_in,
            n_dense,
            "d",
            str(param(params, "dense_activation")),
            bool(param(params, "dense_batch_norm")),
        )
        layers += dense
    layers.append(nn.Linear(n_in, n_classes))
    return nn.Sequential(*layers)


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
