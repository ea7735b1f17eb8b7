"""Live GA panels: the publisher callback, read back through optuna-dashboard's real WSGI app."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler
from wsgiref.simple_server import WSGIServer
from wsgiref.simple_server import make_server

import optuna
import optuna_dashboard
import pytest

from optuna_ga import GeneticSampler
from optuna_ga.dashboard import NOTE_HEADING
from optuna_ga.dashboard import PARETO_PLOT_ID
from optuna_ga.dashboard import PLOT_IDS
from optuna_ga.dashboard import GenerationPublisher
from optuna_ga.dashboard import PanelRefresher
from optuna_ga.dashboard import panels_as_of
from optuna_ga.dashboard import publish
from optuna_ga.dashboard import summary_note


def objective(trial: optuna.Trial) -> float:
    x = trial.suggest_float("x", -5.0, 5.0)
    opt = trial.suggest_categorical("opt", ["adam", "sgd", "rmsprop"])
    if trial.number == 7:
        raise optuna.TrialPruned()
    return x**2 + (opt != "adam")


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def serve() -> Iterator[Any]:
    """Start optuna-dashboard's WSGI app on 127.0.0.1 and a free port; yield a GET function."""
    servers: list[tuple[WSGIServer, threading.Thread]] = []

    def start(storage: str) -> Any:
        server = make_server(
            "127.0.0.1", 0, optuna_dashboard.wsgi(storage), handler_class=_QuietHandler
        )
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        servers.append((server, thread))
        base = f"http://127.0.0.1:{server.server_port}"

        def get(path: str) -> Any:
            with urllib.request.urlopen(base + path, timeout=30) as response:
                return json.loads(response.read())

        return get

    yield start
    for server, thread in servers:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def plot_attr_keys(study: optuna.Study) -> list[str]:
    attrs = study._storage.get_study_system_attrs(study._study_id)
    return sorted(k for k in attrs if k.startswith("dashboard:"))


def test_publisher_publishes_each_completed_generation(sqlite_url: str, serve: Any) -> None:
    study = optuna.create_study(
        storage=sqlite_url, sampler=GeneticSampler(population_size=5, n_elites=1, seed=0)
    )
    publisher = GenerationPublisher(min_interval=3600)
    study.optimize(objective, n_trials=21, callbacks=[publisher])  # generations 0-4: 5 + 4 * 4
    assert publisher.published == [0, 1, 2, 3, 4]
    assert len(publisher.seconds) == 6  # after the first trial, then after each generation

    get = serve(sqlite_url)
    (summary,) = get("/api/studies")["study_summaries"]
    detail = get(f"/api/studies/{summary['study_id']}?after=0")
    graphs = {g["id"]: json.loads(g["graph_object"]) for g in detail["plotly_graph_objects"]}
    assert set(graphs) == set(PLOT_IDS.values())
    generations = {t.get("name"): t for t in graphs["optuna-ga-generations"]["data"]}
    assert generations["best so far"]["x"] == [0, 1, 2, 3, 4]
    allele_names = {t.get("name") for t in graphs["optuna-ga-allele-frequency"]["data"]}
    assert {"adam", "sgd", "rmsprop"} <= allele_names
    genealogy = graphs["optuna-ga-genealogy"]["data"]
    assert genealogy[0]["name"] == "parent → child"
    assert "pruned / failed" in {t.get("name") for t in genealogy}

    body = detail["note"]["body"]
    assert body.startswith(NOTE_HEADING)
    table = [line for line in body.splitlines() if line.startswith("| ") and "gen" not in line]
    assert [int(line.split("|")[1]) for line in table] == [0, 1, 2, 3, 4]
    cells = [[c.replace("&emsp;", "").strip() for c in line.split("|")[1:-1]] for line in table]
    assert all(row[-1] == "0" for row in cells)  # no duplicates


def test_publishing_overwrites_instead_of_appending(sqlite_url: str) -> None:
    study = optuna.create_study(
        storage=sqlite_url, sampler=GeneticSampler(population_size=5, n_elites=1, seed=1)
    )
    study.optimize(objective, n_trials=13)
    publish(study)
    keys = plot_attr_keys(study)
    for _ in range(3):
        publish(study)
    assert plot_attr_keys(study) == keys
    ids = {k.split(":")[2] for k in keys if k.startswith("dashboard:plot_data:")}
    assert ids == set(PLOT_IDS.values())


