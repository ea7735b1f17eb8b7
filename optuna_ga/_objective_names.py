"""What the network objectives of :mod:`optuna_ga.torch` can return, readable without torch.

The command line checks ``--objectives`` with these, so that ``optuna-ga --help`` and its
argument errors never import PyTorch.

Example:
    >>> check_objectives(["accuracy", "params"]), metric_of(("accuracy", "params"))
    (('accuracy', 'params'), 'accuracy')
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

__all__ = ["OBJECTIVES", "check_objectives", "metric_of"]

#: What an objective can return, and the direction of each.
OBJECTIVES: dict[str, Literal["maximize", "minimize"]] = {
    "accuracy": "maximize",
    "loss": "minimize",
    "params": "minimize",
    "macs": "minimize",
    "latency": "minimize",
    "train_time": "minimize",
}


def check_objectives(objectives: Sequence[str]) -> tuple[str, ...]:
    """The names of ``objectives`` as a tuple, if each is one of :data:`OBJECTIVES`, once.

    Raises:
        ValueError: If a name is unknown or repeated, or there is none.
    """
    names = (objectives,) if isinstance(objectives, str) else tuple(objectives)
    allowed = ", ".join(map(repr, OBJECTIVES))
    if not names or any(name not in OBJECTIVES for name in names):
        raise ValueError(f"objectives must be names from {allowed}; got {objectives!r}.")
    if len(set(names)) != len(names):
        raise ValueError(f"objectives must not repeat a name; got {objectives!r}.")
    return names


def metric_of(objectives: tuple[str, ...]) -> str:
    """The validation metric of ``objectives``: ``"accuracy"`` or ``"loss"``.

    Raises:
        ValueError: Unless exactly one of them is there.
    """
    metrics = [name for name in objectives if name in ("accuracy", "loss")]
    if len(metrics) != 1:
        raise ValueError(
            "objectives must hold exactly one of 'accuracy' and 'loss' (the validation "
            f"metric); got {list(objectives)!r}."
        )
    return metrics[0]
