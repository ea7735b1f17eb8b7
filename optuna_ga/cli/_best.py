"""``optuna-ga best``: the best trial of a study, its parameters and its lineage."""

from __future__ import annotations

import argparse
import json
import math
from typing import Any

import optuna
from optuna.trial import FrozenTrial

from optuna_ga.cli._common import CLIError
from optuna_ga.cli._common import count
from optuna_ga.cli._common import load_study
from optuna_ga.cli._common import objective_names
from optuna_ga.cli._common import say
from optuna_ga.cli._common import storage_arguments
from optuna_ga.cli._common import value_name
from optuna_ga.cli._progress import best_or_none
from optuna_ga.cli._progress import format_value


def add_arguments(best: argparse.ArgumentParser) -> None:
    storage_arguments(best)
    best.add_argument(
        "--json",
        action="store_true",
        help="machine-readable output; an infinite or NaN value is the string "
        '"Infinity", "-Infinity" or "NaN" (default: text)',
    )


def json_text(record: Any, *, indent: int | None = 2) -> str:
    """``record`` as valid JSON: an infinite or NaN number becomes a string, as JavaScript
    names it.

    Example:
        >>> json_text({"value": -math.inf, "values": [0.5, math.nan]}, indent=None)
        '{"value": "-Infinity", "values": [0.5, "NaN"]}'
    """

    def finite(item: Any) -> Any:
        if isinstance(item, float) and not math.isfinite(item):
            return json.dumps(item)  # 'Infinity', '-Infinity' or 'NaN'
        if isinstance(item, dict):
            return {key: finite(value) for key, value in item.items()}
        if isinstance(item, (list, tuple)):
            return [finite(value) for value in item]
        return item

    return json.dumps(finite(record), indent=indent, default=str, allow_nan=False)


def _parents(trial: FrozenTrial, n_trials: int) -> list[int]:
    """The trial's recorded parents that are trial numbers of the study; anything else goes."""
    recorded = trial.user_attrs.get("ga_parents")
    if not isinstance(recorded, list):
        return []
    return [
        p for p in recorded if isinstance(p, int) and not isinstance(p, bool) and 0 <= p < n_trials
    ]


def lineage(study: optuna.Study, trial: FrozenTrial) -> list[dict[str, Any]]:
    """The trial and its ancestors (breadth first), as recorded in ``ga_parents``.

    A ``ga_parents`` value that is not a list of trial numbers of the study is ignored.

    Example:
        >>> import optuna
        >>> study = optuna.create_study()
        >>> for parents in ([], [0], [1, "x", -1, 99, True]):
        ...     study.add_trial(optuna.create_trial(value=0, user_attrs={"ga_parents": parents}))
        >>> [row["number"] for row in lineage(study, study.trials[2])]
        [2, 1, 0]
    """
    trials = study.get_trials(deepcopy=False)
    seen: set[int] = set()
    queue = [trial.number]
    rows = []
    while queue:
        number = queue.pop(0)
        if number in seen:
            continue
        seen.add(number)
        t = trials[number]
        parents = _parents(t, len(trials))
        rows.append(
            {
                "number": number,
                "generation": t.user_attrs.get("ga_generation"),
                "operator": t.user_attrs.get("ga_operator"),
                "parents": parents,
                "value": t.value,
            }
        )
        queue.extend(parents)
    return rows


def pareto_front(study: optuna.Study) -> list[FrozenTrial]:
    """A multi-objective study's Pareto front, best first by its first objective.

    Raises:
        CLIError: If no trial has completed.
    """
    front = study.best_trials
    if not front:
        raise CLIError(f"study {study.study_name!r} has no completed trial yet")
    maximize = study.directions[0] == optuna.study.StudyDirection.MAXIMIZE
    return sorted(front, key=lambda t: (t.values[0], -t.number), reverse=maximize)


def front_record(study: optuna.Study) -> dict[str, Any]:
    """What ``optuna-ga best --json`` prints for a multi-objective study."""
    return {
        "study": study.study_name,
        "directions": [d.name.lower() for d in study.directions],
        "objectives": objective_names(study),
        "n_trials": len(study.trials),
        "pareto_front": [
            {
                "number": t.number,
                "values": t.values,
                "generation": t.user_attrs.get("ga_generation"),
                "operator": t.user_attrs.get("ga_operator"),
                "params": t.params,
            }
            for t in pareto_front(study)
        ],
    }


def best_record(study: optuna.Study) -> dict[str, Any]:
    """What ``optuna-ga best --json`` prints for a single-objective study."""
    best = best_or_none(study)
    if best is None:
        raise CLIError(f"study {study.study_name!r} has no completed trial yet")
    return {
        "study": study.study_name,
        "direction": study.direction.name.lower(),
        "value_name": value_name(study),
        "n_trials": len(study.trials),
        "number": best.number,
        "value": best.value,
        "generation": best.user_attrs.get("ga_generation"),
        "operator": best.user_attrs.get("ga_operator"),
        "params": best.params,
        "user_attrs": {k: v for k, v in best.user_attrs.items() if not k.startswith("ga_")},
        "lineage": lineage(study, best),
    }


def print_best(study: optuna.Study, label: str) -> None:
    """The best trial's line and its parameters (``label``: what the value is); for a
    multi-objective study, its Pareto front."""
    if len(study.directions) > 1:
        print_front(study)
        return
    best = best_or_none(study)
    if best is None:
        say(f"study {study.study_name!r}: no completed trial yet")
        return
    say(
        f"best trial #{best.number} of {len(study.trials)} "
        f"(generation {best.user_attrs.get('ga_generation')}, "
        f"{best.user_attrs.get('ga_operator')}): {label} {best.value:.6g}"
    )
    width = max((len(name) for name in best.params), default=0)
    for name, value in best.params.items():
        say(f"  {name:<{width}}  {value}")


def print_front(study: optuna.Study) -> None:
    """A multi-objective study's Pareto front: a row per trial, best first by the first
    objective, and how to retrain one."""
    if not study.best_trials:
        say(f"study {study.study_name!r}: no completed trial yet")
        return
    front = pareto_front(study)
    names = objective_names(study)
    say(
        f"Pareto front of study {study.study_name!r}: {count(len(front), 'trial')} of "
        f"{len(study.trials)}, by {names[0]}:"
    )
    rows = [
        [
            f"#{t.number}",
            *(format_value(v) for v in t.values),
            str(t.user_attrs.get("ga_generation")),
        ]
        for t in front
    ]
    header = ["trial", *names, "generation"]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        say("  " + "  ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=True)))
    say("retrain one with: optuna-ga train-best --trial N")


def cmd_best(args: argparse.Namespace) -> int:
    study = load_study(args.storage, args.study_name)
    if len(study.directions) > 1:
        front = front_record(study)  # raises while no trial has completed
        if args.json:
            say(json_text(front))
        else:
            print_front(study)
        return 0
    record = best_record(study)
    if args.json:
        say(json_text(record))
        return 0
    print_best(study, record["value_name"])
    say("lineage (trial: generation, operator, parents, value):")
    for row in record["lineage"]:
        value = "-" if row["value"] is None else f"{row['value']:.6g}"
        number, generation, operator = row["number"], row["generation"], row["operator"]
        say(f"  #{number}: {generation}, {operator}, {row['parents']}, {value}")
    return 0
