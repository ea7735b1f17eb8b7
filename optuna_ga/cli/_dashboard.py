"""``optuna-ga dashboard``: optuna-dashboard for a storage, with the GA panels of its studies."""

from __future__ import annotations

import argparse

import optuna
from optuna.storages import BaseStorage

from optuna_ga.cli._common import CLIError
from optuna_ga.cli._common import number
from optuna_ga.cli._common import one_line
from optuna_ga.cli._common import open_storage
from optuna_ga.cli._common import recorded_config
from optuna_ga.cli._common import say
from optuna_ga.cli._common import storage_arguments
from optuna_ga.storages import mask_url

DASHBOARD_EXTRA = "pip install 'optuna-ga[dashboard]'"


def add_arguments(dash: argparse.ArgumentParser) -> None:
    storage_arguments(dash, study=False)
    dash.add_argument("--host", default="127.0.0.1", help="address to bind")
    dash.add_argument(
        "--port", type=number(integer=True, minimum=1), default=8080, help="port to bind"
    )
    dash.add_argument(
        "--publish",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="first save the GA panels and note of every GA study in the storage (studies "
        "from older runs have none)",
    )


def publish_all(storage: BaseStorage) -> list[str]:
    """Publish the panels of every study in ``storage`` that has GA records; their names."""
    from optuna_ga.dashboard import publish

    published = []
    for summary in storage.get_all_studies():
        study = optuna.load_study(study_name=summary.study_name, storage=storage)
        trials = study.get_trials(deepcopy=False)
        if not any("ga_generation" in t.user_attrs for t in trials):
            continue
        recorded = recorded_config(study)
        try:
            publish(
                study,
                population_size=recorded.get("population_size"),
                n_elites=recorded.get("n_elites"),
            )
        except Exception as error:
            say(f"optuna-ga: GA panels of study {study.study_name!r}: {one_line(error)}", err=True)
            continue
        published.append(study.study_name)
    return published


def cmd_dashboard(args: argparse.Namespace) -> int:
    try:
        import optuna_dashboard
        import plotly  # noqa: F401  (the panels need it)
    except ImportError as error:
        raise CLIError(f"{error.name} is not installed: {DASHBOARD_EXTRA}") from error
    storage = open_storage(args.storage, existing=True, heartbeat_interval=None)
    if args.publish:
        names = publish_all(storage)
        if names:
            say(f"published the GA panels of {', '.join(names)}")
    say(f"optuna-dashboard on http://{args.host}:{args.port}/ for {mask_url(args.storage)}")
    optuna_dashboard.run_server(storage, host=args.host, port=args.port)
    return 0
