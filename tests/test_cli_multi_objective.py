"""``optuna-ga run --objectives``, and ``best`` and ``train-best`` on multi-objective studies."""

from __future__ import annotations

import json
from pathlib import Path

import optuna
import pytest
from optuna.study import StudyDirection
from optuna.trial import TrialState

from optuna_ga.cli import main
from optuna_ga.cli._config import RunConfig
from optuna_ga.cli._parser import build_parser
from optuna_ga.cli._progress import best_text
from optuna_ga.dashboard import PARETO_PLOT_ID
from optuna_ga.dashboard import PLOT_IDS

TINY = ["--epochs", "1", "--population-size", "3", "--n-elites", "1", "--no-publish"]
TWO = ["--objectives", "accuracy,params"]


def error_line(capsys: pytest.CaptureFixture[str], command: str) -> str:
    """The one line of error the last command wrote."""
    captured = capsys.readouterr()
    (line,) = captured.err.strip().splitlines()
    assert line.startswith(f"optuna-ga {command}: error: "), line
    return line


def parse(*argv: str) -> RunConfig:
    return RunConfig.from_args(build_parser().parse_args(["run", *argv]))


def test_objectives_are_parsed_and_default_the_pruner_to_none() -> None:
    config = parse(*TWO)
    assert config.objectives == ("accuracy", "params") and config.pruner == "none"
    assert config._arguments("objective")["objectives"] == ("accuracy", "params")
    assert parse("--objectives", "loss").pruner == "median"
    single = parse()
    assert single.objectives is None and single.pruner == "median"
    assert parse("--pruner", "hyperband").pruner == "hyperband"