def test_note_keeps_text_above_the_heading(sqlite_url: str) -> None:
    study = optuna.create_study(
        storage=sqlite_url, sampler=GeneticSampler(population_size=5, n_elites=1, seed=2)
    )
    study.optimize(objective, n_trials=9)
    optuna_dashboard.save_note(study, "My **own** notes.")
    publish(study, max_note_rows=1)
    publish(study, max_note_rows=1)
    body = optuna_dashboard.get_note(study)
    assert body.startswith("My **own** notes.\n\n" + NOTE_HEADING)
    assert body.count(NOTE_HEADING) == 1
    assert "| … 1 earlier |" in body


def note_generations(study: optuna.Study) -> list[int]:
    """The generations in the study note's table."""
    body = optuna_dashboard.get_note(study)
    rows = [line for line in body.splitlines() if line.startswith("| ") and "gen" not in line]
    return [int(line.split("|")[1]) for line in rows]


def test_the_last_unfinished_generation_is_published_too(sqlite_url: str) -> None:
    # As the README runs it: 40 trials of population 10 with 2 elites are generations 0-3
    # (trials 0-33) and 6 trials of generation 4. The callback used to publish completed
    # generations only, so the panels stopped at generation 3.
    study = optuna.create_study(
        storage=sqlite_url, sampler=GeneticSampler(population_size=10, n_elites=2, seed=0)
    )
    publisher = GenerationPublisher(min_interval=0.2)
    study.optimize(objective, n_trials=40, callbacks=[publisher])
    assert publisher.published == [0, 1, 2, 3]  # completed generations
    deadline = time.monotonic() + 60  # the throttled publish comes at most 0.2 s later
    while panels_as_of(study) != {"trial": 39, "finished": 40} and time.monotonic() < deadline:
        time.sleep(0.05)
    assert panels_as_of(study) == {"trial": 39, "finished": 40}
    assert note_generations(study) == [0, 1, 2, 3, 4]
    assert publisher.as_of == {"trial": 39, "finished": 40}
    assert not publisher.flush()  # nothing left to publish


def test_a_trial_that_a_publish_already_showed_is_not_published_again(sqlite_url: str) -> None:
    # What the timer thread does when it reads the study after trial 2 finished but before
    # Optuna calls the callback for trial 2: the callback then has nothing left to publish.
    study = optuna.create_study(
        storage=sqlite_url, sampler=GeneticSampler(population_size=10, n_elites=2, seed=0)
    )
    study.optimize(objective, n_trials=3)
    publisher = GenerationPublisher(min_interval=3600)
    first, _, last = study.get_trials()
    publisher(study, first)  # the first publish: it reads all three finished trials
    assert publisher.as_of == {"trial": 2, "finished": 3}
    publisher(study, last)
    assert len(publisher.seconds) == 1
    assert not publisher.flush()  # nothing held back: trial 2 is shown
    study.optimize(objective, n_trials=1)
    publisher(study, study.get_trials()[-1])  # a trial the panels do not show yet
    assert publisher.flush() and publisher.as_of == {"trial": 3, "finished": 4}


def test_publisher_throttles_and_flush_publishes_what_is_left(sqlite_url: str) -> None:
    study = optuna.create_study(
        storage=sqlite_url, sampler=GeneticSampler(population_size=6, n_elites=1, seed=0)
    )
    publisher = GenerationPublisher(min_interval=3600)
    study.optimize(objective, n_trials=16, callbacks=[publisher])  # generations of 6, 5, 5
    # The first trial, then each completed generation (they are never held back).
    assert publisher.published == [0, 1, 2] and len(publisher.seconds) == 4
    assert panels_as_of(study) == {"trial": 15, "finished": 16}
    keys = plot_attr_keys(study)
    assert not publisher.flush()
    study.optimize(objective, n_trials=2, callbacks=[publisher])  # held back for an hour
    assert panels_as_of(study) == {"trial": 15, "finished": 16}
    assert publisher.flush()
    assert panels_as_of(study) == {"trial": 17, "finished": 18}
    assert note_generations(study) == [0, 1, 2, 3]
    assert len(publisher.seconds) == 5 and not publisher.flush()
    after = plot_attr_keys(study)  # replaced, not appended: the same figures and note keys
    plot_ids = {k.split(":")[2] for k in after if k.startswith("dashboard:plot_data:")}
    assert plot_ids == set(PLOT_IDS.values())
    assert [k for k in after if "note" in k] == [k for k in keys if "note" in k]


