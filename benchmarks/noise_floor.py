"""How much of a table's incumbent is search, and how much is noise.

:mod:`benchmarks.hpo_tables` scores a run by its *incumbent*: the configuration with the best
observed value, each observation one of the table's repeated runs drawn at random. Its top-%
ranks the configuration's true mean. On a noisy table the best observation is often a lucky
draw of a merely good configuration, so the incumbent can stall, or get worse, while the search
keeps finding better configurations. This runs the same studies and reports, at each budget,
both the incumbent's top-% and the top-% of the best configuration evaluated so far (by true
mean, which no study observes): the second is what the search found, the gap between them is
what the noise costs a study that picks its best trial by observed value.

    python -m benchmarks.noise_floor --family hpolib --samplers 'GA default' --seeds 30 \
        --budget 400 --out benchmarks/data/noise_floor.md
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import time

import numpy as np

from benchmarks import hpo_tables
from benchmarks._common import command
from benchmarks._common import environment
from benchmarks._common import markdown_table
from benchmarks._common import quiet
from benchmarks._common import report

Result = tuple[str, str, int, list[tuple[float, float]]]


def run_one(task: tuple[str, str, int, int]) -> Result:
    """One study: (incumbent top-%, best evaluated top-%) at each budget."""
    name, sampler, seed, budget = task
    quiet()
    tab = hpo_tables.table(name)
    keys, observed = hpo_tables.observe(tab, sampler, seed, budget)
    tops = [tab.top_percent(k) for k in keys]
    out = []
    for b in budgets_of(budget):
        incumbent = keys[int(np.argmin(observed[:b]))]
        out.append((tab.top_percent(incumbent), min(tops[:b])))
    return name, sampler, seed, out


def budgets_of(budget: int) -> tuple[int, ...]:
    """The budgets a run of ``budget`` trials is scored at (those of hpo_tables it reaches)."""
    return tuple(b for b in hpo_tables.budgets_for(budget) if b <= budget)


def summarize(results: list[Result], samplers: list[str], budgets: tuple[int, ...]) -> str:
    rows = []
    for s in samplers:
        mine = [r[3] for r in results if r[1] == s]
        for i, measure in enumerate(("incumbent", "best evaluated")):
            cells = [
                f"{math.exp(float(np.mean([math.log(r[k][i]) for r in mine]))):.4g}"
                for k in range(len(budgets))
            ]
            rows.append([s, measure, *cells])
    return markdown_table(["sampler", "top-% of", *[f"@{b}" for b in budgets]], rows)


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--family", choices=("hpolib", "hpobench"), default="hpolib")
    parser.add_argument("--samplers", nargs="+", default=["GA default"])
    parser.add_argument("--seeds", type=int, default=30)
    parser.add_argument("--budget", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--out")
    args = parser.parse_args(argv)
    datasets = hpo_tables.HPOLIB if args.family == "hpolib" else hpo_tables.HPOBENCH
    tasks = [
        (f"{args.family}/{d}", s, seed, args.budget)
        for d in datasets
        for s in args.samplers
        for seed in range(args.seeds)
    ]
    start = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(args.jobs) as pool:
        results = pool.map(run_one, tasks, chunksize=4)
    elapsed = time.perf_counter() - start
    budgets = budgets_of(args.budget)
    text = (
        f"# Incumbent and best evaluated configuration: {args.family}\n\n{environment()}\n\n"
        f"```\n{command('benchmarks.noise_floor', argv)}\n```\n\n"
        f"{len(tasks)} runs in {elapsed:.0f} s; seeds 0-{args.seeds - 1}, "
        f"{len(datasets)} datasets. Geometric mean over all runs of the top-% (lower is "
        "better) of the incumbent (best observed value) and of the best configuration "
        "evaluated so far (by its true mean, which the study never observes). The best "
        f"configuration of a table has top-% 100 / its size (0.0016 on HPOLib's 62,208).\n\n"
        + summarize(results, args.samplers, budgets)
        + "\n"
    )
    return report(text, args.out)


if __name__ == "__main__":
    main()