@pytest.mark.parametrize(
    "names", ["accuracy,size", "accuracy,params,params", "params,macs", "accuracy,loss", ""]
)
def test_bad_objectives_are_one_line_errors(
    names: str, sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", "--storage", sqlite_url, "--objectives", names]) == 2
    line = error_line(capsys, "run")
    assert "argument --objectives: must be names from accuracy, loss, params" in line
    assert repr(names) in line


def test_a_pruner_with_several_objectives_is_refused(
    sqlite_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", "--storage", sqlite_url, *TWO, "--pruner", "median"]) == 2
    line = error_line(capsys, "run")
    assert "--pruner median cannot be used with several --objectives" in line
    assert not (tmp_path / "study.db").exists()


def test_best_text_counts_the_pareto_front() -> None:
    study = optuna.create_study(directions=["maximize", "minimize"])
    assert best_text(study, "accuracy") == "Pareto front: none yet"
    for values in ((0.9, 100), (0.8, 50), (0.7, 80)):  # the last is dominated
        study.add_trial(optuna.create_trial(values=list(values)))
    assert best_text(study, "accuracy") == "Pareto front: 2 trials"
    single = optuna.create_study(direction="maximize")
    single.add_trial(optuna.create_trial(value=0.5))
    assert best_text(single, "accuracy") == "best accuracy 0.5000"


@pytest.mark.parametrize("command", [["best"], ["best", "--json"], ["train-best"]])
def test_a_front_without_completed_trials_is_an_error(
    command: list[str], sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    study = optuna.create_study(storage=sqlite_url, directions=["maximize", "minimize"])
    study.add_trial(optuna.create_trial(state=TrialState.FAIL))
    assert main([*command, "--storage", sqlite_url]) == 2
    line = error_line(capsys, command[0])
    assert line.endswith(f"study {study.study_name!r} has no completed trial yet")


def test_run_best_and_train_best_on_a_pareto_front(
    sqlite_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from optuna_ga.torch import load_model

    assert main(["run", "--storage", sqlite_url, *TWO, "--n-trials", "4", *TINY]) == 0
    out = capsys.readouterr().out
    assert "searching the Pareto front of accuracy (max), params (min)" in out
    assert "generation 0: best accuracy 0." in out
    study = optuna.load_study(study_name="mlp-digits", storage=sqlite_url)
    assert study.directions == [StudyDirection.MAXIMIZE, StudyDirection.MINIMIZE]
    assert study.user_attrs["optuna_ga_config"]["objectives"] == ["accuracy", "params"]
    assert study.user_attrs["optuna_ga_config"]["pruner"] == "none"
    assert all(t.state == TrialState.COMPLETE for t in study.trials)
    assert all(t.values[1] == t.user_attrs["n_params"] for t in study.trials)
    front = sorted(study.best_trials, key=lambda t: -t.values[0])
    assert f"Pareto front of study 'mlp-digits': {len(front)} trial" in out

    # Resuming with two workers and the same objectives adds trials to the same front; this
    # run publishes the GA panels, the Pareto fronts among them.
    more = ["--n-trials", "2", "--workers", "2", "--objectives", "accuracy,params"]
    assert main(["run", "--storage", sqlite_url, *more, *TINY[:-1]]) == 0
    assert "not published" not in capsys.readouterr().err
    study = optuna.load_study(study_name="mlp-digits", storage=sqlite_url)
    assert len(study.trials) == 6 and all(t.values is not None for t in study.trials)
    attrs = study._storage.get_study_system_attrs(study._study_id)
    published = {k.split(":")[2] for k in attrs if k.startswith("dashboard:plot_data:")}
    assert published == {*PLOT_IDS.values(), PARETO_PLOT_ID}

    plots = tmp_path / "plots"
    assert main(["plot", "--storage", sqlite_url, "--out", str(plots)]) == 0
    written = capsys.readouterr().out.split()
    assert [Path(p).name for p in written][-2:] == ["pareto_fronts.html", "pareto_fronts.png"]
    assert "accuracy (maximize)" in (plots / "pareto_fronts.html").read_text()
    front = sorted(study.best_trials, key=lambda t: (-t.values[0], t.number))

    assert main(["best", "--storage", sqlite_url]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].split() == ["trial", "accuracy", "params", "generation"]
    rows = [line.split() for line in lines[2:-1]]
    assert [row[0] for row in rows] == [f"#{t.number}" for t in front]
    assert [int(row[2]) for row in rows] == [t.values[1] for t in front]
    assert lines[-1] == "retrain one with: optuna-ga train-best --trial N"
    assert main(["best", "--storage", sqlite_url, "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["objectives"] == ["accuracy", "params"]
    assert [row["number"] for row in record["pareto_front"]] == [t.number for t in front]

    assert main(["train-best", "--storage", sqlite_url, "--epochs", "1"]) == 2
    line = error_line(capsys, "train-best")
    numbers = ", ".join(str(t.number) for t in front)
    assert f"choose one of its Pareto front ({numbers}) with --trial N" in line

    chosen = front[-1].number
    saved = tmp_path / "model"
    args = ["train-best", "--storage", sqlite_url, "--epochs", "1", "--out", str(saved)]
    assert main([*args, "--trial", str(chosen)]) == 0
    assert f"retrained trial #{chosen} for 1 epoch on digits" in capsys.readouterr().out
    assert sum(p.numel() for p in load_model(saved).parameters()) == front[-1].values[1]

    study.add_trial(optuna.create_trial(state=TrialState.FAIL))
    assert main([*args, "--trial", "6"]) == 2
    assert "--trial 6: trial #6 of study 'mlp-digits' is failed, not complete" in error_line(
        capsys, "train-best"
    )
    assert main([*args, "--trial", "7"]) == 2
    assert "--trial 7: study 'mlp-digits' has trials 0 to 6 only" in error_line(
        capsys, "train-best"
    )


def test_resuming_with_other_objectives_is_refused(
    sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", "--storage", sqlite_url, *TWO, "--n-trials", "1", *TINY]) == 0
    capsys.readouterr()
    for objectives in (["--objectives", "accuracy,macs"], []):
        assert main(["run", "--storage", sqlite_url, *objectives, "--n-trials", "1", *TINY]) == 2
        line = error_line(capsys, "run")
        asked = objectives[1] if objectives else "accuracy"
        assert (
            f"study 'mlp-digits' was run with --objectives accuracy,params, not --objectives "
            f"{asked}: give the study's --objectives, or use another --study-name"
        ) in line
    assert len(optuna.load_study(study_name="mlp-digits", storage=sqlite_url).trials) == 1


def test_plot_writes_the_pareto_fronts_of_a_sqlite_study(
    sqlite_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from optuna_ga import GeneticSampler

    def objective(trial: optuna.Trial) -> tuple[float, float]:
        x, y = trial.suggest_float("x", 0.0, 1.0), trial.suggest_float("y", 0.0, 1.0)
        return x, (1 + 9 * y) * (1 - (x / (1 + 9 * y)) ** 0.5)

    study = optuna.create_study(
        storage=sqlite_url,
        directions=["minimize", "minimize"],
        sampler=GeneticSampler(population_size=5, seed=0),
    )
    study.optimize(objective, n_trials=15)
    out = tmp_path / "plots"
    assert main(["plot", "--storage", sqlite_url, "--out", str(out)]) == 0
    stems = ("generations", "allele_frequency", "genealogy", "pareto_fronts")
    expected = [str(out / f"{stem}.{ext}") for stem in stems for ext in ("html", "png")]
    assert capsys.readouterr().out.split() == expected
    assert all((out / Path(p).name).read_bytes() for p in expected)
    assert (out / "pareto_fronts.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
