"""PyTorch objectives for genetic (or any Optuna) search over MLP and CNN classifiers.

Needs the ``torch`` extra (``pip install "optuna-ga[torch]"``); ``import optuna_ga`` alone
never imports torch.

* :class:`MLPObjective`, :class:`CNNObjective`: ``objective(trial) -> float`` callables with
  every search range a keyword argument; they report each epoch so that any Optuna pruner
  works, and record ``n_params``, ``macs``, ``epochs`` and ``train_seconds`` as user attrs.
  With ``inherit_weights=True`` and a :class:`~optuna_ga.GeneticSampler`, children start from
  their parents' trained weights, kept as Optuna artifacts (guide: "Weight inheritance").
* :func:`load_dataset`: ``digits`` (offline, bundled with scikit-learn), ``mnist``,
  ``fashion-mnist``, ``cifar10`` (torchvision files), or your own tensors / ``Dataset``.
* :func:`build_mlp`, :func:`build_cnn`: the network of a stored ``trial.params`` dict.
* :func:`train_best`, :func:`save_model`, :func:`load_model`: retrain the best trial longer,
  report its test accuracy, save weights plus JSON config, and load them back.

Example:
    >>> import optuna
    >>> from optuna_ga.torch import MLPObjective, train_best
    >>> optuna.logging.set_verbosity(optuna.logging.WARNING)
    >>> objective = MLPObjective(max_layers=2, epochs=3, optimizers=["adam", "nadam"])
    >>> study = optuna.create_study(
    ...     direction=objective.direction, pruner=optuna.pruners.MedianPruner()
    ... )
    >>> study.optimize(objective, n_trials=3)
    >>> best = train_best(study, epochs=5)
    >>> best.test_accuracy > 0.5
    True
"""

try:
    import torch  # noqa: F401  (first: without it, say which extra to install)
except ImportError as error:
    raise ImportError(
        "optuna_ga.torch needs torch, which is not installed. "
        'Install the extra: pip install "optuna-ga[torch]"'
    ) from error

from optuna_ga.torch._best import TrainedModel
from optuna_ga.torch._best import load_config
from optuna_ga.torch._best import load_model
from optuna_ga.torch._best import save_model
from optuna_ga.torch._best import train_best
from optuna_ga.torch._data import DATASETS
from optuna_ga.torch._data import DatasetNotFoundError
from optuna_ga.torch._data import DataSplits
from optuna_ga.torch._data import load_dataset
from optuna_ga.torch._models import build_cnn
from optuna_ga.torch._models import build_mlp
from optuna_ga.torch._models import count_params
from optuna_ga.torch._models import estimate_macs
from optuna_ga.torch._objectives import CNNObjective
from optuna_ga.torch._objectives import MLPObjective
from optuna_ga.torch._training import TrainingDivergedError
from optuna_ga.torch._training import TrainingLog
from optuna_ga.torch._training import fit
from optuna_ga.torch._training import trial_seed

__all__ = [
    "DATASETS",
    "CNNObjective",
    "DataSplits",
    "DatasetNotFoundError",
    "MLPObjective",
    "TrainedModel",
    "TrainingDivergedError",
    "TrainingLog",
    "build_cnn",
    "build_mlp",
    "count_params",
    "estimate_macs",
    "fit",
    "load_config",
    "load_dataset",
    "load_model",
    "save_model",
    "train_best",
    "trial_seed",
]
