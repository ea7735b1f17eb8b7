"""Weight inheritance: children start from their parents' trained weights.

With ``inherit_weights=True`` an objective

* **saves** the trained weights of every trial that completes, with the config that rebuilds
  the network, as one Optuna artifact (``ga_weights.pt``; its id is the user attr
  ``ga_weights``);
* **loads** the weights of the trial's parents (the ``ga_parents`` that
  :class:`~optuna_ga.GeneticSampler` writes before the objective runs) into the new network,
  module by module (:func:`inherit`), and records what it copied as the user attr
  ``ga_inherited``;
* **deletes** the artifacts of trials that can no longer be parents (:func:`live_parents`), so
  that storage holds about a population's worth of files however long the study runs.

A parent whose artifact is missing (deleted by another worker a moment earlier) or unreadable
leaves its layers freshly initialised; the trial trains and says so in a warning and in
``ga_inherited["unavailable"]``. Nothing here ever makes a trial fail.

The artifact is a ``torch.save`` file holding ``{"config": <JSON text>, "state_dict": ...}``,
read back with ``torch.load(..., weights_only=True)``: loading runs no pickled code.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from typing import BinaryIO
from typing import Protocol

import optuna
import torch
from optuna.artifacts.exceptions import ArtifactNotFound
from optuna.trial import FrozenTrial
from optuna.trial import TrialState
from torch import nn

from optuna_ga._history import History
from optuna_ga._population import POPULATIONS
from optuna_ga._population import PopulationMode
from optuna_ga._population import check_population
from optuna_ga._population import generation_of
from optuna_ga._sampler import GeneticSampler
from optuna_ga._store import PARENTS_ATTR
from optuna_ga._store import history
from optuna_ga._store import stored_trial
from optuna_ga.torch.architectures import Architecture
from optuna_ga.torch.architectures import get_architecture

__all__ = [
    "INHERITED_ATTR",
    "WEIGHTS_ATTR",
    "ArtifactStore",
    "Parent",
    "WeightStore",
    "inherit",
    "live_parents",
]

_logger = optuna.logging.get_logger(__name__)

#: User attr: the artifact id of a trial's trained weights.
WEIGHTS_ATTR = "ga_weights"
#: User attr: what a trial inherited, ``{"tensors", "of", "by_parent"[, "unavailable"]}``.
INHERITED_ATTR = "ga_inherited"
WEIGHTS_FILE = "ga_weights.pt"
_FORMAT = "optuna_ga.torch.weights/1"


class ArtifactStore(Protocol):
    """What weight inheritance needs of an Optuna artifact store.

    Optuna's own protocol (``optuna.artifacts._protocol.ArtifactStore``) is private; every
    store of :mod:`optuna.artifacts` (``FileSystemArtifactStore``, ``Boto3ArtifactStore``,
    ``GCSArtifactStore``) has these methods.
    """

    def open_reader(self, artifact_id: str) -> BinaryIO: ...

    def write(self, artifact_id: str, content_body: BinaryIO) -> None: ...

    def remove(self, artifact_id: str) -> None: ...


@dataclass(frozen=True)
class Parent:
    """A parent's trained network as read back from its artifact."""

    number: int
    params: dict[str, Any]
    model: nn.Module


def _shapes(module: nn.Module) -> dict[str, tuple[int, ...]]:
    return {key: tuple(t.shape) for key, t in module.state_dict().items()}


def inherit(
    model: nn.Module,
    params: Mapping[str, Any],
    parents: Sequence[Parent],
    *,
    architecture: str | Architecture,
) -> dict[int, int]:
    """Copy parents' trained tensors into ``model`` in place; return tensors copied per parent.

    Module by module, as the architecture's layer walker names them (see
    :func:`~optuna_ga.torch.architectures.layer_modules`, which walks into residual blocks and
    nested containers): each module of a layer is copied from the first parent that has a
    module of the same role under the same layer name with the same tensor shapes, trying first
    the parents whose genes for that layer agree most with the child's (for a crossover child,
    the parent it got the layer's genes from), ties in the order of ``parents``. All its tensors
    are copied (weights, bias, batch-norm statistics); a module that no parent matches keeps
    its fresh initialisation.

    Example:
        >>> from optuna_ga.torch import build_mlp
        >>> base = {"n_layers": 1, "input_dropout": 0.0, "dropout_l1": 0.0, "activation": "relu",
        ...         "batch_norm": False, "initializer": "xavier_uniform"}
        >>> small, wide = {**base, "units_l1": 8}, {**base, "units_l1": 16}
        >>> parent = Parent(7, small, build_mlp(small, (4,), 3))
        >>> inherit(build_mlp(wide, (4,), 3), wide, [parent], architecture="mlp")  # mutated
        {}
        >>> child = build_mlp(small, (4,), 3)
        >>> inherit(child, small, [parent], architecture="mlp")  # 2 weights + 2 biases
        {7: 4}
        >>> torch.equal(child[1].weight, parent.model[1].weight)
        True
    """
    spec = get_architecture(architecture)
    copied: dict[int, int] = {}
    parent_layers = [spec.layers(p.model) for p in parents]
    for name, roles in spec.layers(model).items():
        genes = spec.layer_genes(name, params)

        def agreement(index: int, genes: list[str] = genes) -> int:
            theirs = parents[index].params
            return sum(g in theirs and theirs[g] == params[g] for g in genes)

        order = sorted(range(len(parents)), key=lambda i: -agreement(i))
        for role, module in roles.items():
            for index in order:
                source = parent_layers[index].get(name, {}).get(role)
                if type(source) is not type(module) or _shapes(source) != _shapes(module):
                    continue
                target = module.state_dict()
                with torch.no_grad():
                    for key, tensor in source.state_dict().items():
                        target[key].copy_(tensor)
                number = parents[index].number
                copied[number] = copied.get(number, 0) + len(target)
                break
    return copied