def test_every_trial_end_publishes_without_a_minimum_interval() -> None:
    study = optuna.create_study(sampler=GeneticSampler(population_size=5, n_elites=1, seed=0))
    publisher = GenerationPublisher(min_interval=0)
    study.optimize(objective, n_trials=8, callbacks=[publisher])  # generation 1 is 5..8
    assert publisher.published == [0] and len(publisher.seconds) == 8
    assert note_generations(study) == [0, 1]
    assert panels_as_of(study) == {"trial": 7, "finished": 8}


def test_publisher_needs_a_population_size_without_a_genetic_sampler() -> None:
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    with pytest.raises(ValueError, match="population_size"):
        study.optimize(objective, n_trials=1, callbacks=[GenerationPublisher()])
    publisher = GenerationPublisher(population_size=3, n_elites=0)
    study.optimize(objective, n_trials=6, callbacks=[publisher])
    assert publisher.published == [0, 1]


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"population_size": 1}, "population_size"),
        ({"population_size": 4, "n_elites": 4}, "n_elites"),
        ({"n_elites": -1}, "n_elites"),
        ({"top_k": 0}, "top_k"),
        ({"max_note_rows": 0}, "max_note_rows"),
        ({"min_interval": -1}, "min_interval"),
        ({"min_interval": 3601}, "min_interval"),
        ({"min_interval": float("nan")}, "min_interval"),
        ({"min_interval": "5"}, "min_interval"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs: dict[str, Any], name: str) -> None:
    with pytest.raises(ValueError, match=name):
        GenerationPublisher(**kwargs)


