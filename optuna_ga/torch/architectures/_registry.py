"""The registry of network architectures: name -> :class:`Architecture`.

Built-in architectures are listed, one line each, in ``optuna_ga/_architectures.py`` and
imported on first use; every architecture, built in or not, registers itself with
:func:`register_architecture` when its module is imported.
"""

from __future__ import annotations

import importlib
import inspect
import re
import threading
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from typing import TypeVar
from typing import overload

from optuna.trial import BaseTrial
from torch import nn

from optuna_ga._architectures import BUILTIN_ARCHITECTURES
from optuna_ga.torch._layers import Layers
from optuna_ga.torch._layers import layer_modules

__all__ = [
    "Architecture",
    "genes_by_suffix",
    "get_architecture",
    "list_architectures",
    "register_architecture",
]

#: ``suggest(trial) -> params``: suggests one network's genes and returns them.
Suggest = Callable[[BaseTrial], dict[str, Any]]
#: ``build(params, input_shape, n_classes) -> nn.Module``.
Build = Callable[[Mapping[str, Any], Sequence[int], int], nn.Module]
B = TypeVar("B", bound=Callable[..., nn.Module])

_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")
_registry: dict[str, Architecture] = {}
_lock = threading.RLock()


def _no_layer_genes(layer: str, params: Mapping[str, Any]) -> list[str]:
    return []


@dataclass(frozen=True, kw_only=True)
class Architecture:
    """What the objectives, weight inheritance and retraining need to know of one network kind.

    Attributes:
        name: The name objectives record (user attr ``architecture``) and the command line
            offers (``--model``): lower case letters, digits, ``-`` and ``_``, at most 40.
        genes: Called once per objective as ``genes(input_shape, **options)``, with the
            objective's architecture-specific keyword arguments (its search space): checks
            them (``ValueError`` naming the argument and its allowed range) and returns
            ``suggest(trial) -> params``, which suggests one network's genes in a stable order
            and returns them. Every value ``build`` reads must be in ``params``.
        build: ``build(params, input_shape, n_classes) -> nn.Module``: the untrained network
            of stored parameters (``trial.params``, a JSON file's content). It reads nothing
            but its arguments, so a network is rebuilt without the objective that searched it.
        layers: The layer walker of weight inheritance: ``layers(model)`` names the modules
            that a child may copy from a parent (default
            :func:`~optuna_ga.torch.architectures.layer_modules`, which walks any network
            recursively).
        layer_genes: ``layer_genes(layer, params)``: the genes of ``params`` that describe a
            layer, so that a crossover child takes each layer from the parent it got that
            layer's genes from (see :func:`genes_by_suffix`); default: none, the parents'
            order decides.
        marker: A gene that every parameter set of this architecture holds and no other
            registered architecture's does: how ``train_best`` tells the architecture of
            parameters stored without their architecture's name. None: never guessed.

    Example:
        >>> import math
        >>> from torch import nn
        >>> from optuna_ga.torch.architectures import Architecture, int_gene
        >>> def genes(input_shape, *, units=(8, 64)):
        ...     gene = int_gene("units", units, lower=1, upper=4096, log=True)
        ...     return lambda trial: {"units": gene.suggest(trial, "units")}
        >>> def build(params, input_shape, n_classes):
        ...     return nn.Sequential(nn.Flatten(), nn.Linear(math.prod(input_shape),
        ...                          params["units"]), nn.ReLU(),
        ...                          nn.Linear(params["units"], n_classes))
        >>> tiny = Architecture(name="tiny", genes=genes, build=build)
        >>> tiny.options
        ('units',)
    """

    name: str
    genes: Callable[..., Suggest]
    build: Build
    layers: Callable[[nn.Module], Layers] = layer_modules
    layer_genes: Callable[[str, Mapping[str, Any]], list[str]] = _no_layer_genes
    marker: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _NAME.match(self.name):
            raise ValueError(
                "name must be 1 to 40 lower-case letters, digits, '-' or '_', starting with a "
                f"letter, got {self.name!r}."
            )
        for field in ("genes", "build", "layers", "layer_genes"):
            if not callable(getattr(self, field)):
                raise ValueError(f"{field} must be callable, got {getattr(self, field)!r}.")
        if self.marker is not None and not isinstance(self.marker, str):
            raise ValueError(f"marker must be a gene name or None, got {self.marker!r}.")

    @property
    def options(self) -> tuple[str, ...]:
        """The keyword arguments ``genes`` takes after ``input_shape``: the search space."""
        parameters = list(inspect.signature(self.genes).parameters.values())[1:]
        return tuple(
            p.name for p in parameters if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)
        )

    def suggester(self, input_shape: Sequence[int], options: Mapping[str, Any]) -> Suggest:
        """``genes(input_shape, **options)``, with a ValueError for an unknown option."""
        takes_any = any(
            p.kind == p.VAR_KEYWORD for p in inspect.signature(self.genes).parameters.values()
        )
        unknown = sorted(set(options) - set(self.options))
        if unknown and not takes_any:
            raise ValueError(
                f"{unknown[0]} is not an argument of the {self.name!r} architecture; its "
                f"search space takes {list(self.options)}."
            )
        return self.genes(tuple(int(s) for s in input_shape), **options)


