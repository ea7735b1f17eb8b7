"""Residual CNN: stages of ResNet-style residual blocks (``"resnet"``).

The search space follows the residual networks that Acceleware evolved for CIFAR-10 with a
genetic algorithm: depth (stages, and residual blocks per stage), width (filters per stage),
kernel size and where the network downsamples are all genes.

Layout: a stem (3x3 convolution to ``filters_s1`` channels, batch norm, activation); then per
stage ``s`` ``blocks_s{s}`` basic residual blocks of ``filters_s{s}`` channels, each two
``kernel_s{s}`` convolutions with batch norm, added to a shortcut (the identity, or a 1x1
convolution with batch norm where the shape changes) and passed through the activation; the
first block of a stage with ``downsample_s{s}`` has stride 2 (the image shrinks to
``ceil(size / 2)``, so any number of downsampling stages works); then global average pooling,
dropout and a Linear to ``n_classes`` logits.

Genes, in suggestion order: ``n_stages``, then per stage ``s``: ``blocks_s{s}``,
``filters_s{s}``, ``kernel_s{s}``, ``downsample_s{s}``; then ``activation`` and ``dropout``.

Module names (``stem``, ``stage2.block1.conv1``, ``stage2.block1.shortcut.conv``,
``head.output``) are what weight inheritance matches: a child copies every block it shares
with a parent (same stage, same block, same shapes), so a deeper child starts its first blocks
from the parent's.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import torch
from optuna.trial import BaseTrial
from torch import nn

from optuna_ga.torch._genes import FloatSpec
from optuna_ga.torch._genes import IntSpec
from optuna_ga.torch._genes import choice_gene
from optuna_ga.torch._genes import float_gene
from optuna_ga.torch._genes import int_gene
from optuna_ga.torch._genes import param
from optuna_ga.torch._models import ACTIVATIONS
from optuna_ga.torch._models import ParamsLike
from optuna_ga.torch._models import as_params
from optuna_ga.torch._models import image_shape
from optuna_ga.torch._models import make_activation
from optuna_ga.torch.architectures._registry import genes_by_suffix
from optuna_ga.torch.architectures._registry import register_architecture

__all__ = ["ResNetGenes", "ResidualBlock", "build_resnet"]


class ResNetGenes:
    """The search space of a residual CNN; ``ResNetGenes(input_shape, ...)(trial)`` suggests one.

    Args:
        input_shape: ``(channels, height, width)`` of one image.
        stages: Stages (``n_stages``), in ``[1, 8]``.
        blocks: Residual blocks per stage (depth), in ``[1, 16]``.
        filters: Channels of a stage's blocks (width), in ``[1, 4096]``; a range is on a log
            scale.
        kernel_sizes: Odd kernel sizes of a stage's convolutions, among 1, 3, 5, 7.
        downsampling: Whether a stage starts with a stride-2 block: ``False``, ``True`` or both.
        activations: As for ``"mlp"``: one activation for the whole network.
        dropout: Dropout before the output layer, in ``[0, 0.95]``.

    Raises:
        ValueError: If an argument is out of range, or the samples are not images.

    Example:
        >>> import optuna
        >>> suggest = ResNetGenes((3, 32, 32), stages=(1, 2), filters=[16, 32], blocks=(1, 2))
        >>> params = suggest(optuna.create_study(sampler=optuna.samplers.RandomSampler(0)).ask())
        >>> list(params)[:5]
        ['n_stages', 'blocks_s1', 'filters_s1', 'kernel_s1', 'downsample_s1']
    """

    def __init__(
        self,
        input_shape: Sequence[int],
        *,
        stages: IntSpec = (1, 4),
        blocks: IntSpec = (1, 3),
        filters: IntSpec = (16, 256),
        kernel_sizes: IntSpec = [3, 5],  # noqa: B006 - read only
        downsampling: Sequence[bool] | bool = (False, True),
        activations: Sequence[str] | str = ("relu", "elu", "leaky_relu", "gelu"),
        dropout: FloatSpec = (0.0, 0.5),
    ) -> None:
        image_shape(input_shape)
        self._n_stages = int_gene("stages", stages, lower=1, upper=8)
        kernels = kernel_sizes if isinstance(kernel_sizes, Sequence) else [kernel_sizes]
        self._stage_genes = {
            "blocks": int_gene("blocks", blocks, lower=1, upper=16),
            "filters": int_gene("filters", filters, lower=1, upper=4096, log=True),
            "kernel": choice_gene("kernel_sizes", list(kernels), (1, 3, 5, 7)),
            "downsample": choice_gene("downsampling", downsampling, (False, True)),
        }
        self._activation = choice_gene("activations", activations, tuple(ACTIVATIONS))
        self._dropout = float_gene("dropout", dropout, lower=0.0, upper=0.95)

    def __call__(self, trial: BaseTrial) -> dict[str, Any]:
        """Suggest one residual network's genes and return them."""
        p: dict[str, Any] = {"n_stages": self._n_stages.suggest(trial, "n_stages")}
        for s in range(1, p["n_stages"] + 1):
            for gene, spec in self._stage_genes.items():
                p[f"{gene}_s{s}"] = spec.suggest(trial, f"{gene}_s{s}")
        p["activation"] = self._activation.suggest(trial, "activation")
        p["dropout"] = self._dropout.suggest(trial, "dropout")
        return p


