"""A worker killed with ``kill -9`` at the worst moment: while the sampler proposes its trial.

Optuna records a trial's first heartbeat only after ``study.ask`` returns; the sampler records
one as soon as it is asked, so a trial whose worker dies while it proposes goes stale like any
other: the next worker fails it after the grace period and, with a retry callback, runs it again.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from optuna_ga import GeneticSampler
from optuna_ga import canonical_hash
from optuna_ga._store import GENOME_KEY
from optuna_ga.storages import make_storage

GRACE_S = 2


def objective(trial: optuna.Trial) -> float:
    x = trial.suggest_int("x", 0, 50)
    act = trial.suggest_categorical("act", ["relu", "tanh"])
    return (x - 20) ** 2 + (act == "tanh")


def sampler() -> GeneticSampler:
    return GeneticSampler(population_size=4, n_elites=1, seed=0)


def stall_while_proposing(url: str, study_name: str, marker: str) -> None:
    """Run 3 trials, then stall inside the 4th trial's proposal (after its claim is written)."""
    from optuna_ga import _store

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = make_storage(url, heartbeat_interval=1, grace_period=GRACE_S)
    study = optuna.load_study(study_name=study_name, storage=storage, sampler=sampler())
    study.optimize(objective, n_trials=3)
    write_claim = _store.write_claim

    def stall(*args: object, **kwargs: object) -> None:
        write_claim(*args, **kwargs)  # type: ignore[arg-type]
        Path(marker).touch()
        time.sleep(600)

    _store.write_claim = stall  # type: ignore[assignment]
    study.optimize(objective, n_trials=1)


def kill_when_stalled(
    stall: Callable[[str, str, str], None], url: str, study_name: str, tmp_path: Path
) -> None:
    """Run ``stall(url, study_name, marker)`` in a worker; ``kill -9`` it once it stalls."""
    marker = tmp_path / "stalled"
    process = multiprocessing.get_context("spawn").Process(
        target=stall, args=(url, study_name, str(marker))
    )
    process.start()
    deadline = time.monotonic() + 240
    while not marker.exists():
        assert process.is_alive() and time.monotonic() < deadline, "the worker never stalled"
        time.sleep(0.05)
    assert process.pid is not None
    os.kill(process.pid, signal.SIGKILL)
    process.join()


def killed_while_asking(url: str, study_name: str, tmp_path: Path) -> optuna.Study:
    optuna.create_study(study_name=study_name, storage=url)
    kill_when_stalled(stall_while_proposing, url, study_name, tmp_path)
    storage = make_storage(url, heartbeat_interval=1, grace_period=GRACE_S)
    study = optuna.load_study(study_name=study_name, storage=storage, sampler=sampler())
    (stalled,) = study.get_trials(states=(TrialState.RUNNING,))
    assert stalled.number == 3 and stalled.system_attrs[GENOME_KEY]  # it had claimed a set
    time.sleep(GRACE_S + 1)
    study.optimize(objective, n_trials=4)  # fails the stale trial first, then retries it
    return study


def check(study: optuna.Study) -> None:
    trials = study.trials
    assert not [t for t in trials if t.state == TrialState.RUNNING]
    assert trials[3].state == TrialState.FAIL
    retries = [t for t in trials if t.system_attrs.get("failed_trial") == 3]
    assert len(retries) == 1 and retries[0].state == TrialState.COMPLETE
    complete = [canonical_hash(t.params) for t in trials if t.state == TrialState.COMPLETE]
    assert len(complete) == len(set(complete)) == 7


@pytest.mark.slow
def test_a_worker_killed_while_it_proposes_leaves_no_trial_running_on_sqlite(
    sqlite_url: str, study_name: str, tmp_path: Path
) -> None:
    check(killed_while_asking(sqlite_url, study_name, tmp_path))


@pytest.mark.slow
@pytest.mark.postgres
def test_a_worker_killed_while_it_proposes_leaves_no_trial_running_on_postgresql(
    postgres_url: str, study_name: str, tmp_path: Path
) -> None:
    try:
        check(killed_while_asking(postgres_url, study_name, tmp_path))
    finally:
        with contextlib.suppress(KeyError):
            optuna.delete_study(study_name=study_name, storage=postgres_url)


def stall_in_objective(url: str, study_name: str, marker: str) -> None:
    """Run 3 trials, then stall inside the 4th trial's objective, after it suggested ``x``."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = make_storage(url, heartbeat_interval=1, grace_period=GRACE_S)
    study = optuna.load_study(study_name=study_name, storage=storage, sampler=sampler())
    study.optimize(objective, n_trials=3)

    def stalled(trial: optuna.Trial) -> float:
        trial.suggest_int("x", 0, 50)
        Path(marker).touch()
        time.sleep(600)
        return 0.0

    study.optimize(stalled, n_trials=1)


def killed_midway_and_its_set_run_meanwhile(url: str, study_name: str, tmp_path: Path) -> None:
    """A worker dies after suggesting ``x`` of its set; the whole set runs before the retry."""
    optuna.create_study(study_name=study_name, storage=url)
    kill_when_stalled(stall_in_objective, url, study_name, tmp_path)
    storage = make_storage(url, heartbeat_interval=1, grace_period=GRACE_S)  # retries too
    study = optuna.load_study(study_name=study_name, storage=storage, sampler=sampler())
    (stalled,) = study.get_trials(states=(TrialState.RUNNING,))
    genome = stalled.system_attrs[GENOME_KEY]
    assert stalled.params.keys() == {"x"} and genome.keys() == {"x", "act"}
    study.enqueue_trial(genome)  # as another worker could propose once the trial is failed
    time.sleep(GRACE_S + 1)
    study.optimize(objective, n_trials=3)  # fails the stale trial, runs the set, then the retry
    trials = study.trials
    assert not [t for t in trials if t.state == TrialState.RUNNING]
    (retried,) = [t for t in trials if t.system_attrs.get("failed_trial") == stalled.number]
    assert retried.state == TrialState.COMPLETE and retried.params["x"] == genome["x"]
    assert retried.params != genome and retried.user_attrs["ga_operator"] == "retry"
    complete = [canonical_hash(t.params) for t in trials if t.state == TrialState.COMPLETE]
    assert len(complete) == len(set(complete)) == 6


@pytest.mark.slow
def test_the_retry_of_a_worker_killed_midway_runs_an_unseen_set_on_sqlite(
    sqlite_url: str, study_name: str, tmp_path: Path
) -> None:
    killed_midway_and_its_set_run_meanwhile(sqlite_url, study_name, tmp_path)


@pytest.mark.slow
@pytest.mark.postgres
def test_the_retry_of_a_worker_killed_midway_runs_an_unseen_set_on_postgresql(
    postgres_url: str, study_name: str, tmp_path: Path
) -> None:
    try:
        killed_midway_and_its_set_run_meanwhile(postgres_url, study_name, tmp_path)
    finally:
        with contextlib.suppress(KeyError):
            optuna.delete_study(study_name=study_name, storage=postgres_url)
