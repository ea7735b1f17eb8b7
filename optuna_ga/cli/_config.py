"""The options of ``optuna-ga run``, each declared once, and the config its workers get.

Each option is one field of :class:`RunConfig`, declared with :func:`option`: its type, default,
flags, help and range. Everything else comes from these fields: the parser's arguments
(:func:`add_arguments`), the arguments of the sampler and of the objective
(:meth:`RunConfig.sampler`, :meth:`RunConfig.objective`), what the study records
(:meth:`RunConfig.recorded`) and the flags that name library arguments in messages
(:func:`user_message`). A new option is a new field.

This module imports neither :mod:`optuna_ga.cli._run` nor :mod:`optuna_ga.cli._workers`; both
import it.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Sequence
from dataclasses import Field
from dataclasses import dataclass
from dataclasses import field
from dataclasses import fields
from typing import Any

import optuna

from optuna_ga._architectures import BUILTIN_ARCHITECTURES
from optuna_ga._population import POPULATIONS
from optuna_ga._sampler import MAX_CANDIDATES
from optuna_ga._sampler import GeneticSampler
from optuna_ga.cli._common import DEFAULT_STORAGE
from optuna_ga.cli._common import flag_names
from optuna_ga.cli._common import number
from optuna_ga.operators import CROSSOVERS
from optuna_ga.operators import SELECTIONS
from optuna_ga.storages import MAX_HEARTBEAT_INTERVAL

MODELS = tuple(BUILTIN_ARCHITECTURES)
PRUNERS = ("none", "median", "hyperband")
DEFAULT_N_TRIALS = 60
#: Upper ends of the ranges of --workers and --threads.
MAX_WORKERS = 256
MAX_THREADS = 256
#: Titles of the option groups of ``optuna-ga run --help`` ("": the run's own options).
GA = "genetic algorithm (see GeneticSampler)"
TRAINING = "training"


def device_list(text: str) -> tuple[str, ...]:
    """An argparse ``type``: device names separated by commas.

    Example:
        >>> device_list("cuda:0, cuda:2")
        ('cuda:0', 'cuda:2')
    """
    names = tuple(name.strip() for name in text.split(","))
    if not all(names):
        raise argparse.ArgumentTypeError(
            f"must be device names separated by commas, such as cuda:0,cuda:2, got {text!r}"
        )
    return names


@dataclass(frozen=True, kw_only=True)
class Option:
    """How one field of :class:`RunConfig` is given on the command line, and where it goes.

    Attributes:
        flags: Its flags; the first is its name in messages and help.
        help: Its help text (the default is appended unless the text says it).
        group: Its group in ``--help``: ``""``, :data:`GA` or :data:`TRAINING`.
        metavar: argparse ``metavar``.
        parse: argparse ``type`` (it raises ``ArgumentTypeError`` with the range).
        choices: argparse ``choices``.
        action: argparse ``action`` (``None``: takes a value).
        sampler: Whether it is an argument of :class:`~optuna_ga.GeneticSampler`.
        objective: Whether it is an argument of :class:`optuna_ga.torch.Objective`.
        parameter: Its name there, where that is not the field's.
        said_as: Other names of it in library messages (``download=True``).
        worker: Whether the workers use it; only those are recorded in the study.
    """

    flags: tuple[str, ...]
    help: str
    group: str = ""
    metavar: str | None = None
    parse: Callable[[str], Any] | None = None
    choices: Sequence[str] | None = None
    action: str | type[argparse.Action] | None = None
    sampler: bool = False
    objective: bool = False
    parameter: str | None = None
    said_as: tuple[str, ...] = ()
    worker: bool = True

    def add_to(self, parser: argparse._ActionsContainer, dest: str, default: Any) -> None:
        """Add the option to ``parser`` (or to a group of it) as argument ``dest``."""
        settings: dict[str, Any] = {
            "metavar": self.metavar,
            "type": self.parse,
            "choices": self.choices,
            "action": self.action,
        }
        given = {key: value for key, value in settings.items() if value is not None}
        parser.add_argument(*self.flags, dest=dest, default=default, help=self.help, **given)

    def names(self, name: str) -> dict[str, str]:
        """The names of option ``name`` in library messages, each with the flag to say instead.

        A name that is one of its flags spelt in Python (``device`` for ``--device``) keeps that
        flag; the others get the first.
        """
        used = [self.parameter or name] if self.sampler or self.objective else []
        said = {}
        for word in [*used, *self.said_as]:
            spelt = "--" + word.replace("_", "-")
            said[word] = spelt if spelt in self.flags else self.flags[0]
        return said


def option(*flags: str, default: Any = None, **settings: Any) -> Any:
    """A field of :class:`RunConfig`: ``default``, and the :class:`Option` made of the rest."""
    return field(default=default, metadata={"option": Option(flags=flags, **settings)})


def _options() -> Iterator[tuple[Field[Any], Option]]:
    for spec in fields(RunConfig):
        yield spec, spec.metadata["option"]


@dataclass(frozen=True, kw_only=True)
class RunConfig:
    """The options of one ``optuna-ga run`` (JSON-able), field names as the options'.

    The workers get it whole; :meth:`recorded` is what the study's ``optuna_ga_config`` user
    attr keeps.
    """

    storage: str = option("--storage", default=DEFAULT_STORAGE, metavar="URL", help="storage URL")
    study_name: str = option(
        "--study-name", default="", metavar="NAME", help="study name (default: MODEL-DATASET)"
    )
    model: str = option(
        "--model",
        default="mlp",
        choices=MODELS,
        help="architecture of the networks to search",
        objective=True,
        parameter="architecture",
    )
    dataset: str = option(
        "--dataset",
        default="digits",
        metavar="NAME",
        help="digits, mnist, fashion-mnist or cifar10",
        objective=True,
    )
    data_dir: str | None = option(
        "--data-dir",
        metavar="DIR",
        help="folder of the torchvision datasets (default: $OPTUNA_GA_DATA or "
        "~/.cache/optuna_ga/data)",
        objective=True,
    )
    download: bool = option(
        "--download",
        default=False,
        action="store_true",
        help="download a missing dataset (default: off)",
        objective=True,
        said_as=("download=True",),
    )
    n_trials: int | None = option(
        "--n-trials",
        metavar="N",
        parse=number(integer=True, minimum=1),
        help=f"trials to add in this run (default: {DEFAULT_N_TRIALS}, or until --timeout)",
        worker=False,
    )
    timeout: float | None = option(
        "--timeout",
        metavar="SECONDS",
        parse=number(above=0),
        help="seconds after which no new trial starts (default: none)",
    )
    workers: int = option(
        "--workers",
        default=1,
        metavar="N",
        parse=number(integer=True, minimum=1, maximum=MAX_WORKERS),
        help="worker processes on this machine, sharing --n-trials",
        worker=False,
    )
    publish: bool = option(
        "--publish",
        default=True,
        action=argparse.BooleanOptionalAction,
        help="save the GA panels and a summary note to the study for optuna-dashboard, after "
        "every generation",
        worker=False,
    )
    progress_interval: float = option(
        "--progress-interval",
        default=30,
        metavar="SECONDS",
        parse=number(minimum=0),
        help="without a terminal, seconds between progress lines; 0: none",
        worker=False,
    )
    heartbeat_interval: int | None = option(  # None: no heartbeat
        "--heartbeat-interval",
        default=30,
        metavar="SECONDS",
        parse=number(integer=True, minimum=0, maximum=MAX_HEARTBEAT_INTERVAL),
        help="seconds between heartbeats of a running trial on RDB storages, for crash "
        "recovery across machines; 0: none",
        said_as=("heartbeat_interval",),
    )
    population_size: int = option(
        "--population-size",
        default=10,
        metavar="N",
        parse=number(integer=True),
        help="individuals, >= 2",
        group=GA,
        sampler=True,
    )
    n_elites: int = option(
        "--n-elites",
        default=2,
        metavar="N",
        parse=number(integer=True),
        help="best individuals kept as parents",
        group=GA,
        sampler=True,
    )
    selection: str = option(
        "--selection",
        default="roulette",
        choices=sorted(SELECTIONS),
        help="parent selection",
        group=GA,
        sampler=True,
    )
    crossover: str = option(
        "--crossover",
        default="single_point",
        choices=sorted(CROSSOVERS),
        help="crossover",
        group=GA,
        sampler=True,
    )
    crossover_prob: float = option(
        "--crossover-prob",
        default=0.9,
        metavar="P",
        parse=number(),
        help="probability of a crossover",
        group=GA,
        sampler=True,
    )
    mutation_prob: float | None = option(
        "--mutation-prob",
        metavar="P",
        parse=number(),
        help="per-gene mutation probability (default: 1 / number of genes)",
        group=GA,
        sampler=True,
    )
    n_immigrants: int = option(
        "--n-immigrants",
        default=0,
        metavar="N",
        parse=number(integer=True),
        help="random newcomers",
        group=GA,
        sampler=True,
    )
    population: str = option(  # a name from POPULATIONS
        "--population",
        default="steady",
        choices=POPULATIONS,
        help="where parents come from: the best trials finished so far (steady), the best of "
        "all time up to the previous generation (hall_of_fame), or the elites and the last "
        "generation (generational)",
        group=GA,
        sampler=True,
    )
    n_candidates: int = option(
        "--n-candidates",
        default=24,
        metavar="N",
        parse=number(integer=True, minimum=1, maximum=MAX_CANDIDATES),
        help="children bred per trial, of which a surrogate picks one; 1: the classic GA",
        group=GA,
        sampler=True,
    )
    seed: int = option(
        "--seed",
        default=0,
        metavar="N",
        parse=number(integer=True, minimum=0),
        help="seed",
        group=GA,
        sampler=True,
        objective=True,
    )
    epochs: int = option(
        "--epochs",
        default=20,
        metavar="N",
        parse=number(integer=True, minimum=1),
        help="epochs per trial",
        group=TRAINING,
        objective=True,
    )
    patience: int | None = option(
        "--patience",
        default=5,
        metavar="N",
        parse=number(integer=True, minimum=1),
        help="stop a trial after this many epochs without improvement",
        group=TRAINING,
        objective=True,
    )
    max_training_time: float | None = option(
        "--max-training-time",
        metavar="SECONDS",
        parse=number(above=0),
        help="seconds of training per trial at most (default: no limit)",
        group=TRAINING,
        objective=True,
    )
    pruner: str = option(
        "--pruner",
        default="median",
        choices=PRUNERS,
        help="Optuna pruner between epochs",
        group=TRAINING,
    )
    devices: tuple[str, ...] | None = option(  # None: every visible GPU, else the CPU
        "--devices",
        "--device",
        metavar="LIST",
        parse=device_list,
        help="devices to train on, separated by commas (cpu, cuda:1, cuda:0,cuda:2, ...): "
        "worker i trains on the (i mod n)-th (default: every visible GPU, else cpu)",
        group=TRAINING,
        said_as=("devices", "device"),
    )
    threads: int = option(
        "--threads",
        default=1,
        metavar="N",
        parse=number(integer=True, minimum=1, maximum=MAX_THREADS),
        help="torch threads per worker",
        group=TRAINING,
        objective=True,
        parameter="num_threads",
    )
    inherit_weights: bool = option(
        "--inherit-weights",
        default=False,
        action="store_true",
        help="children start from their parents' trained weights (default: off)",
        group=TRAINING,
        objective=True,
    )
    artifacts: str = option(  # folder of the inherited weights
        "--artifacts",
        default="optuna_ga_artifacts",
        metavar="DIR",
        help="folder of the inherited weights, shared by all workers",
        group=TRAINING,
    )
    inherit_epochs: int | None = option(
        "--inherit-epochs",
        metavar="N",
        parse=number(integer=True, minimum=1),
        help="epochs of a child that inherited weights (default: --epochs)",
        group=TRAINING,
        objective=True,
    )

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> RunConfig:
        """The config of parsed arguments (with the study name and heartbeat filled in)."""
        values = {spec.name: getattr(args, spec.name) for spec in fields(cls)}
        values["study_name"] = args.study_name or f"{args.model}-{args.dataset}"
        values["heartbeat_interval"] = args.heartbeat_interval or None
        if args.n_trials is None and args.timeout is None:
            values["n_trials"] = DEFAULT_N_TRIALS
        return cls(**values)

    def recorded(self) -> dict[str, Any]:
        """What the study records of the run: the options the workers use, but the storage."""
        return {
            spec.name: getattr(self, spec.name)
            for spec, opt in _options()
            if opt.worker and spec.name != "storage"
        }

    def sampler(self, cls: type[GeneticSampler] = GeneticSampler, **extra: Any) -> Any:
        """The sampler of the options (an instance of ``cls``, given ``extra`` arguments)."""
        return cls(**self._arguments("sampler"), **extra)

    def make_pruner(self) -> optuna.pruners.BasePruner:
        """The pruner of ``--pruner``."""
        if self.pruner == "median":
            # Lenient: pruned trials are never parents, so pruning hard shrinks the gene pool.
            return optuna.pruners.MedianPruner(n_startup_trials=10, n_warmup_steps=3)
        if self.pruner == "hyperband":
            return optuna.pruners.HyperbandPruner()
        return optuna.pruners.NopPruner()

    def objective(self, slot: int = 0) -> Any:
        """The objective of worker ``slot``: imports torch, loads the data, checks the device.

        Workers take the devices in turn (round robin); the process's current CUDA device
        becomes the worker's, so that nothing of it lands on another GPU.
        """
        import torch

        from optuna_ga.torch import Objective
        from optuna_ga.torch import device_for

        device = device_for(slot, self.devices)
        index = device.removeprefix("cuda:")
        if index.isdigit() and int(index) < torch.cuda.device_count():  # else Objective says why
            torch.cuda.set_device(int(index))
        store = None
        if self.inherit_weights:
            os.makedirs(self.artifacts, exist_ok=True)
            store = optuna.artifacts.FileSystemArtifactStore(self.artifacts)
        return Objective(**self._arguments("objective"), device=device, artifact_store=store)

    def _arguments(self, to: str) -> dict[str, Any]:
        return {
            opt.parameter or spec.name: getattr(self, spec.name)
            for spec, opt in _options()
            if getattr(opt, to)
        }


def add_arguments(run: argparse.ArgumentParser) -> None:
    """Every option of ``optuna-ga run``, in the order of :class:`RunConfig`'s fields."""
    groups: dict[str, argparse._ActionsContainer] = {"": run}
    for spec, opt in _options():
        if opt.group not in groups:
            groups[opt.group] = run.add_argument_group(opt.group)
        opt.add_to(groups[opt.group], spec.name, spec.default)