def _conv_bn(c_in: int, c_out: int, kernel: int, stride: int) -> tuple[nn.Conv2d, nn.BatchNorm2d]:
    conv = nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=kernel // 2, bias=False)
    return conv, nn.BatchNorm2d(c_out)


class ResidualBlock(nn.Module):
    """A basic residual block: ``act(bn2(conv2(act(bn1(conv1(x))))) + shortcut(x))``.

    Args:
        c_in: Input channels.
        c_out: Output channels.
        kernel: Odd kernel size of both convolutions.
        stride: 2 to halve the image (rounding up), else 1.
        activation: A name from ``ACTIVATIONS``.

    Example:
        >>> block = ResidualBlock(4, 8, 3, 2, "relu")
        >>> block(torch.zeros(2, 4, 7, 7)).shape
        torch.Size([2, 8, 4, 4])
    """

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int, activation: str) -> None:
        super().__init__()
        # Registration order matters to weight inheritance: a batch norm belongs to the
        # convolution registered just before it.
        self.conv1, self.bn1 = _conv_bn(c_in, c_out, kernel, stride)
        self.conv2, self.bn2 = _conv_bn(c_out, c_out, kernel, 1)
        self.act = make_activation(activation)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or c_in != c_out:
            conv, bn = _conv_bn(c_in, c_out, 1, stride)
            self.shortcut = nn.Sequential(OrderedDict(conv=conv, bn=bn))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The block's output for a batch ``x``."""
        out = self.act(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.act(out + self.shortcut(x))


@register_architecture(
    "resnet", genes=ResNetGenes, layer_genes=genes_by_suffix({"stage": "_s"}), marker="n_stages"
)
def build_resnet(params: ParamsLike, input_shape: Sequence[int], n_classes: int) -> nn.Sequential:
    """Build the residual CNN that ``params`` describes (weights freshly initialised).

    Args:
        params: ``trial.params`` of a ``"resnet"`` trial, or the FrozenTrial itself.
        input_shape: ``(channels, height, width)`` of one image.
        n_classes: Number of output classes.

    Raises:
        ValueError: If a parameter is missing or has an unknown value.

    Example:
        >>> params = {"n_stages": 2, "blocks_s1": 1, "filters_s1": 8, "kernel_s1": 3,
        ...           "downsample_s1": False, "blocks_s2": 2, "filters_s2": 16, "kernel_s2": 5,
        ...           "downsample_s2": True, "activation": "relu", "dropout": 0.1}
        >>> model = build_resnet(params, (3, 32, 32), 10)
        >>> model(torch.zeros(2, 3, 32, 32)).shape
        torch.Size([2, 10])
        >>> [name for name, _ in model.named_children()]
        ['stem', 'stage1', 'stage2', 'head']
    """
    params = as_params(params)
    channels, _, _ = image_shape(input_shape)
    activation = str(param(params, "activation"))
    width = int(param(params, "filters_s1"))
    conv, bn = _conv_bn(channels, width, 3, 1)
    parts: OrderedDict[str, nn.Module] = OrderedDict()
    parts["stem"] = nn.Sequential(OrderedDict(conv=conv, bn=bn, act=make_activation(activation)))
    for s in range(1, int(param(params, "n_stages")) + 1):
        filters = int(param(params, f"filters_s{s}"))
        kernel = int(param(params, f"kernel_s{s}"))
        if kernel % 2 == 0:
            raise ValueError(f"kernel_s{s} must be odd, got {kernel}.")
        stride = 2 if bool(param(params, f"downsample_s{s}")) else 1
        blocks: OrderedDict[str, nn.Module] = OrderedDict()
        for b in range(1, int(param(params, f"blocks_s{s}")) + 1):
            blocks[f"block{b}"] = ResidualBlock(
                width, filters, kernel, stride if b == 1 else 1, activation
            )
            width = filters
        parts[f"stage{s}"] = nn.Sequential(blocks)
    head: OrderedDict[str, nn.Module] = OrderedDict(
        pool=nn.AdaptiveAvgPool2d(1), flatten=nn.Flatten()
    )
    dropout = float(param(params, "dropout"))
    if dropout > 0:
        head["dropout"] = nn.Dropout(dropout)
    head["output"] = nn.Linear(width, n_classes)
    parts["head"] = nn.Sequential(head)
    return nn.Sequential(parts)
