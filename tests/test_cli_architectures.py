"""The command line over the architecture registry (``--model resnet``) and several devices
(``--devices``): run, best and train-best end to end; worker placement with the GPUs mocked."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import optuna
import pytest
from optuna.trial import TrialState

torch = pytest.importorskip("torch")

from optuna_ga._architectures import BUILTIN_ARCHITECTURES  # noqa: E402
from optuna_ga.cli import build_parser  # noqa: E402
from optuna_ga.cli import main  # noqa: E402
from optuna_ga.cli._config import RunConfig  # noqa: E402
from optuna_ga.torch import device_for  # noqa: E402
from optuna_ga.torch import list_architectures  # noqa: E402
from optuna_ga.torch import load_model  # noqa: E402
from optuna_ga.torch import visible_devices  # noqa: E402

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
    args += ["--workers", "2", "--devices", "cpu,cpu", "--max-training-time", "0.3"]
    args += ["--inherit-weights", "--artifacts", str(tmp_path / "weights"), "--no-publish"]
    assert main(args) == 0
    study = optuna.load_study(study_name="resnet-digits", storage=sqlite_url)
    assert [t.state for t in study.trials] == [TrialState.COMPLETE] * 6
    assert {t.user_attrs["architecture"] for t in study.trials} == {"resnet"}
    assert all("n_stages" in t.params and "blocks_s1" in t.params for t in study.trials)
    assert any(t.user_attrs["ga_inherited"]["tensors"] for t in study.trials)
    config = study.user_attrs["optuna_ga_config"]
    assert config["model"] == "resnet" and config["devices"] == ["cpu", "cpu"]
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


# -- placement of workers on devices, with the GPUs mocked at torch's boundary ---------------


@pytest.fixture
def gpus(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Three visible GPUs; the list records each ``torch.cuda.set_device`` call."""
    chosen: list[int] = []
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 3)
    monkeypatch.setattr(torch.cuda, "set_device", chosen.append)
    return chosen


def test_workers_take_the_visible_gpus_in_turn(gpus: list[int]) -> None:
    assert visible_devices() == ["cuda:0", "cuda:1", "cuda:2"]
    assert [device_for(w) for w in range(5)] == ["cuda:0", "cuda:1", "cuda:2", "cuda:0", "cuda:1"]
    assert [device_for(w, ["cuda:0", "cuda:2"]) for w in range(3)] == [
        "cuda:0",
        "cuda:2",
        "cuda:0",
    ]
    assert device_for(3, "cuda:1, cuda:1,cpu") == "cuda:1"  # a device named twice gets two


def test_without_a_gpu_every_worker_trains_on_the_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert visible_devices() == ["cpu"]
    assert {device_for(w) for w in range(4)} == {"cpu"}


@pytest.mark.parametrize(
    ("worker", "devices", "message"),
    [(-1, None, "worker must be an int >= 0"), (0, [], "devices must name"), (0, " ,", "devices")],
)
def test_bad_placement_arguments(worker: int, devices: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        device_for(worker, devices)


def _config(devices: tuple[str, ...] | None) -> RunConfig:
    args = build_parser().parse_args(["run", "--model", "cnn"])
    args.devices = devices
    return RunConfig.from_args(args)


def test_each_cli_worker_gets_its_device_and_makes_it_current(
    gpus: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[dict[str, Any]] = []
    monkeypatch.setattr("optuna_ga.torch.Objective", lambda **kwargs: made.append(kwargs))
    for slot in range(4):
        _config(None).objective(slot)
    assert [m["device"] for m in made] == ["cuda:0", "cuda:1", "cuda:2", "cuda:0"]
    assert gpus == [0, 1, 2, 0]
    assert {m["architecture"] for m in made} == {"cnn"}
    made.clear()
    gpus.clear()
    for slot in range(3):
        _config(("cuda:0", "cuda:2")).objective(slot)
    assert [m["device"] for m in made] == ["cuda:0", "cuda:2", "cuda:0"] and gpus == [0, 2, 0]
    made.clear()
    gpus.clear()
    _config(("cuda:7",)).objective(0)  # not there: the objective, not set_device, says why
    _config(("cpu",)).objective(1)
    assert [m["device"] for m in made] == ["cuda:7", "cpu"] and gpus == []


def test_devices_option_parses_a_list_and_keeps_device_as_its_alias(
    capsys: pytest.CaptureFixture[str],
) -> None:
    parse = build_parser().parse_args
    assert parse(["run", "--devices", "cuda:0, cuda:2"]).devices == ("cuda:0", "cuda:2")
    assert parse(["run", "--device", "cpu"]).devices == ("cpu",)
    assert parse(["run"]).devices is None
    with pytest.raises(SystemExit):
        parse(["run", "--devices", "cuda:0,,cuda:1"])
    assert "must be device names separated by commas" in capsys.readouterr().err
