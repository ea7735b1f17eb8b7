"""Weight inheritance: the same GA with and without children starting from their parents' weights.

For each search space (``mlp``, ``cnn``; both on digits) and seed, two studies run with the same
``GeneticSampler`` settings and the same objective settings, once with
``inherit_weights=False`` (every trial trains ``--epochs`` from scratch) and once with
``inherit_weights=True, inherit_epochs=--inherit-epochs`` (children that copied at least one
tensor train fewer epochs). The inheriting study runs until it has trained as many epochs as
the scratch study (``--no-same-epochs``: the same number of trials). One process, one torch
thread, no pruner, no early stopping, so a trial's cost is its epoch count.

Reported per space (medians over seeds, and per seed):

* the best validation accuracy after a share of the from-scratch run's total epochs and
  wall-clock time (training plus saving, loading and deleting weights);
* the epochs (and seconds) the inheriting run needed to reach the from-scratch run's final best,
  as a ratio of what the from-scratch run needed to reach it (goal: <= 0.5);
* the best trial of each run retrained from scratch (its parameters and seed, ``--epochs``
  epochs, training split only, weights of the best validation epoch), whose validation accuracy
  is the honest figure for a network found with inheritance (goal: within 0.5 percentage points
  of the from-scratch run's best), its test accuracy, and its validation accuracy after a longer
  retraining (``--retrain-epochs``).

    python -m benchmarks.inheritance --quick
    python -m benchmarks.inheritance --seeds 5 --out benchmarks/INHERITANCE.md \
        --images benchmarks/images
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import optuna
from optuna.trial import TrialState

from benchmarks._common import command
from benchmarks._common import environment
from benchmarks._common import markdown_table
from benchmarks._common import quiet
from benchmarks._common import report
from optuna_ga import GeneticSampler

#: The two search spaces: small enough for a shared 2-core machine.
SPACES: dict[str, dict[str, Any]] = {
    "mlp": {"max_layers": 3, "units": (16, 256)},
    "cnn": {
        "max_conv_blocks": 2,
        "filters": (8, 32),
        "kernel_sizes": [3, 5],
        "max_dense_layers": 1,
        "units": (16, 128),
    },
}
SHARES = (0.25, 0.5, 1.0)


@dataclass
class Run:
    """One study: per trial (in number order) its value, epochs and seconds."""

    values: list[float]
    epochs: list[int]
    seconds: list[float]
    inherited: int  # trials that copied at least one tensor
    best: optuna.trial.FrozenTrial
    retrained_val: float
    retrained_test: float
    retrained_long_val: float
    wall: float


def objective_for(space: str, seed: int, data: Any, args: argparse.Namespace, store: Any) -> Any:
    from optuna_ga.torch import CNNObjective
    from optuna_ga.torch import MLPObjective

    cls = MLPObjective if space == "mlp" else CNNObjective
    kwargs: dict[str, Any] = dict(
        dataset=data, epochs=args.epochs, patience=None, seed=seed, num_threads=1
    )
    if store is not None:
        kwargs.update(
            inherit_weights=True, artifact_store=store, inherit_epochs=args.inherit_epochs
        )
    return cls(**SPACES[space], **kwargs)


def run_one(
    space: str,
    seed: int,
    inherit: bool,
    data: Any,
    args: argparse.Namespace,
    epoch_budget: int | None = None,
) -> Run:
    """One study; with ``epoch_budget``, trials continue until that many epochs are trained."""
    from optuna.artifacts import FileSystemArtifactStore

    from optuna_ga.torch import train_best

    with tempfile.TemporaryDirectory() as folder:
        store = FileSystemArtifactStore(folder) if inherit else None
        objective = objective_for(space, seed, data, args, store)
        study = optuna.create_study(
            direction="maximize",
            sampler=GeneticSampler(population_size=args.population_size, seed=seed),
            pruner=optuna.pruners.NopPruner(),
        )
        spent = 0

        def stop_at_budget(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
            nonlocal spent
            spent += int(trial.user_attrs.get("epochs", 0))
            if epoch_budget is not None and spent >= epoch_budget:
                study.stop()

        n_trials = args.trials if epoch_budget is None else args.max_trial_factor * args.trials
        start = time.perf_counter()
        study.optimize(objective, n_trials=n_trials, callbacks=[stop_at_budget])
        wall = time.perf_counter() - start
    trials = [t for t in study.trials if t.state == TrialState.COMPLETE]
    values = [float(t.value) for t in trials]  # type: ignore[arg-type]
    epochs = [int(t.user_attrs["epochs"]) for t in trials]
    seconds = [(t.datetime_complete - t.datetime_start).total_seconds() for t in trials]  # type: ignore[operator]
    inherited = sum(t.user_attrs.get("ga_inherited", {}).get("tensors", 0) > 0 for t in trials)
    best = study.best_trial
    retrained, long = (
        train_best(best, dataset=data, epochs=epochs, include_validation=False, num_threads=1)
        for epochs in (args.epochs, args.retrain_epochs)
    )
    return Run(
        values,
        epochs,
        seconds,
        inherited,
        best,
        float(retrained.val_accuracy),  # type: ignore[arg-type]
        float(retrained.test_accuracy),  # type: ignore[arg-type]
        float(long.val_accuracy),  # type: ignore[arg-type]
        wall,
    )


def cost_to_reach(values: Sequence[float], costs: Sequence[float], target: float) -> float:
    """Cumulative cost until the first value >= target (inf if never).

    >>> cost_to_reach([0.5, 0.9, 0.8], [2, 3, 4], 0.9), cost_to_reach([0.5], [1], 0.9)
    (5.0, inf)
    """
    total = 0.0
    for value, cost in zip(values, costs, strict=True):
        total += cost
        if value >= target:
            return total
    return math.inf


def best_within(values: Sequence[float], costs: Sequence[float], budget: float) -> float:
    """Best value among the trials completed within a cumulative cost budget (nan if none).

    >>> best_within([0.5, 0.9, 0.8], [2, 3, 4], 4.0), best_within([0.5], [3], 1.0)
    (0.5, nan)
    """
    best, total = math.nan, 0.0
    for value, cost in zip(values, costs, strict=True):
        total += cost
        if total > budget:
            break
        best = value if math.isnan(best) else max(best, value)
    return best


def _median(xs: Sequence[float]) -> float:
    return float(statistics.median(xs)) if xs else math.nan


def _fmt(x: float, digits: int = 4) -> str:
    return "never" if math.isinf(x) else ("-" if math.isnan(x) else f"{x:.{digits}f}")


def section(space: str, pairs: list[tuple[int, Run, Run]], args: argparse.Namespace) -> str:
    rows = []
    ratios_epochs, ratios_seconds, gaps = [], [], []
    for seed, scratch, heir in pairs:
        target = max(scratch.values)
        e_s = cost_to_reach(scratch.values, scratch.epochs, target)
        e_i = cost_to_reach(heir.values, heir.epochs, target)
        s_s = cost_to_reach(scratch.values, scratch.seconds, target)
        s_i = cost_to_reach(heir.values, heir.seconds, target)
        ratios_epochs.append(e_i / e_s)
        ratios_seconds.append(s_i / s_s)
        gap = 100 * (heir.retrained_val - target)
        gaps.append(gap)
        rows.append(
            [
                str(seed),
                f"{target:.4f}",
                f"{max(heir.values):.4f}",
                f"{sum(scratch.epochs)} / {sum(heir.epochs)}",
                f"{e_s:.0f} / {_fmt(e_i, 0)}",
                _fmt(e_i / e_s, 2),
                _fmt(s_i / s_s, 2),
                f"{scratch.retrained_val:.4f} / {heir.retrained_val:.4f}",
                f"{gap:+.2f}",
                f"{scratch.retrained_test:.4f} / {heir.retrained_test:.4f}",
                f"{scratch.retrained_long_val:.4f} / {heir.retrained_long_val:.4f}",
                f"{heir.inherited}/{len(heir.values)}",
                f"{scratch.wall:.0f} / {heir.wall:.0f}",
            ]
        )
    per_seed = markdown_table(
        [
            "seed",
            "best, scratch",
            "best, inherit",
            "epochs total (s / i)",
            "epochs to scratch best (s / i)",
            "epoch ratio",
            "seconds ratio",
            "retrained val (s / i)",
            "retrained i - best s (pp)",
            "retrained test (s / i)",
            f"retrained {args.retrain_epochs} epochs val (s / i)",
            "heirs / trials (i)",
            "wall s (s / i)",
        ],
        rows,
    )
    budget_rows = []
    for share in SHARES:
        cells = [f"{share:.0%}"]
        for unit in ("epochs", "seconds"):
            for which in (1, 2):
                bests = []
                for _, scratch, heir in pairs:
                    costs = scratch.epochs if unit == "epochs" else scratch.seconds
                    run = scratch if which == 1 else heir
                    run_costs = run.epochs if unit == "epochs" else run.seconds
                    bests.append(best_within(run.values, run_costs, share * sum(costs)))
                cells.append(_fmt(_median([b for b in bests if not math.isnan(b)])))
        budget_rows.append(cells)
    budgets = markdown_table(
        [
            "budget (share of the scratch run's)",
            "epochs: scratch",
            "epochs: inherit",
            "wall-clock: scratch",
            "wall-clock: inherit",
        ],
        budget_rows,
    )
    median_ratio = _median(ratios_epochs)
    met_epochs = sum(r <= 0.5 for r in ratios_epochs)
    met_gap = sum(g >= -0.5 for g in gaps)
    summary = (
        f"Goals over {len(pairs)} seeds: scratch best reached with <= 0.5x the epochs in "
        f"{met_epochs} (median ratio {_fmt(median_ratio, 2)}; seconds ratio "
        f"{_fmt(_median(ratios_seconds), 2)}); retrained best within 0.5 pp of the scratch "
        f"best in {met_gap} (median {_median(gaps):+.2f} pp)."
    )
    return (
        f"### {space}\n\nSpace: `{SPACES[space]}`.\n\n{summary}\n\n"
        f"Median best validation accuracy within a budget:\n\n{budgets}\n\n"
        f"Per seed (s = from scratch, i = inheritance; ratios are the inheriting run's "
        f"cost to the scratch run's final best over the scratch run's own):\n\n{per_seed}\n"
    )


def plot(space: str, pairs: list[tuple[int, Run, Run]], path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    for ax, unit in zip(axes, ("epochs", "seconds"), strict=True):
        for which, label, color in ((1, "from scratch", "C0"), (2, "inheritance", "C1")):
            for i, (_, scratch, heir) in enumerate(pairs):
                run = scratch if which == 1 else heir
                costs = np.cumsum(run.epochs if unit == "epochs" else run.seconds)
                best = np.maximum.accumulate(run.values)
                ax.step(
                    costs,
                    best,
                    where="post",
                    color=color,
                    alpha=0.6,
                    label=label if not i else None,
                )
        ax.set_xlabel("total training epochs" if unit == "epochs" else "wall-clock seconds")
        ax.set_ylabel("best validation accuracy")
        ax.set_ylim(0.9, 1.0)
        ax.legend(loc="lower right")
    fig.suptitle(f"{space} on digits: best so far, one line per seed")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--spaces", nargs="+", choices=sorted(SPACES), default=["mlp", "cnn"])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--trials", type=int, default=40, help="trials of a scratch study")
    parser.add_argument("--population-size", type=int, default=10)
    parser.add_argument("--epochs", type=int, default=8, help="epochs of a scratch trial")
    parser.add_argument("--inherit-epochs", type=int, default=2, help="epochs of an heir")
    parser.add_argument(
        "--retrain-epochs", type=int, default=24, help="a second, longer retraining"
    )
    parser.add_argument(
        "--same-epochs",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="run the inheriting study until it has trained as many epochs as the scratch one",
    )
    parser.add_argument("--max-trial-factor", type=int, default=4, help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true", help="1 seed, 8 trials, 2 epochs")
    parser.add_argument("--out", help="write the markdown here")
    parser.add_argument("--images", help="write PNG plots into this folder")
    args = parser.parse_args(argv)
    if args.quick:
        args.seeds, args.trials, args.population_size = 1, 8, 4
        args.epochs, args.inherit_epochs, args.retrain_epochs = 2, 1, 3
    quiet()

    import torch

    from optuna_ga.torch import load_dataset

    torch.set_num_threads(1)
    data = load_dataset("digits")
    load_before = os.getloadavg()[0]
    start = time.perf_counter()
    parts = []
    for space in args.spaces:
        pairs = []
        for seed in range(args.seeds):
            scratch = run_one(space, seed, False, data, args)
            budget = sum(scratch.epochs) if args.same_epochs else None
            heir = run_one(space, seed, True, data, args, epoch_budget=budget)
            pairs.append((seed, scratch, heir))
            print(
                f"{space} seed {seed}: scratch {max(scratch.values):.4f} "
                f"({sum(scratch.epochs)} epochs), inherit {max(heir.values):.4f} "
                f"({sum(heir.epochs)} epochs), {time.perf_counter() - start:.0f} s",
                flush=True,
            )
        parts.append(section(space, pairs, args))
        if args.images:
            os.makedirs(args.images, exist_ok=True)
            path = os.path.join(args.images, f"inheritance_{space}.png")
            plot(space, pairs, path)
            parts.append(f"![{space}](images/{os.path.basename(path)})\n")
    header = (
        "# Weight inheritance benchmark\n\n"
        f"- command: `{command('benchmarks.inheritance', argv)}` (run with `nice -n 10`)\n"
        f"- {environment()}\n"
        f"- 1-minute load average {load_before:.2f} before, {os.getloadavg()[0]:.2f} after; "
        f"{time.perf_counter() - start:.0f} s in all\n"
        f"- GA: `GeneticSampler(population_size={args.population_size}, seed=SEED)` (other "
        f"options default), {args.trials} trials from scratch"
        + (
            "; the inheriting study runs until it has trained as many epochs (at most "
            f"{args.max_trial_factor * args.trials} trials)"
            if args.same_epochs
            else " and with inheritance"
        )
        + "; no pruner; objective: digits, "
        f"`epochs={args.epochs}, patience=None, seed=SEED`; with inheritance "
        f"`inherit_weights=True, inherit_epochs={args.inherit_epochs}` "
        "(`FileSystemArtifactStore` in a temporary folder)\n"
    )
    return report(header + "\n" + "\n".join(parts), args.out)


if __name__ == "__main__":
    main()
