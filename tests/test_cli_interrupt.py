"""``optuna-ga run`` under Ctrl-C and with a worker killed by ``kill -9`` (real SQLite).

The CLI runs as a subprocess (``python -m optuna_ga``); the tests read trial states straight
from the SQLite file, which is cheap enough to poll.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path

import optuna
from optuna.trial import TrialState

TINY = ["--population-size", "4", "--n-elites", "1", "--pruner", "none"]
ENV = {**os.environ, "PYTHONWARNINGS": "ignore"}


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "optuna_ga", *args]


def states(db: Path) -> list[str]:
    """Trial states in the file, by trial number; [] before the tables exist."""
    try:
        with sqlite3.connect(db, timeout=10) as connection:
            rows = connection.execute("select state from trials order by number").fetchall()
        return [row[0] for row in rows]
    except sqlite3.Error:
        return []


def workers_of(pid: int) -> list[int]:
    """The worker processes of a running CLI (multiprocessing's spawned children)."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []
    found = []
    for child in children:
        try:
            if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes():
                found.append(int(child))
        except OSError:
            continue
    return found


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process has used so far; 0 if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_for(condition: Callable[[], bool], seconds: float = 120, where: str = "") -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"{where}: the moment to interrupt never came"
        time.sleep(0.05)


@contextlib.contextmanager
def reaped(process: subprocess.Popen[str]) -> Iterator[subprocess.Popen[str]]:
    """Whatever happens, kill what is left of a CLI started in its own session.

    A round that fails must not leave the CLI and its workers training (a failed round used to
    leave a 500-trial run behind, loading the machine for every later test).
    """
    try:
        yield process
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # the parent and its workers, if still there
        process.communicate()


def python_stacks(process: subprocess.Popen[str]) -> str:
    """The Python stacks of a CLI that does not stop (faulthandler, on SIGABRT), for the report
    of a failed round: where the Ctrl-C went."""
    with contextlib.suppress(ProcessLookupError):
        process.send_signal(signal.SIGABRT)
    try:
        _, err = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        return "(no stacks: the process did not answer SIGABRT)"
    return err[-6000:]


def test_ctrl_c_stops_run_at_any_moment_20_times_in_a_row(tmp_path: Path) -> None:
    db = tmp_path / "c.db"
    url = f"sqlite:///{db}"
    # Trials of a few seconds (20 epochs, no early stop), so that some signals land mid-epoch.
    base = ["run", "--storage", url, "--n-trials", "500", "--epochs", "20", "--patience", "20"]

    def soon(process: subprocess.Popen[str]) -> bool:  # the parent's imports
        # By CPU time, not wall time: 0.2 s of wall time on a loaded machine can land inside
        # the interpreter's own start-up, where Python aborts ("Fatal Python error:
        # init_import_site") before any code of ours runs. A bare interpreter starts in about
        # 0.04 s of CPU time; the parent imports for about 0.45 s before it starts workers.
        return cpu_seconds(process.pid) >= 0.1

    def starting(process: subprocess.Popen[str]) -> bool:  # workers import torch
        return bool(workers_of(process.pid))

    def running(n: int) -> Callable[[subprocess.Popen[str]], bool]:
        return lambda process: states(db).count("RUNNING") >= n

    def between_trials(process: subprocess.Popen[str]) -> bool:  # just after a trial's end
        if not hasattr(between_trials, "seen"):
            between_trials.seen = states(db).count("COMPLETE")  # type: ignore[attr-defined]
        if states(db).count("COMPLETE") > between_trials.seen:  # type: ignore[attr-defined]
            del between_trials.seen  # type: ignore[attr-defined]
            return True
        return False

    soon_ = ("soon", soon, [])
    starting_ = ("starting", starting, [])
    trial = ("during a trial", running(1), [])
    two = ("two workers in trials", running(2), ["--workers", "2"])
    between = ("between trials", between_trials, [])
    # Rounds that need trials wait for the workers to import torch: 6 of the 20.
    moments = [soon_, starting_, trial, soon_, starting_, two, soon_, starting_, between, soon_]
    completed: dict[int, str] = {}
    for round_ in range(20):
        name, moment, extra = moments[round_ % len(moments)]
        process = subprocess.Popen(
            cli(*base, *TINY, *extra), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**ENV, "PYTHONFAULTHANDLER": "1"}, start_new_session=True,
        )  # fmt: skip
        with reaped(process):
            round_name = f"round {round_} ({name})"
            wait_for(lambda moment=moment, process=process: moment(process), where=round_name)
            process.send_signal(signal.SIGINT)  # the parent only, as the other tests' Ctrl-C
            sent = time.monotonic()
            try:
                out, err = process.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                raise AssertionError(
                    f"{round_name}: still running 60 s after SIGINT; where it was:\n"
                    + python_stacks(process)
                ) from None
        took = time.monotonic() - sent
        where = f"{round_name}: {err!r}"
        assert process.returncode == 130, where
        assert took < 15, f"{where} took {took:.1f} s to stop"
        assert len(err.strip().splitlines()) == 1 and "interrupted" in err, where
        assert "Traceback" not in out + err, where
        assert len(out.splitlines()) <= 4, where  # the header and a generation line or two
        now = states(db)
        assert "RUNNING" not in now, where
        for number, state in completed.items():
            assert now[number] == state, where  # nothing stored is lost or changed
        completed = {n: s for n, s in enumerate(now) if s == "COMPLETE"}
    assert len(completed) >= 2  # one per round between trials

    # The same command continues.
    before = len(states(db))
    result = subprocess.run(
        cli("run", "--storage", url, "--n-trials", "2", "--epochs", "1", *TINY),
        capture_output=True, text=True, timeout=300, env=ENV,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert len(states(db)) == before + 2


def test_killed_worker_is_reported_and_its_trials_run(tmp_path: Path) -> None:
    db = tmp_path / "k.db"
    url = f"sqlite:///{db}"
    command = cli(
        "run", "--storage", url, "--n-trials", "12", "--workers", "2", "--epochs", "8",
        "--patience", "8", "--progress-interval", "0", *TINY,
    )  # fmt: skip
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV
    )
    # Right when a trial is created: the moment the worker has had the least time to report it.
    wait_for(lambda: states(db).count("RUNNING") >= 2 and len(workers_of(process.pid)) == 2)
    os.kill(workers_of(process.pid)[0], signal.SIGKILL)
    killed = datetime.datetime.now()
    out, err = process.communicate(timeout=300)
    assert process.returncode == 0, err
    assert "died (killed by SIGKILL)" in err and "a new worker runs" in err, err
    study = optuna.load_study(study_name="mlp-digits", storage=url)
    by_state = {s: [t for t in study.trials if t.state == s] for s in TrialState}
    assert not by_state[TrialState.RUNNING]
    # The killed trial failed and ran again with the same parameters; 12 trials were run.
    (failed,) = by_state[TrialState.FAIL]
    (retry,) = [t for t in study.trials if t.system_attrs.get("failed_trial") == failed.number]
    assert "optuna_ga:cli_worker" not in retry.system_attrs  # any worker may take a retry
    assert retry.state == TrialState.COMPLETE and retry.params.items() >= failed.params.items()
    assert len(by_state[TrialState.COMPLETE]) + len(by_state[TrialState.PRUNED]) == 12
    # The dead worker's trial was failed at once, not after the heartbeat grace period (60 s),
    # so it held no generation line back: every generation is printed, once, in order.
    assert failed.datetime_complete is not None
    assert (failed.datetime_complete - killed).total_seconds() < 15
    generations = [
        int(line.split()[1][:-1]) for line in out.splitlines() if line[:11] == "generation "
    ]
    assert generations == [0, 1, 2, 3]


