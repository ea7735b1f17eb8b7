"""Per-trial cost of GeneticSampler with and without the GP surrogate (issue 22), and GPSampler.

Times ``study.ask()`` plus the suggestions (where the GA does its work) on HPOLib's
naval_propulsion table (9 genes), 100 trials, 3 seeds (GPSampler: 1 seed, with ``--gp``), and
prints a markdown table: the mean over trials 0-99 and over trials 90-99.

    python -m benchmarks.gp_timing --gp
"""

from __future__ import annotations

import dataclasses
import sys
import time
from typing import Any

import numpy as np
import optuna

from benchmarks.hpo_tables import table
from optuna_ga import GeneticSampler

optuna.logging.set_verbosity(optuna.logging.WARNING)


def ga(seed: int, **changes: Any) -> GeneticSampler:
    s = GeneticSampler(seed=seed)
    e = s._evolution
    s._evolution = dataclasses.replace(e, guidance=dataclasses.replace(e.guidance, **changes))
    return s


variants: dict[str, Any] = {
    "GA default": lambda s: GeneticSampler(seed=s),
    "GA gpw5 mix (GP until 50)": lambda s: ga(s, gp_sizes=5, gp_warped=True, gp_mix=True),
    "GA gpwa5 mix (GP+ARD until 50)": lambda s: ga(
        s, gp_sizes=5, gp_warped=True, gp_ard=True, gp_mix=True
    ),
    "GA gpw10 mix (GP until 100)": lambda s: ga(s, gp_sizes=10, gp_warped=True, gp_mix=True),
    "GA gpwa10 mix (GP+ARD until 100)": lambda s: ga(
        s, gp_sizes=10, gp_warped=True, gp_ard=True, gp_mix=True
    ),
}
if "--gp" in sys.argv:
    variants["GPSampler"] = lambda s: optuna.samplers.GPSampler(seed=s)
tab = table("hpolib/naval_propulsion")  # 9 genes
seeds = range(3)
print("| sampler | ms/trial, trials 0-99 | ms/trial, trials 90-99 |\n|---|---|---|")
for name, make in variants.items():
    total, late = [], []
    for seed in seeds if name != "GPSampler" else range(1):
        rng = np.random.default_rng(seed)
        study = optuna.create_study(direction=tab.direction, sampler=make(seed))
        for i in range(100):
            t0 = time.perf_counter()
            trial = study.ask()
            key = tab.key(trial)
            dt = time.perf_counter() - t0
            runs = tab.runs[key]
            study.tell(trial, float(runs[rng.integers(len(runs))]))
            total.append(dt)
            if i >= 90:
                late.append(dt)
    print(f"| {name} | {1e3 * np.mean(total):.2f} | {1e3 * np.mean(late):.2f} |")
