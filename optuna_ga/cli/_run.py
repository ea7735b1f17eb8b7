"""``optuna-ga run``: start or resume a GA study of a network, in ``--workers`` processes.

The options live in :func:`add_arguments` and travel to the workers as a :class:`RunConfig`
(one field per option that a worker needs, same name): a new option is an argument there, a
field here, and its use in :meth:`RunConfig.objective` or :meth:`RunConfig.sampler`.

The parent process runs no trial itself: it starts the workers (see
:mod:`optuna_ga.cli._workers`), creates the study once they are ready, prints a line per
finished generation, publishes the GA panels to the study, and stops the workers on Ctrl-C.
"""

from __future__ import annotations

import argparse
import copy
import os
import signal
import sys
import threading
import time
import warnings
from dataclasses import asdict
from dataclasses import dataclass
from dataclasses import fields
from dataclasses import replace
from types import FrameType
from typing import Any

import optuna
from optuna.trial import TrialState

from optuna_ga import _store
from optuna_ga._architectures import BUILTIN_ARCHITECTURES
from optuna_ga._population import POPULATIONS
from optuna_ga._population import PopulationMode
from optuna_ga._sampler import MAX_CANDIDATES
from optuna_ga._sampler import GeneticSampler
from optuna_ga.cli._best import print_best
from optuna_ga.cli._common import CONFIG_ATTR
from optuna_ga.cli._common import DEFAULT_STORAGE
from optuna_ga.cli._common import CLIError
from optuna_ga.cli._common import cannot_write
from optuna_ga.cli._common import check_writable
from optuna_ga.cli._common import count
from optuna_ga.cli._common import flag_names
from optuna_ga.cli._common import local_file
from optuna_ga.cli._common import number
from optuna_ga.cli._common import open_storage
from optuna_ga.cli._common import recorded_setting
from optuna_ga.cli._common import say
from optuna_ga.cli._common import table_names
from optuna_ga.cli._common import torch_missing
from optuna_ga.cli._progress import Panels
from optuna_ga.cli._progress import Progress
from optuna_ga.cli._progress import best_or_none
from optuna_ga.cli._workers import WORKER_ATTR
from optuna_ga.cli._workers import Event
from optuna_ga.cli._workers import Pool
from optuna_ga.cli._workers import Worker
from optuna_ga.operators import CROSSOVERS
from optuna_ga.operators import SELECTIONS
from optuna_ga.storages import MAX_HEARTBEAT_INTERVAL
from optuna_ga.storages import mask_url

MODELS = tuple(BUILTIN_ARCHITECTURES)
PRUNERS = ("none", "median", "hyperband")
DEFAULT_N_TRIALS = 60
#: Workers that died by themselves are replaced at most this many times per run.
MAX_RESTARTS = 3
#: Upper ends of the ranges of --workers and --threads.
MAX_WORKERS = 256
MAX_THREADS = 256

#: Python argument names in library messages, and the flags that set them.
FLAGS = {
    "population_size": "--population-size",
    "n_elites": "--n-elites",
    "crossover_prob": "--crossover-prob",
    "mutation_prob": "--mutation-prob",
    "n_immigrants": "--n-immigrants",
    "n_candidates": "--n-candidates",
    "inherit_epochs": "--inherit-epochs",
    "max_training_time": "--max-training-time",
    "num_threads": "--threads",
    "data_dir": "--data-dir",
    "heartbeat_interval": "--heartbeat-interval",
    "download=True": "--download",
}
WORDS = {w: f"--{w}" for w in ("seed", "selection", "crossover", "epochs", "patience", "device")}
WORDS["dataset"] = "--dataset"
WORDS["devices"] = "--devices"


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


