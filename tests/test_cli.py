"""The ``optuna-ga`` command end to end, on real SQLite, PostgreSQL and journal storages."""

from __future__ import annotations

import json
import math
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import optuna
import optuna_dashboard
import pytest
from optuna.trial import TrialState

from optuna_ga import GeneticSampler
from optuna_ga import canonical_hash
from optuna_ga._population import generation_of
from optuna_ga.cli import build_parser
from optuna_ga.cli import main
from optuna_ga.cli._config import RunConfig
from optuna_ga.cli._run import with_stored_generations
from optuna_ga.dashboard import NOTE_HEADING
from optuna_ga.dashboard import PLOT_IDS
from optuna_ga.storages import make_storage

TINY = ["--epochs", "2", "--population-size", "4", "--n-elites", "1", "--pruner", "none"]


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "optuna_ga", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )


def load(url: str, name: str = "mlp-digits") -> optuna.Study:
    return optuna.load_study(study_name=name, storage=url)


def panel_ids(study: optuna.Study) -> set[str]:
    """The optuna-dashboard figures saved to the study."""
    attrs = study._storage.get_study_system_attrs(study._study_id)
    return {k.split(":")[2] for k in attrs if k.startswith("dashboard:plot_data:")}


def check_study(study: optuna.Study, population_size: int = 4, n_elites: int = 1) -> None:
    """No duplicate parameter sets, every trial knows its generation, best is the best."""
    evaluated = study.get_trials(states=(TrialState.COMPLETE, TrialState.PRUNED))
    hashes = [canonical_hash(t.params) for t in evaluated]
    assert len(hashes) == len(set(hashes))
    for trial in study.trials:
        expected = generation_of(trial.number, population_size, n_elites)[0]
        assert trial.user_attrs["ga_generation"] == expected
    values = [t.value for t in study.get_trials(states=(TrialState.COMPLETE,))]
    assert study.best_value == max(values)


