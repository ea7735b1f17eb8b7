"""Convolutional network: conv blocks, then dense layers (``"cnn"``).

Genes, in suggestion order: ``n_conv``, then per conv block ``i``: ``filters_c{i}``,
``kernel_c{i}``, ``activation_c{i}``, ``batch_norm_c{i}``, ``pool_c{i}``, ``dropout_c{i}``;
then ``n_dense`` and per dense layer ``j``: ``units_d{j}``, ``dropout_d{j}``;
``dense_activation`` and ``dense_batch_norm`` (only when ``n_dense > 0``).

The number of conv blocks is capped so that 2x2 pooling in every block still leaves at least
one pixel (3 blocks for 8x8 digits, 4 for 28x28 MNIST, 5 for 32x32 CIFAR-10).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from optuna.trial import BaseTrial
from torch import nn

from optuna_ga.torch._genes import MAX_UNITS
from optuna_ga.torch._genes import FloatSpec
from optuna_ga.torch._genes import Gene
from optuna_ga.torch._genes import IntSpec
from optuna_ga.torch._genes import choice_gene
from optuna_ga.torch._genes import count_range
from optuna_ga.torch._genes import float_gene
from optuna_ga.torch._genes import int_gene
from optuna_ga.torch._genes import param
from optuna_ga.torch._models import ACTIVATIONS
from optuna_ga.torch._models import ParamsLike
from optuna_ga.torch._models import as_params
from optuna_ga.torch._models import dense_stack
from optuna_ga.torch._models import image_shape
from optuna_ga.torch._models import make_activation
from optuna_ga.torch.architectures._registry import genes_by_suffix
from optuna_ga.torch.architectures._registry import register_architecture

__all__ = ["CNNGenes", "build_cnn", "max_pooling_blocks"]


def max_pooling_blocks(input_shape: Sequence[int]) -> int:
    """How many 2x2 max-poolings an image of ``input_shape`` (C, H, W) survives (>= 1 pixel).

    Example:
        >>> max_pooling_blocks((1, 8, 8)), max_pooling_blocks((1, 28, 28))
        (3, 4)
    """
    _, height, width = image_shape(input_shape)
    return max(0, math.floor(math.log2(min(height, width))))


class CNNGenes:
    """The search space of a CNN; ``CNNGenes(input_shape, ...)(trial)`` suggests one network.

    Args:
        input_shape: ``(channels, height, width)`` of one image.
        min_conv_blocks: Fewest conv blocks, in ``[1, 16]``.
        max_conv_blocks: Most conv blocks, in ``[min_conv_blocks, 16]``; lowered to what the
            image size allows.
        filters: Filters per conv block, in ``[1, 4096]``; a range is on a log scale.
        kernel_sizes: Odd kernel sizes among 1, 3, 5, 7.
        activations: Activations of conv blocks and of dense layers (as for ``"mlp"``).
        batch_norm: ``False``, ``True`` or both, for conv blocks and dense layers.
        pooling: Whether a block max-pools: ``False``, ``True`` or both.
        conv_dropout: Dropout after each conv block, in ``[0, 0.95]``.
        min_dense_layers: Fewest dense hidden layers, in ``[0, 16]``.
        max_dense_layers: Most dense hidden layers, in ``[min_dense_layers, 16]``.
        units: Units per dense layer, as for ``"mlp"``.
        dropout: Dropout after each dense layer, in ``[0, 0.95]``.

    Raises:
        ValueError: If an argument is out of range, or the samples are not images.

    Example:
        >>> import optuna
        >>> suggest = CNNGenes((1, 8, 8), max_conv_blocks=6, max_dense_layers=0)
        >>> study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
        >>> study.trials, max(suggest(study.ask())["n_conv"] for _ in range(20))  # 8x8: <= 3
        ([], 3)
        >>> CNNGenes((1, 8, 8), min_conv_blocks=4)
        Traceback (most recent call last):
        ...
        ValueError: min_conv_blocks must be <= 3 for 8x8 images (each block may halve them), got 4.
    """

    def __init__(
        self,
        input_shape: Sequence[int],
        *,
        min_conv_blocks: int = 1,
        max_conv_blocks: int = 6,
        filters: IntSpec = (8, 128),
        kernel_sizes: IntSpec = [3, 5],  # noqa: B006 - read only
        activations: Sequence[str] | str = tuple(ACTIVATIONS),
        batch_norm: Sequence[bool] | bool = (False, True),
        pooling: Sequence[bool] | bool = (False, True),
        conv_dropout: FloatSpec = (0.0, 0.5),
        min_dense_layers: int = 0,
        max_dense_layers: int = 3,
        units: IntSpec = (16, 1024),
        dropout: FloatSpec = (0.0, 0.5),
    ) -> None:
        min_conv, max_conv = count_range(
            "min_conv_blocks", min_conv_blocks, "max_conv_blocks", max_conv_blocks, 1, 16
        )
        self._n_dense = count_range(
            "min_dense_layers", min_dense_layers, "max_dense_layers", max_dense_layers, 0, 16
        )
        kernels = kernel_sizes if isinstance(kernel_sizes, Sequence) else [kernel_sizes]
        self._genes = {
            "filters": int_gene("filters", filters, lower=1, upper=4096, log=True),
            "kernel": choice_gene("kernel_sizes", list(kernels), (1, 3, 5, 7)),
            "activation": choice_gene("activations", activations, tuple(ACTIVATIONS)),
            "batch_norm": choice_gene("batch_norm", batch_norm, (False, True)),
            "pool": choice_gene("pooling", pooling, (False, True)),
            "conv_dropout": float_gene("conv_dropout", conv_dropout, lower=0.0, upper=0.95),
            "units": int_gene("units", units, lower=1, upper=MAX_UNITS, log=True),
            "dropout": float_gene("dropout", dropout, lower=0.0, upper=0.95),
        }
        _, height, width = image_shape(input_shape)
        # Every block may pool, so the image must survive one 2x2 pooling per block.
        cap = max(1, max_pooling_blocks(input_shape))
        if min_conv > cap:
            raise ValueError(
                f"min_conv_blocks must be <= {cap} for {height}x{width} images "
                f"(each block may halve them), got {min_conv}."
            )
        self._n_conv = (min_conv, min(max_conv, cap))
        self._pool_gene = (
            self._genes["pool"] if max_pooling_blocks(input_shape) else Gene(choices=(False,))
        )

    def __call__(self, trial: BaseTrial) -> dict[str, Any]:
        """Suggest one CNN's genes and return them."""
        g = self._genes
        p: dict[str, Any] = {}
        p["n_conv"] = trial.suggest_int("n_conv", *self._n_conv)
        for i in range(1, p["n_conv"] + 1):
            p[f"filters_c{i}"] = g["filters"].suggest(trial, f"filters_c{i}")
            p[f"kernel_c{i}"] = g["kernel"].suggest(trial, f"kernel_c{i}")
            p[f"activation_c{i}"] = g["activation"].suggest(trial, f"activation_c{i}")
            p[f"batch_norm_c{i}"] = g["batch_norm"].suggest(trial, f"batch_norm_c{i}")
            p[f"pool_c{i}"] = self._pool_gene.suggest(trial, f"pool_c{i}")
            p[f"dropout_c{i}"] = g["conv_dropout"].suggest(trial, f"dropout_c{i}")
        p["n_dense"] = trial.suggest_int("n_dense", *self._n_dense)
        for j in range(1, p["n_dense"] + 1):
            p[f"units_d{j}"] = g["units"].suggest(trial, f"units_d{j}")
            p[f"dropout_d{j}"] = g["dropout"].suggest(trial, f"dropout_d{j}")
        if p["n_dense"] > 0:
            p["dense_activation"] = g["activation"].suggest(trial, "dense_activation")
            p["dense_batch_norm"] = g["batch_norm"].suggest(trial, "dense_batch_norm")
        return p


