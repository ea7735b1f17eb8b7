"""The Optuna objective that searches a network of any registered architecture.

An objective is a callable ``objective(trial) -> float``. It suggests the network's genes (its
architecture's, see :mod:`optuna_ga.torch.architectures`) and then the training genes, builds
the network from the suggested parameters with the architecture's ``build``, trains it and
returns the best validation accuracy (or loss), or, with ``objectives``, a tuple such as
(accuracy, parameter count) for a multi-objective study. Genes are suggested in a stable order
(layer 1's before layer 2's), which matters for single-point crossover.

What a trial records as user attrs: ``architecture``, ``seed``, ``n_params``, ``macs``
(multiply-accumulates per sample), ``latency_ms`` (with the ``"latency"`` objective),
``epochs``, ``train_seconds``, ``stopped_by``, ``best_epoch`` and, for trials that end without
a value, ``failure``. With ``inherit_weights=True`` also ``ga_inherited`` and, once trained,
``ga_weights`` (see :mod:`optuna_ga.torch._inherit`).

Failures never stop a study: a run whose loss turns NaN or infinite, and a network over
``max_params``, end as **pruned** trials (``failure`` is ``"diverged"`` or
``"too_many_params"``). Pruned trials are never parents in
:class:`~optuna_ga.GeneticSampler`, and every Optuna sampler handles them.

Randomness: trial ``n`` uses the seed ``trial_seed(seed, n)`` for weight initialisation, dropout
and batch order, so a trial's result depends only on its parameters, the data and that seed
(on CPU with ``num_threads=1``; CUDA kernels may add non-determinism). The global torch
generators are forked per trial and restored afterwards. Run parallel trials as separate
processes sharing a storage, not with ``study.optimize(n_jobs=...)`` threads, which share
torch's global generators and thread settings.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from collections.abc import Iterator
from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any
from typing import ClassVar
from typing import Literal

import optuna
import torch
from optuna.trial import BaseTrial
from torch import nn

from optuna_ga._objective_names import OBJECTIVES
from optuna_ga._objective_names import check_objectives
from optuna_ga._objective_names import metric_of
from optuna_ga.torch._data import DataSplits
from optuna_ga.torch._data import load_dataset
from optuna_ga.torch._genes import FloatSpec
from optuna_ga.torch._genes import Gene
from optuna_ga.torch._genes import IntSpec
from optuna_ga.torch._genes import check_bool
from optuna_ga.torch._genes import check_int
from optuna_ga.torch._genes import choice_gene
from optuna_ga.torch._genes import float_gene
from optuna_ga.torch._genes import int_gene
from optuna_ga.torch._inherit import ArtifactStore
from optuna_ga.torch._inherit import WeightStore
from optuna_ga.torch._models import count_params
from optuna_ga.torch._models import estimate_macs
from optuna_ga.torch._models import measure_latency
from optuna_ga.torch._training import OPTIMIZERS
from optuna_ga.torch._training import TrainingDivergedError
from optuna_ga.torch._training import TrainingLog
from optuna_ga.torch._training import fit_params
from optuna_ga.torch._training import resolve_device
from optuna_ga.torch._training import trial_seed
from optuna_ga.torch.architectures import Architecture
from optuna_ga.torch.architectures import get_architecture

__all__ = ["OBJECTIVES", "CNNObjective", "MLPObjective", "Objective"]

_MAX_BATCH = 1 << 16
_LATENCY_BATCH = 256

DatasetArg = str | DataSplits | tuple[Any, Any] | torch.utils.data.Dataset[Any]


def _check_positive(arg: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValueError(f"{arg} must be a number > 0, got {value!r}.")
    return float(value)


@contextlib.contextmanager
def _seeded(seed: int, device: torch.device) -> Iterator[None]:
    """Seed torch's global generators for a block and restore them afterwards.

    Weight initialisation and dropout draw from the global generators; forking them keeps a
    trial's randomness from leaking into the caller's (or the next trial's) state.
    """
    devices: list[int] = []
    if device.type == "cuda":
        devices = [torch.cuda.current_device() if device.index is None else device.index]
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield


class Objective:
    """Search a classifier network of any registered architecture.

    Genes, in suggestion order: the architecture's (see its module in
    :mod:`optuna_ga.torch.architectures`), then ``optimizer``, ``learning_rate``,
    ``weight_decay``, ``batch_size``. Every gene argument is a single value (the gene is fixed),
    a ``(low, high)`` tuple (a range) or a list (the choices).

    Args:
        architecture: A name from :func:`~optuna_ga.torch.list_architectures` (``"mlp"``,
            ``"cnn"``, ..., or one you registered) or an
            :class:`~optuna_ga.torch.architectures.Architecture`.
        dataset: A name for :func:`~optuna_ga.torch.load_dataset` (default ``"digits"``), an
            ``(inputs, labels)`` pair, a torch ``Dataset``, or ready
            :class:`~optuna_ga.torch.DataSplits`. Loaded once, at construction.
        data_dir: Where torchvision datasets live (see :func:`~optuna_ga.torch.load_dataset`).
        download: Whether to download a missing torchvision dataset.
        optimizers: Among ``sgd`` (momentum 0.9), ``adam``, ``adamw``, ``rmsprop``,
            ``adagrad``, ``adamax``, ``nadam``.
        learning_rate: In ``[1e-8, 10]``, log scale.
        weight_decay: In ``[0, 1]``, log scale (so a range needs ``low > 0``; pass ``0.0`` to
            switch it off).
        batch_size: In ``[1, 65536]``.
        epochs: Most epochs per trial, >= 1.
        patience: Early stopping after this many epochs without improvement; None disables.
        max_training_time: Seconds of training per trial (checked after every batch); None
            for no cap.
        metric: ``"accuracy"`` (returned, maximise) or ``"loss"`` (validation cross-entropy,
            minimise). :attr:`direction` says which.
        objectives: For a multi-objective study, the values to return, in order, from
            ``"accuracy"`` or ``"loss"`` (exactly one of them: the validation metric, which
            replaces ``metric``), ``"params"`` (trainable parameters), ``"macs"``
            (multiply-accumulates per sample), ``"latency"`` (measured inference time in ms per
            sample, batches of up to 256 validation samples, median of 5 passes: it varies
            with the machine and its load) and ``"train_time"`` (seconds of training). None
            (the default) returns the metric alone. :attr:`directions` gives the study's
            directions. Optuna does not prune multi-objective trials, so a pruner is not
            consulted (``max_params`` still prunes).
        seed: Base seed, >= 0; trial ``n`` trains with ``trial_seed(seed, n)``.
        device: ``"cpu"``, ``"cuda"``, ``"cuda:1"``...; None picks CUDA when available. With
            several GPUs, give each worker process its own
            (:func:`~optuna_ga.torch.device_for`).
        num_threads: ``torch.set_num_threads`` for CPU training (process-wide; default 1,
            the fastest choice when several workers share a machine); None leaves it alone.
        max_params: Largest allowed parameter count; larger networks are recorded with
            ``trial.set_constraint("max_params", n_params - max_params)`` and pruned without
            training. None for no limit.
        inherit_weights: Weight inheritance (see the guide page "Weight inheritance"): with
            a :class:`~optuna_ga.GeneticSampler`, each completed trial saves its trained
            weights in ``artifact_store`` (user attr ``ga_weights``) and each child starts
            from its parents' weights where a layer's name and shapes match (user attr
            ``ga_inherited``). Weights of trials that can no longer be parents are deleted.
        artifact_store: Where weights are kept, e.g.
            ``optuna.artifacts.FileSystemArtifactStore(folder)`` (a folder all workers
            share) or ``Boto3ArtifactStore``; required with ``inherit_weights``.
        inherit_epochs: Most epochs for a child that inherited at least one tensor (>= 1);
            None trains it for ``epochs`` like every other trial.
        **options: The architecture's own arguments, its search space: those of its genes,
            documented in its module (for ``"mlp"``,
            :class:`~optuna_ga.torch.architectures.mlp.MLPGenes`; for ``"cnn"``,
            :class:`~optuna_ga.torch.architectures.cnn.CNNGenes`; ...).

    Raises:
        ValueError: If an argument is out of range or unknown to the architecture (the
            message names it).
        DatasetNotFoundError: If a named torchvision dataset is missing.

    Example:
        >>> import optuna
        >>> optuna.logging.set_verbosity(optuna.logging.WARNING)
        >>> objective = Objective(architecture="cnn", max_conv_blocks=2, filters=[4, 8],
        ...                       max_dense_layers=0, epochs=2, optimizers="adam",
        ...                       learning_rate=0.01, batch_size=32)
        >>> study = optuna.create_study(
        ...     direction=objective.direction, sampler=optuna.samplers.RandomSampler(seed=0)
        ... )
        >>> study.optimize(objective, n_trials=2)
        >>> study.best_trial.user_attrs["architecture"], study.best_value > 0.5
        ('cnn', True)
    """

    #: The architecture a subclass stands for (``MLPObjective``: ``"mlp"``), or None.
    named_architecture: ClassVar[str | None] = None

    def __init__(
        self,
        *,
        architecture: str | Architecture | None = None,
        dataset: DatasetArg = "digits",
        data_dir: str | os.PathLike[str] | None = None,
        download: bool = False,
        optimizers: Sequence[str] | str = OPTIMIZERS,
        learning_rate: FloatSpec = (1e-4, 1e-1),
        weight_decay: FloatSpec = (1e-6, 1e-2),
        batch_size: IntSpec = [32, 64, 128, 256],  # noqa: B006 - a list means choices; read only
        epochs: int = 20,
        patience: int | None = 5,
        max_training_time: float | None = None,
        metric: str = "accuracy",
        objectives: Sequence[str] | None = None,
        seed: int = 0,
        device: str | torch.device | None = None,
        num_threads: int | None = 1,
        max_params: int | None = None,
        inherit_weights: bool = False,
        artifact_store: ArtifactStore | None = None,
        inherit_epochs: int | None = None,
        **options: Any,
    ) -> None:
        named = self.named_architecture
        if named is not None and architecture is not None and architecture != named:
            raise ValueError(
                f"{type(self).__name__} searches {named!r} networks; for architecture="
                f"{architecture!r} use Objective(architecture=...)."
            )
        self._architecture = get_architecture(architecture or named or "mlp")
        self._epochs = check_int("epochs", epochs, 1)
        check_bool("download", download)
        check_bool("inherit_weights", inherit_weights)
        if inherit_weights and artifact_store is None:
            raise ValueError(
                "artifact_store is required with inherit_weights=True, e.g. "
                "optuna.artifacts.FileSystemArtifactStore('artifacts')."
            )
        if artifact_store is not None and not all(
            callable(getattr(artifact_store, m, None)) for m in ("open_reader", "write", "remove")
        ):
            raise ValueError(
                "artifact_store must be an optuna.artifacts store (open_reader, write, remove), "
                f"got {type(artifact_store).__name__}."
            )
        self._inherit_epochs = (
            None if inherit_epochs is None else check_int("inherit_epochs", inherit_epochs, 1)
        )
        self._patience = None if patience is None else check_int("patience", patience, 1)
        self._max_training_time = (
            None
            if max_training_time is None
            else _check_positive("max_training_time", max_training_time)
        )
        if metric not in ("accuracy", "loss"):
            raise ValueError(f"metric must be 'accuracy' or 'loss', got {metric!r}.")
        self._objectives = (metric,) if objectives is None else check_objectives(objectives)
        self._metric = self._objectives[0] if objectives is None else metric_of(self._objectives)
        self._seed = check_int("seed", seed, 0)
        self._num_threads = (
            None if num_threads is None else check_int("num_threads", num_threads, 1)
        )
        self._max_params = None if max_params is None else check_int("max_params", max_params, 1)
        self._device = resolve_device(device)
        self._training_genes: dict[str, Gene] = {
            "optimizer": choice_gene("optimizers", optimizers, OPTIMIZERS),
            "learning_rate": float_gene(
                "learning_rate", learning_rate, lower=1e-8, upper=10.0, log=True
            ),
            "weight_decay": float_gene(
                "weight_decay", weight_decay, lower=0.0, upper=1.0, log=True
            ),
            "batch_size": int_gene("batch_size", batch_size, lower=1, upper=_MAX_BATCH, log=True),
        }
        if isinstance(dataset, DataSplits):
            self._data = dataset
        else:
            self._data = load_dataset(dataset, data_dir=data_dir, download=download)
        self._suggest_network = self._architecture.suggester(self._data.input_shape, options)
        self._data_on_device: DataSplits | None = None
        self._weights = (
            WeightStore(
                artifact_store,  # type: ignore[arg-type]  # checked above: not None
                architecture=self._architecture,
                input_shape=self._data.input_shape,
                n_classes=self._data.n_classes,
            )
            if inherit_weights
            else None
        )

    @property
    def architecture(self) -> str:
        """The name of the architecture searched (recorded as the user attr ``architecture``)."""
        return self._architecture.name

    @property
    def direction(self) -> Literal["maximize", "minimize"]:
        """The validation metric's: ``"maximize"`` for accuracy, ``"minimize"`` for loss.

        Pass it to ``create_study(direction=...)``; with several ``objectives`` pass
        :attr:`directions` instead.
        """
        return OBJECTIVES[self._metric]

    @property
    def objectives(self) -> tuple[str, ...]:
        """The names of the values a trial returns, in order (``("accuracy",)`` by default)."""
        return self._objectives

    @property
    def directions(self) -> list[Literal["maximize", "minimize"]]:
        """One direction per objective: pass it to ``create_study(directions=...)``.

        Example:
            >>> MLPObjective(objectives=["accuracy", "params"]).directions
            ['maximize', 'minimize']
        """
        return [OBJECTIVES[name] for name in self._objectives]

    @property
    def data(self) -> DataSplits:
        """The dataset splits (on the CPU)."""
        return self._data

    def suggest(self, trial: BaseTrial) -> dict[str, Any]:
        """Suggest every gene of one trial and return them as a parameter dict.

        Works with ``optuna.Trial`` and with ``optuna.trial.FixedTrial(params)``.
        """
        params = self._suggest_network(trial)
        for name, gene in self._training_genes.items():
            params[name] = gene.suggest(trial, name)
        return params

    def build(self, params: Mapping[str, Any]) -> nn.Module:
        """Build the (untrained) network of a parameter dict for this objective's data."""
        return self._architecture.build(params, self._data.input_shape, self._data.n_classes)

    def __call__(self, trial: optuna.Trial | BaseTrial) -> float | tuple[float, ...]:
        """Suggest, build and train one network; return its best validation value.

        With several ``objectives``, return one value per objective, in their order.

        Raises:
            optuna.TrialPruned: If the pruner stops the trial, the loss diverges, or the
                network has more than ``max_params`` parameters.
        """
        params = self.suggest(trial)
        if self._data_on_device is None:
            # Kept on the device for every trial; the test split, which trials never read,
            # stays behind (on a GPU shared by several workers each holds its own copy).
            used = dataclasses.replace(self._data, x_test=None, y_test=None)
            self._data_on_device = used.to(self._device)
        data = self._data_on_device
        if self._device.type == "cpu" and self._num_threads is not None:
            torch.set_num_threads(self._num_threads)
        seed = trial_seed(self._seed, trial.number)
        # Weight inheritance needs a study trial bred by a GeneticSampler.
        weights = self._weights
        heir = (
            trial
            if weights is not None and isinstance(trial, optuna.Trial) and weights.applies(trial)
            else None
        )
        trial.set_user_attr("architecture", self.architecture)
        trial.set_user_attr("seed", seed)
        with _seeded(seed, self._device):
            model = self.build(params).to(self._device)
            n_params = count_params(model)
            trial.set_user_attr("n_params", n_params)
            macs = estimate_macs(model, data.input_shape)
            trial.set_user_attr("macs", macs)
            if self._max_params is not None:
                trial.set_constraint("max_params", float(n_params - self._max_params))
                if n_params > self._max_params:
                    trial.set_user_attr("failure", "too_many_params")
                    raise optuna.TrialPruned(
                        f"{n_params} parameters exceed max_params={self._max_params}"
                    )
            epochs = self._epochs
            if weights is not None and heir is not None:
                copied = weights.load(heir, model, params)
                if copied and self._inherit_epochs is not None:
                    epochs = self._inherit_epochs

            def on_epoch(epoch: int, value: float) -> None:
                if len(self._objectives) > 1:
                    return  # Optuna neither takes reports from nor prunes these trials
                trial.report(value, epoch)
                if trial.should_prune():
                    raise optuna.TrialPruned(f"pruned after epoch {epoch}")

            log = TrainingLog()
            try:
                fit_params(
                    model,
                    data.x_train,
                    data.y_train,
                    params,
                    x_val=data.x_val,
                    y_val=data.y_val,
                    epochs=epochs,
                    seed=seed,
                    metric=self._metric,
                    patience=self._patience,
                    max_training_time=self._max_training_time,
                    on_epoch=on_epoch,
                    log=log,
                )
            except TrainingDivergedError as e:
                trial.set_user_attr("failure", "diverged")
                raise optuna.TrialPruned(f"diverged: {e}") from None
            except optuna.TrialPruned:
                log.stopped_by = "pruned"
                raise
            finally:
                trial.set_user_attr("epochs", log.epochs)
                trial.set_user_attr("train_seconds", round(log.seconds, 4))
                trial.set_user_attr("stopped_by", log.stopped_by)
                trial.set_user_attr("best_epoch", log.best_epoch)
        if log.best_value is None:  # pragma: no cover - fit always validates here
            raise RuntimeError("training ended without a validation value")
        if weights is not None and heir is not None:
            weights.save(heir, model, params)
            weights.delete_stale(heir)
        if len(self._objectives) == 1:
            return log.best_value
        values = {
            self._metric: log.best_value,
            "params": float(n_params),
            "macs": float(macs),
            "train_time": log.seconds,
        }
        if "latency" in self._objectives:
            values["latency"] = measure_latency(model, data.x_val[:_LATENCY_BATCH])
            trial.set_user_attr("latency_ms", round(values["latency"], 6))
        return tuple(values[name] for name in self._objectives)


