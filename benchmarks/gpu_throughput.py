"""Benchmark: trials per hour of the CNN objectives on GPUs, at 1 and several workers per GPU.

**Not run on a GPU yet.** It was written on a machine without one and has only run in its
``--quick`` mode on the CPU (``tests/test_benchmark_gpu.py``); no figures from it are recorded.
Run it on a GPU machine and commit its output (``--out benchmarks/GPU.md``).

What it measures: ``optuna_ga.torch.Objective`` for the ``"cnn"`` and ``"resnet"``
architectures, trained on synthetic CIFAR-10-shaped data (``--samples`` images of 3x32x32,
10 classes; class-dependent patterns plus noise, so that networks learn and early stopping
behaves as on real data; no download). For each architecture, batch size and number of
workers per GPU it starts ``workers x GPUs`` processes, worker ``i`` on
``device_for(i, gpus)`` as ``optuna-ga run --workers`` places them, and lets them train one fixed
list of networks (``--trials`` per GPU, drawn once with a seeded sampler from the
architecture's default search space; the same list for every worker count), each network for
``--epochs`` epochs. Workers build their data and objective first and start together; the
clock runs from that start to the last trial's end.

Columns: trials/hour over all GPUs and per GPU, the median seconds of one trial, training
samples per second per GPU, and each worker's peak GPU memory. More workers per GPU help
while one worker leaves the GPU idle (small networks, small batches, Python overhead per
batch); they stop helping once the GPU is busy. Comparing the batch sizes shows how much
small batches cost; ``--cudnn-benchmark`` shows what cuDNN's autotuner would gain (it makes
runs less reproducible, so the objectives leave it off).

What the training loop already does for GPUs (read, not measured): every split lives on the
device for the whole study (no ``DataLoader``, no host-to-device copy per batch), batches are
index slices of one ``randperm`` per epoch, and nothing synchronises per batch (the loss is
summed on the device and read once per epoch).

Usage::

    python -m benchmarks.gpu_throughput                      # every visible GPU; 1, 2, 4 workers
    python -m benchmarks.gpu_throughput --workers-per-gpu 1 2 3 --batch-sizes 64 256 \\
        --out benchmarks/GPU.md
    python -m benchmarks.gpu_throughput --quick              # CPU smoke run, seconds
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import time
from collections.abc import Sequence
from typing import Any

import optuna

from benchmarks._common import command
from benchmarks._common import environment
from benchmarks._common import markdown_table
from benchmarks._common import quiet
from benchmarks._common import report

ARCHITECTURES = ("cnn", "resnet")
# Quick mode: networks of a few thousand parameters, so that a CPU runs them in seconds.
TINY_SPACES: dict[str, dict[str, Any]] = {
    "cnn": {"max_conv_blocks": 2, "filters": [4, 8], "max_dense_layers": 1, "units": [16]},
    "resnet": {"stages": (1, 2), "blocks": 1, "filters": [4, 8]},
}


def synthetic_cifar(n: int, seed: int = 0) -> tuple[Any, Any]:
    """``n`` CIFAR-10-shaped images (uint8-like floats in [0, 255]) and labels in [0, 10)."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    patterns = torch.rand(10, 3, 32, 32, generator=generator) * 255
    labels = torch.randint(0, 10, (n,), generator=generator)
    noise = torch.rand(n, 3, 32, 32, generator=generator) * 255
    return (0.4 * patterns[labels] + 0.6 * noise).round(), labels


def _objective(arch: str, device: str, args: argparse.Namespace, batch_size: int) -> Any:
    from optuna_ga.torch import Objective
    from optuna_ga.torch import load_dataset

    data = load_dataset(synthetic_cifar(args.samples), val_fraction=0.1)
    options = TINY_SPACES[arch] if args.quick else {}
    return Objective(
        architecture=arch,
        dataset=data,
        device=device,
        epochs=args.epochs,
        patience=None,
        optimizers="sgd",
        learning_rate=0.02,
        weight_decay=5e-4,
        batch_size=batch_size,
        **options,
    )


def parameter_sets(arch: str, n: int, args: argparse.Namespace, batch_size: int) -> list[Any]:
    """``n`` networks drawn once, seeded, from the architecture's search space."""
    objective = _objective(arch, "cpu", args, batch_size)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    return [objective.suggest(study.ask()) for _ in range(n)]


def _worker(
    arch: str,
    device: str,
    params: list[dict[str, Any]],
    args: argparse.Namespace,
    batch_size: int,
    ready: Any,
    start: Any,
    results: Any,
) -> None:
    import torch

    quiet()
    torch.set_num_threads(1)
    if args.cudnn_benchmark:
        torch.backends.cudnn.benchmark = True
    if device.startswith("cuda:"):
        torch.cuda.set_device(device)
    objective = _objective(arch, device, args, batch_size)
    # Warm up (CUDA context, cuDNN handles, kernels) outside the clock: one batch, both ways.
    model = objective.build(params[0]).to(device)
    model(objective.data.x_train[:batch_size].to(device)).sum().backward()
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    ready.put(device)
    start.wait()
    seconds = []
    for p in params:
        began = time.perf_counter()
        objective(optuna.trial.FixedTrial(p))
        seconds.append(time.perf_counter() - began)
    peak = torch.cuda.max_memory_allocated() / 2**20 if device.startswith("cuda") else 0.0
    results.put((seconds, time.perf_counter(), peak))