@register_architecture(
    "cnn",
    genes=CNNGenes,
    layer_genes=genes_by_suffix({"conv": "_c", "dense": "_d"}),
    marker="n_conv",
)
def build_cnn(params: ParamsLike, input_shape: Sequence[int], n_classes: int) -> nn.Sequential:
    """Build the convolutional network that ``params`` describes (weights freshly initialised).

    Layout: per conv block Conv2d (``same`` padding), optional BatchNorm2d, activation, optional
    2x2 max pooling and dropout; then flatten, ``n_dense`` dense layers as in
    :func:`~optuna_ga.torch.build_mlp`, and a final Linear to ``n_classes`` logits.

    Args:
        params: ``trial.params`` of a ``"cnn"`` trial, or the FrozenTrial itself.
        input_shape: ``(channels, height, width)`` of one image.
        n_classes: Number of output classes.

    Raises:
        ValueError: If a parameter is missing, or pooling would shrink the image below 1x1.

    Example:
        >>> import torch
        >>> params = {"n_conv": 1, "filters_c1": 8, "kernel_c1": 3, "activation_c1": "relu",
        ...           "batch_norm_c1": False, "pool_c1": True, "dropout_c1": 0.0, "n_dense": 0}
        >>> build_cnn(params, (1, 8, 8), 10)(torch.zeros(2, 1, 8, 8)).shape
        torch.Size([2, 10])
    """
    params = as_params(params)
    channels, height, width = image_shape(input_shape)
    layers: list[nn.Module] = []
    for i in range(1, int(param(params, "n_conv")) + 1):
        filters = int(param(params, f"filters_c{i}"))
        kernel = int(param(params, f"kernel_c{i}"))
        layers.append(nn.Conv2d(channels, filters, kernel, padding=kernel // 2))
        # An even kernel with padding k // 2 grows the image by one pixel.
        height, width = height + 1 - kernel % 2, width + 1 - kernel % 2
        if bool(param(params, f"batch_norm_c{i}")):
            layers.append(nn.BatchNorm2d(filters))
        layers.append(make_activation(str(param(params, f"activation_c{i}"))))
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
        dense, n_in = dense_stack(
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