def add_arguments(run: argparse.ArgumentParser) -> None:
    """Every option of ``optuna-ga run``."""
    run.add_argument("--storage", metavar="URL", default=DEFAULT_STORAGE, help="storage URL")
    run.add_argument("--study-name", metavar="NAME", help="study name (default: MODEL-DATASET)")
    run.add_argument(
        "--model", choices=MODELS, default="mlp", help="architecture of the networks to search"
    )
    run.add_argument(
        "--dataset",
        metavar="NAME",
        default="digits",
        help="digits, mnist, fashion-mnist or cifar10",
    )
    run.add_argument(
        "--data-dir",
        metavar="DIR",
        help="folder of the torchvision datasets (default: $OPTUNA_GA_DATA or "
        "~/.cache/optuna_ga/data)",
    )
    run.add_argument(
        "--download", action="store_true", help="download a missing dataset (default: off)"
    )
    run.add_argument(
        "--n-trials",
        metavar="N",
        type=number(integer=True, minimum=1),
        help=f"trials to add in this run (default: {DEFAULT_N_TRIALS}, or until --timeout)",
    )
    run.add_argument(
        "--timeout",
        metavar="SECONDS",
        type=number(above=0),
        help="seconds after which no new trial starts (default: none)",
    )
    run.add_argument(
        "--workers",
        metavar="N",
        type=number(integer=True, minimum=1, maximum=MAX_WORKERS),
        default=1,
        help="worker processes on this machine, sharing --n-trials",
    )
    run.add_argument(
        "--publish",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="save the GA panels and a summary note to the study for optuna-dashboard, after "
        "every generation",
    )
    run.add_argument(
        "--progress-interval",
        metavar="SECONDS",
        type=number(minimum=0),
        default=30,
        help="without a terminal, seconds between progress lines; 0: none",
    )
    run.add_argument(
        "--heartbeat-interval",
        metavar="SECONDS",
        type=number(integer=True, minimum=0, maximum=MAX_HEARTBEAT_INTERVAL),
        default=30,
        help="seconds between heartbeats of a running trial on RDB storages, for crash "
        "recovery across machines; 0: none",
    )
    ga = run.add_argument_group("genetic algorithm (see GeneticSampler)")
    ga.add_argument(
        "--population-size",
        metavar="N",
        type=number(integer=True),
        default=10,
        help="individuals, >= 2",
    )
    ga.add_argument(
        "--n-elites",
        metavar="N",
        type=number(integer=True),
        default=2,
        help="best individuals kept as parents",
    )
    ga.add_argument(
        "--selection", choices=sorted(SELECTIONS), default="roulette", help="parent selection"
    )
    ga.add_argument(
        "--crossover", choices=sorted(CROSSOVERS), default="single_point", help="crossover"
    )
    ga.add_argument(
        "--crossover-prob",
        metavar="P",
        type=number(),
        default=0.9,
        help="probability of a crossover",
    )
    ga.add_argument(
        "--mutation-prob",
        metavar="P",
        type=number(),
        help="per-gene mutation probability (default: 1 / number of genes)",
    )
    ga.add_argument(
        "--n-immigrants",
        metavar="N",
        type=number(integer=True),
        default=0,
        help="random newcomers",
    )
    ga.add_argument(
        "--population",
        choices=POPULATIONS,
        default="steady",
        help="where parents come from: the best trials finished so far (steady), the best of "
        "all time up to the previous generation (hall_of_fame), or the elites and the last "
        "generation (generational)",
    )
    ga.add_argument(
        "--n-candidates",
        metavar="N",
        type=number(integer=True, minimum=1, maximum=MAX_CANDIDATES),
        default=24,
        help="children bred per trial, of which a surrogate picks one; 1: the classic GA",
    )
    ga.add_argument(
        "--seed", metavar="N", type=number(integer=True, minimum=0), default=0, help="seed"
    )
    training = run.add_argument_group("training")
    training.add_argument(
        "--epochs",
        metavar="N",
        type=number(integer=True, minimum=1),
        default=20,
        help="epochs per trial",
    )
    training.add_argument(
        "--patience",
        metavar="N",
        type=number(integer=True, minimum=1),
        default=5,
        help="stop a trial after this many epochs without improvement",
    )
    training.add_argument(
        "--max-training-time",
        metavar="SECONDS",
        type=number(above=0),
        help="seconds of training per trial at most (default: no limit)",
    )
    training.add_argument(
        "--pruner", choices=PRUNERS, default="median", help="Optuna pruner between epochs"
    )
    training.add_argument(
        "--devices",
        "--device",
        metavar="LIST",
        type=device_list,
        help="devices to train on, separated by commas (cpu, cuda:1, cuda:0,cuda:2, ...): "
        "worker i trains on the (i mod n)-th (default: every visible GPU, else cpu)",
    )
    training.add_argument(
        "--threads",
        metavar="N",
        type=number(integer=True, minimum=1, maximum=MAX_THREADS),
        default=1,
        help="torch threads per worker",
    )
    training.add_argument(
        "--inherit-weights",
        action="store_true",
        help="children start from their parents' trained weights (default: off)",
    )
    training.add_argument(
        "--artifacts",
        metavar="DIR",
        default="optuna_ga_artifacts",
        help="folder of the inherited weights, shared by all workers",
    )
    training.add_argument(
        "--inherit-epochs",
        metavar="N",
        type=number(integer=True, minimum=1),
        help="epochs of a child that inherited weights (default: --epochs)",
    )


