"""Evolve a convolutional network for MNIST: conv blocks, pooling, dense head, optimizer.

Run ``python examples/03_cnn_mnist.py --download`` (needs network access once; the files go to
``--data-dir``, default ``~/.cache/optuna_ga/data``), or ``--smoke`` for a seconds-long run.
Needs the torch extra: ``pip install "optuna-ga[torch]"``.

Without the MNIST files (and without ``--download``) the script stops with a one-line message
that names the files it expects. With ``--smoke`` it uses the real files if they are there, and
otherwise writes a tiny MNIST-format dataset (synthetic 28x28 images, IDX files) to a temporary
folder and searches on that; the output says which.
"""

from __future__ import annotations

import argparse
import struct
import sys
import tempfile
from pathlib import Path

import numpy as np
import optuna

from optuna_ga import GeneticSampler
from optuna_ga.torch import CNNObjective
from optuna_ga.torch import DatasetNotFoundError
from optuna_ga.torch import load_dataset


def write_tiny_mnist(root: Path, n_train: int = 300, n_test: int = 100) -> Path:
    """MNIST-layout IDX files where class k is a bright horizontal bar at row 2k + 4."""
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        labels = (np.arange(n) % 10).astype(np.uint8)
        images = rng.integers(0, 60, size=(n, 28, 28), dtype=np.uint8)
        for image, k in zip(images, labels, strict=True):
            image[2 * k + 4 : 2 * k + 7, 4:24] = 255
        for name, array, code in (("images-idx3", images, 3), ("labels-idx1", labels, 1)):
            header = struct.pack(">HBB", 0, 0x08, code) + struct.pack(f">{code}I", *array.shape)
            (raw / f"{prefix}-{name}-ubyte").write_bytes(header + array.tobytes())
    return root


def main(argv: list[str] | None = None) -> optuna.Study:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--storage", default="sqlite:///optuna_ga.db")
    parser.add_argument("--study-name", default="example-cnn-mnist")
    parser.add_argument("--data-dir", default=None, help="folder holding MNIST/raw/")
    parser.add_argument("--download", action="store_true", help="download MNIST if missing")
    parser.add_argument("--n-trials", type=int, default=40)
    parser.add_argument("--population-size", type=int, default=10)
    parser.add_argument("--epochs", type=int, default=5, help="most epochs per trial")
    parser.add_argument(
        "--max-train-samples", type=int, default=10_000, help="subsample for a faster search"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--smoke", action="store_true", help="a seconds-long in-memory run")
    args = parser.parse_args(argv)
    if args.smoke:
        args.storage, args.n_trials, args.population_size = None, 4, 3
        args.epochs, args.max_train_samples = 1, 300

    try:
        data = load_dataset(
            "mnist",
            data_dir=args.data_dir,
            download=args.download,
            max_train_samples=args.max_train_samples,
        )
        print(f"data: MNIST ({len(data.x_train)} training images)")
    except DatasetNotFoundError as error:
        if not args.smoke:
            sys.exit(f"MNIST is not available (try --download or --data-dir): {error}")
        with tempfile.TemporaryDirectory() as tmp:
            data = load_dataset("mnist", data_dir=write_tiny_mnist(Path(tmp)))
        print(
            f"data: MNIST not found; --smoke uses a tiny synthetic MNIST-format dataset "
            f"({len(data.x_train)} training images, IDX files written to a temporary folder)"
        )

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    objective = CNNObjective(
        dataset=data,
        max_conv_blocks=3,
        filters=(8, 64),
        max_dense_layers=1,
        units=(32, 256),
        optimizers=["adam", "adamw", "nadam"],
        learning_rate=(1e-4, 1e-2),
        batch_size=[64, 128],
        epochs=args.epochs,
        patience=2,
        seed=args.seed,
    )
    study = optuna.create_study(
        storage=args.storage,
        study_name=args.study_name,
        load_if_exists=True,
        direction=objective.direction,
        sampler=GeneticSampler(population_size=args.population_size, n_elites=2, seed=args.seed),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=1),
    )
    study.optimize(objective, n_trials=args.n_trials)

    best = study.best_trial
    print(
        f"best validation accuracy {best.value:.4f} in trial {best.number} "
        f"(generation {best.user_attrs['ga_generation']}, {best.params['n_conv']} conv "
        f"blocks, {best.user_attrs['n_params']} parameters)"
    )
    print(f"best params: {best.params}")
    return study


if __name__ == "__main__":
    main()
