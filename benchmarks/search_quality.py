"""Search quality: how many trials each sampler needs to find good configurations.

Problems (all define-by-run with conditional parameters, so conditional genes exist):

* ``nn-loss``: the NN tabular benchmark of :mod:`benchmarks.nn_table` (1,872 MLPs trained on
  digits); the objective looks up the validation loss (minimise). Diverged networks end as
  pruned trials, as ``MLPObjective`` does.
* ``nn-accuracy``: the same table, validation accuracy (maximise; many ties).
* ``cond-mixed``: synthetic; 1-3 blocks of (float, int) genes, a categorical that picks the
  block function, and a log-scale float.
* ``hpo-mixed``: synthetic; an HPO-like response surface with an optimizer categorical whose
  ``momentum`` gene exists only for ``sgd``, log-scale floats and ints.
* ``mlp-live`` (only when named): the real ``MLPObjective`` on digits, trained live, over a
  continuous version of the table's space; thresholds are then over all trials of all runs.

Samplers: ``GeneticSampler`` with its defaults and variants, ``RandomSampler``, ``TPESampler``,
``NSGAIISampler`` (single objective) and, on the tables, brute force (the table in a random
order, i.e. sampling without replacement). Each runs with seeds ``0 .. seeds-1``.

Reported per problem and sampler, as medians with the interquartile range over seeds: the best
value after 25/50/100/200 trials; trials until a value in the top 1% and top 0.1% (of the
table, or of 50,000 random points for the synthetic problems; a run that never gets there
counts as "more than the budget", and the share of runs that got there is shown); and the share
of duplicate suggestions (a trial whose parameters repeat an earlier trial's, over all runs).

    python -m benchmarks.search_quality --quick
    python -m benchmarks.search_quality --seeds 30 --jobs 2 --images benchmarks/images
    python -m benchmarks.search_quality --problems mlp-live --seeds 3 --budget 40 \
        --samplers "GA default" RandomSampler TPESampler
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import os
import shlex
import sys
import time
import warnings
from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from typing import ClassVar
from typing import Literal

import numpy as np
import optuna
from optuna.trial import BaseTrial
from optuna.trial import TrialState

from benchmarks import nn_table
from benchmarks._common import environment
from benchmarks._common import markdown_table
from benchmarks._common import quiet
from benchmarks._common import report
from benchmarks.regularized_evolution import RegularizedEvolutionSampler
from optuna_ga import GeneticSampler

BUDGETS = (25, 50, 100, 200)

SamplerFactory = Callable[[int], optuna.samplers.BaseSampler]

#: Sampler name -> factory(seed). ``brute force`` is handled apart (no Optuna study).
SAMPLERS: dict[str, SamplerFactory] = {
    "GA default": lambda s: GeneticSampler(seed=s),
    "GA classic": lambda s: GeneticSampler(n_candidates=1, population="hall_of_fame", seed=s),
    "GA pop10": lambda s: GeneticSampler(population_size=10, seed=s),
    "GA pop30": lambda s: GeneticSampler(population_size=30, seed=s),
    "GA elites1": lambda s: GeneticSampler(n_elites=1, seed=s),
    "GA elites4": lambda s: GeneticSampler(n_elites=4, seed=s),
    "GA tournament": lambda s: GeneticSampler(selection="tournament", seed=s),
    "GA rank": lambda s: GeneticSampler(selection="rank", seed=s),
    "GA uniform": lambda s: GeneticSampler(crossover="uniform", seed=s),
    "GA mut0.05": lambda s: GeneticSampler(mutation_prob=0.05, seed=s),
    "GA mut0.3": lambda s: GeneticSampler(mutation_prob=0.3, seed=s),
    "GA hof": lambda s: GeneticSampler(population="hall_of_fame", seed=s),
    "GA pop10 tournament": lambda s: GeneticSampler(
        population_size=10, selection="tournament", seed=s
    ),
    "GA pop10 hof": lambda s: GeneticSampler(
        population_size=10, population="hall_of_fame", seed=s
    ),
    "GA tournament hof": lambda s: GeneticSampler(
        selection="tournament", population="hall_of_fame", seed=s
    ),
    "GA pop10 tournament hof": lambda s: GeneticSampler(
        population_size=10, selection="tournament", population="hall_of_fame", seed=s
    ),
    "RandomSampler": lambda s: optuna.samplers.RandomSampler(seed=s),
    "TPESampler": lambda s: optuna.samplers.TPESampler(seed=s),
    "NSGAIISampler": lambda s: optuna.samplers.NSGAIISampler(seed=s),
    "RegularizedEvolution": lambda s: RegularizedEvolutionSampler(seed=s),
}
BRUTE = "brute force"
#: Samplers drawn in the plots.
PLOTTED = (
    "GA default",
    "GA classic",
    "RandomSampler",
    "TPESampler",
    "NSGAIISampler",
    BRUTE,
)


class _RandomTrial:
    """The ``suggest_*`` calls of a trial, answered uniformly at random (as RandomSampler)."""

    def __init__(self, rng: np.random.Generator) -> None:
        self._rng = rng

    def suggest_float(self, name: str, low: float, high: float, *, log: bool = False) -> float:
        if log:
            return float(math.exp(self._rng.uniform(math.log(low), math.log(high))))
        return float(self._rng.uniform(low, high))

    def suggest_int(self, name: str, low: int, high: int, *, log: bool = False) -> int:
        if log:
            v = math.exp(self._rng.uniform(math.log(low - 0.5), math.log(high + 0.5)))
            return int(min(max(round(v), low), high))
        return int(self._rng.integers(low, high + 1))

    def suggest_categorical(self, name: str, choices: tuple[Any, ...]) -> Any:
        return choices[int(self._rng.integers(len(choices)))]


class Problem:
    """A benchmark problem: define-by-run suggest, a value, a direction and its thresholds."""

    name = ""
    direction: Literal["minimize", "maximize"] = "minimize"

    def suggest(self, trial: Any) -> dict[str, Any]:
        raise NotImplementedError

    def value(self, params: Mapping[str, Any]) -> float:
        """The objective value; NaN means the trial is pruned."""
        raise NotImplementedError

    def objective(self, trial: BaseTrial) -> float:
        v = self.value(self.suggest(trial))
        if math.isnan(v):
            raise optuna.TrialPruned("diverged")
        return v

    def reference_values(self) -> np.ndarray:
        """Values (in "lower is better" form) that define the top 1% / 0.1% and the optimum."""
        rng = np.random.default_rng(12345)
        trial = _RandomTrial(rng)
        vals = np.array([self.value(self.suggest(trial)) for _ in range(50_000)])
        return np.sort(self.sign * vals[np.isfinite(vals)])

    @property
    def sign(self) -> float:
        """Multiply values by this to get "lower is better"."""
        return 1.0 if self.direction == "minimize" else -1.0


class TableProblem(Problem):
    """Lookup in the NN table."""

    def __init__(self, rows: list[nn_table.Row], metric: str) -> None:
        self.name = f"nn-{'loss' if metric == 'val_loss' else 'accuracy'}"
        self.direction = "minimize" if metric == "val_loss" else "maximize"
        self._values = {
            nn_table.config_key(r.params): float(getattr(r, metric)) for r in rows
        }  # NaN for diverged rows

    def suggest(self, trial: Any) -> dict[str, Any]:
        return nn_table.suggest_config(trial)

    def value(self, params: Mapping[str, Any]) -> float:
        return self._values[nn_table.config_key(params)]

    def all_values(self) -> np.ndarray:
        return np.array(list(self._values.values()))

    def reference_values(self) -> np.ndarray:
        vals = self.all_values()
        return np.sort(self.sign * vals[np.isfinite(vals)])


class CondMixed(Problem):
    """1-3 blocks of (float x_i, int k_i), a categorical block function, a log-scale float.

    Optimum 0 at ``n_blocks=3``, ``x_i=1.5``, ``k_i=13``, ``lr=10**-2.5`` (``kind`` sphere or
    abs); every missing block costs 1.5.
    """

    name = "cond-mixed"

    def suggest(self, trial: Any) -> dict[str, Any]:
        p: dict[str, Any] = {"n_blocks": trial.suggest_int("n_blocks", 1, 3)}
        for i in range(1, p["n_blocks"] + 1):
            p[f"x{i}"] = trial.suggest_float(f"x{i}", -5.0, 5.0)
            p[f"k{i}"] = trial.suggest_int(f"k{i}", 0, 20)
        p["kind"] = trial.suggest_categorical("kind", ("sphere", "abs", "rastrigin"))
        p["lr"] = trial.suggest_float("lr", 1e-5, 1.0, log=True)
        return p

    def value(self, params: Mapping[str, Any]) -> float:
        kind = params["kind"]
        v = 1.5 * (3 - params["n_blocks"]) + (math.log10(params["lr"]) + 2.5) ** 2
        for i in range(1, params["n_blocks"] + 1):
            z = params[f"x{i}"] - 1.5
            if kind == "sphere":
                v += z * z
            elif kind == "abs":
                v += 2.0 * abs(z)
            else:
                v += z * z + 2.0 * (1.0 - math.cos(2.0 * math.pi * z))
            v += 0.05 * (params[f"k{i}"] - 13) ** 2
        return v


class HPOMixed(Problem):
    """An HPO-like surface: optimizer categorical with a conditional momentum, log floats, ints."""

    name = "hpo-mixed"
    _BEST_LR: ClassVar[dict[str, float]] = {"sgd": -1.0, "adam": -3.0, "rmsprop": -3.5}
    _ACT: ClassVar[dict[str, float]] = {"relu": 0.0, "tanh": 0.1, "sigmoid": 0.5}

    def suggest(self, trial: Any) -> dict[str, Any]:
        p: dict[str, Any] = {
            "optimizer": trial.suggest_categorical("optimizer", ("sgd", "adam", "rmsprop"))
        }
        if p["optimizer"] == "sgd":
            p["momentum"] = trial.suggest_float("momentum", 0.0, 0.99)
        p["lr"] = trial.suggest_float("lr", 1e-5, 1.0, log=True)
        p["n_layers"] = trial.suggest_int("n_layers", 1, 4)
        p["units"] = trial.suggest_int("units", 8, 1024, log=True)
        p["dropout"] = trial.suggest_float("dropout", 0.0, 0.5)
        p["activation"] = trial.suggest_categorical("activation", ("relu", "tanh", "sigmoid"))
        return p

    def value(self, params: Mapping[str, Any]) -> float:
        opt = params["optimizer"]
        v = 0.5 * (math.log10(params["lr"]) - self._BEST_LR[opt]) ** 2
        v += 0.3 * (math.log2(params["units"]) - 7.0) ** 2 / 9.0
        v += 0.2 * abs(params["n_layers"] - 2) + 2.0 * (params["dropout"] - 0.2) ** 2
        v += self._ACT[params["activation"]]
        if opt == "sgd":
            v += 3.0 * (params["momentum"] - 0.9) ** 2
        else:
            v += 0.05
        return v


class LiveMLP(Problem):
    """The real ``MLPObjective`` on digits (validation loss), trained live: a few seeds only.

    The same kind of space as the table, but continuous where the objective allows it: 1-3
    layers, units 4-256 (log), relu/tanh/sigmoid, sgd/adam, learning rate 1e-4-1e-1 (log),
    batch size 32/128; no dropout, no batch norm, at most 10 epochs with patience 3.
    """

    name = "mlp-live"

    def __init__(self) -> None:
        from optuna_ga.torch import MLPObjective

        self._objective = MLPObjective(
            max_layers=3,
            units=(4, 256),
            activations=list(nn_table.ACTIVATIONS),
            input_dropout=0.0,
            dropout=0.0,
            batch_norm=False,
            initializers="kaiming_uniform",
            optimizers=list(nn_table.OPTIMIZERS),
            learning_rate=(1e-4, 1e-1),
            weight_decay=0.0,
            batch_size=list(nn_table.BATCH_SIZES),
            epochs=nn_table.EPOCHS,
            patience=nn_table.PATIENCE,
            metric="loss",
            device="cpu",
            num_threads=1,
        )

    def objective(self, trial: BaseTrial) -> float:
        return self._objective(trial)


@dataclass
class Run:
    """One (problem, sampler, seed) run: values in "lower is better" form, NaN when pruned."""

    problem: str
    sampler: str
    seed: int
    values: list[float]
    duplicates: int
    seconds: float


_PROBLEMS: dict[str, Problem] = {}


def make_problems(names: list[str], table_path: str) -> dict[str, Problem]:
    out: dict[str, Problem] = {}
    rows: list[nn_table.Row] | None = None
    for name in names:
        if name.startswith("nn-"):
            rows = rows if rows is not None else nn_table.load_table(table_path)
            out[name] = TableProblem(rows, "val_loss" if name == "nn-loss" else "val_accuracy")
        elif name == "cond-mixed":
            out[name] = CondMixed()
        elif name == "hpo-mixed":
            out[name] = HPOMixed()
        elif name == "mlp-live":
            out[name] = LiveMLP()
        else:
            raise ValueError(f"unknown problem {name!r}")
    return out


def run_one(problem: Problem, sampler: str, seed: int, budget: int) -> Run:
    """Run one study (or, for brute force, walk the table in a random order)."""
    start = time.perf_counter()
    if sampler == BRUTE:
        if not isinstance(problem, TableProblem):
            raise ValueError("brute force needs a table problem")
        vals = problem.all_values()
        order = np.random.default_rng(seed).permutation(len(vals))[:budget]
        values = list(problem.sign * vals[order])
        return Run(problem.name, sampler, seed, values, 0, time.perf_counter() - start)
    study = optuna.create_study(direction=problem.direction, sampler=SAMPLERS[sampler](seed))
    study.optimize(problem.objective, n_trials=budget)
    values, seen, dups = [], set(), 0
    for t in study.trials:
        key = json.dumps(t.params, sort_keys=True)
        dups += key in seen
        seen.add(key)
        ok = t.state == TrialState.COMPLETE and t.value is not None
        values.append(problem.sign * t.value if ok and t.value is not None else float("nan"))
    return Run(problem.name, sampler, seed, values, dups, time.perf_counter() - start)


def _worker(task: tuple[str, str, int, int]) -> Run:
    problem, sampler, seed, budget = task
    quiet()
    return run_one(_PROBLEMS[problem], sampler, seed, budget)


def _init(problems: dict[str, Problem]) -> None:
    _PROBLEMS.update(problems)
    quiet()


def quoted_command(module: str, argv: list[str] | None) -> str:
    """The command line that reproduces a run, quoted for a shell (sampler names have spaces)."""
    return "python -m " + " ".join([module, shlex.join(sys.argv[1:] if argv is None else argv)])


def best_so_far(values: list[float], budget: int) -> np.ndarray:
    """Best ("lower is better") value after each trial; a run that stopped early keeps its best."""
    v = np.array(values[:budget] + [np.nan] * (budget - len(values[:budget])), dtype=float)
    v = np.where(np.isnan(v), np.inf, v)
    return np.minimum.accumulate(v)


def trials_to_reach(values: list[float], threshold: float) -> float:
    """1-based trial count at which a value <= threshold first appears, inf if never."""
    for i, v in enumerate(values):
        if v <= threshold:
            return float(i + 1)
    return math.inf


def _q(x: np.ndarray) -> tuple[float, float, float]:
    q1, med, q3 = np.percentile(x, [25, 50, 75])
    return float(med), float(q1), float(q3)


def _fmt_value(problem: Problem, x: np.ndarray) -> str:
    med, q1, q3 = _q(problem.sign * x)  # back to natural units (monotone: IQR flips for max)
    lo, hi = min(q1, q3), max(q1, q3)
    return f"{med:.4f} [{lo:.4f}, {hi:.4f}]"


def _fmt_trials(x: np.ndarray, budget: int) -> str:
    med, q1, q3 = _q(np.where(np.isinf(x), budget + 1, x))

    def f(v: float) -> str:
        return f">{budget}" if v > budget else f"{v:.0f}"

    return f"{f(med)} [{f(q1)}, {f(q3)}] ({np.isfinite(x).mean():.0%})"


def summarize(
    problem: Problem, runs: list[Run], samplers: list[str], budget: int
) -> tuple[str, dict[str, Any]]:
    """Markdown tables for one problem, and the numbers behind them."""
    if isinstance(problem, LiveMLP):  # no table: thresholds over every trial of every run
        pooled = np.array([v for r in runs for v in r.values], dtype=float)
        ref = np.sort(pooled[np.isfinite(pooled)])
    else:
        ref = problem.reference_values()
    top1 = ref[max(0, math.ceil(0.01 * len(ref)) - 1)]
    top01 = ref[max(0, math.ceil(0.001 * len(ref)) - 1)]
    budgets = [b for b in BUDGETS if b < budget] + [budget]
    rows, stats = [], {}
    for name in samplers:
        rs = [r for r in runs if r.sampler == name]
        if not rs:
            continue
        curves = np.array([best_so_far(r.values, budget) for r in rs])
        t1 = np.array([trials_to_reach(r.values, top1) for r in rs])
        t01 = np.array([trials_to_reach(r.values, top01) for r in rs])
        n_trials = sum(len(r.values) for r in rs)
        dups = sum(r.duplicates for r in rs)
        stats[name] = {"curves": curves, "t1": t1, "t01": t01}
        rows.append(
            [name]
            + [_fmt_value(problem, curves[:, b - 1]) for b in budgets]
            + [
                _fmt_trials(t1, budget),
                _fmt_trials(t01, budget),
                f"{dups / max(n_trials, 1):.1%}",
                f"{np.median([r.seconds for r in rs]):.2f}",
            ]
        )
    header = (
        ["sampler"]
        + [f"best @{b}" for b in budgets]
        + ["trials to top 1%", "trials to top 0.1%", "duplicates", "s/run"]
    )
    ref_text = (
        "the table"
        if isinstance(problem, TableProblem)
        else "all trials of all runs"
        if isinstance(problem, LiveMLP)
        else "50,000 random points"
    )
    optimum = problem.sign * ref[0]
    text = (
        f"### {problem.name} ({problem.direction}, {len({r.seed for r in runs})} seeds, "
        f"budget {budget})\n\n"
        f"Top 1% threshold {problem.sign * top1:.4f}, top 0.1% {problem.sign * top01:.4f}, "
        f"best known {optimum:.4f} (from {ref_text}). Cells: median [IQR] over seeds; trials "
        f"to a threshold: median [IQR] (share of runs that reached it).\n\n"
        + markdown_table(header, rows)
        + "\n"
    )
    return text, {"stats": stats, "optimum": ref[0], "top1": top1}


def plot(problem: Problem, info: dict[str, Any], path: str) -> None:
    """Median best-so-far regret with IQR bands, and trials to the top 1% per sampler."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    stats = info["stats"]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.5))
    for name in [n for n in PLOTTED if n in stats]:
        curves = stats[name]["curves"]
        regret = np.where(np.isinf(curves), np.nan, curves - info["optimum"])
        x = np.arange(1, regret.shape[1] + 1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns: all pruned
            q1, med, q3 = np.nanpercentile(regret, [25, 50, 75], axis=0)
        ax1.plot(x, med, label=name)
        ax1.fill_between(x, q1, q3, alpha=0.15)
    ax1.set_yscale("symlog", linthresh=1e-3)
    ax1.set_xlabel("trials")
    ax1.set_ylabel("best value - best known (median, IQR)")
    ax1.set_title(f"{problem.name}: regret of the best so far")
    ax1.legend()
    names = list(stats)
    budget = stats[names[0]]["curves"].shape[1]
    data = [np.where(np.isinf(stats[n]["t1"]), budget * 1.1, stats[n]["t1"]) for n in names]
    ax2.boxplot(data, orientation="horizontal", whis=(10, 90))
    ax2.set_yticks(range(1, len(names) + 1), names, fontsize=8)
    ax2.axvline(budget, color="grey", ls=":")
    ax2.set_xlabel(f"trials to the top 1% (never: plotted at {budget * 1.1:.0f})")
    ax2.invert_yaxis()
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    problem_names = ["nn-loss", "nn-accuracy", "cond-mixed", "hpo-mixed"]
    parser.add_argument(
        "--problems",
        nargs="+",
        default=problem_names,
        choices=[*problem_names, "mlp-live"],
        help="mlp-live (real training, ~1 s a trial) runs only when named",
    )
    parser.add_argument(
        "--samplers", nargs="+", default=[*SAMPLERS, BRUTE], choices=[*SAMPLERS, BRUTE]
    )
    parser.add_argument("--seeds", type=int, default=None, help="default 30 (--quick: 3)")
    parser.add_argument("--first-seed", type=int, default=0, help="seeds start here")
    parser.add_argument("--budget", type=int, default=None, help="default 200 (--quick: 50)")
    parser.add_argument("--table", default=nn_table.DEFAULT_TABLE, help="the NN table CSV")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes")
    parser.add_argument("--out", help="write the markdown here")
    parser.add_argument("--images", help="write PNG plots into this folder")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="nn-loss and cond-mixed, 4 samplers, 3 seeds, 50 trials: a smoke run",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.problems = ["nn-loss", "cond-mixed"]
        args.samplers = ["GA default", "RandomSampler", "TPESampler", BRUTE]
    seeds, budget = (3, 50) if args.quick else (30, 200)
    args.seeds = seeds if args.seeds is None else args.seeds
    args.budget = budget if args.budget is None else args.budget
    quiet()
    problems = make_problems(args.problems, args.table)
    tasks = [
        (p, s, seed, args.budget)
        for p in args.problems
        for s in args.samplers
        if not (s == BRUTE and not p.startswith("nn-"))
        for seed in range(args.first_seed, args.first_seed + args.seeds)
    ]
    start = time.perf_counter()
    if args.jobs > 1:
        ctx = multiprocessing.get_context("fork")
        with ctx.Pool(args.jobs, initializer=_init, initargs=(problems,)) as pool:
            runs = pool.map(_worker, tasks, chunksize=1)
    else:
        _init(problems)
        runs = [_worker(t) for t in tasks]
    elapsed = time.perf_counter() - start

    parts = [
        "## Search quality\n",
        f"Command: `{quoted_command('benchmarks.search_quality', argv)}` ({elapsed:.0f} s)\n",
        environment() + "\n",
    ]
    for name, problem in problems.items():
        text, info = summarize(
            problem, [r for r in runs if r.problem == name], args.samplers, args.budget
        )
        parts.append(text)
        if args.images:
            os.makedirs(args.images, exist_ok=True)
            path = os.path.join(args.images, f"search_quality_{name}.png")
            plot(problem, info, path)
            parts.append(f"![{name}](images/{os.path.basename(path)})\n")
    out = "\n".join(parts)
    return report(out, args.out)


if __name__ == "__main__":
    main()
