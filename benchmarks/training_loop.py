"""Benchmark: optuna_ga.torch's training loop against plain DataLoader loops, on digits.

Three loops train the same MLP (same parameters, same initial weights, same optimiser, same
number of epochs, one CPU thread unless ``--threads`` says otherwise):

* ``optuna_ga.torch.fit``: tensors in memory, one ``torch.randperm`` per epoch, batches by
  index slicing;
* ``DataLoader(TensorDataset)``: the same tensors through ``torch.utils.data.DataLoader``
  with ``shuffle=True`` (per-sample indexing and collation);
* ``DataLoader + per-sample transform``: the style of Optuna's own PyTorch example
  (``examples/pytorch/pytorch_simple.py``): a dataset that converts every raw sample to a
  normalised float tensor when it is fetched, as ``transforms.ToTensor()`` does.

Each loop runs ``--repeats`` times; the table shows the median training throughput
(training samples per second, evaluation excluded) and the final validation accuracy.

Usage::

    python benchmarks/training_loop.py            # 20 epochs, 3 repeats, batch sizes 32 128
    python benchmarks/training_loop.py --quick    # seconds
    python benchmarks/training_loop.py --write benchmarks/TRAINING.md
"""

from __future__ import annotations

import argparse
import datetime
import itertools
import os
import platform
import statistics
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import optuna
import torch
import torch.nn.functional as F
from torch import nn

from optuna_ga.torch import build_mlp
from optuna_ga.torch import fit
from optuna_ga.torch import load_dataset
from optuna_ga.torch._training import evaluate
from optuna_ga.torch._training import make_optimizer

MEDIUM = {
    "n_layers": 2,
    "input_dropout": 0.0,
    "units_l1": 256,
    "dropout_l1": 0.1,
    "units_l2": 128,
    "dropout_l2": 0.1,
    "activation": "relu",
    "batch_norm": False,
    "initializer": "kaiming_uniform",
    "optimizer": "adam",
    "learning_rate": 1e-3,
    "weight_decay": 1e-5,
}
SMALL = MEDIUM | {"n_layers": 1, "units_l1": 32}
#: Hidden layers of each benchmarked MLP; both use ReLU, dropout 0.1 and Adam (lr 1e-3).
MODELS = {"256-128": MEDIUM, "32": SMALL}


class _PerSampleDigits(torch.utils.data.Dataset):
    """Raw 0..16 pixel arrays, converted and normalised one sample at a time."""

    def __init__(self, raw: np.ndarray, labels: np.ndarray, mean: float, std: float) -> None:
        self.raw, self.labels, self.mean, self.std = raw, labels, mean, std

    def __len__(self) -> int:
        return len(self.raw)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        x = torch.from_numpy(self.raw[i]).to(torch.float32).unsqueeze(0)
        return (x - self.mean) / self.std, int(self.labels[i])


def _dataloader_loop(model: nn.Module, loader: torch.utils.data.DataLoader, epochs: int) -> None:
    opt = make_optimizer("adam", list(model.parameters()), 1e-3, 1e-5)
    for _ in range(epochs):
        model.train()
        for data, target in loader:
            opt.zero_grad()
            loss = F.cross_entropy(model(data), target)
            loss.backward()
            opt.step()


