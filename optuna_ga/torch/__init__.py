"""PyTorch objectives for genetic (or any Optuna) search over classifier networks.

Needs the ``torch`` extra (``pip install "optuna-ga[torch]"``); ``import optuna_ga`` alone
never imports torch.

* :class:`Objective`: an ``objective(trial) -> float`` callable that searches a network of any
  registered architecture (``"mlp"``, ``"cnn"``, ..., or your own: see
  :mod:`optuna_ga.torch.architectures`), with every search range a keyword argument;
  :class:`MLPObjective` and :class:`CNNObjective` are its named forms. Each trial reports
  every epoch so that any Optuna pruner works, and records ``architecture``, ``n_params``,
  ``macs``, ``epochs`` and ``train_seconds`` as user attrs. With ``inherit_weights=True`` and
  a :class:`~optuna_ga.GeneticSampler`, children start from their parents' trained weights,
  kept as Optuna artifacts (guide: "Weight inheritance").
* :func:`list_architectures`, :func:`get_architecture`, :func:`register_architecture`: the
  registry of architectures.
* :func:`load_dataset`: ``digits`` (offline, bundled with scikit-learn), ``mnist``,
  ``fashion-mnist``, ``cifar10`` (torchvision files), or your own tensors / ``Dataset``.
* :func:`build_mlp`, :func:`build_cnn`: the network of a stored ``trial.params`` dict (any
  architecture's: ``get_architecture(name).build``).
* :func:`train_best`, :func:`save_model`, :func:`load_model`: retrain the best trial longer,
  report its test accuracy, save weights plus JSON config, and load them back.
* :func:`device_for`: which GPU a worker process of several should train on.

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
from optuna_ga.torch._best import architecture_of
from optuna_ga.torch._best import load_config
from optuna_ga.torch._best import load_model
from optuna_ga.torch._best import save_model
from optuna_ga.torch._best import train_best
from optuna_ga.torch._data import DATASETS
from optuna_ga.torch._data import DatasetNotFoundError
from optuna_ga.torch._data import DataSplits
from optuna_ga.torch._data import load_dataset
from optuna_ga.torch._models import count_params
from optuna_ga.torch._models import estimate_macs
from optuna_ga.torch._models import measure_latency
from optuna_ga.torch._objectives import OBJECTIVES
from optuna_ga.torch._objectives import CNNObjective
from optuna_ga.torch._objectives import MLPObjective
from optuna_ga.torch._objectives import Objective
from optuna_ga.torch._training import TrainingDivergedError
from optuna_ga.torch._training import TrainingLog
from optuna_ga.torch._training import device_for
from optuna_ga.torch._training import fit
from optuna_ga.torch._training import trial_seed
from optuna_ga.torch._training import visible_devices
from optuna_ga.torch.architectures import Architecture
from optuna_ga.torch.architectures import get_architecture
from optuna_ga.torch.architectures import list_architectures
from optuna_ga.torch.architectures import register_architecture
from optuna_ga.torch.architectures.cnn import build_cnn
from optuna_ga.torch.architectures.mlp import build_mlp

__all__ = [
    "DATASETS",
    "OBJECTIVES",
    "Architecture",
    "CNNObjective",
    "DataSplits",
    "DatasetNotFoundError",
    "MLPObjective",
    "Objective",
    "TrainedModel",
    "TrainingDivergedError",
    "TrainingLog",
    "architecture_of",
    "build_cnn",
    "build_mlp",
    "count_params",
    "device_for",
    "estimate_macs",
    "fit",
    "get_architecture",
    "list_architectures",
    "load_config",
    "load_dataset",
    "load_model",
    "measure_latency",
    "register_architecture",
    "save_model",
    "train_best",
    "trial_seed",
    "visible_devices",
]
