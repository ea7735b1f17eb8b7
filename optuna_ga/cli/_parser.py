"""The parser of ``optuna-ga``, and running one command with its errors as one line."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import optuna

from optuna_ga import __version__
from optuna_ga.cli import _best
from optuna_ga.cli import _config
from optuna_ga.cli import _dashboard
from optuna_ga.cli import _plot
from optuna_ga.cli import _run
from optuna_ga.cli import _train_best
from optuna_ga.cli._common import CLIError
from optuna_ga.cli._common import Parser
from optuna_ga.cli._common import error_text
from optuna_ga.cli._common import one_line
from optuna_ga.cli._common import say
from optuna_ga.storages import mask_url

COMMANDS = (
    ("run", "run (or resume) a GA study of an MLP or CNN", _config.add_arguments, _run.cmd_run),
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


def _storage_errors() -> tuple[type[Exception], ...]:
    """What a storage that cannot be read raises (SQLAlchemy's errors where it is installed)."""
    try:
        from sqlalchemy.exc import SQLAlchemyError
    except ImportError:
        return (optuna.exceptions.StorageInternalError,)
    return (optuna.exceptions.StorageInternalError, SQLAlchemyError)


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


def _parse(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> argparse.Namespace:
    """``parser.parse_args``, with unknown arguments reported by the command's own parser."""
    args, extra = parser.parse_known_args(argv)
    if extra:
        (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        sub.choices[args.command].error(f"unrecognized arguments: {' '.join(extra)}")
    return args


def run_command(argv: Sequence[str] | None) -> int:
    """Parse ``argv``, run the command; an expected error is one line and exit status 2."""
    try:
        args = _parse(build_parser(), argv)
    except SystemExit as stop:  # --help, --version, or a usage error argparse printed
        return stop.code if isinstance(stop.code, int) else 2
    try:
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        return int(args.func(args))
    except (CLIError, ValueError, FileNotFoundError, ImportError) as error:
        # As argparse words a usage error: `optuna-ga best: error: ...`.
        say(f"optuna-ga {args.command}: error: {error_text(error, args.storage)}", err=True)
        return 2
    except _storage_errors() as error:  # e.g. a corrupt page: "database disk image is malformed"
        why = one_line(error, url=args.storage)
        say(
            f"optuna-ga {args.command}: error: storage {mask_url(args.storage)} is unreadable: "
            f"{why}",
            err=True,
        )
        return 2
