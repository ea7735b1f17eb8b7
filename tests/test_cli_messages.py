"""What the ``optuna-ga`` command says: errors in one line naming flags, help, version, pipes.

Most tests run the command as a subprocess (``python -m optuna_ga``), as a user would, on real
SQLite files that the test writes with Optuna.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import optuna
import pytest
import torch

from optuna_ga.cli import build_parser
from optuna_ga.storages import make_storage
from optuna_ga.storages import mask_password

ENV = {**os.environ, "PYTHONWARNINGS": "ignore"}


def run_cli(*args: str, prelude: str = "") -> subprocess.CompletedProcess[str]:
    """``optuna-ga ARGS``; ``prelude`` is Python run first in the same interpreter."""
    code = f"import sys\n{prelude}\nfrom optuna_ga.cli import main\nsys.exit(main(sys.argv[1:]))"
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=ENV,
    )


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def ga_study(
    url: str, *, name: str = "ga", cli_config: bool = True, best_parents: object = (0, 1)
) -> optuna.Study:
    """A small study as `optuna-ga run` leaves it: GA user attrs, its config recorded."""
    study = optuna.create_study(study_name=name, storage=url, direction="maximize")
    if cli_config:
        study.set_user_attr("optuna_ga_config", {"population_size": 2, "n_elites": 0})
    for number, value in enumerate((0.5, 0.625, 0.75)):
        study.add_trial(
            optuna.trial.create_trial(
                value=value,
                params={"x": value},
                distributions={"x": optuna.distributions.FloatDistribution(0, 1)},
                user_attrs={
                    "ga_generation": number // 2,
                    "ga_parents": [] if number < 2 else best_parents,
                    "ga_operator": "random" if number < 2 else "crossover",
                },
            )
        )
    return study


# -- item 9: errors name flags; bad numbers are refused ------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--population-size", "1"], "--population-size must be"),
        (["--population-size", "4", "--n-elites", "4"], "--n-elites must be an int in [0, "),
        (["--n-immigrants", "9"], "--n-immigrants must be"),
        (["--crossover-prob", "1.5"], "--crossover-prob must be"),
        (["--timeout", "-1"], "argument --timeout: must be a number > 0, got '-1'"),
        (["--timeout", "nan"], "argument --timeout: must be a number > 0, got 'nan'"),
        (["--timeout", "0"], "argument --timeout"),
        (["--heartbeat-interval", "-5"], "argument --heartbeat-interval: must be an integer"),
        (["--n-trials", "0"], "argument --n-trials"),
        (["--workers", "0"], "argument --workers"),
        (["--epochs", "x"], "argument --epochs"),
    ],
)
def test_run_errors_name_the_flag(args: list[str], expected: str, tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    line = one_line_error(run_cli("run", "--storage", f"sqlite:///{db}", *args))
    assert expected in line
    assert "population_size" not in line and "n_elites" not in line
    assert not db.exists()  # a refused run leaves no database file


def test_main_returns_the_usage_error_status(capsys: pytest.CaptureFixture[str]) -> None:
    from optuna_ga.cli import main

    assert main(["run", "--timeout", "nan"]) == 2  # returned, not raised as SystemExit
    assert "argument --timeout" in capsys.readouterr().err
    assert main(["--version"]) == 0


# -- item 7: the device is checked before the first trial ----------------------------------


def test_unknown_device_is_one_line_before_any_trial(tmp_path: Path) -> None:
    db = tmp_path / "d.db"
    line = one_line_error(run_cli("run", "--storage", f"sqlite:///{db}", "--device", "nosuchdev"))
    assert "--device must be a name such as 'cpu'" in line and "nosuchdev" in line
    assert not db.exists()


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_cuda_without_a_gpu_is_one_line_before_any_trial(tmp_path: Path) -> None:
    db = tmp_path / "d.db"
    line = one_line_error(run_cli("run", "--storage", f"sqlite:///{db}", "--device", "cuda"))
    assert "--device 'cuda' is not available" in line
    assert not db.exists()


# -- item 8: datasets and PyTorch ------------------------------------------------------------


def test_missing_dataset_names_the_download_flag(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    args = ["--dataset", "mnist", "--data-dir", str(tmp_path)]
    line = one_line_error(run_cli("run", "--storage", f"sqlite:///{db}", *args))
    assert "not found" in line and "Pass --download to fetch them" in line
    assert "download=True" not in line
    assert not db.exists()


def test_failed_download_message_is_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from optuna_ga.torch import DatasetNotFoundError
    from optuna_ga.torch import _data

    class Offline:  # torchvision's MNIST without a network: a message over several lines
        def __init__(self, root: str, train: bool, download: bool) -> None:
            raise RuntimeError(
                "Error downloading train-images-idx3-ubyte.gz:\n"
                "Tried https://example.invalid/mnist/, got:\n<urlopen error [Errno -3]>\n"
            )

    monkeypatch.setattr(_data, "_torchvision_class", lambda name: Offline)
    with pytest.raises(DatasetNotFoundError) as raised:
        _data.load_dataset("mnist", data_dir=tmp_path, download=True)
    message = str(raised.value)
    assert "\n" not in message
    assert "<urlopen error [Errno -3]>" in message
    assert message.endswith(f"put the files there yourself: {_data.DATASETS['mnist']}.")


@pytest.mark.parametrize("command", ["run", "train-best"])
def test_missing_torch_names_the_extra(command: str, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/t.db"
    if command == "train-best":
        ga_study(url)
    line = one_line_error(
        run_cli(command, "--storage", url, prelude="sys.modules['torch'] = None")
    )
    assert "needs torch, which is not installed" in line
    assert 'Install the extra: pip install "optuna-ga[torch]"' in line


# -- item 6: passwords -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "secret"),
    [
        ("postgresql://u:secret@pw@127.0.0.1:1/x", "secret@pw"),
        ("postgresql://u@127.0.0.1:1/x?sslmode=disable&password=secretpw", "secretpw"),
        ("postgresql://u:p%40ss@127.0.0.1:1/x", "p%40ss"),
    ],
)
def test_passwords_are_never_printed(url: str, secret: str) -> None:
    masked = mask_password(f"cannot open {url}: refused")
    assert secret not in masked and "***" in masked
    assert "u:***@127.0.0.1:1/x" in masked or "password=***" in masked  # nothing of it left
    result = run_cli("best", "--storage", url)
    line = one_line_error(result)
    assert "cannot open storage" in line
    assert secret not in result.stdout + result.stderr
    assert "secret" not in result.stderr


# -- item 10: pipes, foreign studies, tampered records -------------------------------------


def test_best_into_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/b.db"
    study = optuna.create_study(study_name="wide", storage=url, direction="maximize")
    names = [f"gene_{i:04d}" for i in range(4000)]  # ~100 KB of output, more than a pipe holds
    distribution = optuna.distributions.FloatDistribution(0, 1)
    study.add_trial(
        optuna.trial.create_trial(
            value=1.0,
            params=dict.fromkeys(names, 0.5),
            distributions=dict.fromkeys(names, distribution),
        )
    )
    code = "import sys\nfrom optuna_ga.cli import main\nsys.exit(main(sys.argv[1:]))"
    process = subprocess.Popen(
        [sys.executable, "-c", code, "best", "--storage", url],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV,
    )  # fmt: skip
    assert process.stdout is not None and process.stderr is not None
    first = process.stdout.readline()  # `| head -1`
    process.stdout.close()
    err = process.stderr.read().decode()
    assert process.wait(timeout=120) == 0, err
    assert first.startswith(b"best trial #0 of 1")
    assert err == ""


def test_train_best_refuses_a_study_that_is_not_a_network_study(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/f.db"
    ga_study(url, cli_config=False)
    line = one_line_error(run_cli("train-best", "--storage", url, "--epochs", "1"))
    assert "'ga' is not a network study of optuna-ga" in line
    assert "architectures mlp, cnn, resnet" in line


@pytest.mark.parametrize("parents", ["garbage", [1.5, "x", -3, 10**9, None, True], {"a": 1}])
def test_best_survives_tampered_parents(parents: object, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/p.db"
    best = ga_study(url, best_parents=parents).best_trial
    result = run_cli("best", "--storage", url)
    assert result.returncode == 0, result.stderr
    assert best.number == 2
    assert "#2: 1, crossover, [], 0.75" in result.stdout


# -- item 11: no empty database files; a useful word on an empty storage --------------------


@pytest.mark.parametrize("command", ["best", "train-best", "plot", "dashboard"])
def test_reading_commands_leave_no_database_file(command: str, tmp_path: Path) -> None:
    db = tmp_path / "missing.db"
    line = one_line_error(run_cli(command, "--storage", f"sqlite:///{db}"))
    assert f"no database file {db}" in line and "optuna-ga run --storage" in line
    assert not db.exists()
    journal = tmp_path / "missing.log"
    one_line_error(run_cli(command, "--storage", f"journal:///{journal}"))
    assert not journal.exists()


def test_empty_storage_says_how_to_fill_it(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/e.db"
    make_storage(url, heartbeat_interval=None)  # tables, no study
    line = one_line_error(run_cli("best", "--storage", url))
    assert "holds no study yet" in line and f"optuna-ga run --storage {url}" in line
    assert "0 studies" not in line


# -- item 12: help, version, what the value is --------------------------------------------


def test_every_option_has_help_with_its_default() -> None:
    parser = build_parser()
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    for name, command in sub.choices.items():
        text = " ".join(command.format_help().split())
        for action in command._actions:
            if isinstance(action, (argparse._HelpAction, argparse._VersionAction)):
                continue
            assert action.help, f"{name} {action.option_strings} has no help"
            takes_value = action.nargs != 0
            if takes_value or action.default not in (None, False):
                shown = command._get_formatter()._expand_help(action)
                assert "default" in shown, f"{name} {action.option_strings}: {shown!r}"
        assert "%(default)" not in text


def test_version() -> None:
    from optuna_ga import __version__

    result = run_cli("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"optuna-ga {__version__}"


def test_best_says_what_the_value_is(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/v.db"
    ga_study(url, name="from-run")
    ga_study(url, name="other", cli_config=False)
    result = run_cli("best", "--storage", url, "--study-name", "from-run")
    assert "): validation accuracy 0.75" in result.stdout
    result = run_cli("best", "--storage", url, "--study-name", "other")
    assert "): value 0.75" in result.stdout
