"""Screenshot the GA panels in optuna-dashboard (for the docs; not a CI test).

Runs the study of ``examples/08_dashboard.py`` in a temporary SQLite file (or, with
``--torch``, an MLP on the digits data set), writes the three figures with
:func:`optuna_ga.visualization.write_figures`, serves optuna-dashboard on 127.0.0.1 and takes
headless Chromium screenshots of the study page::

    apt-get install -y chromium   # Debian; or pass --chromium PATH
    python scripts/screenshot_dashboard.py --out docs/images

Writes ``dashboard.png`` (the study's top page: GA panels), ``dashboard_note.png`` (the study
note with the per-generation table) and ``generations``/``allele_frequency``/``genealogy``
as ``.html`` (plotly.js from a CDN) and ``.png`` (matplotlib).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler
from wsgiref.simple_server import make_server

import optuna
import optuna_dashboard

from optuna_ga import GeneticSampler
from optuna_ga.dashboard import GenerationPublisher
from optuna_ga.dashboard import publish
from optuna_ga.visualization import write_figures

ROOT = Path(__file__).resolve().parents[1]


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def toy_study(storage: str, n_trials: int) -> optuna.Study:
    spec = importlib.util.spec_from_file_location("example08", ROOT / "examples/08_dashboard.py")
    assert spec is not None and spec.loader is not None
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    return example.main(["--storage", storage, "--n-trials", str(n_trials)])


def torch_study(storage: str, n_trials: int) -> optuna.Study:
    from optuna_ga.torch import MLPObjective

    objective = MLPObjective(max_layers=3, units=(16, 256), epochs=3)
    study = optuna.create_study(
        storage=storage,
        study_name="ga-mlp-digits",
        direction=objective.direction,
        sampler=GeneticSampler(population_size=10, n_elites=2, seed=0),
    )
    study.optimize(objective, n_trials=n_trials, callbacks=[GenerationPublisher()])
    publish(study)
    return study


def screenshot(chromium: str, url: str, path: Path, *, height: int) -> None:
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [
                chromium,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                f"--user-data-dir={profile}",
                "--virtual-time-budget=15000",
                f"--window-size=1400,{height}",
                "--hide-scrollbars",
                f"--screenshot={path}",
                url,
            ],
            check=True,
            timeout=180,
            capture_output=True,
        )


def main(argv: list[str] | None = None) -> list[Path]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "docs/images")
    parser.add_argument("--n-trials", type=int, default=200)
    parser.add_argument("--torch", action="store_true", help="MLP on digits instead of the toy")
    parser.add_argument("--chromium", default=shutil.which("chromium") or "chromium")
    args = parser.parse_args(argv)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    args.out.mkdir(parents=True, exist_ok=True)

    with tempfile.TemporaryDirectory() as tmp:
        storage = f"sqlite:///{tmp}/dashboard.db"
        make = torch_study if args.torch else toy_study
        study = make(storage, args.n_trials)
        written = write_figures(study, args.out, plotlyjs="cdn")

        server = make_server(
            "127.0.0.1", 0, optuna_dashboard.wsgi(storage), handler_class=_QuietHandler
        )
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            base = f"http://127.0.0.1:{server.server_port}"
            with urllib.request.urlopen(f"{base}/api/studies", timeout=30) as response:
                summaries = json.loads(response.read())["study_summaries"]
            study_id = next(
                s["study_id"] for s in summaries if s["study_name"] == study.study_name
            )
            pages = {
                "dashboard.png": (f"{base}/dashboard/studies/{study_id}", 2900),
                "dashboard_note.png": (f"{base}/dashboard/studies/{study_id}/note", 1100),
            }
            for name, (url, height) in pages.items():
                start = time.perf_counter()
                screenshot(args.chromium, url, args.out / name, height=height)
                print(f"{args.out / name}  ({url}, {time.perf_counter() - start:.1f} s)")
                written.append(args.out / name)
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=10)
    for path in written:
        print(path)
    return written


if __name__ == "__main__":
    main()