def test_run_then_resume_on_sqlite(sqlite_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--storage", sqlite_url, "--n-trials", "6", *TINY]) == 0
    out = capsys.readouterr().out
    assert "generation 0: best" in out and "best trial #" in out
    assert "maximizing the validation accuracy" in out and "): validation accuracy 0." in out
    study = load(sqlite_url)
    assert len(study.trials) == 6
    # Published by default: the GA panels and the note, for optuna-dashboard.
    assert panel_ids(study) == set(PLOT_IDS.values())
    assert optuna_dashboard.get_note(study).startswith(NOTE_HEADING)
    assert main(["run", "--storage", sqlite_url, "--n-trials", "5", *TINY]) == 0
    study = load(sqlite_url)
    assert len(study.trials) == 11
    check_study(study)
    assert study.user_attrs["optuna_ga_config"]["population_size"] == 4


def test_resumed_run_with_other_generation_settings_continues_with_the_stored_ones(
    sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", "--storage", sqlite_url, "--n-trials", "5", *TINY]) == 0
    capsys.readouterr()
    # The README's next example asks for another population size on the same study.
    other = ["--epochs", "2", "--pruner", "none", "--population-size", "6", "--n-elites", "2"]
    assert main(["run", "--storage", sqlite_url, "--n-trials", "4", *other]) == 0
    out = capsys.readouterr().out
    assert (
        "study 'mlp-digits' numbers its generations with --population-size 4 --n-elites 1: "
        "continuing with those, not --population-size 6 --n-elites 2"
    ) in out
    study = load(sqlite_url)
    assert len(study.trials) == 9
    check_study(study, population_size=4, n_elites=1)  # generations never went backwards
    assert study.user_attrs["optuna_ga_config"]["population_size"] == 4


def test_resuming_with_another_model_or_dataset_is_refused(
    sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    name = ["--storage", sqlite_url, "--study-name", "s", *TINY]
    recorded = RunConfig.from_args(build_parser().parse_args(["run", *name])).recorded()
    study = optuna.create_study(study_name="s", storage=sqlite_url, direction="maximize")
    study.set_user_attr("optuna_ga_config", recorded)
    study.add_trial(optuna.create_trial(value=0.5))
    for other, asked in (
        (["--model", "cnn"], "--model cnn"),
        (["--dataset", "mnist"], "--dataset mnist"),
        (["--model", "cnn", "--dataset", "cifar10"], "--model cnn --dataset cifar10"),
    ):
        assert main(["run", *name, *other]) == 2
        (line,) = capsys.readouterr().err.strip().splitlines()
        assert line == (
            f"optuna-ga run: error: study 's' was run with --model mlp --dataset digits, not "
            f"{asked}: pass those, or use another --study-name"
        )
    study = load(sqlite_url, "s")
    assert len(study.trials) == 1 and study.user_attrs["optuna_ga_config"] == recorded
    # Other settings may change: the study goes on with them.
    harmless = ["--epochs", "1", "--seed", "3", "--workers", "2", "--dataset", "Digits"]
    config = RunConfig.from_args(build_parser().parse_args(["run", *name, *harmless]))
    assert with_stored_generations(config) == config


def test_a_worker_with_other_generation_settings_is_refused_in_one_line(sqlite_url: str) -> None:
    assert main(["run", "--storage", sqlite_url, "--n-trials", "4", *TINY]) == 0
    study = optuna.load_study(
        study_name="mlp-digits", storage=sqlite_url, sampler=GeneticSampler(population_size=6)
    )
    with pytest.raises(ValueError, match="population_size=4, n_elites=1") as error:
        study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=1)
    assert "GeneticSampler(population_size=6, n_elites=2)" in str(error.value)


def test_run_inherit_weights_keeps_weights_in_the_artifacts_folder(
    sqlite_url: str, tmp_path: Path
) -> None:
    folder = tmp_path / "weights"
    args = ["run", "--storage", sqlite_url, "--n-trials", "10", *TINY, "--inherit-weights"]
    assert main([*args, "--artifacts", str(folder), "--inherit-epochs", "1"]) == 0
    trials = load(sqlite_url).trials
    assert all(t.state == TrialState.COMPLETE for t in trials)
    heirs = [t for t in trials if t.user_attrs["ga_inherited"]["tensors"]]
    assert heirs and all(t.user_attrs["epochs"] == 1 for t in heirs)
    stored = {p.name for p in folder.iterdir()}
    assert stored <= {t.user_attrs["ga_weights"] for t in trials}
    assert 0 < len(stored) < len(trials)  # stale weights were deleted
    bad = ["run", "--storage", sqlite_url, "--study-name", "x", "--inherit-epochs", "0"]
    assert main(bad) == 2


def test_best_prints_lineage_and_json(sqlite_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--storage", sqlite_url, "--n-trials", "8", "--no-publish", *TINY]) == 0
    capsys.readouterr()
    assert panel_ids(load(sqlite_url)) == set()
    assert main(["best", "--storage", sqlite_url]) == 0
    text = capsys.readouterr().out
    assert "lineage" in text
    assert main(["best", "--storage", sqlite_url, "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    study = load(sqlite_url)
    assert record["number"] == study.best_trial.number
    assert record["value"] == study.best_value
    assert record["params"] == study.best_trial.params
    assert record["lineage"][0]["number"] == study.best_trial.number
    for row in record["lineage"]:
        assert row["parents"] == study.trials[row["number"]].user_attrs["ga_parents"]


def test_best_json_is_valid_with_infinite_values(
    sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    def strict(text: str) -> Any:
        return json.loads(text, parse_constant=lambda name: pytest.fail(f"{name} in JSON"))

    study = optuna.create_study(study_name="s", storage=sqlite_url)
    study.add_trial(optuna.create_trial(value=0.5, user_attrs={"ga_parents": []}))
    study.add_trial(optuna.create_trial(value=-math.inf, user_attrs={"ga_parents": [0]}))
    assert main(["best", "--storage", sqlite_url, "--json"]) == 0
    record = strict(capsys.readouterr().out)
    assert record["value"] == "-Infinity"
    assert [row["value"] for row in record["lineage"]] == ["-Infinity", 0.5]
    front = optuna.create_study(study_name="f", storage=sqlite_url, directions=["minimize"] * 2)
    front.add_trial(optuna.create_trial(values=[math.inf, -math.inf]))
    assert main(["best", "--storage", sqlite_url, "--study-name", "f", "--json"]) == 0
    assert strict(capsys.readouterr().out)["pareto_front"][0]["values"] == [
        "Infinity",
        "-Infinity",
    ]


def test_train_best_saves_a_model_that_loads(sqlite_url: str, tmp_path: Path) -> None:
    from optuna_ga.torch import load_model

    assert main(["run", "--storage", sqlite_url, "--n-trials", "4", *TINY]) == 0
    out = tmp_path / "model"
    assert main(["train-best", "--storage", sqlite_url, "--epochs", "2", "--out", str(out)]) == 0
    model = load_model(out)
    assert sum(p.numel() for p in model.parameters()) > 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["best", "--storage", "postgresql://u:hunter2@127.0.0.1:1/x"], "cannot open storage"),
        (["best", "--storage", "postgress://u:hunter2@h/db"], "Unknown storage URL"),
        (
            ["run", "--storage", "sqlite:///{tmp}/s.db", "--population-size", "1"],
            "--population-size must be",
        ),
        (["run", "--storage", "sqlite:///{tmp}/s.db", "--selection", "best"], "selection"),
        (["run", "--storage", "sqlite:///{tmp}/s.db", "--model", "rnn"], "invalid choice"),
        (
            [
                "run",
                "--storage",
                "sqlite:///{tmp}/s.db",
                "--dataset",
                "mnist",
                "--data-dir",
                "{tmp}",
            ],
            "not found",
        ),
        (["run", "--storage", "sqlite:///{tmp}/s.db", "--dataset", "imagenet"], "imagenet"),
    ],
)
def test_errors_are_one_line_without_password(
    args: list[str], message: str, tmp_path: Path
) -> None:
    result = run_cli(*[a.format(tmp=tmp_path) for a in args])
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert message in lines[0]
    assert "hunter2" not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr


def test_unknown_study_lists_the_existing_ones(sqlite_url: str) -> None:
    assert main(["run", "--storage", sqlite_url, "--n-trials", "1", *TINY]) == 0
    result = run_cli("best", "--storage", sqlite_url, "--study-name", "nope")
    assert result.returncode == 2
    assert "no study named 'nope'" in result.stderr and "mlp-digits" in result.stderr


@pytest.mark.slow
@pytest.mark.postgres
def test_four_cli_workers_on_postgresql(postgres_url: str, study_name: str) -> None:
    result = run_cli(
        "run", "--storage", postgres_url, "--study-name", study_name, "--workers", "4",
        "--n-trials", "24", *TINY,
    )  # fmt: skip
    try:
        assert result.returncode == 0, result.stderr
        study = load(postgres_url, study_name)
        assert len(study.trials) == 24  # 6 per worker
        check_study(study)
    finally:
        optuna.delete_study(study_name=study_name, storage=postgres_url)


@pytest.mark.slow
def test_journal_file_storage_with_several_workers(tmp_path: Path) -> None:
    url = f"journal:///{tmp_path}/study.log"
    result = run_cli("run", "--storage", url, "--workers", "3", "--n-trials", "12", *TINY)
    assert result.returncode == 0, result.stderr
    study = optuna.load_study(study_name="mlp-digits", storage=make_storage(url))
    assert len(study.trials) == 12
    check_study(study)


# -- a worker killed with SIGKILL in the middle of a trial -------------------------------------


def sleepy(trial: optuna.Trial) -> float:
    x = trial.suggest_float("x", -5.0, 5.0)
    y = trial.suggest_int("y", 0, 9)
    if os.environ.get("OPTUNA_GA_HANG") == str(trial.number):
        time.sleep(600)  # the worker is killed here
    time.sleep(0.05)
    return x**2 + y


def crash_worker(url: str, study_name: str, n_trials: int, hang: int | None) -> None:
    if hang is not None:
        os.environ["OPTUNA_GA_HANG"] = str(hang)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = make_storage(url, heartbeat_interval=1, grace_period=3)
    study = optuna.load_study(
        study_name=study_name,
        storage=storage,
        sampler=GeneticSampler(population_size=4, n_elites=1, seed=0),
    )
    study.optimize(sleepy, n_trials=n_trials)


@pytest.mark.slow
@pytest.mark.postgres
def test_sigkilled_worker_trial_is_failed_and_retried(postgres_url: str, study_name: str) -> None:
    optuna.create_study(study_name=study_name, storage=postgres_url)
    context = multiprocessing.get_context("spawn")
    try:
        victim = context.Process(target=crash_worker, args=(postgres_url, study_name, 20, 5))
        victim.start()
        deadline = time.time() + 120
        while time.time() < deadline:
            trials = load(postgres_url, study_name).trials
            if len(trials) > 5 and trials[5].state == TrialState.RUNNING and trials[5].params:
                break
            time.sleep(0.2)
        os.kill(victim.pid, signal.SIGKILL)  # type: ignore[arg-type]
        victim.join()
        before = {
            t.number: t.params
            for t in load(postgres_url, study_name).trials
            if t.state == TrialState.COMPLETE
        }
        assert len(before) == 5

        time.sleep(4)  # past the grace period
        survivor = context.Process(target=crash_worker, args=(postgres_url, study_name, 10, None))
        survivor.start()
        survivor.join(timeout=120)
        assert survivor.exitcode == 0

        study = load(postgres_url, study_name)
        stale = study.trials[5]
        assert stale.state == TrialState.FAIL
        retries = [t for t in study.trials if t.system_attrs.get("failed_trial") == 5]
        assert len(retries) == 1
        assert retries[0].state == TrialState.COMPLETE
        assert retries[0].params == stale.params
        assert retries[0].user_attrs["ga_operator"] == "retry"
        for number, params in before.items():
            assert study.trials[number].state == TrialState.COMPLETE
            assert study.trials[number].params == params
        assert not [t for t in study.trials if t.state == TrialState.RUNNING]
        # Generations kept advancing past the dead worker's.
        assert max(t.user_attrs["ga_generation"] for t in study.trials) >= 3
    finally:
        optuna.delete_study(study_name=study_name, storage=postgres_url)


def test_plot_writes_html_and_png(sqlite_url: str, tmp_path: Path) -> None:
    assert main(["run", "--storage", sqlite_url, "--n-trials", "9", *TINY]) == 0
    out = tmp_path / "plots"
    assert main(["plot", "--storage", sqlite_url, "--out", str(out)]) == 0
    names = sorted(p.name for p in out.iterdir() if p.is_file())
    for stem in ("generations", "allele_frequency", "genealogy"):
        assert f"{stem}.html" in names and f"{stem}.png" in names
        assert (out / f"{stem}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_of_a_study_without_trials(sqlite_url: str, tmp_path: Path) -> None:
    optuna.create_study(study_name="s", storage=sqlite_url)
    out = tmp_path / "plots"
    assert main(["plot", "--storage", sqlite_url, "--out", str(out), "--format", "png"]) == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "allele_frequency.png",
        "genealogy.png",
        "generations.png",
    ]


def test_dashboard_serves_the_storage_on_localhost(sqlite_url: str) -> None:
    import socket
    import urllib.request

    # A study run without publishing, as older versions of `optuna-ga run` left them.
    assert main(["run", "--storage", sqlite_url, "--n-trials", "2", "--no-publish", *TINY]) == 0
    assert panel_ids(load(sqlite_url)) == set()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    command = [sys.executable, "-m", "optuna_ga", "dashboard", "--storage", sqlite_url]
    server = subprocess.Popen([*command, "--port", str(port)], stdout=subprocess.PIPE, text=True)
    try:
        body = None
        deadline = time.time() + 60
        while body is None and time.time() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/studies") as response:
                    body = json.loads(response.read())
            except OSError:
                time.sleep(0.3)
        assert body is not None, "the dashboard did not answer"
        assert [s["study_name"] for s in body["study_summaries"]] == ["mlp-digits"]
        assert panel_ids(load(sqlite_url)) == set(PLOT_IDS.values())  # published first
    finally:
        server.terminate()
        out, _ = server.communicate(timeout=30)
    assert "published the GA panels of mlp-digits" in out


def toy_objective(trial: optuna.Trial) -> float:
    return trial.suggest_float("x", -1.0, 1.0) ** 2


def toy_ga_study(url: str, name: str, n_trials: int) -> optuna.Study:
    study = optuna.create_study(
        storage=url,
        study_name=name,
        load_if_exists=True,
        sampler=GeneticSampler(population_size=4, n_elites=1, seed=0),
    )
    study.optimize(toy_objective, n_trials=n_trials)
    return study


def wait_for(condition: Any, what: str, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def test_dashboard_keeps_the_panels_current_while_it_runs(sqlite_url: str) -> None:
    import socket
    import urllib.request

    from optuna_ga.dashboard import panels_as_of

    study = toy_ga_study(sqlite_url, "ga", 6)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    command = [sys.executable, "-m", "optuna_ga", "dashboard", "--storage", sqlite_url]
    server = subprocess.Popen(
        [*command, "--port", str(port), "--refresh-interval", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:

        def answers() -> bool:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/studies") as response:
                    return bool(json.loads(response.read())["study_summaries"])
            except OSError:
                return False

        wait_for(answers, "the dashboard to answer")
        assert panels_as_of(study) == {"trial": 5, "finished": 6}  # published first
        toy_ga_study(sqlite_url, "ga", 5)  # trials land while the server runs
        wait_for(lambda: panels_as_of(study) == {"trial": 10, "finished": 11}, "new trials")
        later = toy_ga_study(sqlite_url, "later", 5)  # a study created after the start
        wait_for(lambda: panels_as_of(later) == {"trial": 4, "finished": 5}, "a new study")
        assert panel_ids(later) == set(PLOT_IDS.values())
    finally:
        server.send_signal(signal.SIGINT)  # Ctrl-C: the server and the refresher stop
        out, err = server.communicate(timeout=60)
    assert "GA panels checked every 1 s" in out
    assert "Traceback" not in err


@pytest.mark.parametrize("value", ["0.5", "3601", "-1", "nan", "soon"])
def test_dashboard_refresh_interval_is_checked(
    sqlite_url: str, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    toy_ga_study(sqlite_url, "ga", 1)
    assert main(["dashboard", "--storage", sqlite_url, "--refresh-interval", value]) == 2
    err = capsys.readouterr().err
    assert "--refresh-interval" in err and "from 1 to 3600" in err
