"""Several worker processes on one real storage (SQLite file, PostgreSQL server)."""

from __future__ import annotations

import multiprocessing
import time
from typing import Any

import optuna
import pytest
from optuna.trial import TrialState

from optuna_ga import GeneticSampler
from optuna_ga import SearchSpaceExhausted
from optuna_ga import canonical_hash
from optuna_ga.storages import make_storage
from tests.parallel_checks import check_worker_study

POPULATION, ELITES = 8, 2
N_WORKERS, TRIALS_PER_WORKER = 4, 12


def objective(trial: optuna.Trial) -> float:
    # 6 * 4 * 4 * 3 = 288 points: small enough that careless workers would collide.
    a = trial.suggest_int("a", 0, 5)
    b = trial.suggest_int("b", 0, 3)
    act = trial.suggest_categorical("act", ["relu", "tanh", "gelu", "elu"])
    c = trial.suggest_float("c", 0.0, 1.0, step=0.5)
    time.sleep(0.02)  # let the workers interleave
    return (a - 3) ** 2 + (b - 1) ** 2 + (act == "gelu") + c


def storage_for(url: str) -> optuna.storages.BaseStorage:
    return make_storage(url, heartbeat_interval=None)


def worker(url: str, study_name: str, seed: int | None, population: Any) -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sampler = GeneticSampler(
        population_size=POPULATION, n_elites=ELITES, population=population, seed=seed
    )
    study = optuna.load_study(study_name=study_name, storage=storage_for(url), sampler=sampler)
    study.optimize(objective, n_trials=TRIALS_PER_WORKER)


def run_workers(
    url: str, study_name: str, seeds: list[int | None], *, population: str = "steady"
) -> optuna.Study:
    optuna.create_study(study_name=study_name, storage=storage_for(url))
    context = multiprocessing.get_context("spawn")
    processes = [
        context.Process(target=worker, args=(url, study_name, s, population)) for s in seeds
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=240)
        assert process.exitcode == 0
    return optuna.load_study(study_name=study_name, storage=storage_for(url))


def delete(url: str, study_name: str) -> None:
    optuna.delete_study(study_name=study_name, storage=storage_for(url))


def check(study: optuna.Study, *, population: str = "steady") -> None:
    check_worker_study(
        study,
        n_trials=N_WORKERS * TRIALS_PER_WORKER,
        population_size=POPULATION,
        n_elites=ELITES,
        population=population,
    )
    assert study.best_value == min(t.value for t in study.trials)


@pytest.mark.slow
def test_four_workers_on_sqlite(sqlite_url: str, study_name: str) -> None:
    check(run_workers(sqlite_url, study_name, [0, 0, 0, 0]))


@pytest.mark.slow
def test_four_hall_of_fame_workers_on_sqlite(sqlite_url: str, study_name: str) -> None:
    study = run_workers(sqlite_url, study_name, [5, 6, 7, 8], population="hall_of_fame")
    check(study, population="hall_of_fame")


@pytest.mark.slow
@pytest.mark.postgres
def test_four_workers_on_postgresql(postgres_url: str, study_name: str) -> None:
    study = run_workers(postgres_url, study_name, [None, None, None, None])
    try:
        check(study)
    finally:
        delete(postgres_url, study_name)


def enqueued_worker(url: str, study_name: str, n_trials: int) -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sampler = GeneticSampler(population_size=POPULATION, n_elites=ELITES)
    study = optuna.load_study(study_name=study_name, storage=storage_for(url), sampler=sampler)
    study.optimize(objective, n_trials=n_trials)


@pytest.mark.slow
@pytest.mark.postgres
def test_workers_complete_enqueued_trials_without_a_repeat_on_postgresql(
    postgres_url: str, study_name: str
) -> None:
    # 8 trials enqueued with a = 3 and b = 1 fixed: 12 sets complete them (4 act x 3 c). Four
    # workers take them at once; the sampler must give each an unseen completion (random
    # completions would repeat one in 95% of runs).
    study = optuna.create_study(study_name=study_name, storage=storage_for(postgres_url))
    try:
        for _ in range(8):
            study.enqueue_trial({"a": 3, "b": 1})
        context = multiprocessing.get_context("spawn")
        processes = [
            context.Process(target=enqueued_worker, args=(postgres_url, study_name, 2))
            for _ in range(4)
        ]
        for process in processes:
            process.start()
        for process in processes:
            process.join(timeout=240)
            assert process.exitcode == 0
        trials = optuna.load_study(study_name=study_name, storage=storage_for(postgres_url)).trials
        assert len(trials) == 8
        assert all(t.state == TrialState.COMPLETE for t in trials)
        assert all(t.params["a"] == 3 and t.params["b"] == 1 for t in trials)
        assert all(t.user_attrs["ga_operator"] == "enqueued" for t in trials)
        assert len({canonical_hash(t.params) for t in trials}) == 8
    finally:
        delete(postgres_url, study_name)


@pytest.mark.slow
def test_four_workers_on_a_redis_journal(redis_url: str, study_name: str) -> None:
    study = run_workers(redis_url, study_name, [1, 2, 3, 4])
    try:
        check(study)
    finally:
        delete(redis_url, study_name)


# -- a finite space that runs out under several workers --------------------------------------


def grid_objective(trial: optuna.Trial) -> float:
    # 3 categoricals x 4 values: 64 points for 4 workers x 25 trials.
    a = trial.suggest_categorical("a", ["w", "x", "y", "z"])
    b = trial.suggest_categorical("b", ["w", "x", "y", "z"])
    c = trial.suggest_categorical("c", ["w", "x", "y", "z"])
    time.sleep(0.01)
    return "wxyz".index(a) + "wxyz".index(b) * "wxyz".index(c)


def grid_worker(url: str, study_name: str, seed: int) -> None:
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    sampler = GeneticSampler(population_size=POPULATION, n_elites=ELITES, seed=seed)
    study = optuna.load_study(study_name=study_name, storage=storage_for(url), sampler=sampler)
    study.optimize(grid_objective, n_trials=25, catch=(SearchSpaceExhausted,))


def exhaust(url: str, study_name: str) -> None:
    optuna.create_study(study_name=study_name, storage=storage_for(url))
    context = multiprocessing.get_context("spawn")
    processes = [
        context.Process(target=grid_worker, args=(url, study_name, seed)) for seed in range(4)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=240)
        assert process.exitcode == 0
    study = optuna.load_study(study_name=study_name, storage=storage_for(url))
    complete = [canonical_hash(t.params) for t in study.get_trials(states=(TrialState.COMPLETE,))]
    assert len(complete) == len(set(complete)) == 64  # every point once, none twice
    failed = study.get_trials(states=(TrialState.FAIL,))
    assert len(failed) <= 3  # at most one per worker that asked after the last set was taken
    assert all(t.user_attrs["ga_operator"] == "exhausted" and len(t.params) < 3 for t in failed)
    assert not study.get_trials(states=(TrialState.RUNNING, TrialState.WAITING))


@pytest.mark.slow
def test_a_finite_space_runs_out_without_a_repeat_on_sqlite(
    sqlite_url: str, study_name: str
) -> None:
    exhaust(sqlite_url, study_name)


@pytest.mark.slow
@pytest.mark.postgres
def test_a_finite_space_runs_out_without_a_repeat_on_postgresql(
    postgres_url: str, study_name: str
) -> None:
    try:
        exhaust(postgres_url, study_name)
    finally:
        delete(postgres_url, study_name)