def run(
    epochs: int, batch_sizes: list[int], repeats: int, threads: int
) -> list[dict[str, object]]:
    torch.set_num_threads(threads)
    data = load_dataset("digits")
    n = len(data.x_train)
    # Raw pixels of the training split, for the per-sample loop.
    raw = (data.x_train * data.std + data.mean).round().squeeze(1).numpy().astype(np.float32)
    labels = data.y_train.numpy()
    mean, std = float(data.mean.flatten()[0]), float(data.std.flatten()[0])

    def train_fit(model: nn.Module, bs: int) -> None:
        fit(
            model,
            data.x_train,
            data.y_train,
            optimizer="adam",
            learning_rate=1e-3,
            weight_decay=1e-5,
            batch_size=bs,
            epochs=epochs,
            seed=0,
        )

    def train_tensor_loader(model: nn.Module, bs: int) -> None:
        ds = torch.utils.data.TensorDataset(data.x_train, data.y_train)
        gen = torch.Generator().manual_seed(0)
        _dataloader_loop(
            model,
            torch.utils.data.DataLoader(ds, batch_size=bs, shuffle=True, generator=gen),
            epochs,
        )

    def train_per_sample(model: nn.Module, bs: int) -> None:
        ds = _PerSampleDigits(raw, labels, mean, std)
        gen = torch.Generator().manual_seed(0)
        _dataloader_loop(
            model,
            torch.utils.data.DataLoader(ds, batch_size=bs, shuffle=True, generator=gen),
            epochs,
        )

    loops: dict[str, Callable[[nn.Module, int], None]] = {
        "optuna_ga.torch.fit (index slicing)": train_fit,
        "DataLoader(TensorDataset)": train_tensor_loader,
        "DataLoader + per-sample transform (Optuna example style)": train_per_sample,
    }
    # Warm up (first-call allocations, lazy initialisation) outside the timings.
    for loop in loops.values():
        loop(build_mlp(SMALL, data.input_shape, data.n_classes), 64)
    rows: list[dict[str, object]] = []
    for (label, params), bs in itertools.product(MODELS.items(), batch_sizes):
        speeds: dict[str, list[float]] = {name: [] for name in loops}
        accs: dict[str, list[float]] = {name: [] for name in loops}
        # Repeats are interleaved, so a load change on a shared machine hits every loop alike.
        for _ in range(repeats):
            for name, loop in loops.items():
                torch.manual_seed(0)
                model = build_mlp(params, data.input_shape, data.n_classes)
                start = time.perf_counter()
                loop(model, bs)
                seconds = time.perf_counter() - start
                speeds[name].append(epochs * n / seconds)
                accs[name].append(evaluate(model, data.x_val, data.y_val)[0])
        fast = statistics.median(speeds[next(iter(loops))])
        for name in loops:
            speed = statistics.median(speeds[name])
            rows.append(
                {
                    "model": label,
                    "batch_size": bs,
                    "loop": name,
                    "samples_per_s": speed,
                    "val_accuracy": statistics.median(accs[name]),
                    "ratio": fast / speed,
                }
            )
    return rows


def _machine() -> str:
    model = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} logical cores, {platform.system()} {platform.release()}"


def _load_average() -> str:
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except OSError:  # not available on this platform
        return "n/a"


def to_markdown(
    rows: list[dict[str, object]], args: argparse.Namespace, command: str, load: str
) -> str:
    intro = (
        "What `benchmarks/training_loop.py` measured: the same MLP on scikit-learn's digits "
        "(1150 training samples, 64 pixels; hidden layers 256-128 or 32, ReLU, dropout 0.1, "
        f"Adam lr 1e-3), {args.epochs} epochs per run, median of {args.repeats} interleaved "
        f"runs, {args.threads} CPU thread(s). Throughput counts training samples per second "
        "of training (evaluation excluded); accuracy is on the validation split after the "
        "last epoch. `speed-up` is how many times faster `optuna_ga.torch.fit` ran than each "
        "loop with the same model and batch size."
    )
    lines = [
        "# Training-loop benchmark",
        "",
        textwrap.fill(intro, width=99),
        "",
        f"- command: `{command}`",
        f"- date: {datetime.date.today().isoformat()}",
        f"- machine: {_machine()}; 1-minute load average {load}",
        f"- versions: Python {platform.python_version()}, torch {torch.__version__}, "
        f"optuna {optuna.__version__}, numpy {np.__version__}",
        "",
        "| hidden | batch | loop | samples/s | val accuracy | speed-up of fit |",
        "|---|---:|---|---:|---:|---:|",
    ]
    for r in rows:
        speed, acc, ratio = (float(r[k]) for k in ("samples_per_s", "val_accuracy", "ratio"))  # type: ignore[arg-type]
        lines.append(
            f"| {r['model']} | {r['batch_size']} | {r['loop']} | {speed:,.0f} | {acc:.4f} | "
            f"{ratio:.2f}x |"
        )
    lines += [
        "",
        "Accuracies differ between loops only through the batch order (each loop shuffles with",
        "its own generator) and dropout draws; the initial weights are the same.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> list[dict[str, object]]:
    parser = argparse.ArgumentParser(
        description="Compare optuna_ga.torch's training loop with DataLoader loops on digits."
    )
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[32, 128])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="torch.set_num_threads")
    parser.add_argument("--quick", action="store_true", help="3 epochs, 1 repeat, batch 64")
    parser.add_argument("--write", default=None, help="write the Markdown report to this file")
    args = parser.parse_args(argv)
    if args.quick:
        args.epochs, args.repeats, args.batch_sizes = 3, 1, [64]
    command = "python benchmarks/training_loop.py " + " ".join(
        sys.argv[1:] if argv is None else argv
    )
    load_before = _load_average()
    rows = run(args.epochs, args.batch_sizes, args.repeats, args.threads)
    load = f"{load_before} before, {_load_average()} after"
    report = to_markdown(rows, args, command.strip(), load)
    print(report)
    if args.write:
        Path(args.write).write_text(report)
    return rows


if __name__ == "__main__":
    main()
