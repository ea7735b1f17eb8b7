"""The options of ``optuna-ga run``, each declared once, and the config its workers get.

Each option is one field of :class:`RunConfig`, declared with :func:`option` (:func:`ga` and
:func:`training` for the options of those groups): its type, default, flags, help and range.
Everything else comes from these fields: the parser's arguments (:func:`add_arguments`), the
arguments of the sampler and of the objective (:meth:`RunConfig.sampler`,
:meth:`RunConfig.objective`), what the study records (:meth:`RunConfig.recorded`) and the flags
that name library arguments in messages (:func:`user_message`). A new option is a new field.

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
from optuna_ga._objective_names import OBJECTIVES
from optuna_ga._objective_names import check_objectives
from optuna_ga._objective_names import metric_of
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


def objective_list(text: str) -> tuple[str, ...]:
    """An argparse ``type``: objective names of :data:`OBJECTIVES` separated by commas.

    Example:
        >>> objective_list("accuracy, params")
        ('accuracy', 'params')
    """
    try:
        names = check_objectives(tuple(name.strip() for name in text.split(",")))
        metric_of(names)
    except ValueError as error:
        raise argparse.ArgumentTypeError(
            f"must be names from {', '.join(OBJECTIVES)} separated by commas, with exactly one "
            f"of accuracy and loss, each once; got {text!r}"
        ) from error
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


def option(flags: str | tuple[str, ...], default: Any, help: str, **settings: Any) -> Any:
    """A field of :class:`RunConfig`: its default, and the :class:`Option` made of the rest."""
    flags = (flags,) if isinstance(flags, str) else flags
    return field(default=default, metadata={"option": Option(flags=flags, help=help, **settings)})


def ga(flag: str, default: Any, help: str, **settings: Any) -> Any:
    """An option of the genetic algorithm: an argument of the sampler, in the GA group."""
    return option(flag, default, help, **{"group": GA, "sampler": True, **settings})


def training(flags: str | tuple[str, ...], default: Any, help: str, **settings: Any) -> Any:
    """An option of the training: an argument of the objective unless told otherwise."""
    return option(flags, default, help, **{"group": TRAINING, "objective": True, **settings})


def count(**bounds: float) -> dict[str, Any]:
    """The settings of an option that takes a whole number (``N``), within ``bounds``."""
    return {"metavar": "N", "parse": number(integer=True, **bounds)}


def seconds(**bounds: Any) -> dict[str, Any]:
    """The settings of an option that takes seconds, within ``bounds``."""
    return {"metavar": "SECONDS", "parse": number(**bounds)}


def _options() -> Iterator[tuple[Field[Any], Option]]:
    for spec in fields(RunConfig):
        yield spec, spec.metadata["option"]


@dataclass(frozen=True, kw_only=True)
class RunConfig:
    """The options of one ``optuna-ga run`` (JSON-able), field names as the options'.

    The workers get it whole; :meth:`recorded` is what the study's ``optuna_ga_config`` user
    attr keeps.
    """

    storage: str = option("--storage", DEFAULT_STORAGE, "storage URL", metavar="URL")
    study_name: str = option(
        "--study-name", "", "study name (default: MODEL-DATASET)", metavar="NAME"
    )
    model: str = option(
        "--model",
        "mlp",
        "architecture of the networks to search",
        choices=MODELS,
        objective=True,
        parameter="architecture",
    )
    dataset: str = option(
        "--dataset",
        "digits",
        "digits, mnist, fashion-mnist or cifar10",
        metavar="NAME",
        objective=True,
    )
    data_dir: str | None = option(
        "--data-dir",
        None,
        "folder of the torchvision datasets (default: $OPTUNA_GA_DATA or ~/.cache/optuna_ga/data)",
        metavar="DIR",
        objective=True,
    )
    download: bool = option(
        "--download",
        False,
        "download a missing dataset (default: off)",
        action="store_true",
        objective=True,
        said_as=("download=True",),
    )
    n_trials: int | None = option(
        "--n-trials",
        None,
        f"trials to add in this run (default: {DEFAULT_N_TRIALS}, or until --timeout)",
        worker=False,
        **count(minimum=1),
    )
    timeout: float | None = option(
        "--timeout",
        None,
        "seconds after which no new trial starts (default: none)",
        **seconds(above=0),
    )
    workers: int = option(
        "--workers",
        1,
        "worker processes on this machine, sharing --n-trials",
        worker=False,
        **count(minimum=1, maximum=MAX_WORKERS),
    )
    publish: bool = option(
        "--publish",
        True,
        "save the GA panels and a summary note to the study for optuna-dashboard, after every "
        "generation",
        action=argparse.BooleanOptionalAction,
        worker=False,
    )
    progress_interval: float = option(
        "--progress-interval",
        30,
        "without a terminal, seconds between progress lines; 0: none",
        worker=False,
        **seconds(minimum=0),
    )
    heartbeat_interval: int | None = option(  # None: no heartbeat
        "--heartbeat-interval",
        30,
        "seconds between heartbeats of a running trial on RDB storages, for crash recovery "
        "across machines; 0: none",
        said_as=("heartbeat_interval",),
        **seconds(integer=True, minimum=0, maximum=MAX_HEARTBEAT_INTERVAL),
    )
    population_size: int = ga("--population-size", 10, "individuals, >= 2", **count())
    n_elites: int = ga("--n-elites", 2, "best individuals kept as parents", **count())
    selection: str = ga("--selection", "roulette", "parent selection", choices=sorted(SELECTIONS))
    crossover: str = ga("--crossover", "single_point", "crossover", choices=sorted(CROSSOVERS))
    crossover_prob: float = ga(
        "--crossover-prob", 0.9, "probability of a crossover", metavar="P", parse=number()
    )
    mutation_prob: float | None = ga(
        "--mutation-prob",
        None,
        "per-gene mutation probability (default: 1 / number of genes)",
        metavar="P",
        parse=number(),
    )
    n_immigrants: int = ga("--n-immigrants", 0, "random newcomers", **count())
    population: str = ga(  # a name from POPULATIONS
        "--population",
        "steady",
        "where parents come from: the best trials finished so far (steady), the best of all "
        "time up to the previous generation (hall_of_fame), or the elites and the last "
        "generation (generational)",
        choices=POPULATIONS,
    )
    n_candidates: int = ga(
        "--n-candidates",
        24,
        "children bred per trial, of which a surrogate picks one; 1: the classic GA",
        **count(minimum=1, maximum=MAX_CANDIDATES),
    )
    seed: int = ga("--seed", 0, "seed", objective=True, **count(minimum=0))
    objectives: tuple[str, ...] | None = training(  # None: the validation metric alone
        "--objectives",
        None,
        "what trials return, separated by commas: accuracy or loss, and any of "
        f"{', '.join(name for name in OBJECTIVES if name not in ('accuracy', 'loss'))}; "
        "several make a multi-objective study, e.g. accuracy,params (default: the validation "
        "accuracy alone)",
        metavar="LIST",
        parse=objective_list,
    )
    epochs: int = training("--epochs", 20, "epochs per trial", **count(minimum=1))
    patience: int | None = training(
        "--patience",
        5,
        "stop a trial after this many epochs without improvement",
        **count(minimum=1),
    )
    max_training_time: float | None = training(
        "--max-training-time",
        None,
        "seconds of training per trial at most (default: no limit)",
        **seconds(above=0),
    )
    pruner: str = training(  # "" until from_args: median, or none with several objectives
        "--pruner",
        "",
        "Optuna pruner between epochs (default: median; none with several --objectives, whose "
        "trials cannot be pruned)",
        choices=PRUNERS,
        objective=False,
    )
    devices: tuple[str, ...] | None = training(  # None: every visible GPU, else the CPU
        ("--devices", "--device"),
        None,
        "devices to train on, separated by commas (cpu, cuda:1, cuda:0,cuda:2, ...): worker i "
        "trains on the (i mod n)-th (default: every visible GPU, else cpu)",
        metavar="LIST",
        parse=device_list,
        objective=False,
        said_as=("devices", "device"),
    )
    threads: int = training(
        "--threads",
        1,
        "torch threads per worker",
        parameter="num_threads",
        **count(minimum=1, maximum=MAX_THREADS),
    )
    inherit_weights: bool = training(
        "--inherit-weights",
        False,
        "children start from their parents' trained weights (default: off)",
        action="store_true",
    )
    artifacts: str = training(
        "--artifacts",
        "optuna_ga_artifacts",
        "folder of the inherited weights, shared by all workers",
        metavar="DIR",
        objective=False,
    )
    inherit_epochs: int | None = training(
        "--inherit-epochs",
        None,
        "epochs of a child that inherited weights (default: --epochs)",
        **count(minimum=1),
    )

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> RunConfig:
        """The config of parsed arguments (with the study name, heartbeat and pruner filled in)."""
        values = {spec.name: getattr(args, spec.name) for spec in fields(cls)}
        values["study_name"] = args.study_name or f"{args.model}-{args.dataset}"
        values["heartbeat_interval"] = args.heartbeat_interval or None
        if args.n_trials is None and args.timeout is None:
            values["n_trials"] = DEFAULT_N_TRIALS
        several = len(args.objectives or ()) > 1
        values["pruner"] = args.pruner or ("none" if several else "median")
        return cls(**values)

    def check(self) -> None:
        """Check what the parser cannot: the options against each other.

        Raises:
            ValueError: If a pruner is asked for with several objectives.
        """
        if len(self.objectives or ()) > 1 and self.pruner != "none":
            raise ValueError(
                f"--pruner {self.pruner} cannot be used with several --objectives: Optuna "
                "cannot prune multi-objective trials (leave --pruner out, or give --pruner none)"
            )

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
