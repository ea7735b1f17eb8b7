"""``optuna-ga plot``: the GA figures of a study as HTML and PNG files."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from optuna_ga.cli._common import CLIError
from optuna_ga.cli._common import flag_names
from optuna_ga.cli._common import load_study
from optuna_ga.cli._common import number
from optuna_ga.cli._common import one_line
from optuna_ga.cli._common import recorded_setting
from optuna_ga.cli._common import say
from optuna_ga.cli._common import storage_arguments
from optuna_ga.cli._config import user_message

#: Arguments of ``write_figures`` that ``run`` has no flag for (see :func:`user_message`).
FLAGS = {"params": "--params", "top_k": "--top-k"}


def add_arguments(plot: argparse.ArgumentParser) -> None:
    storage_arguments(plot)
    plot.add_argument("--out", default="optuna_ga_plots", help="output folder")
    plot.add_argument(
        "--format",
        nargs="+",
        choices=("html", "png"),
        default=["html", "png"],
        help="file formats (default: html png)",
    )
    plot.add_argument("--params", help="genes of the allele plot, comma-separated (default: all)")
    plot.add_argument(
        "--top-k",
        type=number(integer=True, minimum=1),
        help="genealogy of the k best trials only (default: every trial)",
    )
    plot.add_argument(
        "--population-size",
        type=number(integer=True, minimum=2),
        help="for trials without GA records (default: the study's recorded setting)",
    )
    plot.add_argument(
        "--n-elites",
        type=number(integer=True, minimum=0),
        help="with --population-size (default: the study's recorded setting)",
    )


def cmd_plot(args: argparse.Namespace) -> int:
    try:
        from optuna_ga.visualization import write_figures
        from optuna_ga.visualization._imports import require

        # What write_figures imports only once it made the folder.
        for module in (["plotly"] if "html" in args.format else []) + (
            ["matplotlib"] if "png" in args.format else []
        ):
            require(module)
    except ImportError as error:
        raise CLIError(one_line(error)) from error
    study = load_study(args.storage, args.study_name)
    population_size = args.population_size or recorded_setting(
        study, "population_size", flag="--population-size"
    )
    n_elites = args.n_elites
    if n_elites is None:
        n_elites = recorded_setting(
            study, "n_elites", flag="--n-elites", population_size=population_size
        )
    try:
        paths = write_figures(  # an error leaves no partial output
            study,
            Path(args.out),
            formats=args.format,
            params=args.params.split(",") if args.params else None,
            top_k=args.top_k,
            population_size=population_size,
            n_elites=n_elites,
        )
    except json.JSONDecodeError:
        raise  # a corrupt stored value, which run_command names
    except ValueError as error:
        raise CLIError(flag_names(user_message(str(error)), FLAGS)) from None
    for path in paths:
        say(str(path))
    return 0