@dataclass(frozen=True)
class RunConfig:
    """Everything a worker needs, field names as the options' (JSON-able: recorded in the
    study's ``optuna_ga_config`` user attr)."""

    storage: str
    study_name: str
    model: str
    dataset: str
    data_dir: str | None
    download: bool
    epochs: int
    patience: int | None
    max_training_time: float | None
    pruner: str  # a name from PRUNERS
    devices: tuple[str, ...] | None  # None: every visible GPU, else the CPU
    threads: int
    population_size: int
    n_elites: int
    selection: str
    crossover: str
    crossover_prob: float
    mutation_prob: float | None
    n_immigrants: int
    population: PopulationMode
    n_candidates: int
    seed: int
    heartbeat_interval: int | None  # None: no heartbeat
    timeout: float | None
    inherit_weights: bool = False
    artifacts: str = "optuna_ga_artifacts"  # folder of the inherited weights
    inherit_epochs: int | None = None

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> RunConfig:
        values = {f.name: getattr(args, f.name) for f in fields(cls)}
        values["study_name"] = args.study_name or f"{args.model}-{args.dataset}"
        values["heartbeat_interval"] = args.heartbeat_interval or None
        return cls(**values)

    def sampler(self, cls: type[GeneticSampler] = GeneticSampler, **extra: Any) -> Any:
        return cls(
            population_size=self.population_size,
            n_elites=self.n_elites,
            selection=self.selection,
            crossover=self.crossover,
            crossover_prob=self.crossover_prob,
            mutation_prob=self.mutation_prob,
            n_immigrants=self.n_immigrants,
            population=self.population,
            n_candidates=self.n_candidates,
            seed=self.seed,
            **extra,
        )

    def make_pruner(self) -> optuna.pruners.BasePruner:
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
        return Objective(
            architecture=self.model,
            dataset=self.dataset,
            data_dir=self.data_dir,
            download=self.download,
            epochs=self.epochs,
            patience=self.patience,
            max_training_time=self.max_training_time,
            seed=self.seed,
            device=device,
            num_threads=self.threads,
            inherit_weights=self.inherit_weights,
            artifact_store=store,
            inherit_epochs=self.inherit_epochs,
        )


def user_message(text: str) -> str:
    """A library message with the run's flags in place of Python argument names."""
    return flag_names(text, FLAGS, WORDS)


def cmd_run(args: argparse.Namespace) -> int:
    if args.n_trials is None and args.timeout is None:
        args.n_trials = DEFAULT_N_TRIALS
    config = RunConfig.from_args(args)
    try:
        config.sampler()
    except ValueError as error:
        raise CLIError(user_message(str(error))) from None
    missing = torch_missing()
    if missing is not None:
        raise missing
    check_writable(config.storage)
    config = with_stored_generations(config)
    with _StopSignals() as stop:
        return _Run(config, args, stop).main()


def with_stored_generations(config: RunConfig) -> RunConfig:
    """``config`` with the ``population_size`` and ``n_elites`` the study already uses, if any.

    They number the study's trials into generations, so a resumed study keeps them (the sampler
    refuses others); when the flags ask for other values, this says so. Studies recorded by an
    earlier ``optuna-ga run`` without the sampler's settings are read from ``optuna_ga_config``.
    """
    path = local_file(config.storage)
    if path is not None and not path.exists():
        return config  # a new file: nothing to read (and nothing created here)
    tables = table_names(config.storage)
    if tables is not None and "studies" not in tables:
        return config  # a database without Optuna's tables yet
    storage = open_storage(config.storage, heartbeat_interval=None)
    try:
        study = optuna.load_study(study_name=config.study_name, storage=storage)
    except KeyError:
        return config  # a new study
    stored = _store.stored_settings(study)
    if stored is None:
        population_size = recorded_setting(study, "population_size", flag="--population-size")
        n_elites = recorded_setting(
            study, "n_elites", flag="--n-elites", population_size=population_size
        )
        if population_size is None or n_elites is None:
            return config
        stored = {"population_size": population_size, "n_elites": n_elites}
    wanted = {"population_size": config.population_size, "n_elites": config.n_elites}
    if stored == wanted:
        return config
    resumed = replace(config, **stored)
    flags = " ".join(f"{FLAGS[k]} {v}" for k, v in stored.items())
    try:
        resumed.sampler()
    except ValueError as error:
        raise CLIError(
            f"study {config.study_name!r} numbers its generations with {flags}, which this run "
            f"cannot use: {user_message(str(error))}"
        ) from None
    asked = " ".join(f"{FLAGS[k]} {v}" for k, v in wanted.items() if stored[k] != v)
    say(
        f"study {config.study_name!r} numbers its generations with {flags}: continuing with "
        f"those, not {asked}"
    )
    return resumed