def live_parents(
    trials: Sequence[FrozenTrial],
    *,
    direction: optuna.study.StudyDirection,
    population_size: int,
    n_elites: int,
    modes: Iterable[PopulationMode] = POPULATIONS,
    digest: History | None = None,
) -> set[int]:
    """Numbers of the finished trials that a running or future child may still have as parent.

    These are the parents recorded by unfinished trials, and the members of every population
    ``Pop(g - 1)`` that a child of a generation ``g`` not bred yet can be bred from, rebuilt
    from ``trials`` as :class:`~optuna_ga.GeneticSampler` rebuilds them. A trial outside this
    set never becomes a parent again: populations only lose members as trials complete.

    Args:
        trials: The study's trials, sorted by number.
        direction: The study's direction.
        population_size: The sampler's population size.
        n_elites: The sampler's number of elites.
        modes: Any of ``"steady"``, ``"hall_of_fame"`` and ``"generational"`` (the
            sampler's :attr:`~optuna_ga.GeneticSampler.population`); with several, the union
            is kept. Any other value raises ``ValueError``.
        digest: A digest of the study to bring up to date and read (the sampler's, which
            has digested the earlier trials already); default: a new one, which hashes every
            finished trial.

    Example:
        >>> import optuna
        >>> trials = [optuna.trial.create_trial(params={}, distributions={}, value=v)
        ...           for v in (0.1, 0.5, 0.3, 0.9)]
        >>> for number, trial in enumerate(trials):
        ...     trial.number = number
        >>> sorted(live_parents(trials, direction=optuna.study.StudyDirection.MAXIMIZE,
        ...                     population_size=2, n_elites=1, modes=["hall_of_fame"]))
        [1, 3]
    """
    modes = [check_population(mode, "modes") for mode in modes]
    digest = History(direction) if digest is None else digest
    unfinished = digest.update(trials)
    keep: set[int] = set()
    for trial in unfinished:
        keep.update(int(n) for n in trial.user_attrs.get(PARENTS_ATTR, []))
    # The first trial whose parents are not chosen yet: one that has not recorded them, or
    # the next trial number.
    pending = [t.number for t in unfinished if PARENTS_ATTR not in t.user_attrs]
    next_number = trials[-1].number + 1 if trials else 0
    first = min([*pending, next_number])
    first_generation = generation_of(first, population_size, n_elites)[0]
    last_generation = generation_of(next_number, population_size, n_elites)[0]
    # Children of generation g are bred from Pop(g - 1); from the generation after the last
    # one started, Pop(g - 1) gains no members any more.
    for generation in range(max(first_generation, 1), last_generation + 2):
        for mode in modes:
            population = digest.population(
                generation - 1, population_size=population_size, n_elites=n_elites, mode=mode
            )
            keep.update(individual.number for individual in population)
    return keep


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return f"{type(error).__name__}: {text.splitlines()[0]}" if text else type(error).__name__