def test_example_runs_and_publishes(sqlite_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    path = Path(__file__).resolve().parents[1] / "examples" / "08_dashboard.py"
    spec = importlib.util.spec_from_file_location("example_08_dashboard", path)
    assert spec is not None and spec.loader is not None
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    argv = ["--storage", sqlite_url, "--n-trials", "12", "--population-size", "5"]
    study = example.main(argv)
    assert f"optuna-dashboard {sqlite_url}" in capsys.readouterr().out
    assert optuna_dashboard.get_note(study).startswith(NOTE_HEADING)


_PANEL_ORDER = """
import io, json, sys, wsgiref.util
import optuna, optuna_dashboard
from optuna_ga import GeneticSampler
from optuna_ga.dashboard import publish
from optuna_ga.dashboard import summary_note
optuna.logging.set_verbosity(optuna.logging.WARNING)
study = optuna.create_study(sampler=GeneticSampler(population_size=4, seed=0))
study.optimize(lambda t: t.suggest_float("x", -1, 1) ** 2, n_trials=4)
publish(study, note=False)
environ = {"PATH_INFO": "/api/studies/0", "QUERY_STRING": "after=0", "wsgi.input": io.BytesIO()}
wsgiref.util.setup_testing_defaults(environ)
body = b"".join(optuna_dashboard.wsgi(study._storage)(environ, lambda *args: None))
print(json.dumps([g["id"] for g in json.loads(body)["plotly_graph_objects"]]))
"""


def test_dashboard_panel_order_is_not_ours_to_fix_and_the_docs_say_so() -> None:
    # optuna-dashboard 0.21 lists custom plots in the iteration order of a set of their ids,
    # which follows Python's per-process string hashing, and its API takes no order. If this
    # test fails, optuna-dashboard orders them now: fix the order and the sentence in the docs.
    orders = set()
    for seed in ("0", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        out = subprocess.run(
            [sys.executable, "-c", _PANEL_ORDER],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        ).stdout
        ids = json.loads(out.splitlines()[-1])
        assert sorted(ids) == sorted(PLOT_IDS.values())
        orders.add(tuple(ids))
    assert len(orders) == 2
    plots_md = (Path(__file__).resolve().parents[1] / "docs/guide/plots.md").read_text()
    assert "in no fixed order" in plots_md


def test_docs_name_the_trial_list_for_the_ga_attrs() -> None:
    # optuna-dashboard 0.21 shows a trial's user attrs under "User Attributes" in its trial list.
    root = Path(__file__).resolve().parents[1]
    files = [root / "README.md", *root.glob("docs/**/*.md"), *root.glob("optuna_ga/**/*.py")]
    said = [f.relative_to(root) for f in files if "trial table" in f.read_text().lower()]
    assert not said
    assert "trial list" in (root / "README.md").read_text()
    assert "trial list" in (root / "docs/getting-started.md").read_text()


def _table_cells(rendered: str) -> list[str]:
    """The text of each ``th`` and ``td`` of an HTML page, in order."""
    cells: list[str] = []
    inside = False

    class Cells(HTMLParser):
        def handle_starttag(self, tag: str, attrs: Any) -> None:
            nonlocal inside
            if tag in ("td", "th"):
                inside = True
                cells.append("")

        def handle_endtag(self, tag: str) -> None:
            nonlocal inside
            inside = inside and tag not in ("td", "th")

        def handle_data(self, data: str) -> None:
            if inside:
                cells[-1] += data

    Cells(convert_charrefs=True).feed(rendered)
    return cells


def test_note_table_cells_are_padded_when_rendered() -> None:
    # optuna-dashboard renders the note as GitHub-flavoured Markdown without raw HTML and
    # without table styles: cells stood edge to edge ("0.09405 0.2399"). A Markdown table
    # trims spaces around a cell's text, so the padding must survive that trimming.
    markdown = pytest.importorskip("markdown")
    rows = [
        {"generation": g, "n_trials": 20, "n_complete": 19, "best": 0.09405, "mean": 0.2399,
         "best_so_far": 0.09405, "diversity": 0.491, "distinct": 1.0, "duplicates": 0}
        for g in range(3)
    ]  # fmt: skip
    note = summary_note(rows, direction="minimize")
    cells = _table_cells(markdown.markdown(note, extensions=["tables"]))
    header, body = cells[:9], cells[9:]
    assert [c.strip() for c in header][:3] == ["gen", "trials", "complete"]
    assert len(body) == 3 * 9
    for row in (header, body[:9], body[9:18], body[18:]):
        for cell in row[1:]:  # a gap before every cell but the first, as wide as an em
            assert cell.startswith("\u2003"), repr(cell)


def dashboard_panels(get: Any) -> tuple[dict[str, Any], str]:
    """The GA figures (by id) and the note of the storage's only study, as the dashboard serves."""
    (summary,) = get("/api/studies")["study_summaries"]
    detail = get(f"/api/studies/{summary['study_id']}?after=0")
    graphs = {g["id"]: json.loads(g["graph_object"]) for g in detail["plotly_graph_objects"]}
    return graphs, detail["note"]["body"]


def test_panels_and_note_say_as_of_which_trial(sqlite_url: str, serve: Any) -> None:
    study = optuna.create_study(
        storage=sqlite_url, sampler=GeneticSampler(population_size=5, n_elites=1, seed=0)
    )
    study.optimize(objective, n_trials=9)  # trial 7 is pruned: finished all the same
    study.ask()  # trial 9 runs: not counted
    publish(study)
    assert panels_as_of(study) == {"trial": 8, "finished": 9}
    get = serve(sqlite_url)
    graphs, note = dashboard_panels(get)
    assert set(graphs) == set(PLOT_IDS.values())
    for graph in graphs.values():
        assert graph["layout"]["title"]["text"].endswith(
            "<br><sup>as of trial 8 (9 finished)</sup>"
        )
    assert "As of trial 8 (9 finished)." in note

    study.optimize(objective, n_trials=2)  # trials 10 and 11; 9 still runs
    publish(study)
    assert panels_as_of(study) == {"trial": 11, "finished": 11}
    graphs, note = dashboard_panels(get)
    assert graphs["optuna-ga-genealogy"]["layout"]["title"]["text"].endswith(
        "as of trial 11 (11 finished)</sup>"
    )
    assert "As of trial 11 (11 finished)." in note
    assert panels_as_of(optuna.create_study()) is None


# -- the refresher that `optuna-ga dashboard` runs beside the server ---------------------------


def ga_study(url: str, name: str, n_trials: int, **kwargs: Any) -> optuna.Study:
    study = optuna.create_study(
        storage=url,
        study_name=name,
        load_if_exists=True,
        sampler=GeneticSampler(population_size=5, n_elites=1, seed=0),
    )
    study.optimize(objective, n_trials=n_trials, **kwargs)
    return study


def test_refresher_republishes_a_study_whose_trials_changed(sqlite_url: str) -> None:
    study = ga_study(sqlite_url, "ga", 10)  # run without publishing
    refresher = PanelRefresher(storage=sqlite_url)
    assert refresher.tick() == ["ga"]
    assert panels_as_of(study) == {"trial": 9, "finished": 10}
    assert refresher.tick() == []  # nothing changed: nothing published
    ga_study(sqlite_url, "ga", 5)  # trials 10-14 land in storage
    assert refresher.tick() == ["ga"]
    assert panels_as_of(study) == {"trial": 14, "finished": 15}
    assert note_generations(study) == [0, 1, 2, 3]
    assert refresher.tick() == []


def test_refresher_finds_studies_created_after_it_started(sqlite_url: str) -> None:
    ga_study(sqlite_url, "first", 6)
    refresher = PanelRefresher(storage=sqlite_url)
    assert refresher.tick() == ["first"]
    tpe = optuna.create_study(storage=sqlite_url, study_name="tpe")
    tpe.optimize(objective, n_trials=3)
    empty = optuna.create_study(storage=sqlite_url, study_name="empty")
    later = ga_study(sqlite_url, "later", 7)
    assert refresher.tick() == ["later"]  # not the TPE study, not the empty one
    assert panels_as_of(later) == {"trial": 6, "finished": 7}
    assert panels_as_of(tpe) is None and panels_as_of(empty) is None
    ga_study(sqlite_url, "empty", 3)  # a GA run in the study that had no trials
    assert refresher.tick() == ["empty"]


def test_refresher_leaves_panels_that_are_current(sqlite_url: str) -> None:
    # Published by the run itself (GenerationPublisher, `optuna-ga run`): nothing to do.
    study = ga_study(sqlite_url, "ga", 8, callbacks=[GenerationPublisher(min_interval=0)])
    keys = study._storage.get_study_system_attrs(study._study_id)
    assert PanelRefresher(storage=sqlite_url).tick() == []
    assert study._storage.get_study_system_attrs(study._study_id) == keys


def test_refresher_publishes_a_bounded_number_of_studies_per_tick(sqlite_url: str) -> None:
    for name in ("a", "b", "c"):
        ga_study(sqlite_url, name, 6)
    refresher = PanelRefresher(storage=sqlite_url, max_per_tick=2)
    assert refresher.tick() == ["a", "b"]
    ga_study(sqlite_url, "a", 2)  # "a" changes again, but "c" has waited longer
    assert refresher.tick() == ["c", "a"]
    assert refresher.tick() == []


def test_refresher_reports_a_failing_study_once_and_goes_on(sqlite_url: str) -> None:
    for name in ("bad", "good"):
        ga_study(sqlite_url, name, 6)

    def options(study: optuna.Study) -> dict[str, Any]:
        if study.study_name == "bad":
            raise RuntimeError("no panels for you\nsecond line")
        return {"population_size": 5, "n_elites": 1}

    errors: list[str] = []
    refresher = PanelRefresher(
        storage=sqlite_url, max_per_tick=1, options=options, on_error=errors.append
    )
    assert refresher.tick() == []  # "bad" first in line; it fails and goes to the back
    assert refresher.tick() == ["good"]
    assert refresher.tick() == []  # "bad" again: the same line is not said again
    assert errors == ["optuna-ga: GA panels of study 'bad': no panels for you second line"]


class FlakyStorage(optuna.storages.RDBStorage):
    """An RDB storage whose study list fails the first ``failures`` times, as a lost server."""

    def __init__(self, url: str, failures: int) -> None:
        super().__init__(url)
        self.failures = failures

    def get_all_studies(self) -> list[optuna.study.FrozenStudy]:
        if self.failures > 0:
            self.failures -= 1
            raise optuna.exceptions.StorageInternalError("connection refused\n[SQL: select]")
        return super().get_all_studies()


def test_refresher_thread_survives_storage_errors_and_stops(sqlite_url: str) -> None:
    study = ga_study(sqlite_url, "ga", 6)
    errors: list[str] = []
    refresher = PanelRefresher(
        storage=FlakyStorage(sqlite_url, failures=3), interval=0.05, on_error=errors.append
    )
    refresher.start()
    try:
        deadline = time.monotonic() + 60
        while panels_as_of(study) is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert panels_as_of(study) == {"trial": 5, "finished": 6}
        ga_study(sqlite_url, "ga", 2)
        while panels_as_of(study) != {"trial": 7, "finished": 8} and time.monotonic() < deadline:
            time.sleep(0.05)
        assert panels_as_of(study) == {"trial": 7, "finished": 8}
        assert refresher.running
    finally:
        refresher.stop()
    assert not refresher.running
    # Three failures in a row are one outage: one line, without the SQL.
    assert errors == ["optuna-ga: refreshing the GA panels failed: connection refused"]


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"interval": 0}, "interval"),
        ({"interval": 3601}, "interval"),
        ({"interval": float("inf")}, "interval"),
        ({"max_per_tick": 0}, "max_per_tick"),
        ({"max_per_tick": 1.5}, "max_per_tick"),
    ],
)
def test_refresher_bad_arguments_name_the_argument(
    sqlite_url: str, kwargs: dict[str, Any], name: str
) -> None:
    with pytest.raises(ValueError, match=name):
        PanelRefresher(storage=sqlite_url, **kwargs)


