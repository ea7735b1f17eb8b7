"""Build the NN tabular benchmark: every MLP of a discrete, conditional space trained on digits.

Each configuration is trained once, with the project's own code (``optuna_ga.torch.build_mlp``
and ``optuna_ga.torch.fit``), on CPU with one thread and one fixed seed, so that a sampler
benchmark (``benchmarks/search_quality.py``) can evaluate thousands of trials by table lookup.

The search space (:func:`suggest_config`, define-by-run, so ``units_l2``/``units_l3`` exist only
when ``n_layers`` asks for them)::

    n_layers       1, 2, 3
    units_l{i}     4, 32, 256             (one gene per hidden layer in use)
    activation     relu, tanh, sigmoid
    optimizer      sgd (momentum 0.9), adam
    learning_rate  1e-4, 1e-3, 1e-2, 1e-1
    batch_size     32, 128

That is (3 + 9 + 27) * 48 = 1,872 configurations. Fixed: no dropout, no batch norm, Kaiming
uniform initialisation, no weight decay, at most 10 epochs with patience 3.

The training metric is the validation cross-entropy (``metric="loss"``, as
``MLPObjective(metric="loss")`` returns it): the model keeps its best-loss epoch, and the table
stores that loss, the validation and test accuracy of the same weights, the epochs run and the
training seconds. Validation accuracy on digits moves in steps of 1/288 and many networks tie
near 0.98; the loss does not tie, so it is the default objective of the sampler benchmark.

    python -m benchmarks.nn_table --quick
    python -m benchmarks.nn_table --out benchmarks/data/nn_table_digits.csv
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import os
import time
from collections.abc import Iterator
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from optuna.trial import BaseTrial

from benchmarks._common import command
from benchmarks._common import environment

N_LAYERS = (1, 2, 3)
UNITS = (4, 32, 256)
ACTIVATIONS = ("relu", "tanh", "sigmoid")
OPTIMIZERS = ("sgd", "adam")
LEARNING_RATES = (1e-4, 1e-3, 1e-2, 1e-1)
BATCH_SIZES = (32, 128)

#: Gene names in suggestion order (``units_l2``/``units_l3`` only when used).
GENES = (
    "n_layers",
    "units_l1",
    "units_l2",
    "units_l3",
    "activation",
    "optimizer",
    "learning_rate",
    "batch_size",
)
RESULTS = ("val_loss", "val_accuracy", "test_accuracy", "epochs", "train_seconds", "status")
DEFAULT_TABLE = os.path.join(os.path.dirname(__file__), "data", "nn_table_digits.csv")
EPOCHS = 10
PATIENCE = 3
SEED = 0

#: Fixed settings of every network (not searched).
FIXED = {
    "input_dropout": 0.0,
    "dropout_l1": 0.0,
    "dropout_l2": 0.0,
    "dropout_l3": 0.0,
    "batch_norm": False,
    "initializer": "kaiming_uniform",
    "weight_decay": 0.0,
}


def suggest_config(trial: BaseTrial) -> dict[str, Any]:
    """Suggest one configuration define-by-run; the dict holds only the genes in use."""
    p: dict[str, Any] = {"n_layers": trial.suggest_categorical("n_layers", N_LAYERS)}
    for i in range(1, p["n_layers"] + 1):
        p[f"units_l{i}"] = trial.suggest_categorical(f"units_l{i}", UNITS)
    p["activation"] = trial.suggest_categorical("activation", ACTIVATIONS)
    p["optimizer"] = trial.suggest_categorical("optimizer", OPTIMIZERS)
    p["learning_rate"] = trial.suggest_categorical("learning_rate", LEARNING_RATES)
    p["batch_size"] = trial.suggest_categorical("batch_size", BATCH_SIZES)
    return p


def all_configs() -> Iterator[dict[str, Any]]:
    """Every configuration of the space, in a fixed order."""
    for n_layers in N_LAYERS:
        for units in itertools.product(UNITS, repeat=n_layers):
            for act, opt, lr, bs in itertools.product(
                ACTIVATIONS, OPTIMIZERS, LEARNING_RATES, BATCH_SIZES
            ):
                p: dict[str, Any] = {"n_layers": n_layers}
                p.update({f"units_l{i + 1}": u for i, u in enumerate(units)})
                p.update(activation=act, optimizer=opt, learning_rate=lr, batch_size=bs)
                yield p


def config_key(params: Mapping[str, Any]) -> str:
    """Canonical key of a configuration (the genes in use, sorted)."""
    return json.dumps({k: params[k] for k in sorted(params)}, sort_keys=True)


@dataclass(frozen=True)
class Row:
    """One trained configuration."""

    params: dict[str, Any]
    val_loss: float  # NaN when training diverged
    val_accuracy: float
    test_accuracy: float
    epochs: int
    train_seconds: float
    status: str  # "ok" or "diverged"


def train_config(params: Mapping[str, Any], data: Any) -> Row:
    """Train one configuration with ``build_mlp`` + ``fit`` and evaluate it."""
    import torch

    from optuna_ga.torch import TrainingDivergedError
    from optuna_ga.torch import build_mlp
    from optuna_ga.torch import fit
    from optuna_ga.torch import trial_seed
    from optuna_ga.torch._training import evaluate

    seed = trial_seed(SEED, 0)
    full = {**FIXED, **params}
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = build_mlp(full, data.input_shape, data.n_classes)
        try:
            log = fit(
                model,
                data.x_train,
                data.y_train,
                x_val=data.x_val,
                y_val=data.y_val,
                optimizer=params["optimizer"],
                learning_rate=params["learning_rate"],
                weight_decay=0.0,
                batch_size=params["batch_size"],
                epochs=EPOCHS,
                seed=seed,
                metric="loss",
                patience=PATIENCE,
            )
        except TrainingDivergedError:
            nan = float("nan")
            return Row(dict(params), nan, nan, nan, EPOCHS, nan, "diverged")
    val_acc, val_loss = evaluate(model, data.x_val, data.y_val)
    test_acc, _ = evaluate(model, data.x_test, data.y_test)
    return Row(dict(params), val_loss, val_acc, test_acc, log.epochs, log.seconds, "ok")


def _row_to_csv(row: Row) -> dict[str, str]:
    out = {g: str(row.params.get(g, "")) for g in GENES}
    out.update(
        val_loss=f"{row.val_loss:.6f}",
        val_accuracy=f"{row.val_accuracy:.6f}",
        test_accuracy=f"{row.test_accuracy:.6f}",
        epochs=str(row.epochs),
        train_seconds=f"{row.train_seconds:.3f}",
        status=row.status,
    )
    return out


def _parse_gene(name: str, text: str) -> Any:
    if name == "learning_rate":
        return float(text)
    if name in ("activation", "optimizer"):
        return text
    return int(text)


def load_table(path: str = DEFAULT_TABLE) -> list[Row]:
    """Read a table written by this module."""
    rows = []
    with open(path, newline="") as f:
        for rec in csv.DictReader(row for row in f if not row.startswith("#")):
            params = {g: _parse_gene(g, rec[g]) for g in GENES if rec[g] != ""}
            rows.append(
                Row(
                    params,
                    float(rec["val_loss"]),
                    float(rec["val_accuracy"]),
                    float(rec["test_accuracy"]),
                    int(rec["epochs"]),
                    float(rec["train_seconds"]),
                    rec["status"],
                )
            )
    return rows


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", default=None, help=f"CSV to write (default {DEFAULT_TABLE})")
    parser.add_argument("--limit", type=int, default=None, help="train only the first N configs")
    parser.add_argument(
        "--resume", action="store_true", help="keep the rows already in --out, train the rest"
    )
    parser.add_argument(
        "--quick", action="store_true", help="a 1-in-150 slice, written to --out only if given"
    )
    args = parser.parse_args(argv)

    import torch

    from optuna_ga.torch import load_dataset

    torch.set_num_threads(1)
    configs = list(all_configs())
    if args.quick:
        configs = configs[::150]
    if args.limit is not None:
        configs = configs[: args.limit]
    out = args.out if args.out is not None or args.quick else DEFAULT_TABLE
    done: set[str] = set()
    if out is not None and args.resume and os.path.exists(out):
        done = {config_key(r.params) for r in load_table(out)}
    data = load_dataset("digits")
    header = [
        "# " + environment(),
        "# " + command("benchmarks.nn_table", argv),
        f"# epochs={EPOCHS} patience={PATIENCE} seed={SEED} fixed={json.dumps(FIXED)}",
    ]
    f = None
    writer = None
    if out is not None:
        append = bool(done)
        f = open(out, "a" if append else "w", newline="")  # noqa: SIM115 - closed below
        if not append:
            f.write("\n".join(header) + "\n")
        writer = csv.DictWriter(f, fieldnames=[*GENES, *RESULTS], lineterminator="\n")
        if not append:
            writer.writeheader()
    start = time.perf_counter()
    rows = []
    try:
        todo = [c for c in configs if config_key(c) not in done]
        for i, params in enumerate(todo):
            row = train_config(params, data)
            rows.append(row)
            if writer is not None and f is not None:
                writer.writerow(_row_to_csv(row))
                f.flush()
            if (i + 1) % 100 == 0:
                elapsed = time.perf_counter() - start
                print(f"{i + 1}/{len(todo)} configs, {elapsed:.0f} s", flush=True)
    finally:
        if f is not None:
            f.close()
    ok = [r for r in rows if r.status == "ok"]
    best = min(ok, key=lambda r: r.val_loss) if ok else None
    text = (
        f"trained {len(rows)} configurations in {time.perf_counter() - start:.1f} s; "
        f"{len(rows) - len(ok)} diverged"
    )
    if best is not None:
        text += f"; best val_loss {best.val_loss:.4f} (val acc {best.val_accuracy:.4f})"
        text += f" {config_key(best.params)}"
    print(text)
    return text


if __name__ == "__main__":
    main()