def add_option(parser: argparse.ArgumentParser, name: str) -> None:
    """Option ``name`` of ``optuna-ga run``, for another command that has it too."""
    spec, opt = _option(name)
    opt.add_to(parser, spec.name, spec.default)


def _option(name: str) -> tuple[Field[Any], Option]:
    return next((spec, opt) for spec, opt in _options() if spec.name == name)


def flag(name: str) -> str:
    """The flag of option ``name``.

    Example:
        >>> flag("population_size"), flag("threads")
        ('--population-size', '--threads')
    """
    return _option(name)[1].flags[0]


def user_message(text: str) -> str:
    """A library message with the run's flags in place of Python argument names.

    A name with ``_`` or ``=`` is replaced wherever it stands; a plain word (``seed``) only as
    the subject of the message.

    Example:
        >>> user_message("n_elites must be in [0, population_size - 1], got 5.")
        '--n-elites must be in [0, --population-size - 1], got 5.'
        >>> user_message("device must be a name such as 'cpu', got 'x'; seed is 0.")
        "--device must be a name such as 'cpu', got 'x'; seed is 0."
    """
    said = {word: to for spec, opt in _options() for word, to in opt.names(spec.name).items()}
    plain = {word: to for word, to in said.items() if word.isalpha()}
    return flag_names(text, {w: t for w, t in said.items() if w not in plain}, plain)
