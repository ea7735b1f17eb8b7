"""Shared helpers of the benchmark scripts: environment description and markdown output."""

from __future__ import annotations

import contextlib
import datetime
import os
import platform
import shlex
import sys
from importlib import metadata

import optuna


def environment() -> str:
    """One markdown paragraph: date, machine and versions."""
    versions = []
    for package in ("optuna", "optuna-ga", "numpy", "torch"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions.append(f"{package} {metadata.version(package)}")
    return (
        f"Date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC. "
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, {platform.system()}. "
        f"Python {platform.python_version()}; {', '.join(versions)}."
    )


def command(module: str, argv: list[str] | None) -> str:
    """The command line that reproduces a run."""
    args = sys.argv[1:] if argv is None else argv
    return "python -m " + shlex.join([module, *args])


def quiet() -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def report(text: str, out: str | None) -> str:
    """Print a run's markdown and, when ``out`` is given, write it there too."""
    print(text)
    if out:
        with open(out, "w") as f:
            f.write(text)
    return text
