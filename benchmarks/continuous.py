"""Continuous and mixed problems of our own: textbook test functions in 2 and 5 dimensions.

Five textbook functions (Zakharov, Levy, Alpine N.1, Ackley, Styblinski-Tang), written here, each
in 2 and 5 dimensions over ``[-5, 5]``, in two forms:

* *continuous*: every coordinate a ``suggest_float``;
* *mixed*: the first half of the coordinates (rounded down) ``suggest_int`` over ``-5..5``, and
  one categorical gene ``c`` in ``a, b, c, d`` that adds 0, 1, 2 or 4 (a real space has both:
  layer counts, optimizers).

Zakharov, Alpine and Ackley are shifted, so that the optimum is not at the centre of the box
where some samplers start: by a fixed vector per function (``shift``), rounded on the integer
coordinates so that the optimum stays reachable. The score of a run after ``b`` trials is the
*regret* of the best value found, ``f - f*``, where ``f*`` is the optimum of that form (an
integer coordinate of Styblinski-Tang sits at -3, not -2.9035). Budgets: 10, 30 and 100 trials
per dimension. No held-out suite is used: only these problems of our own.

    python -m benchmarks.continuous --quick
    python -m benchmarks.continuous --seeds 10 --gp-seeds 3 --jobs 1 \\
        --cache benchmarks/data/continuous_runs.jsonl --out benchmarks/CONTINUOUS.md

CatCMA with margin runs from the ``cmaes`` library (see :func:`catcma_values`). Runs are cached
as in :mod:`benchmarks.hpo_tables`.
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import cmaes
import numpy as np
import optuna

from benchmarks._common import command
from benchmarks._common import environment
from benchmarks._common import markdown_table
from benchmarks._common import quiet
from benchmarks._common import report
from benchmarks.hpo_tables import run_or_reuse
from optuna_ga import GeneticSampler

FUNCTIONS = ("zakharov", "levy", "alpine", "ackley", "styblinski_tang")
DIMENSIONS = (2, 5)
FORMS = ("continuous", "mixed")
PER_DIMENSION = (10, 30, 100)  # budgets, in trials per dimension
LOW, HIGH = -5.0, 5.0
CATEGORIES = {"a": 0.0, "b": 1.0, "c": 2.0, "d": 4.0}
#: Samplers with fewer seeds (``--gp-seeds``) and at most ``GP_MAX_TRIALS`` trials.
SLOW = ("GPSampler",)
GP_MAX_TRIALS = 60


def catcma_values(p: Problem, seed: int, budget: int) -> list[float]:
    """The values of ``budget`` solutions of CatCMA with margin (``cmaes.CatCMAwM``), in order.

    The algorithm runs by its own ask-and-tell loop, each solution evaluated as a
    :class:`optuna.trial.FixedTrial`: the OptunaHub wrapper (``package/samplers/catcmawm`` at
    registry commit ee68019) builds its parameters as ``{value: name}`` instead of
    ``{name: value}``, so through Optuna every one of its trials fell back to random sampling.
    """
    x_space = [[LOW, HIGH]] * (p.d - p.n_int)
    z_space = [list(range(int(LOW), int(HIGH) + 1))] * p.n_int
    c_space = [len(CATEGORIES)] if p.form == "mixed" else []
    optimizer = cmaes.CatCMAwM(
        x_space=x_space or None, z_space=z_space or None, c_space=c_space or None, seed=seed
    )
    values: list[float] = []
    while len(values) < budget:
        told = []
        for _ in range(optimizer.population_size):
            sol = optimizer.ask()
            z = [] if sol.z is None else sol.z
            x = [] if sol.x is None else sol.x
            params: dict[str, Any] = {f"x{i}": int(v) for i, v in enumerate(z)}
            params |= {f"x{p.n_int + i}": float(v) for i, v in enumerate(x)}
            if c_space:
                params["c"] = list(CATEGORIES)[int(np.argmax(sol.c[0]))]
            f = p(optuna.trial.FixedTrial(params))
            told.append((sol, f))
            values.append(f)
        optimizer.tell(told)
    return values[:budget]


#: Optuna samplers by name; "CatCMAwM" runs outside Optuna (:func:`catcma_values`).
SAMPLERS: dict[str, Callable[[int], optuna.samplers.BaseSampler]] = {
    "RandomSampler": lambda s: optuna.samplers.RandomSampler(seed=s),
    "TPESampler": lambda s: optuna.samplers.TPESampler(seed=s),
    "CmaEsSampler": lambda s: optuna.samplers.CmaEsSampler(
        seed=s, warn_independent_sampling=False
    ),
    "GPSampler": lambda s: optuna.samplers.GPSampler(seed=s),
    "GA default": lambda s: GeneticSampler(seed=s),
}
DEFAULT_SAMPLERS = [
    "RandomSampler",
    "TPESampler",
    "CmaEsSampler",
    "CatCMAwM",
    "GPSampler",
    "GA default",
]


def shift(function: str, d: int) -> np.ndarray:
    """The fixed offset of a shifted function's optimum (zeros for the unshifted ones)."""
    if function not in ("zakharov", "alpine", "ackley"):
        return np.zeros(d)
    seed = FUNCTIONS.index(function)
    return np.random.default_rng([seed, d]).uniform(-2.0, 2.0, d)