def test_two_workers_print_every_generation_once_in_order(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/w.db"
    result = subprocess.run(
        cli("run", "--storage", url, "--n-trials", "13", "--workers", "2", "--epochs", "1", *TINY),
        capture_output=True, text=True, timeout=300, env=ENV,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if line.startswith("generation ")]
    # 4 trials in generation 0, then 3 each: 13 trials are generations 0 to 3, all complete.
    assert [line.split(":")[0] for line in lines] == [f"generation {g}" for g in range(4)]


def test_progress_lines_without_a_terminal(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/p.db"
    result = subprocess.run(
        cli(
            "run", "--storage", url, "--n-trials", "3", "--epochs", "20", "--patience", "20",
            "--progress-interval", "1", "--no-publish", *TINY,
        ),
        capture_output=True, text=True, timeout=300, env=ENV,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    progress = [line for line in result.stdout.splitlines() if "trials of this run done" in line]
    assert progress, result.stdout
    assert "\r" not in result.stdout and "\033" not in result.stdout  # no terminal codes
    assert "best validation accuracy" in progress[-1]


def test_interrupt_inside_exec_still_exits_130(tmp_path: Path) -> None:
    # Ctrl-C while a module defines a dataclass raises KeyboardInterrupt inside ``exec``;
    # ``python -m`` must still end with status 130 and one line, not die of SIGINT.
    (tmp_path / "interrupted_in_exec.py").write_text(
        "import sys\n"
        "import optuna_ga.cli._parser as parser\n"
        "parser.run_command = lambda argv: exec('raise KeyboardInterrupt')\n"
        "from optuna_ga.cli import main\n"
        "sys.exit(main([]))\n"
    )
    env = {**ENV, "PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path])}
    done = subprocess.run(
        [sys.executable, "-m", "interrupted_in_exec"], capture_output=True, text=True, env=env
    )
    assert (done.returncode, done.stderr) == (130, "optuna-ga: interrupted\n")


def test_ctrl_c_while_four_workers_start_prints_one_line(tmp_path: Path) -> None:
    # A terminal's Ctrl-C goes to the whole process group: the workers get SIGINT too, also
    # while their interpreter starts and imports (optuna, torch). Not one traceback from them.
    db = tmp_path / "s.db"
    command = cli(
        "run", "--storage", f"sqlite:///{db}", "--workers", "4", "--n-trials", "8", *TINY
    )  # fmt: skip

    def spawned(n: int, then: float = 0.0) -> Callable[[subprocess.Popen[str]], bool]:
        def moment(process: subprocess.Popen[str]) -> bool:
            if len(workers_of(process.pid)) < n:
                return False
            time.sleep(then)
            return True

        return moment

    moments = [spawned(1), spawned(4), spawned(4, 0.3), spawned(4, 1.0), spawned(4, 2.0)]
    for round_, moment in enumerate(moments):
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV,
            start_new_session=True,
        )  # fmt: skip
        with reaped(process):
            wait_for(lambda moment=moment, process=process: moment(process), where=str(round_))
            os.killpg(process.pid, signal.SIGINT)
            out, err = process.communicate(timeout=60)
        where = f"round {round_}: {err!r}"
        assert process.returncode == 130, where
        assert len(err.strip().splitlines()) == 1 and "optuna-ga: interrupted" in err, where
        assert "Traceback" not in out + err, where
        assert "RUNNING" not in states(db), where
