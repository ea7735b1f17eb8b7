"""The command line over the architecture registry (``--model resnet``): run, best and
train-best end to end."""

from __future__ import annotations

import json
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

torch = pytest.importorskip("torch")

from optuna_ga._architectures import BUILTIN_ARCHITECTURES  # noqa: E402
from optuna_ga.cli import build_parser  # noqa: E402
from optuna_ga.cli import main  # noqa: E402
from optuna_ga.torch import list_architectures  # noqa: E402
from optuna_ga.torch import load_model  # noqa: E402

TINY = ["--epochs", "1", "--population-size", "3", "--n-elites", "1", "--pruner", "none"]


def test_model_choices_are_the_registry(capsys: pytest.CaptureFixture[str]) -> None:
    assert list(BUILTIN_ARCHITECTURES) == list_architectures()[: len(BUILTIN_ARCHITECTURES)]
    with pytest.raises(SystemExit):
        build_parser().parse_args(["run", "--model", "vgg"])
    err = capsys.readouterr().err
    assert "invalid choice: 'vgg'" in err and all(name in err for name in ("cnn", "resnet"))


def test_resnet_runs_on_two_workers_then_best_and_train_best(
    sqlite_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["run", "--model", "resnet", "--storage", sqlite_url, "--n-trials", "6", *TINY]
    args += ["--workers", "2", "--max-training-time", "0.3"]
    args += ["--inherit-weights", "--artifacts", str(tmp_path / "weights"), "--no-publish"]
    assert main(args) == 0
    study = optuna.load_study(study_name="resnet-digits", storage=sqlite_url)
    assert [t.state for t in study.trials] == [TrialState.COMPLETE] * 6
    assert {t.user_attrs["architecture"] for t in study.trials} == {"resnet"}
    assert all("n_stages" in t.params and "blocks_s1" in t.params for t in study.trials)
    assert any(t.user_attrs["ga_inherited"]["tensors"] for t in study.trials)
    config = study.user_attrs["optuna_ga_config"]
    assert config["model"] == "resnet"
    capsys.readouterr()

    assert main(["best", "--storage", sqlite_url, "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["user_attrs"]["architecture"] == "resnet"
    assert record["params"] == study.best_trial.params

    out = tmp_path / "model"
    assert main(["train-best", "--storage", sqlite_url, "--epochs", "1", "--out", str(out)]) == 0
    assert "retrained trial #" in capsys.readouterr().out
    assert json.loads((out / "config.json").read_text())["architecture"] == "resnet"
    model = load_model(out)
    assert model(torch.zeros(2, 1, 8, 8)).shape == (2, 10)
    assert next(name for name, _ in model.named_children()) == "stem"
