"""Lazy imports of the optional plotting libraries, with an error that names the extra."""

from __future__ import annotations

import importlib
from types import ModuleType

EXTRA_HINT = 'pip install "optuna-ga[dashboard]"'


def require(module: str) -> ModuleType:
    """Import ``module`` or raise an ImportError that tells how to install it.

    Example:
        >>> require("math").sqrt(4.0)
        2.0
    """
    try:
        return importlib.import_module(module)
    except ImportError as error:
        top = module.split(".")[0]
        raise ImportError(
            f"optuna_ga.visualization needs {top}, which is not installed. "
            f"Install the extra: {EXTRA_HINT}"
        ) from error