def test_a_refresher_stopped_before_its_thread_started_stops_quietly(tmp_path) -> None:
    # Ctrl-C can land in `optuna-ga dashboard` between creating the thread and starting it.
    import threading

    from optuna_ga.dashboard import PanelRefresher

    refresher = PanelRefresher(storage=f"sqlite:///{tmp_path}/r.db", interval=1)
    refresher._thread = threading.Thread(target=lambda: None)  # created, never started
    refresher.stop()
    assert not refresher.running


def two_objectives(trial: optuna.Trial) -> tuple[float, float]:
    x, y = trial.suggest_float("x", 0.0, 1.0), trial.suggest_float("y", 0.0, 1.0)
    return x, (1 + 9 * y) * (1 - (x / (1 + 9 * y)) ** 0.5)


def test_multi_objective_study_gets_its_panels_and_the_pareto_fronts(sqlite_url: str) -> None:
    study = optuna.create_study(
        storage=sqlite_url,
        study_name="mo",
        directions=["minimize", "minimize"],
        sampler=GeneticSampler(population_size=6, seed=0),
    )
    publisher = GenerationPublisher(min_interval=3600)
    study.optimize(two_objectives, n_trials=24, callbacks=[publisher])
    assert publisher.published == [0, 1, 2, 3, 4]
    keys = plot_attr_keys(study)
    ids = {k.split(":")[2] for k in keys if k.startswith("dashboard:plot_data:")}
    assert ids == {*PLOT_IDS.values(), PARETO_PLOT_ID}
    note = optuna_dashboard.get_note(study)
    assert "(Pareto fitness): best so far" in note
    assert publish(study) == [*PLOT_IDS.values(), PARETO_PLOT_ID]

    study.optimize(two_objectives, n_trials=2)  # the refresher republishes it too
    refresher = PanelRefresher(storage=sqlite_url, interval=5)
    assert refresher.tick() == ["mo"]
    assert panels_as_of(study) == {"trial": 25, "finished": 26}