class MLPObjective(Objective):
    """:class:`Objective` for ``architecture="mlp"``: a multilayer perceptron classifier.

    Genes, in suggestion order: ``n_layers``, ``input_dropout``, then per hidden layer ``i``:
    ``units_l{i}``, ``dropout_l{i}``; then ``activation``, ``batch_norm``, ``initializer``,
    ``optimizer``, ``learning_rate``, ``weight_decay``, ``batch_size``.

    Takes the keyword arguments of :class:`Objective` and, for the search space, those of
    :class:`~optuna_ga.torch.architectures.mlp.MLPGenes`: ``min_layers``, ``max_layers``,
    ``units``, ``activations``, ``input_dropout``, ``dropout``, ``batch_norm``,
    ``initializers``.

    Example:
        >>> import optuna
        >>> optuna.logging.set_verbosity(optuna.logging.WARNING)
        >>> objective = MLPObjective(
        ...     max_layers=2, units=[32, 64], epochs=2, optimizers="adam", learning_rate=0.01
        ... )
        >>> study = optuna.create_study(direction=objective.direction)
        >>> study.optimize(objective, n_trials=2)
        >>> study.best_value > 0.5
        True
        >>> sorted(study.best_trial.user_attrs)  # doctest: +NORMALIZE_WHITESPACE
        ['architecture', 'best_epoch', 'epochs', 'macs', 'n_params', 'seed', 'stopped_by',
         'train_seconds']
    """

    named_architecture = "mlp"