def value(function: str, z: np.ndarray) -> float:
    """The function at ``z``, the point relative to its shift."""
    d = len(z)
    if function == "zakharov":  # a bowl whose coordinates pull on each other, minimum 0 at 0
        tilt = float(np.sum(0.5 * np.arange(1, d + 1) * z))
        return float(np.sum(z * z)) + tilt**2 + tilt**4
    if function == "levy":  # many ripples, minimum 0 at (1, ..., 1)
        w = 1.0 + (z - 1.0) / 4.0
        inner = np.sum((w[:-1] - 1.0) ** 2 * (1.0 + 10.0 * np.sin(math.pi * w[:-1] + 1.0) ** 2))
        last = (w[-1] - 1.0) ** 2 * (1.0 + np.sin(2.0 * math.pi * w[-1]) ** 2)
        return float(np.sin(math.pi * w[0]) ** 2 + inner + last)
    if function == "alpine":  # Alpine N.1: non-smooth, minimum 0 at 0 (and a few other zeros)
        return float(np.sum(np.abs(z * np.sin(z) + 0.1 * z)))
    if function == "ackley":
        a = -20.0 * math.exp(-0.2 * math.sqrt(float(np.mean(z * z))))
        return float(a - math.exp(float(np.mean(np.cos(2.0 * math.pi * z)))) + 20.0 + math.e)
    if function == "styblinski_tang":
        return float(0.5 * np.sum(z**4 - 16.0 * z**2 + 5.0 * z))
    raise ValueError(f"function must be one of {FUNCTIONS}, got {function!r}.")


@dataclass(frozen=True)
class Problem:
    """One function, dimension and form: ``name`` is ``function/d/form``."""

    function: str
    d: int
    form: str

    @property
    def name(self) -> str:
        return f"{self.function}/{self.d}/{self.form}"

    @property
    def n_int(self) -> int:
        return self.d // 2 if self.form == "mixed" else 0

    def offset(self) -> np.ndarray:
        s = shift(self.function, self.d)
        s[: self.n_int] = np.round(s[: self.n_int])
        return s

    def __call__(self, trial: optuna.Trial) -> float:
        x = np.array(
            [
                trial.suggest_int(f"x{i}", int(LOW), int(HIGH))
                if i < self.n_int
                else trial.suggest_float(f"x{i}", LOW, HIGH)
                for i in range(self.d)
            ],
            dtype=float,
        )
        f = value(self.function, x - self.offset())
        if self.form == "mixed":
            f += CATEGORIES[trial.suggest_categorical("c", list(CATEGORIES))]
        return f

    def optimum(self) -> float:
        """``f*`` of this form (the categorical's best choice adds 0)."""
        if self.function != "styblinski_tang":
            return 0.0  # at the shift (rounded where integer), or at (1, ..., 1): Levy
        best = np.full(self.d, -2.903534)
        best[: self.n_int] = -3.0  # the best integer coordinate
        return value(self.function, best)


def problem(name: str) -> Problem:
    function, d, form = name.split("/")
    return Problem(function, int(d), form)


def problem_names() -> list[str]:
    return [Problem(f, d, form).name for form in FORMS for d in DIMENSIONS for f in FUNCTIONS]


@dataclass
class Run:
    table: str  # the problem's name (the cache's key calls it a table)
    sampler: str
    seed: int
    budget: int
    regret: list[float]  # at 10, 30 and 100 trials per dimension (NaN past the budget)
    seconds: float


def run_one(task: tuple[str, str, int, int]) -> Run:
    name, sampler, seed, budget = task
    quiet()
    p = problem(name)
    start = time.perf_counter()
    if sampler == "CatCMAwM":
        values = np.array(catcma_values(p, seed, budget))
    else:
        study = optuna.create_study(sampler=SAMPLERS[sampler](seed))
        study.optimize(p, n_trials=budget)
        values = np.array([t.value for t in study.trials], dtype=float)
    seconds = time.perf_counter() - start
    best = np.minimum.accumulate(values)
    regret = [
        float(best[k * p.d - 1] - p.optimum()) if k * p.d <= budget else math.nan
        for k in PER_DIMENSION
    ]
    return Run(name, sampler, seed, budget, regret, seconds)


