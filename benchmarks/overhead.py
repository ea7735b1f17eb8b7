"""Per-trial overhead of GeneticSampler against RandomSampler, TPESampler and NSGAIISampler.

The objective is trivial (5 floats and 3 categoricals), so what is timed is Optuna, the storage
and the sampler. For each sampler and storage it reports the median milliseconds per trial in the
first and the last 10% of trials, and the ratios to RandomSampler and TPESampler measured in the
same run. Every sampler runs ``--repeats`` times, the samplers in turn, and each figure is the
median over the repeats, so that a busy spell of the shared machine does not decide a ratio.

Each trial is timed twice: wall time, and the CPU time of this process (``time.process_time``).
On a shared machine, wall time also counts the moments another process held the core; CPU time
counts only the work done, so its ratios are the steadier measure of a sampler's cost. Both are
reported for every storage; on SQLite, where the storage waits on the disk, read the wall rows.

    python -m benchmarks.overhead --quick
    python -m benchmarks.overhead --trials 500 3000 --out benchmarks/OVERHEAD.md
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable

import numpy as np
import optuna

from benchmarks._common import command
from benchmarks._common import environment
from benchmarks._common import markdown_table
from benchmarks._common import quiet
from benchmarks._common import report
from optuna_ga import GeneticSampler

SAMPLERS: dict[str, Callable[[], optuna.samplers.BaseSampler]] = {
    "RandomSampler": lambda: optuna.samplers.RandomSampler(seed=0),
    "GeneticSampler": lambda: GeneticSampler(seed=0),
    "GeneticSampler n_candidates=1": lambda: GeneticSampler(seed=0, n_candidates=1),
    "TPESampler": lambda: optuna.samplers.TPESampler(seed=0),
    "NSGAIISampler": lambda: optuna.samplers.NSGAIISampler(seed=0),
}


#: What each trial is timed by: wall time, and this process's CPU time (see the docstring).
CLOCKS = ("wall", "cpu")


def objective(trial: optuna.Trial) -> float:
    value = sum(trial.suggest_float(f"x{i}", -5.0, 5.0) ** 2 for i in range(5))
    for i in range(3):
        value += trial.suggest_categorical(f"c{i}", ["a", "b", "c"]) == "a"
    return value


def time_trials(
    sampler: optuna.samplers.BaseSampler, n_trials: int, storage: str | None
) -> tuple[np.ndarray, np.ndarray]:
    """Wall and CPU milliseconds per trial, from one trial's end to the next one's."""
    ends: list[tuple[float, float]] = []

    def clock() -> tuple[float, float]:
        return time.perf_counter(), time.process_time()

    study = optuna.create_study(sampler=sampler, storage=storage)
    start = clock()
    study.optimize(objective, n_trials=n_trials, callbacks=[lambda s, t: ends.append(clock())])
    wall, cpu = np.diff([start, *ends], axis=0).T * 1000.0
    return wall, cpu


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--trials", type=int, nargs="+", default=[500, 3000])
    parser.add_argument(
        "--storages", nargs="+", default=["memory", "sqlite"], choices=["memory", "sqlite"]
    )
    parser.add_argument("--samplers", nargs="+", default=list(SAMPLERS), choices=list(SAMPLERS))
    parser.add_argument("--repeats", type=int, default=3, help="runs of each sampler")
    parser.add_argument("--quick", action="store_true", help="60 trials, in memory: a smoke run")
    parser.add_argument("--out", help="write the markdown here")
    args = parser.parse_args(argv)
    if args.quick:
        args.trials, args.storages, args.repeats = [60], ["memory"], 1
    quiet()

    rows = []
    for storage_kind in args.storages:
        for n_trials in args.trials:
            # Each repeat runs every sampler once, in turn, so that a busy spell of the machine
            # does not fall on one sampler only; each figure is the median over the repeats.
            # runs[clock][name]: (first 10%, last 10%) medians of each repeat.
            runs: dict[str, dict[str, list[tuple[float, float]]]] = {
                clock: {name: [] for name in args.samplers} for clock in CLOCKS
            }
            k = max(1, n_trials // 10)
            for _ in range(args.repeats):
                for name in args.samplers:
                    with tempfile.TemporaryDirectory() as tmp:
                        url = None if storage_kind == "memory" else f"sqlite:///{tmp}/b.db"
                        timings = time_trials(SAMPLERS[name](), n_trials, url)
                    for clock, ms in zip(CLOCKS, timings, strict=True):
                        runs[clock][name].append(
                            (float(np.median(ms[:k])), float(np.median(ms[-k:])))
                        )
            for clock in CLOCKS:
                rows += _rows(storage_kind, n_trials, clock, runs[clock])
    table = markdown_table(
        [
            "storage",
            "trials",
            "clock",
            "sampler",
            "ms/trial first 10%",
            "ms/trial last 10%",
            "last / first",
            "last 10% vs Random",
            "last 10% vs TPE",
        ],
        rows,
    )
    run = command("benchmarks.overhead", argv)
    text = f"## Per-trial overhead\n\nCommand: `{run}`\n\n{environment()}\n\n{table}\n"
    return report(text, args.out)


def _rows(
    storage_kind: str, n_trials: int, clock: str, runs: dict[str, list[tuple[float, float]]]
) -> list[list[str]]:
    """Table rows of one clock: the median over the repeats, and the ratios to the baselines."""
    medians: dict[str, tuple[float, float]] = {}
    for name, pairs in runs.items():
        first, last = (float(np.median(values)) for values in zip(*pairs, strict=True))
        medians[name] = (first, last)
        print(f"{storage_kind} {n_trials} {clock} {name}: {first:.3f} / {last:.3f} ms", flush=True)
    base = medians.get("RandomSampler")
    tpe = medians.get("TPESampler")
    rows = []
    for name, (first, last) in medians.items():
        rows.append(
            [
                storage_kind,
                str(n_trials),
                clock,
                name,
                f"{first:.3f}",
                f"{last:.3f}",
                f"{last / first:.2f}",
                f"{last / base[1]:.2f}" if base else "-",
                f"{last / tpe[1]:.3f}" if tpe else "-",
            ]
        )
    return rows


if __name__ == "__main__":
    main()