@overload
def register_architecture(architecture: Architecture, /) -> Architecture: ...


@overload
def register_architecture(
    architecture: str,
    /,
    *,
    genes: Callable[..., Suggest],
    layers: Callable[[nn.Module], Layers] = ...,
    layer_genes: Callable[[str, Mapping[str, Any]], list[str]] = ...,
    marker: str | None = ...,
) -> Callable[[B], B]: ...


def register_architecture(architecture: Architecture | str, /, **fields: Any) -> Any:
    """Make an architecture known by its name to the objectives, inheritance and retraining.

    Either call it with an :class:`Architecture`, or decorate the builder with it, giving the
    name and the other fields: ``@register_architecture("mlp", genes=MLPGenes, ...)`` above
    ``def build_mlp(params, input_shape, n_classes)`` (the built-in modules do that).
    Do it when your module is imported; registering the same record again does nothing.

    Returns:
        The architecture (called with one), or the decorator, which returns the builder as it
        is.

    Raises:
        ValueError: If another architecture has that name already, or the arguments are
            neither an Architecture nor a name with ``genes``.

    Example:
        >>> clash = Architecture(name="mlp", genes=lambda shape: None, build=lambda p, s, n: None)
        >>> register_architecture(clash)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: architecture 'mlp' is registered already (...); choose another name.
    """
    if isinstance(architecture, str):
        if "genes" not in fields:
            raise ValueError(
                f"register_architecture({architecture!r}, genes=..., ...) decorates a build "
                "function: genes is missing."
            )

        def decorate(build: B) -> B:
            _register(Architecture(name=architecture, build=build, **fields))
            return build

        return decorate
    if not isinstance(architecture, Architecture) or fields:
        raise ValueError(
            "register_architecture takes an Architecture, or a name and its fields to "
            f"decorate a build function; got {type(architecture).__name__}."
        )
    return _register(architecture)


def _register(architecture: Architecture) -> Architecture:
    name = architecture.name
    if name in BUILTIN_ARCHITECTURES and not _is_builtin(architecture):
        raise ValueError(
            f"architecture {name!r} is registered already ({BUILTIN_ARCHITECTURES[name]}); "
            "choose another name."
        )
    with _lock:
        known = _registry.get(name)
        if known is not None and known != architecture:
            raise ValueError(
                f"architecture {name!r} is registered already ({_where(known)}); "
                "choose another name."
            )
        _registry[name] = architecture
    return architecture


def _where(architecture: Architecture) -> str:
    return str(getattr(architecture.build, "__module__", "?"))


def _is_builtin(architecture: Architecture) -> bool:
    return _where(architecture) == BUILTIN_ARCHITECTURES.get(architecture.name)


def get_architecture(name: str | Architecture) -> Architecture:
    """The registered architecture of that name (a built-in one is imported on first use).

    Raises:
        ValueError: If no architecture of that name is registered in this process.

    Example:
        >>> get_architecture("cnn").marker
        'n_conv'
        >>> get_architecture("vgg")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: architecture must be one of [...], got 'vgg' (an architecture of your own ...
    """
    if isinstance(name, Architecture):
        return name
    with _lock:
        found = _registry.get(name) if isinstance(name, str) else None
        if found is None and isinstance(name, str) and name in BUILTIN_ARCHITECTURES:
            importlib.import_module(BUILTIN_ARCHITECTURES[name])
            found = _registry.get(name)
    if found is None:
        raise ValueError(
            f"architecture must be one of {list_architectures()}, got {name!r} (an "
            "architecture of your own is known once the module that registers it is imported)."
        )
    return found


def list_architectures() -> list[str]:
    """The names of the built-in architectures, then of those registered in this process.

    Example:
        >>> list_architectures()[:2]
        ['mlp', 'cnn']
    """
    with _lock:
        return [*BUILTIN_ARCHITECTURES, *(n for n in _registry if n not in BUILTIN_ARCHITECTURES)]


def genes_by_suffix(suffixes: Mapping[str, str]) -> Callable[[str, Mapping[str, Any]], list[str]]:
    """A ``layer_genes`` for genes named by layer kind and number, such as ``units_l2``.

    The layer's first name part (``dense2`` in ``dense2``, ``stage2`` in
    ``stage2.block1.conv1``) is split into its kind and number; the layer's genes are those
    whose names end in the kind's suffix and that number.

    Example:
        >>> layer_genes = genes_by_suffix({"conv": "_c", "dense": "_d"})
        >>> layer_genes("conv1", {"n_conv": 1, "filters_c1": 8, "kernel_c1": 3})
        ['filters_c1', 'kernel_c1']
        >>> layer_genes("output", {"n_conv": 1, "filters_c1": 8})
        []
    """
    table = dict(suffixes)

    def layer_genes(layer: str, params: Mapping[str, Any]) -> list[str]:
        head = layer.split(".")[0]
        kind = head.rstrip("0123456789")
        suffix = table.get(kind)
        if suffix is None or kind == head:
            return []
        end = suffix + head[len(kind) :]
        return [name for name in params if name.endswith(end)]

    return layer_genes