def summarize(runs: list[Run], samplers: list[str], names: list[str]) -> str:
    """Median regret per problem and budget, and the targets of issue 22 counted."""
    med: dict[tuple[str, str, int], float] = {}
    for n in names:
        for s in samplers:
            mine = [r for r in runs if r.table == n and r.sampler == s]
            for k in range(len(PER_DIMENSION)):
                vals = [r.regret[k] for r in mine if not math.isnan(r.regret[k])]
                med[n, s, k] = float(np.median(vals)) if vals else math.nan
    out = []
    for k, per in enumerate(PER_DIMENSION):
        out.append(f"### Median regret at {per} trials per dimension\n")
        rows = []
        for n in names:
            cells = [n]
            finite = [med[n, s, k] for s in samplers if not math.isnan(med[n, s, k])]
            lowest = min(finite) if finite else math.nan
            for s in samplers:
                v = med[n, s, k]
                text = "-" if math.isnan(v) else f"{v:.3g}"
                cells.append(f"**{text}**" if v == lowest else text)
            rows.append(cells)
        out.append(markdown_table(["problem", *samplers], rows))
        out.append("")
    if "GA default" in samplers:
        rivals = [s for s in ("CmaEsSampler", "TPESampler", "GPSampler") if s in samplers]
        last = len(PER_DIMENSION) - 1
        level = [
            n
            for n in names
            if med[n, "GA default", last]
            <= min((med[n, s, last] for s in rivals if not math.isnan(med[n, s, last])), default=0)
        ]
        ahead = [
            n
            for n in names
            if "TPESampler" in samplers and med[n, "GA default", 0] < med[n, "TPESampler", 0]
        ]
        out.append(
            f"GA default at {PER_DIMENSION[last]} trials per dimension no worse than the best of "
            f"{', '.join(rivals)} (median regret, each where it ran that far): {len(level)} of "
            f"{len(names)} problems ({', '.join(level) or 'none'}). Ahead of TPESampler at "
            f"{PER_DIMENSION[0]} per dimension: {len(ahead)} of {len(names)}.\n"
        )
    rows = []
    for s in samplers:
        mine = [r for r in runs if r.sampler == s]
        secs = np.mean([r.seconds for r in mine]) if mine else math.nan
        rows.append([s, str(len(mine)), f"{secs:.2f}"])
    out.append("Runs and mean seconds per run:\n")
    out.append(markdown_table(["sampler", "runs", "s/run"], rows))
    return "\n".join(out)


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--gp-seeds", type=int, default=3, help="seeds for GPSampler (slow)")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--samplers", nargs="+", default=DEFAULT_SAMPLERS)
    parser.add_argument("--problems", nargs="+", help="only these (function/d/form)")
    parser.add_argument("--cache", default=None, help="JSON lines of runs to reuse")
    parser.add_argument(
        "--rerun", nargs="*", default=["GA"], help="sampler name prefixes always run afresh"
    )
    parser.add_argument("--quick", action="store_true", help="a smoke run: 2 problems, 2 seeds")
    parser.add_argument("--out")
    args = parser.parse_args(argv)
    names = args.problems or problem_names()
    samplers, seeds = args.samplers, args.seeds
    if args.quick:
        names, seeds = ["zakharov/2/continuous", "alpine/2/mixed"], 2
        samplers = [s for s in samplers if s not in SLOW]
    tasks = []
    for n in names:
        full = PER_DIMENSION[-1] * problem(n).d
        for s in samplers:
            slow = s in SLOW
            budget = min(full, GP_MAX_TRIALS) if slow else full
            if args.quick:
                budget = 10 * problem(n).d
            n_seeds = min(seeds, args.gp_seeds) if slow else seeds
            tasks += [(n, s, seed, budget) for seed in range(n_seeds)]
    runs, n_ran, elapsed = run_or_reuse(
        run_one,
        tasks,
        Run,
        cache=args.cache,
        rerun=args.rerun,
        jobs=args.jobs,
        slow=lambda name: name in SLOW,
    )
    text = (
        f"# Continuous and mixed problems\n\n{environment()}\n\n"
        f"```\n{command('benchmarks.continuous', argv)}\n```\n\n"
        f"{n_ran} runs in {elapsed:.0f} s ({len(tasks) - n_ran} from the cache); "
        f"{seeds} seeds (GPSampler: {min(seeds, args.gp_seeds)}, at most {GP_MAX_TRIALS} "
        "trials).\n\n" + summarize(runs, samplers, names)
    )
    return report(text, args.out)


if __name__ == "__main__":
    main()
