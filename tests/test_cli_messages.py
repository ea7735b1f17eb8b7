"""What the ``optuna-ga`` command says: errors in one line naming flags, help, version, pipes.

Most tests run the command as a subprocess (``python -m optuna_ga``), as a user would, on real
SQLite files that the test writes with Optuna.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import optuna
import pytest
import torch

from optuna_ga.cli import build_parser
from optuna_ga.storages import make_storage
from optuna_ga.storages import mask_password
from optuna_ga.storages import mask_url

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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


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


def test_corrupt_dataset_is_one_line_naming_the_download_flag(tmp_path: Path) -> None:
    from tests.test_torch_data import write_fake_mnist

    write_fake_mnist(tmp_path)
    (tmp_path / "MNIST" / "raw" / "t10k-labels-idx1-ubyte").write_bytes(b"")
    db = tmp_path / "m.db"
    args = ["--dataset", "mnist", "--data-dir", str(tmp_path)]
    line = one_line_error(run_cli("run", "--storage", f"sqlite:///{db}", *args))
    assert line.startswith(
        f"optuna-ga run: error: Dataset 'mnist' under {tmp_path} is missing or corrupt ("
    ), line
    assert line.endswith("delete its files and copy them again, or pass --download to fetch "
                         "them again."), line  # fmt: skip
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


# -- issue 19 item 5: secrets ----------------------------------------------------------------

# Each password holds odd characters between pieces ("Zq7", "Xw9", "Kp4") found nowhere else.
SECRETS = ["Zq7'Xw9", 'Zq7"Xw9', "Zq7 Xw9", "Zq7@Xw9", "Zq7:Xw9", "Zq7/Xw9", "Zq7'X\"w9 K@p:4/Kp4"]


def leaked(text: str) -> bool:
    """Whether ``text`` shows a piece of any of the SECRETS."""
    return any(piece in text for piece in ("Zq7", "Xw9", "Kp4"))


@pytest.mark.parametrize(
    "scheme", ["postgresql", "PostgreSQL", "POSTGRESQL", "postgresql+psycopg"]
)
@pytest.mark.parametrize("secret", SECRETS)
def test_mask_url_hides_any_password(scheme: str, secret: str) -> None:
    url = f"{scheme}://ga:{secret}@db.example:5432/studies?sslmode=disable"
    assert mask_url(url) == f"{scheme}://ga:***@db.example:5432/studies?sslmode=disable"
    text = f"cannot open {url}: refused"
    assert not leaked(mask_password(text, url=url))
    if " " not in secret:  # in a text, without the URL, a space ends the URL
        assert not leaked(mask_password(text)) and not leaked(mask_password(repr(text)))


def test_mask_url_leaves_urls_without_password() -> None:
    for url in ("sqlite:///a@b:c.db", "journal:///tmp/x.log", "redis://h:6379/0", "SQLite:///x"):
        assert mask_url(url) == url
    assert mask_url("redis://:Zq7@h:6379/0") == "redis://:***@h:6379/0"
    assert mask_url("PostgreSQL://ga@h/db?Password=Zq7") == "PostgreSQL://ga@h/db?Password=***"


@pytest.mark.parametrize("command", ["run", "best", "train-best", "plot", "dashboard"])
@pytest.mark.parametrize("scheme", ["PostgreSQL", "POSTGRESQL"])
def test_no_command_prints_the_password_of_an_unreachable_storage(
    command: str, scheme: str
) -> None:
    url = f"{scheme}://u:{SECRETS[-1]}@127.0.0.1:1/x"
    result = run_cli(command, "--storage", url, *(["--epochs", "1"] if command == "run" else []))
    line = one_line_error(result)
    assert f"cannot open storage {scheme}://u:***@127.0.0.1:1/x: " in line
    assert "connection" in line  # what went wrong: the server is not there
    assert not leaked(result.stdout + result.stderr), result.stderr


def test_run_best_and_dashboard_hide_the_password_on_postgresql(
    postgres_url: str, study_name: str
) -> None:
    # The server trusts local users, so any password connects: the URL is used as typed.
    _, _, tail = postgres_url.partition("://")
    user, _, where = tail.rpartition("@")
    url = f"POSTGRESQL://{user.split(':')[0]}:{SECRETS[-1]}@{where}"
    shown = mask_url(url)
    assert "***" in shown
    try:
        result = run_cli(
            "run", "--storage", url, "--study-name", study_name, "--n-trials", "1",
            "--epochs", "1", "--population-size", "2", "--n-elites", "0", "--no-publish",
            "--threads", "1",
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        assert f"study {study_name!r} in {shown}: 0 trials so far" in result.stdout
        assert not leaked(result.stdout + result.stderr)
        result = run_cli("best", "--storage", url, "--study-name", "no-such-study")
        assert f"no study named 'no-such-study' in {shown}" in one_line_error(result)
        assert not leaked(result.stdout)
        code = "import sys\nfrom optuna_ga.cli import main\nsys.exit(main(sys.argv[1:]))"
        server = subprocess.Popen(
            [sys.executable, "-c", code, "dashboard", "--storage", url, "--no-publish",
             "--port", str(free_port())],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV,
        )  # fmt: skip
        assert server.stdout is not None
        first = server.stdout.readline()
        server.terminate()
        out, err = server.communicate(timeout=30)
        assert f" for {shown}" in first, first + err
        assert not leaked(first + out + err)
    finally:
        with contextlib.suppress(KeyError):
            optuna.delete_study(study_name=study_name, storage=postgres_url)


# -- issue 19 item 5: one error style ----------------------------------------------------------


def test_usage_and_runtime_errors_have_one_style(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/s.db"
    ga_study(url)
    usage = one_line_error(run_cli("best", "--storage", url, "--nope"))
    runtime = one_line_error(run_cli("best", "--storage", url, "--study-name", "nope"))
    assert usage.startswith("optuna-ga best: error: unrecognized arguments: --nope")
    assert runtime.startswith("optuna-ga best: error: no study named 'nope'")
    line = one_line_error(run_cli("train-best", "--storage", url, "--study-name", "nope"))
    assert line.startswith("optuna-ga train-best: error: ")


# -- issue 19 item 5: reading commands write nothing ------------------------------------------


def sqlite_tables(path: Path) -> list[str]:
    with contextlib.closing(sqlite3.connect(path)) as connection:
        rows = connection.execute("select name from sqlite_master where type = 'table'")
        return sorted(row[0] for row in rows)


@pytest.mark.parametrize("command", ["best", "train-best", "plot", "dashboard"])
def test_reading_commands_leave_a_foreign_sqlite_file_alone(command: str, tmp_path: Path) -> None:
    db = tmp_path / "other.db"
    with contextlib.closing(sqlite3.connect(db)) as connection:
        connection.execute("create table notes (id integer primary key, text varchar)")
        connection.commit()
    before = db.read_bytes()
    line = one_line_error(run_cli(command, "--storage", f"sqlite:///{db}"))
    assert line.startswith(f"optuna-ga {command}: error: storage sqlite:///{db} is not an Optuna")
    assert sqlite_tables(db) == ["notes"] and db.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.db"]


def test_reading_commands_leave_a_file_that_is_no_database_alone(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("not a database\n" * 100)
    line = one_line_error(run_cli("best", "--storage", f"sqlite:///{text}"))
    assert f"storage sqlite:///{text} is not an Optuna database" in line
    assert text.read_text() == "not a database\n" * 100
    empty = tmp_path / "empty.db"
    empty.touch()
    line = one_line_error(run_cli("best", "--storage", f"sqlite:///{empty}"))
    assert f"storage sqlite:///{empty} holds no study yet" in line
    assert empty.read_bytes() == b""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.db", "notes.txt"]


def test_reading_commands_create_no_table_in_a_postgresql_database(postgres_url: str) -> None:
    import sqlalchemy

    name = f"optuna_ga_foreign_{uuid.uuid4().hex[:8]}"
    admin = sqlalchemy.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sqlalchemy.text(f"create database {name}"))
    url = postgres_url.rsplit("/", 1)[0] + f"/{name}"
    try:
        engine = sqlalchemy.create_engine(url)
        with engine.begin() as connection:
            connection.execute(sqlalchemy.text("create table notes (id integer primary key)"))
        line = one_line_error(run_cli("best", "--storage", url))
        assert f"storage {url} is not an Optuna database" in line
        assert sqlalchemy.inspect(engine).get_table_names() == ["notes"]
        engine.dispose()
    finally:
        with admin.connect() as connection:
            connection.execute(sqlalchemy.text(f"drop database {name} with (force)"))
        admin.dispose()


# -- issue 19 item 5: a read-only database ------------------------------------------------------


def mlp_study(url: str) -> None:
    optuna.create_study(study_name="mlp-digits", storage=url, direction="maximize")


def test_run_on_a_read_only_sqlite_uri_is_one_line(tmp_path: Path) -> None:
    db = tmp_path / "ro.db"
    mlp_study(f"sqlite:///{db}")
    before = db.read_bytes()
    url = f"sqlite:///file:{db}?mode=ro&uri=true"  # read-only for root too
    line = one_line_error(run_cli("run", "--storage", url, "--n-trials", "1", "--epochs", "1"))
    assert line == (
        f"optuna-ga run: error: cannot write to {db} (from --storage {url}): "
        "(sqlite3.OperationalError) attempt to write a readonly database"
    )
    assert db.read_bytes() == before


def test_run_on_a_read_only_sqlite_file_is_one_line_before_the_workers_start() -> None:
    # As a user without write permission (root writes anyway: the test runs the command as
    # nobody then), in a folder that user can read.
    folder = Path(tempfile.mkdtemp(prefix="optuna_ga_ro_"))
    try:
        folder.chmod(0o755)
        db = folder / "ro.db"
        mlp_study(f"sqlite:///{db}")
        db.chmod(0o444)
        before = db.read_bytes()
        command = [sys.executable, "-m", "optuna_ga", "run", "--storage", f"sqlite:///{db}"]
        if os.geteuid() == 0:
            setpriv = shutil.which("setpriv")
            assert setpriv is not None, "setpriv (util-linux) runs the command as nobody"
            command = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", *command]
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=300, env=ENV, cwd=folder
        )
        assert one_line_error(result) == (
            f"optuna-ga run: error: cannot write to {db} (from --storage sqlite:///{db}): "
            "the file is read-only for this user"
        )
        assert "worker" not in result.stderr and result.stdout == ""
        assert db.read_bytes() == before
    finally:
        shutil.rmtree(folder)


# -- issue 19 item 5: the dashboard's address ---------------------------------------------------


def test_dashboard_on_a_busy_port_is_one_line_naming_the_flag(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/d.db"
    ga_study(url)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_cli("dashboard", "--storage", url, "--port", str(port))
    line = one_line_error(result)
    assert line == (
        f"optuna-ga dashboard: error: --port {port}: address already in use on 127.0.0.1 "
        "(another server listens there: choose another --port, or 0 for a free one)"
    )
    assert result.stdout == ""  # nothing published, no "Listening on"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--host", "no-such-host.invalid"], "--host 'no-such-host.invalid': "),
        (["--host", "192.0.2.1"], "--host '192.0.2.1': not an address of this machine"),
        (["--port", "70000"], "argument --port: must be an integer in [0, 65535], got '70000'"),
        (["--port", "-1"], "argument --port: must be an integer in [0, 65535], got '-1'"),
    ],
)
def test_dashboard_on_a_bad_address_is_one_line_naming_the_flag(
    args: list[str], expected: str, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path}/d.db"
    ga_study(url)
    result = run_cli("dashboard", "--storage", url, *args)
    assert expected in one_line_error(result)
    assert result.stdout == ""


def test_dashboard_on_port_0_serves_on_a_free_port(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/d.db"
    ga_study(url)
    code = "import sys\nfrom optuna_ga.cli import main\nsys.exit(main(sys.argv[1:]))"
    server = subprocess.Popen(
        [sys.executable, "-c", code, "dashboard", "--storage", url, "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV,
    )  # fmt: skip
    try:
        assert server.stdout is not None
        assert server.stdout.readline() == "published the GA panels of ga\n"
        match = re.fullmatch(
            rf"optuna-dashboard on http://127\.0\.0\.1:(\d+)/ for {re.escape(url)}; "
            r"GA panels checked every 5 s\n",
            server.stdout.readline(),
        )
        assert match is not None and int(match.group(1)) > 0
        import urllib.request

        with urllib.request.urlopen(f"http://127.0.0.1:{match.group(1)}/api/studies") as page:
            assert [s["study_name"] for s in json.loads(page.read())["study_summaries"]] == ["ga"]
    finally:
        server.send_signal(signal.SIGINT)  # Ctrl-C stops the server quietly
        _, err = server.communicate(timeout=30)
    assert server.returncode == 0, err
    assert "Traceback" not in err


# -- issue 19 item 5: every argument has a range ------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--n-candidates", "1000000000"], "--n-candidates: must be an integer in [1, 4096], got"),
        (["--n-candidates", "0"], "argument --n-candidates: must be an integer in [1, 4096]"),
        (["--heartbeat-interval", "86401"], "--heartbeat-interval: must be an integer in [0, "),
        (["--workers", "100000"], "argument --workers: must be an integer in [1, 256], got"),
        (["--threads", "100000"], "argument --threads: must be an integer in [1, 256], got"),
    ],
)
def test_run_refuses_numbers_out_of_range(args: list[str], expected: str, tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    line = one_line_error(run_cli("run", "--storage", f"sqlite:///{db}", *args))
    assert line.startswith("optuna-ga run: error: argument ") and expected in line
    assert not db.exists()


HEARTBEAT = "heartbeat_interval must be None or an int in [1, 86400], got "
GRACE = "grace_period must be None or an int in [heartbeat_interval + 1, 864000] = [31, 864000]"
RETRY = "max_retry must be None or an int in [0, 100], got "


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"heartbeat_interval": float("nan")}, HEARTBEAT + "nan"),
        ({"heartbeat_interval": float("inf")}, HEARTBEAT + "inf"),
        ({"heartbeat_interval": True}, HEARTBEAT + "True"),
        ({"heartbeat_interval": "30"}, HEARTBEAT + "'30'"),
        ({"heartbeat_interval": 30.0}, HEARTBEAT + "30.0"),
        ({"heartbeat_interval": 0}, HEARTBEAT + "0"),
        ({"heartbeat_interval": 86401}, HEARTBEAT + "86401"),
        ({"heartbeat_interval": 30, "grace_period": 30}, GRACE + ", got 30"),
        ({"heartbeat_interval": 30, "grace_period": 864001}, GRACE + ", got 864001"),
        ({"heartbeat_interval": 30, "grace_period": "60"}, GRACE + ", got '60'"),
        ({"heartbeat_interval": None, "grace_period": 60}, "grace_period must be None when"),
        ({"max_retry": -1}, RETRY + "-1"),
        ({"max_retry": True}, RETRY + "True"),
        ({"max_retry": 101}, RETRY + "101"),
        ({"max_retry": 2.0}, RETRY + "2.0"),
    ],
)
def test_make_storage_names_the_argument_and_its_range(
    kwargs: dict[str, object], expected: str, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path}/s.db"
    with pytest.raises(ValueError) as raised:
        make_storage(url, **kwargs)  # type: ignore[arg-type]
    assert str(raised.value).startswith(expected) and "\n" not in str(raised.value)
    assert not (tmp_path / "s.db").exists()


def test_make_storage_refuses_a_url_that_is_not_a_string() -> None:
    with pytest.raises(ValueError, match=r"^url must be a storage URL \(a str\), got 5\.$"):
        make_storage(5)  # type: ignore[arg-type]


def test_make_storage_takes_the_ends_of_its_ranges(tmp_path: Path) -> None:
    for kwargs in (
        {"heartbeat_interval": 1, "grace_period": 2, "max_retry": 0},
        {"heartbeat_interval": 86400, "grace_period": 864000, "max_retry": 100},
        {"heartbeat_interval": None, "max_retry": None},
    ):
        storage = make_storage(f"sqlite:///{tmp_path}/s.db", **kwargs)  # type: ignore[arg-type]
        assert storage.get_all_studies() == []


# -- issue 19 item 5: corrupt values in the storage ---------------------------------------------


def corrupt(db: Path, sql: str) -> None:
    with contextlib.closing(sqlite3.connect(db)) as connection:
        connection.execute(sql)
        connection.commit()


@pytest.mark.parametrize("command", ["best", "plot"])
def test_a_corrupt_trial_attr_is_named(command: str, tmp_path: Path) -> None:
    db = tmp_path / "c.db"
    ga_study(f"sqlite:///{db}")
    corrupt(db, "update trial_user_attributes set value_json = '{bad' where key = 'ga_parents' "
            "and trial_id = (select trial_id from trials where number = 2)")  # fmt: skip
    out = ["--out", str(tmp_path / "plots")] if command == "plot" else []
    line = one_line_error(run_cli(command, "--storage", f"sqlite:///{db}", *out))
    assert line.startswith(
        f"optuna-ga {command}: error: storage sqlite:///{db}: trial #2 of study 'ga' has a "
        "corrupt user attr 'ga_parents': '{bad' is not JSON (Expecting property name"
    ), line


def test_a_corrupt_study_attr_is_named(tmp_path: Path) -> None:
    db = tmp_path / "c.db"
    ga_study(f"sqlite:///{db}")
    corrupt(db, "update study_user_attributes set value_json = '[1,' "
            "where key = 'optuna_ga_config'")  # fmt: skip
    line = one_line_error(run_cli("best", "--storage", f"sqlite:///{db}"))
    assert f"storage sqlite:///{db}: study 'ga' has a corrupt user attr 'optuna_ga_config': " in (
        line
    )


def corrupt_page(db: Path, table: str) -> None:
    """Overwrite the root page of ``table`` with garbage: SQLite finds the file malformed."""
    with contextlib.closing(sqlite3.connect(db)) as connection:
        (page_size,) = connection.execute("pragma page_size").fetchone()
        (root,) = connection.execute(
            "select rootpage from sqlite_master where name = ?", (table,)
        ).fetchone()
    with db.open("r+b") as file:
        file.seek((root - 1) * page_size)
        file.write(bytes(range(256)) * (page_size // 256))


@pytest.mark.parametrize("command", ["best", "plot", "train-best", "run", "dashboard"])
def test_a_corrupt_page_is_one_line_and_the_file_is_left_alone(
    command: str, tmp_path: Path
) -> None:
    db = tmp_path / "c.db"
    ga_study(f"sqlite:///{db}", name="mlp-digits")
    corrupt_page(db, "trials")
    before = db.read_bytes()
    extra = {"plot": ["--out", str(tmp_path / "plots")], "dashboard": ["--port", "0"]}
    line = one_line_error(
        run_cli(command, "--storage", f"sqlite:///{db}", *extra.get(command, []))
    )
    assert line.startswith(
        f"optuna-ga {command}: error: storage sqlite:///{db} is unreadable: "
    ), line
    assert "malformed" in line, line
    assert db.read_bytes() == before


def set_config(db: Path, config: object) -> None:
    corrupt(db, f"update study_user_attributes set value_json = '{json.dumps(config)}' "
            "where key = 'optuna_ga_config'")  # fmt: skip


def test_plot_names_a_bad_recorded_setting_and_its_flag(tmp_path: Path) -> None:
    db = tmp_path / "c.db"
    ga_study(f"sqlite:///{db}")
    set_config(db, {"population_size": "x", "n_elites": 0})
    out = tmp_path / "plots"
    args = ["plot", "--storage", f"sqlite:///{db}", "--out", str(out), "--format", "html"]
    line = one_line_error(run_cli(*args))
    assert line == (
        "optuna-ga plot: error: study 'ga' records population_size='x' in its user attr "
        "optuna_ga_config, not an int >= 2: pass --population-size to override it"
    )
    assert not out.exists()
    set_config(db, {"population_size": 2, "n_elites": 5})
    line = one_line_error(run_cli(*args))
    assert "records n_elites=5 in its user attr optuna_ga_config, not an int in [0, 1]" in line
    set_config(db, ["not", "a", "mapping"])
    line = one_line_error(run_cli(*args))
    assert "study 'ga' has a user attr optuna_ga_config that is not a JSON object" in line
    result = run_cli(*args, "--population-size", "2", "--n-elites", "0")
    assert result.returncode == 0, result.stderr


def test_train_best_names_a_bad_recorded_dataset(tmp_path: Path) -> None:
    db = tmp_path / "c.db"
    study = ga_study(f"sqlite:///{db}")
    study.set_user_attr("optuna_ga_config", {"dataset": 5})
    corrupt(db, "insert into trial_user_attributes (trial_id, key, value_json) "
            "select trial_id, 'architecture', '\"mlp\"' from trials")  # fmt: skip
    line = one_line_error(run_cli("train-best", "--storage", f"sqlite:///{db}"))
    assert line == (
        "optuna-ga train-best: error: study 'ga' records dataset=5 in its user attr "
        "optuna_ga_config, not a dataset name: pass --dataset to override it"
    )


def test_train_best_refuses_an_unknown_dataset_before_it_says_anything(tmp_path: Path) -> None:
    db = tmp_path / "c.db"
    ga_study(f"sqlite:///{db}")
    corrupt(db, "insert into trial_user_attributes (trial_id, key, value_json) "
            "select trial_id, 'architecture', '\"mlp\"' from trials")  # fmt: skip
    result = run_cli("train-best", "--storage", f"sqlite:///{db}", "--dataset", "foo")
    assert one_line_error(result) == (
        "optuna-ga train-best: error: --dataset must be one of digits, mnist, fashion-mnist, "
        "cifar10, got 'foo'"
    )
    assert result.stdout == ""


def test_plot_errors_name_the_flags(tmp_path: Path) -> None:
    db = tmp_path / "c.db"
    ga_study(f"sqlite:///{db}")
    out = tmp_path / "plots"
    args = ["plot", "--storage", f"sqlite:///{db}", "--out", str(out), "--format", "html"]
    line = one_line_error(run_cli(*args, "--population-size", "3", "--n-elites", "3"))
    assert line == (
        "optuna-ga plot: error: --n-elites must be in [0, --population-size - 1] = [0, 2], got 3."
    )
    line = one_line_error(run_cli(*args, "--params", "x,nope"))
    assert line == (
        "optuna-ga plot: error: --params names unknown parameters ['nope']; the study has ['x']."
    )
    assert not out.exists()


def test_dashboard_names_a_bad_recorded_setting(tmp_path: Path) -> None:
    db = tmp_path / "c.db"
    ga_study(f"sqlite:///{db}")
    set_config(db, {"population_size": 1})
    code = "import sys\nfrom optuna_ga.cli import main\nsys.exit(main(sys.argv[1:]))"
    server = subprocess.Popen(
        [sys.executable, "-c", code, "dashboard", "--storage", f"sqlite:///{db}", "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV,
    )  # fmt: skip
    assert server.stdout is not None
    first = server.stdout.readline()
    server.send_signal(signal.SIGINT)
    _, err = server.communicate(timeout=30)
    assert first.startswith("optuna-dashboard on http://127.0.0.1:"), first + err
    assert err.strip().splitlines() == [
        "optuna-ga: GA panels of study 'ga': study 'ga' records "
        "population_size=1 in its user attr optuna_ga_config, not an int >= 2"
    ]


# -- issue 19 item 5: what run, train-best and plot say ------------------------------------------

TINY = ["--population-size", "2", "--n-elites", "0", "--pruner", "none", "--no-publish"]


def test_a_run_ended_by_its_timeout_says_so(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/t.db"
    args = ["--epochs", "20", "--patience", "20", "--progress-interval", "0", *TINY]
    result = run_cli("run", "--storage", url, "--n-trials", "50", "--timeout", "2", *args)
    assert result.returncode == 0, result.stderr
    match = re.search(r"^--timeout 2 s reached: (\d+) of the 50 trials ran; run the same command "
                      r"again to add more$", result.stdout, re.MULTILINE)  # fmt: skip
    assert match is not None and 1 <= int(match.group(1)) < 50, result.stdout
    result = run_cli("run", "--storage", url, "--n-trials", "1", "--timeout", "600", *args)
    assert result.returncode == 0 and "--timeout" not in result.stdout, result.stdout


def test_one_trial_is_singular(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/o.db"
    args = ["--n-trials", "1", "--epochs", "1", *TINY]
    assert run_cli("run", "--storage", url, *args).returncode == 0
    result = run_cli("run", "--storage", url, *args)
    assert f"study 'mlp-digits' in {url}: 1 trial so far; running 1 more" in result.stdout
    assert "1 trials" not in result.stdout + result.stderr


def test_train_best_says_what_it_does_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/b.db"
    assert (
        run_cli("run", "--storage", url, "--n-trials", "1", "--epochs", "1", *TINY).returncode == 0
    )
    out = tmp_path / "model"
    result = run_cli("train-best", "--storage", url, "--epochs", "2", "--out", str(out),
                     "--progress-interval", "0.001")  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == (
        "retraining trial #0 of study 'mlp-digits' (mlp) on digits for 2 epochs on cpu; "
        "Ctrl-C stops it, saving nothing"
    )
    assert lines[1].startswith("epoch 1 of 2 done [0:0") and lines[2].startswith("epoch 2 of 2")
    assert lines[-1].startswith("retrained trial #0 for 2 epochs on digits: test accuracy ")
    process = subprocess.Popen(
        [sys.executable, "-m", "optuna_ga", "train-best", "--storage", url, "--epochs", "100000",
         "--out", str(out / "again")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV,
    )  # fmt: skip
    assert process.stdout is not None
    assert process.stdout.readline().startswith("retraining trial #0")
    time.sleep(0.5)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130
    assert re.fullmatch(
        rf"optuna-ga: train-best interrupted in epoch \d+ of 100000: nothing saved to "
        rf"{re.escape(str(out / 'again'))}\n",
        err,
    ), err
    assert not (out / "again").exists()


@pytest.mark.parametrize(("blocked", "formats"), [("plotly", "html"), ("matplotlib", "png")])
def test_plot_without_its_extra_leaves_no_folder(
    blocked: str, formats: str, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path}/p.db"
    ga_study(url)
    out = tmp_path / "plots"
    result = run_cli("plot", "--storage", url, "--out", str(out), "--format", formats,
                     prelude=f"sys.modules[{blocked!r}] = None")  # fmt: skip
    line = one_line_error(result)
    assert line == (
        f"optuna-ga plot: error: optuna_ga.visualization needs {blocked}, which is not "
        'installed. Install the extra: pip install "optuna-ga[dashboard]"'
    )
    assert not out.exists()


def test_a_redis_storage_prints_no_warning(redis_url: str) -> None:
    code = (
        "import warnings\nwarnings.simplefilter('default')\n"
        "from optuna_ga.storages import make_storage\n"
        f"print(type(make_storage({redis_url!r})).__name__)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
        env={k: v for k, v in os.environ.items() if k != "PYTHONWARNINGS"},
    )  # fmt: skip
    assert (result.returncode, result.stdout, result.stderr) == (0, "JournalStorage\n", "")


def die_mid_write(db: Path) -> None:
    """A process killed (SIGKILL) in the middle of a large write: it leaves a hot journal."""
    code = (
        "import os, signal, sqlite3, sys\n"
        "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
        "c.execute('pragma cache_size=1')\n"  # spill the changes to the file before a commit
        "c.execute('begin immediate')\n"
        "for i in range(100):\n"
        "    c.execute('insert into study_user_attributes(study_id, key, value_json) '\n"
        "              'values (1, ?, ?)', (f'k{i}', 'x' * 2000))\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    subprocess.run([sys.executable, "-c", code, str(db)], check=False)


@pytest.mark.parametrize("command", ["best", "plot"])
def test_a_journal_left_by_a_killed_writer_is_rolled_back(command: str, tmp_path: Path) -> None:
    db = tmp_path / "c.db"
    ga_study(f"sqlite:///{db}")
    die_mid_write(db)
    journal = tmp_path / "c.db-journal"
    assert journal.exists() and journal.stat().st_size > 0
    # A read-only connection cannot roll the journal back: every command used to fail with
    # "is not an Optuna database: attempt to write a readonly database".
    extra = ["--out", str(tmp_path / "plots"), "--format", "html"] if command == "plot" else []
    result = run_cli(command, "--storage", f"sqlite:///{db}", *extra)
    assert result.returncode == 0, result.stderr
    assert not journal.exists() or journal.stat().st_size == 0
    study = optuna.load_study(study_name="ga", storage=f"sqlite:///{db}")
    assert [t.value for t in study.trials] == [0.5, 0.625, 0.75]
    assert not any(key.startswith("k") for key in study.user_attrs)
