"""Gene specifications: what a constructor argument allows, and how a trial suggests it.

Every searchable setting of an architecture (see :mod:`optuna_ga.torch.architectures`) and the
training genes of :class:`~optuna_ga.torch.Objective` is given in one of three forms:

* a single value (``"relu"``, ``0.0``, ``64``): the gene is fixed. It is still suggested (as a
  one-choice categorical), so that ``trial.params`` always holds the whole configuration and a
  network can be rebuilt from the stored parameters alone;
* a tuple ``(low, high)``: a range. Units, filters, learning rate and weight decay use a log
  scale, dropout a linear one;
* a list (any sequence that is not a tuple or a string): the choices of a categorical gene.

Stored parameters are read back by :func:`param`, which needs no ranges at all.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from optuna.trial import BaseTrial

__all__ = [
    "MAX_UNITS",
    "FloatSpec",
    "Gene",
    "IntSpec",
    "check_bool",
    "check_int",
    "choice_gene",
    "count_range",
    "float_gene",
    "int_gene",
    "param",
]

#: Most units (or filters) per layer any gene allows.
MAX_UNITS = 1 << 16
#: An int gene: fixed value, ``(low, high)`` range, or list of choices.
IntSpec = int | tuple[int, int] | Sequence[int]
#: A float gene: fixed value, ``(low, high)`` range, or list of choices.
FloatSpec = float | tuple[float, float] | Sequence[float]


@dataclass(frozen=True)
class Gene:
    """One searchable setting: a categorical (``choices``) or a numeric range.

    Example:
        >>> import optuna
        >>> gene = int_gene("units", (16, 1024), lower=1, upper=65536, log=True)
        >>> gene.suggest(optuna.trial.FixedTrial({"units_l1": 64}), "units_l1")
        64
    """

    choices: tuple[Any, ...] | None = None
    low: float = 0.0
    high: float = 0.0
    is_int: bool = False
    log: bool = False

    def suggest(self, trial: BaseTrial, name: str) -> Any:
        """Suggest this gene under ``name`` and return the value."""
        if self.choices is not None:
            return trial.suggest_categorical(name, self.choices)
        if self.is_int:
            return trial.suggest_int(name, int(self.low), int(self.high), log=self.log)
        return trial.suggest_float(name, self.low, self.high, log=self.log)


def _is_choice_list(value: object) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, (str, tuple))


def _check_number(arg: str, x: object, lower: float, upper: float, *, integer: bool) -> None:
    kind = "int" if integer else "number"
    ok_type = isinstance(x, int) if integer else isinstance(x, (int, float))
    if isinstance(x, bool) or not ok_type or not math.isfinite(float(x)):  # type: ignore[arg-type]
        raise ValueError(f"{arg} values must be {kind}s in [{lower}, {upper}], got {x!r}.")
    if not lower <= float(x) <= upper:  # type: ignore[arg-type]
        raise ValueError(f"{arg} values must lie in [{lower}, {upper}], got {x!r}.")


def _numeric_gene(
    arg: str, value: object, *, lower: float, upper: float, log: bool, integer: bool
) -> Gene:
    if _is_choice_list(value):
        choices: tuple[Any, ...] = tuple(value)  # type: ignore[arg-type]
        if not choices:
            raise ValueError(f"{arg} must not be an empty list.")
        for x in choices:
            _check_number(arg, x, lower, upper, integer=integer)
        if len(set(choices)) != len(choices):
            raise ValueError(f"{arg} lists a choice twice: {list(choices)!r}.")
        return Gene(choices=choices)
    if isinstance(value, tuple):
        if len(value) != 2:
            raise ValueError(f"{arg} as a range must be a (low, high) tuple, got {value!r}.")
        low, high = value
        _check_number(arg, low, lower, upper, integer=integer)
        _check_number(arg, high, lower, upper, integer=integer)
        if low > high:
            raise ValueError(f"{arg} range must have low <= high, got {value!r}.")
        if log and low <= 0:
            raise ValueError(
                f"{arg} is searched on a log scale, so its range needs low > 0, got {value!r}; "
                "pass a single value (e.g. 0.0) to fix it instead."
            )
        if low == high:
            return Gene(choices=(low,))
        return Gene(low=low, high=high, is_int=integer, log=log)
    _check_number(arg, value, lower, upper, integer=integer)
    return Gene(choices=(value,))


def int_gene(arg: str, value: object, *, lower: int, upper: int, log: bool = False) -> Gene:
    """An integer gene from a constructor argument.

    Args:
        arg: The argument's name, for error messages.
        value: An int (fixed), a ``(low, high)`` tuple (range) or a list of ints (choices).
        lower: Smallest value allowed.
        upper: Largest value allowed.
        log: Whether a range is searched on a log scale.

    Raises:
        ValueError: If ``value`` has another form or leaves ``[lower, upper]``.

    Example:
        >>> int_gene("batch_size", [32, 64], lower=1, upper=4096)
        Gene(choices=(32, 64), low=0.0, high=0.0, is_int=False, log=False)
    """
    return _numeric_gene(arg, value, lower=lower, upper=upper, log=log, integer=True)


def float_gene(arg: str, value: object, *, lower: float, upper: float, log: bool = False) -> Gene:
    """A float gene from a constructor argument; same forms as :func:`int_gene`.

    Example:
        >>> float_gene("dropout", (0.0, 0.5), lower=0.0, upper=0.95)
        Gene(choices=None, low=0.0, high=0.5, is_int=False, log=False)
    """
    if isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if isinstance(value, tuple):
        value = tuple(
            float(v) if isinstance(v, int) and not isinstance(v, bool) else v for v in value
        )
    return _numeric_gene(arg, value, lower=lower, upper=upper, log=log, integer=False)


def choice_gene(arg: str, value: object, allowed: Sequence[Any]) -> Gene:
    """A categorical gene: one allowed value (fixed) or a sequence of them.

    Raises:
        ValueError: If a value is not in ``allowed``, or the sequence is empty or repeats one.

    Example:
        >>> choice_gene("activations", ["relu", "tanh"], ["relu", "tanh", "gelu"]).choices
        ('relu', 'tanh')
        >>> choice_gene("activations", "swish", ["relu", "tanh"])
        Traceback (most recent call last):
        ...
        ValueError: activations values must be among ['relu', 'tanh'], got 'swish'.
    """
    if isinstance(value, (str, bool)) or not isinstance(value, Sequence):
        choices: tuple[Any, ...] = (value,)
    else:
        choices = tuple(value)
    if not choices:
        raise ValueError(f"{arg} must not be empty; allowed values: {list(allowed)!r}.")
    for x in choices:
        # ``True in [1]`` holds in Python, so compare types as well for booleans.
        if not any(x == a and type(x) is type(a) for a in allowed):
            raise ValueError(f"{arg} values must be among {list(allowed)!r}, got {x!r}.")
    if len(set(choices)) != len(choices):
        raise ValueError(f"{arg} lists a choice twice: {list(choices)!r}.")
    return Gene(choices=choices)


def check_int(arg: str, value: object, lower: int, upper: int | None = None) -> int:
    """An int argument in ``[lower, upper]`` (no upper bound when None), or a ValueError.

    Example:
        >>> check_int("epochs", 0, 1)
        Traceback (most recent call last):
        ...
        ValueError: epochs must be an int >= 1, got 0.
    """
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or value < lower
        or (upper is not None and value > upper)
    ):
        bounds = f">= {lower}" if upper is None else f"in [{lower}, {upper}]"
        raise ValueError(f"{arg} must be an int {bounds}, got {value!r}.")
    return value


def check_bool(arg: str, value: object) -> bool:
    """A bool argument (not ``1`` or ``"yes"``), or a ValueError.

    Example:
        >>> check_bool("download", "yes")
        Traceback (most recent call last):
        ...
        ValueError: download must be True or False, got 'yes'.
    """
    if not isinstance(value, bool):
        raise ValueError(f"{arg} must be True or False, got {value!r}.")
    return value


def count_range(
    min_arg: str, min_value: object, max_arg: str, max_value: object, lower: int, upper: int
) -> tuple[int, int]:
    """A ``(min, max)`` pair of counts (layers, blocks), both in ``[lower, upper]``.

    Example:
        >>> count_range("min_layers", 3, "max_layers", 2, 1, 32)
        Traceback (most recent call last):
        ...
        ValueError: min_layers (3) must be <= max_layers (2).
    """
    low = check_int(min_arg, min_value, lower, upper)
    high = check_int(max_arg, max_value, lower, upper)
    if low > high:
        raise ValueError(f"{min_arg} ({low}) must be <= {max_arg} ({high}).")
    return low, high


def param(params: Mapping[str, Any], name: str) -> Any:
    """Read one stored parameter, with an error that names what is missing.

    Example:
        >>> param({"n_layers": 2}, "units_l1")
        Traceback (most recent call last):
        ...
        ValueError: params has no 'units_l1'; it holds ['n_layers'].
    """
    try:
        return params[name]
    except KeyError:
        raise ValueError(f"params has no {name!r}; it holds {sorted(params)!r}.") from None
