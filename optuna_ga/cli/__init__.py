"""The ``optuna-ga`` command: run GA studies of the PyTorch objectives, inspect and reuse them.

``optuna-ga run`` starts (or resumes) a study and runs it in ``--workers`` local processes; the
same command on several machines with one PostgreSQL URL makes them cooperate on one study.
``best``, ``train-best``, ``plot`` and ``dashboard`` read a study back. Every error is one line
on stderr (exit status 2), and passwords in storage URLs are never printed.

One module per command (``_run``, ``_best``, ``_train_best``, ``_plot``, ``_dashboard``), each
with its ``add_arguments`` and ``cmd_*`` function (``run``'s options, each declared once, are in
``_config``); ``_parser`` puts them together, ``_common`` holds what they share, and
``_workers`` and ``_progress`` the machinery of ``run``.

This module imports nothing heavy: :func:`main` imports Optuna inside its own handling of
Ctrl-C, so an interrupt during start-up, too, ends in one line and exit status 130.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Sequence

__all__ = ["Interrupted", "build_parser", "main"]


class Interrupted(KeyboardInterrupt):
    """Ctrl-C, raised again by a command with the line that says what it stopped."""


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``optuna-ga`` and its subcommands."""
    from optuna_ga.cli._parser import build_parser

    return build_parser()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``optuna-ga`` and ``python -m optuna_ga``; returns the exit status."""
    try:
        from optuna_ga.cli._parser import run_command

        return run_command(argv)
    except KeyboardInterrupt as stop:
        text = str(stop) if isinstance(stop, Interrupted) else "optuna-ga: interrupted"
        with contextlib.suppress(OSError):
            print(text, file=sys.stderr, flush=True)
        # An interrupt that landed inside ``exec`` of a string (dataclasses build their methods
        # so, while modules are imported) leaves CPython's "unhandled KeyboardInterrupt" flag
        # set, although it was handled here. Under ``python -m`` the process would then die of
        # SIGINT instead of exiting 130. Every ``exec`` of a string clears the flag first.
        exec("pass")
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
