"""``optuna-ga dashboard``: optuna-dashboard for a storage, with the GA panels of its studies."""

from __future__ import annotations

import argparse
import errno
import math
import signal
import socket
import threading
from types import FrameType
from typing import Any
from wsgiref.simple_server import WSGIServer
from wsgiref.simple_server import make_server

import optuna
from optuna.storages import BaseStorage

from optuna_ga.cli._common import CLIError
from optuna_ga.cli._common import number
from optuna_ga.cli._common import one_line
from optuna_ga.cli._common import open_storage
from optuna_ga.cli._common import recorded_setting
from optuna_ga.cli._common import say
from optuna_ga.cli._common import storage_arguments
from optuna_ga.storages import mask_url

DASHBOARD_EXTRA = "pip install 'optuna-ga[dashboard]'"


def add_arguments(dash: argparse.ArgumentParser) -> None:
    storage_arguments(dash, study=False)
    dash.add_argument("--host", default="127.0.0.1", help="address to bind")
    dash.add_argument(
        "--port",
        type=number(integer=True, minimum=0, maximum=65535),
        default=8080,
        help="port to bind; 0: a free one",
    )
    dash.add_argument(
        "--publish",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="first save the GA panels and note of every GA study in the storage (studies "
        "from older runs have none), then keep them current while the server runs; "
        "--no-publish writes nothing to the storage",
    )
    dash.add_argument(
        "--refresh-interval",
        metavar="SECONDS",
        type=_refresh_interval,
        default=5.0,
        help="seconds between two checks of the storage for new trials and studies, whose "
        f"GA panels are then published again; from 1 to {MAX_REFRESH_INTERVAL}, 0: no checks",
    )


MAX_REFRESH_INTERVAL = 3600


def _refresh_interval(text: str) -> float:
    """``--refresh-interval``: 0, or a number of seconds from 1 to 3600."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (value == 0 or 1 <= value <= MAX_REFRESH_INTERVAL):
        raise argparse.ArgumentTypeError(
            f"must be 0 or a number of seconds from 1 to {MAX_REFRESH_INTERVAL}, got {text!r}"
        )
    return value


def _publish_options(study: optuna.Study) -> dict[str, Any]:
    """How ``optuna-ga run`` sized the generations of ``study`` (nothing for other studies).

    Raises:
        CLIError: If a recorded setting is out of its range (the message says it is the
            study's).
    """
    size = recorded_setting(study, "population_size")
    return {
        "population_size": size,
        "n_elites": recorded_setting(study, "n_elites", population_size=size),
    }


def publish_all(storage: BaseStorage) -> list[str]:
    """Publish the panels of every study in ``storage`` that has GA records; their names."""
    from optuna_ga.dashboard import publish

    published = []
    for name in optuna.get_all_study_names(storage):
        study = optuna.load_study(study_name=name, storage=storage)
        trials = study.get_trials(deepcopy=False)
        if not any("ga_generation" in t.user_attrs for t in trials):
            continue
        try:
            publish(study, **_publish_options(study))
        except Exception as error:
            say(f"optuna-ga: GA panels of study {study.study_name!r}: {one_line(error)}", err=True)
            continue
        published.append(study.study_name)
    return published


def _serve_until_ctrl_c(server: WSGIServer) -> None:
    """Serve until Ctrl-C, which stops the server between two requests.

    A ``KeyboardInterrupt`` raised while wsgiref answers a request would be caught by its
    handler (a traceback, and the server goes on), so in the main thread Ctrl-C asks the
    server to shut down instead.
    """
    if threading.current_thread() is not threading.main_thread():
        server.serve_forever()
        return

    def stop(signum: int, frame: FrameType | None) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()  # it waits for the loop

    previous = signal.signal(signal.SIGINT, stop)
    try:
        server.serve_forever()
    finally:
        signal.signal(signal.SIGINT, previous)


def listen(host: str, port: int) -> WSGIServer:
    """A WSGI server bound to ``host`` and ``port``, or a one-line error naming the flag.

    The server of ``optuna_dashboard.run_server`` (wsgiref's), bound before anything else is
    done or printed.
    """

    class Server(WSGIServer):
        address_family = socket.AF_INET6 if ":" in host else socket.AF_INET

    try:
        return make_server(host, port, _no_app, server_class=Server)
    except socket.gaierror as error:  # an unknown name
        raise CLIError(f"--host {host!r}: {error.strerror}") from None
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            why = (
                f"--port {port}: address already in use on {host} (another server listens "
                "there: choose another --port, or 0 for a free one)"
            )
        elif error.errno == errno.EADDRNOTAVAIL:
            why = f"--host {host!r}: not an address of this machine ({error.strerror})"
        elif error.errno == errno.EACCES:
            why = f"--port {port}: {error.strerror} (ports below 1024 need privileges)"
        else:
            why = f"cannot listen on --host {host!r} --port {port}: {one_line(error)}"
        raise CLIError(why) from None


def _no_app(environ: Any, start_response: Any) -> list[bytes]:  # pragma: no cover
    start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
    return [b"starting"]


def cmd_dashboard(args: argparse.Namespace) -> int:
    try:
        import optuna_dashboard
        import plotly  # noqa: F401  (the panels need it)
    except ImportError as error:
        raise CLIError(f"{error.name} is not installed: {DASHBOARD_EXTRA}") from error
    from optuna_ga.dashboard import PanelRefresher

    storage = open_storage(args.storage, existing=True, heartbeat_interval=None)
    server = listen(args.host, args.port)
    refresher = None
    try:
        if args.publish:
            names = publish_all(storage)
            if names:
                say(f"published the GA panels of {', '.join(names)}")
            if args.refresh_interval > 0:
                refresher = PanelRefresher(
                    storage=storage,
                    interval=args.refresh_interval,
                    options=_publish_options,
                    on_error=lambda line: say(line, err=True),
                )
        server.set_app(optuna_dashboard.wsgi(storage))
        host = f"[{args.host}]" if ":" in args.host else args.host
        where = f"http://{host}:{server.server_address[1]}/ for {mask_url(args.storage)}"
        if refresher is not None:
            where += f"; GA panels checked every {args.refresh_interval:g} s"
        say(f"optuna-dashboard on {where}")
        if refresher is not None:
            refresher.start()
        _serve_until_ctrl_c(server)
    except KeyboardInterrupt:  # Ctrl-C is how a server stops (here: before it serves)
        pass
    finally:
        if refresher is not None:
            refresher.stop()
        server.server_close()
    return 0