class CNNObjective(Objective):
    """:class:`Objective` for ``architecture="cnn"``: conv blocks, then dense layers.

    Genes, in suggestion order: ``n_conv``, then per conv block ``i``: ``filters_c{i}``,
    ``kernel_c{i}``, ``activation_c{i}``, ``batch_norm_c{i}``, ``pool_c{i}``,
    ``dropout_c{i}``; then ``n_dense`` and per dense layer ``j``: ``units_d{j}``,
    ``dropout_d{j}``; ``dense_activation`` and ``dense_batch_norm`` (only when
    ``n_dense > 0``); then ``optimizer``, ``learning_rate``, ``weight_decay``, ``batch_size``.

    Takes the keyword arguments of :class:`Objective` and, for the search space, those of
    :class:`~optuna_ga.torch.architectures.cnn.CNNGenes`: ``min_conv_blocks``,
    ``max_conv_blocks``, ``filters``, ``kernel_sizes``, ``activations``, ``batch_norm``,
    ``pooling``, ``conv_dropout``, ``min_dense_layers``, ``max_dense_layers``, ``units``,
    ``dropout``. Samples must be images ``(channels, height, width)``.

    Example:
        >>> import optuna
        >>> objective = CNNObjective(max_conv_blocks=2, filters=[8], max_dense_layers=0,
        ...                          epochs=1, optimizers="adam", learning_rate=1e-2)
        >>> 0.0 <= objective(optuna.trial.FixedTrial({"n_conv": 1, "filters_c1": 8,
        ...     "kernel_c1": 3, "activation_c1": "relu", "batch_norm_c1": True,
        ...     "pool_c1": True, "dropout_c1": 0.0, "n_dense": 0, "optimizer": "adam",
        ...     "learning_rate": 1e-2, "weight_decay": 1e-4, "batch_size": 64})) <= 1.0
        True
    """

    named_architecture = "cnn"
