"""Paired comparison of GA variants on the tables: the ratio of top-% seed by seed.

Runs of ``benchmarks/hpo_tables.py`` that share a table and a seed share the lookups' noise
stream and (for GA variants) the first generation, so the ratio of two samplers' top-% on the
same table and seed is a much steadier comparison than two medians. For each family and budget
this prints the geometric mean over all runs of each sampler's top-%, and the geometric mean of
``variant / base`` with a two-standard-error interval (below 1: the variant is better).

    python -m benchmarks.paired --cache benchmarks/data/hpo_tables_runs.jsonl \\
        --base 'GA default' --variants 'GA gpwa5 mix' --seeds 100 230
"""

from __future__ import annotations

import argparse
import json
import math

import numpy as np

from benchmarks._common import command
from benchmarks._common import markdown_table
from benchmarks._common import report
from benchmarks.hpo_tables import BUDGETS
from benchmarks.hpo_tables import budgets_for

FAMILIES = ("hpolib", "hpobench")


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", required=True)
    parser.add_argument("--base", required=True)
    parser.add_argument("--variants", nargs="+", required=True)
    parser.add_argument("--seeds", nargs=2, type=int, default=[0, 10**9], help="from, to")
    parser.add_argument("--out")
    args = parser.parse_args(argv)
    low, high = args.seeds
    runs: dict[tuple[str, str, int], list[float]] = {}
    loaded: list[dict] = []
    with open(args.cache) as f:
        for line in f:
            r = json.loads(line)
            if low <= r["seed"] < high:
                runs[r["table"], r["sampler"], r["seed"]] = r["top"]
                loaded.append(r)
    out = [f"```\n{command('benchmarks.paired', argv)}\n```\n"]
    # Long studies (``hpo_tables --budget``) are scored at one more budget.
    budgets = max((budgets_for(r["budget"]) for r in loaded), key=len, default=BUDGETS)
    runs = {k: t + [math.nan] * (len(budgets) - len(t)) for k, t in runs.items()}
    for family in FAMILIES:
        rows = []
        for s in [args.base, *args.variants]:
            tops = np.array(
                [
                    t
                    for (table, name, _), t in runs.items()
                    if name == s and table.startswith(family)
                ]
            )
            if len(tops) == 0:
                continue
            cells = [
                f"{math.exp(np.nanmean(np.log(tops[:, k]))):.4g}"
                if not np.all(np.isnan(tops[:, k]))
                else "-"
                for k in range(len(budgets))
            ]
            rows.append([s, str(len(tops)), *cells])
        for v in args.variants:
            cells = []
            for k in range(len(budgets)):
                logs = [
                    math.log(t[k] / runs[table, args.base, seed][k])
                    for (table, name, seed), t in runs.items()
                    if name == v
                    and table.startswith(family)
                    and (table, args.base, seed) in runs
                    and not math.isnan(t[k])
                    and not math.isnan(runs[table, args.base, seed][k])
                ]
                if len(logs) < 2:
                    cells.append("-")
                    continue
                m, se = np.mean(logs), np.std(logs, ddof=1) / math.sqrt(len(logs))
                cells.append(
                    f"{math.exp(m):.3f} [{math.exp(m - 2 * se):.2f}, {math.exp(m + 2 * se):.2f}]"
                )
            rows.append([f"{v} / {args.base}", "paired", *cells])
        out.append(f"### {family}\n")
        out.append(markdown_table(["sampler", "runs", *[f"@{b}" for b in budgets]], rows))
        out.append("")
    return report("\n".join(out), args.out)


if __name__ == "__main__":
    main()
