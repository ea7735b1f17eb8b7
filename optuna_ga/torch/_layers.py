"""The named weight layers of a network, found recursively: what weight inheritance matches.

:func:`layer_modules` walks any ``nn.Module`` in registration order, into nested containers
(residual blocks, a ``Sequential`` in a ``Sequential``, ``ModuleList``...), and names every
layer that holds tensors so that the same layer of two networks of one architecture gets the
same name, even when optional modules (dropout, activations) shift the indices around it:

* a ``Conv1d``/``Conv2d``/``Conv3d`` or ``Linear`` is a layer (role ``"weights"``); a batch
  norm that follows it in the same container belongs to it (role ``"batch_norm"``);
* any other leaf module that holds parameters or buffers is a layer of its own;
* a module with a name of its own (an attribute such as ``conv1``, a key of an ``OrderedDict``
  or ``ModuleDict``) keeps that name; one at a numeric index of a ``Sequential`` or
  ``ModuleList`` is counted per kind: ``conv1``, ``conv2``, ``dense1``... and, for nested
  containers, the class name (``sequential1``, ``residualblock2``);
* the network's last ``Linear``, where it is counted, is ``output``;
* names are joined with dots: ``stage2.block1.conv1``.

Tensors that a container holds directly (an ``nn.Parameter`` attribute of a block) are no
layer and are not inherited.
"""

from __future__ import annotations

from collections import Counter

from torch import nn

__all__ = ["Layers", "layer_modules"]

#: Layer name -> role (``"weights"``, ``"batch_norm"``) -> module.
Layers = dict[str, dict[str, nn.Module]]

_WEIGHTS = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.Linear)
_BATCH_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)


def _holds_tensors(module: nn.Module) -> bool:
    return any(True for _ in module.parameters(recurse=False)) or any(
        True for _ in module.buffers(recurse=False)
    )


def _kind(module: nn.Module) -> str:
    if isinstance(module, nn.Linear):
        return "dense"
    if isinstance(module, (nn.Conv1d, nn.Conv2d, nn.Conv3d)):
        return "conv"
    return type(module).__name__.lower()


def layer_modules(model: nn.Module) -> Layers:
    """The layers of a built network, by name: ``{"conv1": {"weights": ..., ...}, ...}``.

    Example:
        >>> from collections import OrderedDict
        >>> block = nn.Sequential(OrderedDict(conv=nn.Conv2d(3, 4, 3), bn=nn.BatchNorm2d(4)))
        >>> net = nn.Sequential(nn.Dropout(0.1), block, nn.ReLU(), nn.Flatten(),
        ...                     nn.Linear(4, 8), nn.Linear(8, 2))
        >>> for name, roles in layer_modules(net).items():
        ...     print(name, sorted(roles))
        sequential1.conv ['batch_norm', 'weights']
        dense1 ['weights']
        output ['weights']
    """
    layers: Layers = {}
    counted_linear: list[str] = []  # names of Linear layers named by count, in order
    children = list(model.named_children()) or [("0", model)]
    _walk(children, "", layers, counted_linear)
    if counted_linear:
        last = counted_linear[-1]
        if isinstance(layers[last]["weights"], nn.Linear) and last == _last_linear(layers):
            prefix = last.rpartition(".")[0]
            layers[f"{prefix}.output" if prefix else "output"] = layers.pop(last)
    return layers


def _last_linear(layers: Layers) -> str | None:
    names = [n for n, roles in layers.items() if isinstance(roles.get("weights"), nn.Linear)]
    return names[-1] if names else None


def _walk(
    children: list[tuple[str, nn.Module]], path: str, layers: Layers, counted_linear: list[str]
) -> None:
    counts: Counter[str] = Counter()
    current: str | None = None  # the last weight layer of this container
    for child_name, child in children:
        numeric = child_name.isdigit()
        if (
            isinstance(child, _BATCH_NORMS)
            and current is not None
            and "batch_norm" not in layers[current]
        ):
            layers[current]["batch_norm"] = child
            continue
        grandchildren = list(child.named_children())
        if not grandchildren and not _holds_tensors(child):
            continue  # activation, dropout, pooling, flatten: nothing to inherit
        kind = _kind(child)
        counts[kind] += 1
        local = f"{kind}{counts[kind]}" if numeric else child_name
        name = f"{path}.{local}" if path else local
        if grandchildren:
            _walk(grandchildren, name, layers, counted_linear)
            current = None
            continue
        layers[name] = {"weights": child}
        current = name if isinstance(child, _WEIGHTS) else None
        if numeric and isinstance(child, nn.Linear):
            counted_linear.append(name)
