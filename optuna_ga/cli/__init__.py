"""The ``optuna-ga`` command: run GA studies of the PyTorch objectives, inspect and reuse them.

``optuna-ga run`` starts (or resumes) a study and runs it in ``--workers`` local processes; the
same command on several machines with one PostgreSQL URL makes them cooperate on one study.
``best``, ``train-best``, ``plot`` and ``dashboard`` read a study back. Every error is one line
on stderr (exit status 2), and passwords in storage URLs are never printed.

One module per command (``_run``, ``_best``, ``_train_best``, ``_plot``, ``_dashboard``), each
with its ``add_arguments`` and ``cmd_*`` function; ``_common`` holds what they share, and
``_workers`` and ``_progress`` the machinery of ``run``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import optuna

from optuna_ga import __version__
from optuna_ga.cli import _best
from optuna_ga.cli import _dashboard
from optuna_ga.cli import _plot
from optuna_ga.cli import _run
from optuna_ga.cli import _train_best
from optuna_ga.cli._common import CLIError
from optuna_ga.cli._common import Parser
from optuna_ga.cli._common import one_line
from optuna_ga.cli._common import say
from optuna_ga.cli._progress import generation_summary

__all__ = ["build_parser", "generation_summary", "main"]

COMMANDS = (
    ("run", "run (or resume) a GA study of an MLP or CNN", _run.add_arguments, _run.cmd_run),
    (
        "best",
        "print the best trial, its params and lineage",
        _best.add_arguments,
        _best.cmd_best,
    ),
    (
        "train-best",
        "retrain the best trial longer, test and save it",
        _train_best.add_arguments,
        _train_best.cmd_train_best,
    ),
    ("plot", "write the GA figures as HTML and PNG", _plot.add_arguments, _plot.cmd_plot),
    (
        "dashboard",
        "start optuna-dashboard for the storage, with the GA panels",
        _dashboard.add_arguments,
        _dashboard.cmd_dashboard,
    ),
)


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``optuna-ga`` and its subcommands."""
    parser = Parser(
        prog="optuna-ga",
        description="Run GA studies of the PyTorch objectives, inspect and reuse them.",
    )
    parser.add_argument("--version", action="version", version=f"optuna-ga {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    for name, summary, add_arguments, command in COMMANDS:
        p = sub.add_parser(name, help=summary, description=summary[0].upper() + summary[1:] + ".")
        add_arguments(p)
        p.set_defaults(func=command)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``optuna-ga`` and ``python -m optuna_ga``; returns the exit status."""
    try:
        args = build_parser().parse_args(argv)
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        return int(args.func(args))
    except (CLIError, ValueError, FileNotFoundError, ImportError) as error:
        say(f"optuna-ga: error: {one_line(error)}", err=True)
        return 2
    except KeyboardInterrupt:
        say("optuna-ga: interrupted", err=True)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
