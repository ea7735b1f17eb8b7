"""The built-in network architectures of :mod:`optuna_ga.torch` by name, readable without torch.

One line per architecture: its name and the module that defines and registers it. The registry
(:mod:`optuna_ga.torch.architectures`) imports such a module the first time its architecture is
asked for. The command line reads the names from here, so ``optuna-ga --help`` and the commands
that train nothing never import PyTorch; the documentation hooks read it too.

Adding a built-in architecture is one new module under ``optuna_ga/torch/architectures/`` and
one line here.

Example:
    >>> list(BUILTIN_ARCHITECTURES)[:2]
    ['mlp', 'cnn']
"""

from __future__ import annotations

__all__ = ["BUILTIN_ARCHITECTURES"]

#: Built-in architecture name -> the module that registers it.
BUILTIN_ARCHITECTURES: dict[str, str] = {
    "mlp": "optuna_ga.torch.architectures.mlp",
    "cnn": "optuna_ga.torch.architectures.cnn",
    "resnet": "optuna_ga.torch.architectures.resnet",
}