def measure(
    arch: str, gpus: Sequence[str], per_gpu: int, args: argparse.Namespace, batch_size: int
) -> dict[str, Any]:
    """Run one configuration; its row's figures."""
    from optuna_ga.torch import device_for

    context = multiprocessing.get_context("spawn")
    n_workers = per_gpu * len(gpus)
    pool = parameter_sets(arch, args.trials * len(gpus), args, batch_size)
    shares = [pool[w::n_workers] for w in range(n_workers)]
    ready, results, start = context.Queue(), context.Queue(), context.Event()
    processes = [
        context.Process(
            target=_worker,
            args=(arch, device_for(w, gpus), shares[w], args, batch_size, ready, start, results),
        )
        for w in range(n_workers)
    ]
    for process in processes:
        process.start()
    for _ in processes:
        ready.get(timeout=args.timeout)
    began = time.perf_counter()
    start.set()
    done = [results.get(timeout=args.timeout) for _ in processes]
    for process in processes:
        process.join()
    wall = max(end for _, end, _ in done) - began
    seconds = [s for trial_seconds, _, _ in done for s in trial_seconds]
    n_train = args.samples - round(0.1 * args.samples)
    return {
        "trials": len(seconds),
        "wall": wall,
        "per_hour": 3600 * len(seconds) / wall,
        "median": statistics.median(seconds),
        "samples_per_s": n_train * args.epochs * len(seconds) / wall / len(gpus),
        "peak_mib": max(peak for _, _, peak in done),
    }


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(
        description="Trials per hour of the CNN objectives at 1 and several workers per GPU."
    )
    parser.add_argument("--architectures", nargs="+", choices=ARCHITECTURES, default=ARCHITECTURES)
    parser.add_argument("--workers-per-gpu", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[128])
    parser.add_argument("--devices", help="devices, comma-separated (default: every visible GPU)")
    parser.add_argument("--samples", type=int, default=50_000, help="synthetic images")
    parser.add_argument("--epochs", type=int, default=2, help="epochs per trial")
    parser.add_argument("--trials", type=int, default=8, help="networks per GPU and setting")
    parser.add_argument("--cudnn-benchmark", action="store_true", help="cuDNN autotuner on")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds per wait")
    parser.add_argument("--quick", action="store_true", help="CPU smoke run: tiny, seconds")
    parser.add_argument("--out", help="write the markdown section to this file")
    args = parser.parse_args(argv)
    quiet()
    from optuna_ga.torch import visible_devices

    if args.quick:
        args.samples, args.epochs, args.trials = 200, 1, 2
        args.workers_per_gpu, args.batch_sizes = [1, 2], [64]
        args.devices = args.devices or "cpu"
    gpus = args.devices.split(",") if args.devices else visible_devices()
    if gpus == ["cpu"] and not args.quick:
        parser.error(
            "no GPU is visible: --quick runs a CPU smoke test, --devices cpu measures CPU"
        )
    rows = []
    for arch in args.architectures:
        for batch_size in args.batch_sizes:
            for per_gpu in args.workers_per_gpu:
                r = measure(arch, gpus, per_gpu, args, batch_size)
                rows.append(
                    [
                        arch,
                        str(batch_size),
                        str(len(gpus)),
                        str(per_gpu),
                        str(r["trials"]),
                        f"{r['wall']:.1f}",
                        f"{r['per_hour']:,.0f}",
                        f"{r['per_hour'] / len(gpus):,.0f}",
                        f"{r['median']:.2f}",
                        f"{r['samples_per_s']:,.0f}",
                        f"{r['peak_mib']:,.0f}",
                    ]
                )
    header = [
        "architecture",
        "batch",
        "devices",
        "workers/device",
        "trials",
        "wall s",
        "trials/hour",
        "trials/hour/device",
        "median s/trial",
        "samples/s/device",
        "peak MiB/worker",
    ]
    text = (
        "## GPU throughput\n\n"
        f"{environment()} Devices: {', '.join(gpus)}. {args.samples} synthetic CIFAR-10-shaped "
        f"images, {args.epochs} epoch(s) per trial, SGD; cuDNN benchmark "
        f"{'on' if args.cudnn_benchmark else 'off'}.\n\n"
        f"Command: `{command('benchmarks.gpu_throughput', argv)}`\n\n"
        + markdown_table(header, rows)
        + "\n"
    )
    return report(text, args.out)


if __name__ == "__main__":
    main()