class _StopSignals:
    """While a run lasts, SIGINT and SIGTERM only set :attr:`signal` (main thread only)."""

    HANDLED = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self.signal: int | None = None
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> _StopSignals:
        if threading.current_thread() is threading.main_thread():
            for signum in self.HANDLED:
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.signal is None:
            self.signal = signum


class _Run:
    """The parent of one ``optuna-ga run``: workers, study, progress, panels, the end."""

    def __init__(self, config: RunConfig, args: argparse.Namespace, stop: _StopSignals) -> None:
        self.config = config
        self.n_trials: int | None = args.n_trials
        self.n_workers: int = args.workers
        self.stop = stop
        self.pool = Pool()
        self.study: optuna.Study | None = None
        self.error: str | None = None
        self.done = 0  # trials finished by this run's workers
        self.missing = 0  # trials of workers that died and were not replaced
        self.restarts = 0
        self.began = time.monotonic()
        self.label = "validation accuracy"
        self.progress = Progress(
            population_size=config.population_size,
            n_elites=config.n_elites,
            label=self.label,
            tty=sys.stdout.isatty(),
            interval=args.progress_interval,
        )
        self.panels = Panels(
            enabled=args.publish,
            population_size=config.population_size,
            n_elites=config.n_elites,
        )

    def main(self) -> int:
        shares: list[int | None] = [None] * self.n_workers
        if self.n_trials is not None:
            base, extra = divmod(self.n_trials, self.n_workers)
            shares = [base + (i < extra) for i in range(self.n_workers)]
        for slot, share in enumerate(shares):
            if share != 0:
                self.pool.start(self.config, slot, share, self.config.timeout)
        self.panels.warm_up()
        try:
            self._loop()
        finally:
            for event in self.pool.kill_all():  # no-op once every worker has exited
                self._on(event, stopping=True)
            failed = self._fail_running()
            self.progress.close()
        return self._finish(failed)

    # -- the loop ---------------------------------------------------------------------------

    def _loop(self) -> None:
        while self.pool.alive and self.stop.signal is None and self.error is None:
            for event in self.pool.events(timeout=0.2):
                self._on(event)
            if self.study is not None:
                self.progress.tick(self.study, self.done, self.n_trials)

    def _on(self, event: Event, *, stopping: bool = False) -> None:
        worker = event.worker
        if event.kind == "error" and self.error is None:
            self.error = user_message(event.detail)
        elif event.kind == "ready" and not stopping:
            if self.study is None and all(w.ready for w in self.pool.workers):
                self._open_study(event.detail)
                for other in self.pool.alive:
                    self.pool.go(other)
            elif self.study is not None:
                self.pool.go(worker)  # a replacement
        elif event.kind == "end" and self.study is not None:
            self.done += 1
            if not stopping and self.progress.update(self.study, self.done, self.n_trials):
                self.panels.publish(self.study, self.progress)
        elif (
            event.kind == "exit"
            and not stopping
            and self.stop.signal is None
            and worker.error is None
            and event.detail != 0
        ):
            self._died(worker, event.detail)

    def _open_study(self, direction: Any) -> None:
        config = self.config
        storage = open_storage(config.storage, heartbeat_interval=None)
        try:
            study = optuna.create_study(
                study_name=config.study_name,
                storage=storage,
                load_if_exists=True,
                direction=direction,
            )
            if study.direction.name.lower() != direction:
                raise CLIError(
                    f"study {config.study_name!r} was created to "
                    f"{study.direction.name.lower()}, but this objective wants to {direction}: "
                    "use another --study-name"
                )
            study.set_user_attr(
                CONFIG_ATTR, {k: v for k, v in asdict(config).items() if k != "storage"}
            )
        except optuna.exceptions.StorageInternalError as error:  # e.g. a read-only database
            raise cannot_write(config.storage, error) from error
        self.study = study
        self.progress.start(study)
        planned = "until the timeout" if self.n_trials is None else self.n_trials
        goal = "maximizing" if direction == "maximize" else "minimizing"
        say(
            f"study {config.study_name!r} in {mask_url(config.storage)}: "
            f"{count(len(study.trials), 'trial')} so far; running {planned} more with "
            f"{len(self.pool.workers)} worker(s), {goal} the {self.label}"
        )

    def _died(self, worker: Worker, exitcode: int) -> None:
        how = (
            f"killed by {signal.Signals(-exitcode).name}"
            if exitcode < 0
            else f"exit status {exitcode}"
        )
        text = f"optuna-ga: worker {worker.slot + 1} (pid {worker.pid}) died ({how})"
        if self.study is None:
            self.error = f"{text[len('optuna-ga: ') :]} while loading PyTorch and the data"
            return
        lost = self._fail(worker, retry=True)
        if lost:
            text += f" during trial #{lost[0]}: marked failed, its parameters queued again"
        remaining: int | None = None
        timeout = self.config.timeout
        if worker.n_trials is not None:
            remaining = worker.n_trials - worker.started + len(lost)
        elif timeout is not None:
            timeout -= time.monotonic() - self.began
        if remaining == 0 or (remaining is None and (timeout or 0) <= 0):
            text += "; it had no trial left to run"
        elif self.restarts < MAX_RESTARTS:
            self.restarts += 1
            self.pool.start(self.config, worker.slot, remaining, timeout)
            left = (
                "its remaining time"
                if remaining is None
                else f"the {remaining} trial(s) it had left"
            )
            text += f"; a new worker runs {left}"
        else:
            self.missing += remaining or 0
            text += (
                f"; not replaced ({MAX_RESTARTS} workers were already): run the same command "
                f"again with --n-trials {remaining or 1} to add the trials it did not run"
            )
        self.progress.line(text, err=True)
        self.progress.update(self.study, self.done, self.n_trials)  # its generation may be done

    # -- the end ----------------------------------------------------------------------------

    def _fail(self, worker: Worker, *, retry: bool) -> list[int]:
        """Mark the worker's RUNNING trials FAIL (retry: queue their parameters again)."""
        assert self.study is not None
        running = dict(worker.running)
        for trial in self.study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
            if trial.system_attrs.get(WORKER_ATTR) == worker.token and trial.number not in running:
                running[trial.number] = _store.trial_id(trial)  # it had no time to send it
                worker.started += 1
        failed = []
        for number_, trial_id in sorted(running.items()):
            dead = _store.fail_if_running(self.study, trial_id)
            if dead is None:  # it finished before the worker died
                continue
            failed.append(number_)
            if retry:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                    # What a heartbeat-stale trial gets, without waiting for the grace period.
                    callback = optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=3)
                dead = copy.deepcopy(dead)
                # The retry is any worker's to take, here or on another machine: no token.
                dead.system_attrs = {
                    k: v for k, v in dead.system_attrs.items() if k != WORKER_ATTR
                }
                callback(self.study, dead)
        worker.running.clear()
        return failed

    def _fail_running(self) -> list[int]:
        if self.study is None:
            return []
        return sorted(n for w in self.pool.workers for n in self._fail(w, retry=False))

    def _finish(self, failed: list[int]) -> int:
        study = self.study
        if self.stop.signal is not None:
            if study is None:
                say("optuna-ga: interrupted before any trial started", err=True)
            else:
                best = best_or_none(study)
                best_text = (
                    ""
                    if best is None
                    else f", best {self.label} {best.value:.4f} (#{best.number})"
                )
                running = (
                    f"running trial(s) {', '.join(f'#{n}' for n in failed)} marked failed"
                    if failed
                    else "no trial was running"
                )
                say(
                    f"optuna-ga: interrupted: {count(len(study.trials), 'trial')} "
                    f"stored{best_text}; "
                    f"{running}. Run the same command again to continue.",
                    err=True,
                )
            return 128 + self.stop.signal
        if self.error is not None:
            raise CLIError(self.error)
        assert study is not None
        self.progress.update(study, self.done, self.n_trials)
        self.panels.publish(study, self.progress)
        self.progress.close()
        timeout = self.config.timeout
        if timeout is not None and (
            self.n_trials is None or self.done + self.missing < self.n_trials
        ):
            ran = (
                count(self.done, "trial")
                if self.n_trials is None
                else f"{self.done} of the {self.n_trials} trials"
            )
            more = "" if self.n_trials is None else "; run the same command again to add more"
            say(f"--timeout {timeout:g} s reached: {ran} ran{more}")
        print_best(study, self.label)
        if self.missing:
            say(
                f"optuna-ga: {self.missing} trial(s) were not run because workers died: run "
                f"the same command again with --n-trials {self.missing}",
                err=True,
            )
            return 1
        return 0
