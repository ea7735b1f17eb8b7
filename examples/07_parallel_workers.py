"""Several worker processes on one study: one evolution, no parameter set evaluated twice.

Each worker is a separate process (as it would be on another machine) that loads the study
from the shared storage and calls ``optimize``. The sampler keeps no state of its own: every
worker reads generations, parents and the other workers' running trials from storage.

Run ``python examples/07_parallel_workers.py --workers 2`` (SQLite file ``optuna_ga.db``), or
``--storage postgresql://user:password@host:5432/db`` to share the study across machines:
start the script on each machine with the same URL and ``--study-name``. ``--smoke`` runs a
seconds-long study on SQLite in a temporary folder.
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import os
import tempfile
import time

import optuna

from optuna_ga import GeneticSampler
from optuna_ga import canonical_hash
from optuna_ga.storages import make_storage
from optuna_ga.storages import mask_url


def objective(trial: optuna.Trial) -> float:
    """A stand-in for training: a short sleep, then a function with its minimum at (2, 8)."""
    x = trial.suggest_float("x", -10.0, 10.0)
    n = trial.suggest_int("n", 1, 64, log=True)
    trial.set_user_attr("worker", os.getpid())
    time.sleep(0.05)
    return (x - 2.0) ** 2 + abs(math.log2(n) - 3)


def work(storage_url: str, study_name: str, n_trials: int, seed: int) -> None:
    """One worker: load the shared study and run ``n_trials`` trials."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.load_study(
        study_name=study_name,
        storage=make_storage(storage_url),  # heartbeats: a killed worker's trial is retried
        sampler=GeneticSampler(population_size=10, n_elites=2, seed=seed),
    )
    study.optimize(objective, n_trials=n_trials)


def main(argv: list[str] | None = None) -> optuna.Study:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--storage", default="sqlite:///optuna_ga.db")
    parser.add_argument("--study-name", default="parallel-workers")
    parser.add_argument("--workers", type=int, default=2, help="processes on this machine")
    parser.add_argument("--n-trials", type=int, default=50, help="trials per worker")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--smoke", action="store_true", help="a seconds-long run in a temp dir")
    args = parser.parse_args(argv)
    if args.smoke:
        args.storage = f"sqlite:///{tempfile.mkdtemp(prefix='optuna_ga_')}/workers.db"
        args.workers, args.n_trials = 2, 12

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    optuna.create_study(
        storage=make_storage(args.storage), study_name=args.study_name, load_if_exists=True
    )
    # "spawn" starts clean interpreters, as on another machine (and as CUDA requires).
    context = multiprocessing.get_context("spawn")
    job = (args.storage, args.study_name, args.n_trials, args.seed)
    workers = [context.Process(target=work, args=job) for _ in range(args.workers)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    if any(worker.exitcode != 0 for worker in workers):
        raise SystemExit("a worker failed; see its traceback above")

    study = optuna.load_study(study_name=args.study_name, storage=make_storage(args.storage))
    done = study.get_trials(deepcopy=False, states=[optuna.trial.TrialState.COMPLETE])
    per_worker = sorted(
        sum(t.user_attrs["worker"] == pid for t in done)
        for pid in {t.user_attrs["worker"] for t in done}
    )
    distinct = len({canonical_hash(t.params) for t in done})
    best = study.best_trial
    print(
        f"{len(done)} trials in {mask_url(args.storage)} from {len(per_worker)} "
        f"processes ({per_worker} trials each); {distinct} distinct parameter sets\n"
        f"best value {best.value:.4f} in trial {best.number} "
        f"(generation {best.user_attrs['ga_generation']}): {best.params}"
    )
    return study


if __name__ == "__main__":
    main()
