"""Parallel scaling: 1, 2 and 4 worker processes sharing one study on PostgreSQL.

The objective sleeps a fixed time (0.2 s by default) over a small mixed space, so what limits
throughput is the storage and the sampler. For each sampler and worker count, ``--trials``
trials are run (a ``MaxTrialsCallback`` shares the budget between workers, each a spawned
process with its own storage connection) and the run reports:

* throughput: finished trials per second, from the first trial's start to the last trial's end
  (storage timestamps, so process start-up is not counted);
* speed-up: throughput over the 1-worker throughput of the same sampler; ideal = workers;
* duplicates: trials whose parameter set repeats an earlier trial's (must be 0 for
  GeneticSampler).

Medians over ``--repeats`` runs. GeneticSampler workers share one seed (each trial number has
its own random stream); RandomSampler workers get distinct seeds (a shared seed would make them
suggest the same points). Studies get unique names and are deleted afterwards.

    python -m benchmarks.parallel --quick
    python -m benchmarks.parallel --workers 1 2 4 --trials 80 --repeats 3
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import time
import uuid
from typing import Any

import numpy as np
import optuna
from optuna.trial import TrialState

from benchmarks._common import command
from benchmarks._common import environment
from benchmarks._common import markdown_table
from benchmarks._common import quiet
from benchmarks._common import report

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"
SAMPLERS = ("GeneticSampler", "RandomSampler")


def make_sampler(name: str, seed: int, worker: int) -> optuna.samplers.BaseSampler:
    """The sampler of one worker."""
    if name == "GeneticSampler":
        from optuna_ga import GeneticSampler

        return GeneticSampler(population_size=10, seed=seed)
    if name == "RandomSampler":
        return optuna.samplers.RandomSampler(seed=seed * 1000 + worker)
    raise ValueError(f"unknown sampler {name!r}")


def objective(trial: optuna.Trial, sleep: float) -> float:
    """A small mixed, conditional space; the cost is ``sleep`` seconds."""
    x = trial.suggest_float("x", -5.0, 5.0)
    lr = trial.suggest_float("lr", 1e-5, 1e-1, log=True)
    n = trial.suggest_int("n", 1, 8)
    kind = trial.suggest_categorical("kind", ["a", "b", "c"])
    extra = trial.suggest_float("y", 0.0, 1.0) if kind == "a" else 0.0
    time.sleep(sleep)
    return x * x + (np.log10(lr) + 3) ** 2 + abs(n - 4) + (kind != "a") + extra


def _worker(
    url: str, study_name: str, sampler: str, seed: int, worker: int, trials: int, sleep: float
) -> None:
    from optuna.study import MaxTrialsCallback

    from optuna_ga.storages import make_storage

    quiet()
    study = optuna.load_study(
        study_name=study_name,
        storage=make_storage(url, heartbeat_interval=None),
        sampler=make_sampler(sampler, seed, worker),
    )
    study.optimize(
        lambda t: objective(t, sleep),
        callbacks=[MaxTrialsCallback(trials, states=None)],
    )


def run_once(
    url: str, sampler: str, workers: int, trials: int, sleep: float, seed: int
) -> dict[str, Any]:
    """One study with ``workers`` processes; throughput and duplicates."""
    from optuna_ga.storages import make_storage

    name = f"bench-parallel-{uuid.uuid4().hex[:12]}"
    storage = make_storage(url, heartbeat_interval=None)
    optuna.create_study(study_name=name, storage=storage)
    try:
        ctx = multiprocessing.get_context("spawn")
        procs = [
            ctx.Process(target=_worker, args=(url, name, sampler, seed, w, trials, sleep))
            for w in range(workers)
        ]
        for p in procs:
            p.start()
        for p in procs:
            p.join()
        study = optuna.load_study(study_name=name, storage=storage)
        done = [t for t in study.trials if t.state == TrialState.COMPLETE]
        starts = [t.datetime_start for t in done if t.datetime_start]
        ends = [t.datetime_complete for t in done if t.datetime_complete]
        span = (max(ends) - min(starts)).total_seconds()
        keys = [json.dumps(t.params, sort_keys=True) for t in study.trials if t.params]
        return {
            "trials": len(done),
            "throughput": len(done) / span,
            "duplicates": len(keys) - len(set(keys)),
            "exit_codes": [p.exitcode for p in procs],
        }
    finally:
        optuna.delete_study(study_name=name, storage=storage)


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--storage", default=DEFAULT_URL, help="an RDB URL (make_storage)")
    parser.add_argument("--workers", type=int, nargs="+", help="default 1 2 4 (--quick: 1 2)")
    parser.add_argument("--trials", type=int, help="trials per study; default 80 (--quick: 12)")
    parser.add_argument(
        "--sleep", type=float, help="seconds per call; default 0.2 (--quick: 0.05)"
    )
    parser.add_argument("--repeats", type=int, help="default 3 (--quick: 1)")
    parser.add_argument("--samplers", nargs="+", default=list(SAMPLERS), choices=SAMPLERS)
    parser.add_argument("--quick", action="store_true", help="1 and 2 workers, 12 trials, 0.05 s")
    parser.add_argument("--out", help="write the markdown here")
    args = parser.parse_args(argv)
    defaults = ([1, 2], 12, 0.05, 1) if args.quick else ([1, 2, 4], 80, 0.2, 3)
    for key, default in zip(("workers", "trials", "sleep", "repeats"), defaults, strict=True):
        if getattr(args, key) is None:
            setattr(args, key, default)
    quiet()

    rows = []
    for sampler in args.samplers:
        base = None
        for workers in args.workers:
            results = [
                run_once(args.storage, sampler, workers, args.trials, args.sleep, seed)
                for seed in range(args.repeats)
            ]
            tput = float(np.median([r["throughput"] for r in results]))
            lo = min(r["throughput"] for r in results)
            hi = max(r["throughput"] for r in results)
            base = tput if workers == min(args.workers) else base
            dups = sum(r["duplicates"] for r in results)
            codes = sorted({c for r in results for c in r["exit_codes"]})
            print(f"{sampler} x{workers}: {tput:.2f} trials/s, {dups} duplicates", flush=True)
            rows.append(
                [
                    sampler,
                    str(workers),
                    f"{tput:.2f} [{lo:.2f}, {hi:.2f}]",
                    f"{tput / base:.2f}" if base else "-",
                    f"{workers / args.sleep:.1f}",
                    f"{tput * args.sleep / workers:.0%}",
                    str(dups),
                    ",".join(map(str, codes)),
                ]
            )
    table = markdown_table(
        [
            "sampler",
            "workers",
            "trials/s median [min, max]",
            "speed-up vs fewest workers",
            "ideal trials/s",
            "efficiency",
            "duplicates (all runs)",
            "worker exit codes",
        ],
        rows,
    )
    scheme = args.storage.split(":", 1)[0]
    run = command("benchmarks.parallel", argv)
    text = (
        f"## Parallel scaling\n\nCommand: `{run}`\n\n{environment()}\n\n"
        f"Storage: {scheme}; {args.trials} trials per study, objective sleeps {args.sleep} s, "
        f"{args.repeats} repeats.\n\n{table}\n"
    )
    return report(text, args.out)


if __name__ == "__main__":
    main()
