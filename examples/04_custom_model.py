"""Your own PyTorch model and data with GeneticSampler: define-by-run, no optuna_ga.torch.

The objective builds a custom ``nn.Module`` from ``trial.suggest_*`` calls, trains it on
in-memory tensors with a plain training loop and returns the validation accuracy. Replace
``make_data`` and ``SpiralNet`` with your own; the sampler only sees the parameters.

Run ``python examples/04_custom_model.py`` (or ``--smoke`` for a seconds-long run).
Needs torch: ``pip install "optuna-ga[torch]"``.
"""

from __future__ import annotations

import argparse
import math

import optuna
import torch
from torch import nn

from optuna_ga import GeneticSampler

ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "gelu": nn.GELU}


def make_data(n: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Three interleaved noisy spirals in 2-D: inputs ``(n, 2)``, labels ``(n,)`` in 0..2."""
    gen = torch.Generator().manual_seed(seed)
    labels = torch.arange(n) % 3
    radius = torch.rand(n, generator=gen)
    angle = 4.0 * radius + labels * (2 * math.pi / 3) + 0.2 * torch.randn(n, generator=gen)
    inputs = torch.stack([radius * torch.cos(angle), radius * torch.sin(angle)], dim=1)
    return inputs, labels


class SpiralNet(nn.Module):
    """A residual MLP: an input layer, ``depth`` residual blocks, a linear head."""

    def __init__(self, width: int, depth: int, activation: str, dropout: float) -> None:
        super().__init__()
        act = ACTIVATIONS[activation]
        self.stem = nn.Sequential(nn.Linear(2, width), act())
        self.blocks = nn.ModuleList(
            nn.Sequential(nn.Linear(width, width), act(), nn.Dropout(dropout))
            for _ in range(depth)
        )
        self.head = nn.Linear(width, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        for block in self.blocks:
            x = x + block(x)
        return self.head(x)


class Objective:
    """Train one ``SpiralNet`` per trial and return its validation accuracy."""

    def __init__(self, n_samples: int, epochs: int) -> None:
        x, y = make_data(n_samples)
        split = int(0.8 * n_samples)
        self.x_train, self.y_train = x[:split], y[:split]
        self.x_val, self.y_val = x[split:], y[split:]
        self.epochs = epochs

    def __call__(self, trial: optuna.Trial) -> float:
        model = SpiralNet(
            width=trial.suggest_int("width", 8, 128, log=True),
            depth=trial.suggest_int("depth", 0, 4),
            activation=trial.suggest_categorical("activation", list(ACTIVATIONS)),
            dropout=trial.suggest_float("dropout", 0.0, 0.3),
        )
        lr = trial.suggest_float("lr", 1e-4, 3e-2, log=True)
        batch_size = trial.suggest_categorical("batch_size", [32, 64, 128])
        torch.manual_seed(trial.number)  # same parameters and trial number, same run
        optimizer = torch.optim.Adam(model.parameters(), lr=lr)
        loss_fn = nn.CrossEntropyLoss()
        accuracy = 0.0
        for epoch in range(self.epochs):
            model.train()
            order = torch.randperm(len(self.x_train))
            for start in range(0, len(order), batch_size):
                batch = order[start : start + batch_size]
                optimizer.zero_grad()
                loss_fn(model(self.x_train[batch]), self.y_train[batch]).backward()
                optimizer.step()
            model.eval()
            with torch.no_grad():
                predictions = model(self.x_val).argmax(dim=1)
            accuracy = (predictions == self.y_val).float().mean().item()
            trial.report(accuracy, epoch)  # lets any Optuna pruner stop a poor run early
            if trial.should_prune():
                raise optuna.TrialPruned()
        return accuracy


def main(argv: list[str] | None = None) -> optuna.Study:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--storage", default=None, help="e.g. sqlite:///optuna_ga.db")
    parser.add_argument("--study-name", default="custom-model")
    parser.add_argument("--n-trials", type=int, default=60)
    parser.add_argument("--population-size", type=int, default=12)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--smoke", action="store_true", help="a seconds-long in-memory run")
    args = parser.parse_args(argv)
    if args.smoke:
        args.storage, args.n_trials, args.population_size, args.epochs = None, 8, 4, 3

    torch.set_num_threads(1)  # small networks train fastest on one thread
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        storage=args.storage,
        study_name=args.study_name,
        load_if_exists=True,
        direction="maximize",
        sampler=GeneticSampler(population_size=args.population_size, n_elites=2, seed=args.seed),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=5),
    )
    study.optimize(Objective(n_samples=1500, epochs=args.epochs), n_trials=args.n_trials)
    best = study.best_trial
    print(
        f"best validation accuracy {best.value:.4f} in trial {best.number} "
        f"(generation {best.user_attrs['ga_generation']}, made by "
        f"{best.user_attrs['ga_operator']}): {best.params}"
    )
    return study


if __name__ == "__main__":
    main()