class WeightStore:
    """Saves, loads and deletes the trained weights of an objective's trials in artifacts.

    Args:
        artifact_store: Any :class:`optuna.artifacts` store (``FileSystemArtifactStore`` for a
            local or shared folder, ``Boto3ArtifactStore`` for S3, ...).
        architecture: The objective's architecture (it builds a parent's network and walks
            its layers).
        input_shape: Shape of one sample of the objective's data.
        n_classes: Number of classes of the objective's data.
    """

    def __init__(
        self,
        artifact_store: ArtifactStore,
        *,
        architecture: Architecture,
        input_shape: Sequence[int],
        n_classes: int,
    ) -> None:
        self._store = artifact_store
        self._architecture = architecture
        self._input_shape = [int(s) for s in input_shape]
        self._n_classes = int(n_classes)
        self._removed: set[str] = set()  # artifact ids this process deleted (or found gone)
        self._warned_sampler = False

    def applies(self, trial: optuna.Trial) -> bool:
        """Whether the trial was bred by a GeneticSampler (else one warning, the first time)."""
        sampler = trial.study.sampler
        if isinstance(sampler, GeneticSampler):
            return True
        if not self._warned_sampler:
            self._warned_sampler = True
            _logger.warning(
                f"inherit_weights needs a GeneticSampler (this study uses "
                f"{type(sampler).__name__}): every trial trains from scratch, nothing is saved."
            )
        return False

    # -- loading ---------------------------------------------------------------------------

    def load(self, trial: optuna.Trial, model: nn.Module, params: Mapping[str, Any]) -> int:
        """Copy the parents' weights into ``model``, record ``ga_inherited``; tensors copied."""
        study = trial.study
        # The sampler records the parents after ``trial.user_attrs`` was cached: read storage.
        stored = stored_trial(study, trial.number)
        recorded = [] if stored is None else stored.user_attrs.get(PARENTS_ATTR, [])
        parents: list[Parent] = []
        unavailable: list[int] = []
        for number in (int(n) for n in recorded):
            parent_trial = stored_trial(study, number)
            # Only completed trials have weights (a retry's parent is a failed trial).
            if parent_trial is None or parent_trial.state != TrialState.COMPLETE:
                continue
            try:
                parents.append(self._read(parent_trial))
            except Exception as error:  # a missing or damaged file must not fail the trial
                unavailable.append(number)
                _logger.warning(
                    f"Trial {trial.number}: the weights of parent trial {number} are "
                    f"unavailable ({_first_line(error)}); its layers start fresh."
                )
        copied = inherit(model, params, parents, architecture=self._architecture)
        record: dict[str, Any] = {
            "tensors": sum(copied.values()),
            "of": len(model.state_dict()),
            "by_parent": {str(n): k for n, k in copied.items()},
        }
        if unavailable:
            record["unavailable"] = unavailable
        trial.set_user_attr(INHERITED_ATTR, record)
        return int(record["tensors"])

    def _read(self, parent: FrozenTrial) -> Parent:
        artifact_id = parent.user_attrs.get(WEIGHTS_ATTR)
        if not isinstance(artifact_id, str):
            raise ArtifactNotFound("the trial stored no weights")
        with self._store.open_reader(artifact_id) as reader:
            blob = reader.read()
        content = torch.load(io.BytesIO(blob), map_location="cpu", weights_only=True)
        config = json.loads(content["config"])
        name = self._architecture.name
        if config.get("format") != _FORMAT or config.get("architecture") != name:
            raise ValueError(f"not {name} weights saved by optuna_ga.torch")
        if config["input_shape"] != self._input_shape or config["n_classes"] != self._n_classes:
            raise ValueError("saved for data of another shape")
        # Building draws initial weights: keep the trial's random streams untouched.
        with torch.random.fork_rng(devices=[]):
            model = self._architecture.build(config["params"], self._input_shape, self._n_classes)
        model.load_state_dict(content["state_dict"])
        return Parent(parent.number, dict(config["params"]), model)

    # -- saving and deleting ---------------------------------------------------------------

    def save(self, trial: optuna.Trial, model: nn.Module, params: Mapping[str, Any]) -> None:
        """Upload the trained weights and record their artifact id (``ga_weights``)."""
        config = {
            "format": _FORMAT,
            "architecture": self._architecture.name,
            "params": dict(params),
            "input_shape": self._input_shape,
            "n_classes": self._n_classes,
            "trial": trial.number,
        }
        state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
        try:
            with tempfile.TemporaryDirectory() as folder:
                path = os.path.join(folder, WEIGHTS_FILE)
                content = {"config": json.dumps(config, sort_keys=True), "state_dict": state}
                torch.save(content, path)
                artifact_id = optuna.artifacts.upload_artifact(
                    artifact_store=self._store,
                    file_path=path,
                    study_or_trial=trial,
                )
        except Exception as error:  # e.g. a full disk: the trial itself still counts
            _logger.warning(
                f"Trial {trial.number}: its weights could not be saved ({_first_line(error)}); "
                "its children will train from scratch."
            )
            return
        trial.set_user_attr(WEIGHTS_ATTR, artifact_id)

    def delete_stale(self, trial: optuna.Trial) -> int:
        """Delete the artifacts of finished trials that can no longer be parents; count them."""
        study = trial.study
        sampler = study.sampler
        if not isinstance(sampler, GeneticSampler):
            return 0
        trials = study.get_trials(deepcopy=False)
        keep = live_parents(
            trials,
            direction=study.direction,
            population_size=sampler.population_size,
            n_elites=sampler.n_elites,
            modes=[sampler.population],
            # The sampler's digest of this process: each finished trial is hashed once per
            # process, not once per trial that completes after it.
            digest=history(study, refresh=False),
        )
        deleted = 0
        for other in trials:
            artifact_id = other.user_attrs.get(WEIGHTS_ATTR)
            if (
                not isinstance(artifact_id, str)
                or artifact_id in self._removed
                or not other.state.is_finished()
                or other.number in keep
            ):
                continue
            try:
                self._store.remove(artifact_id)
                deleted += 1
            except ArtifactNotFound:  # another worker deleted it first
                pass
            except Exception as error:  # keep the file rather than fail the trial
                _logger.warning(
                    f"Could not delete the weights of trial {other.number} ({_first_line(error)})."
                )
                continue
            self._removed.add(artifact_id)
        return deleted
