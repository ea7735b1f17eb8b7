"""``optuna-ga run``: start or resume a GA study of a network, in ``--workers`` processes.

The options are the fields of :class:`~optuna_ga.cli._config.RunConfig`, each declared once
there; the config travels to the workers whole.

The parent process runs no trial itself: it starts the workers (see
:mod:`optuna_ga.cli._workers`), creates the study once they are ready, prints a line per
finished generation, publishes the GA panels to the study, and stops the workers on Ctrl-C.
"""

from __future__ import annotations

import argparse
import copy
import signal
import sys
import threading
import time
import warnings
from dataclasses import replace
from types import FrameType
from typing import Any
from typing import Literal

import optuna
from optuna.trial import TrialState

from optuna_ga import _store
from optuna_ga.cli._best import print_best
from optuna_ga.cli._common import CONFIG_ATTR
from optuna_ga.cli._common import CLIError
from optuna_ga.cli._common import cannot_write
from optuna_ga.cli._common import check_intact
from optuna_ga.cli._common import check_writable
from optuna_ga.cli._common import count
from optuna_ga.cli._common import local_file
from optuna_ga.cli._common import open_storage
from optuna_ga.cli._common import recorded_config
from optuna_ga.cli._common import recorded_setting
from optuna_ga.cli._common import say
from optuna_ga.cli._common import table_names
from optuna_ga.cli._common import torch_missing
from optuna_ga.cli._config import RunConfig
from optuna_ga.cli._config import flag
from optuna_ga.cli._config import user_message
from optuna_ga.cli._progress import Panels
from optuna_ga.cli._progress import Progress
from optuna_ga.cli._progress import best_or_none
from optuna_ga.cli._workers import WORKER_ATTR
from optuna_ga.cli._workers import Event
from optuna_ga.cli._workers import Pool
from optuna_ga.cli._workers import Worker
from optuna_ga.storages import mask_url

#: Workers that died by themselves are replaced at most this many times per run.
MAX_RESTARTS = 3


def cmd_run(args: argparse.Namespace) -> int:
    config = RunConfig.from_args(args)
    try:
        config.check()
        config.sampler()
    except ValueError as error:
        raise CLIError(user_message(str(error))) from None
    missing = torch_missing()
    if missing is not None:
        raise missing
    check_writable(config.storage)
    config = with_stored_generations(config)
    with _StopSignals() as stop:
        return _Run(config, stop).main()


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
    check_intact(config.storage)
    storage = open_storage(config.storage, heartbeat_interval=None)
    try:
        study = optuna.load_study(study_name=config.study_name, storage=storage)
    except KeyError:
        return config  # a new study
    _check_network(study, config)
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
    flags = " ".join(f"{flag(k)} {v}" for k, v in stored.items())
    try:
        resumed.sampler()
    except ValueError as error:
        raise CLIError(
            f"study {config.study_name!r} numbers its generations with {flags}, which this run "
            f"cannot use: {user_message(str(error))}"
        ) from None
    asked = " ".join(f"{flag(k)} {v}" for k, v in wanted.items() if stored[k] != v)
    say(
        f"study {config.study_name!r} numbers its generations with {flags}: continuing with "
        f"those, not {asked}"
    )
    return resumed


def _check_network(study: optuna.Study, config: RunConfig) -> None:
    """Refuse to resume a study with another ``--model`` or ``--dataset`` than it was run with:
    its trials would be compared with networks of another kind, or on other data."""
    recorded = recorded_config(study)
    theirs = {name: recorded.get(name) for name in ("model", "dataset")}
    ours = {"model": config.model, "dataset": config.dataset}
    differ = [
        name
        for name, value in theirs.items()
        if isinstance(value, str) and value.lower() != ours[name].lower()
    ]
    if differ:
        run_with = " ".join(f"--{k} {v}" for k, v in theirs.items() if isinstance(v, str))
        asked = " ".join(f"--{name} {ours[name]}" for name in differ)
        raise CLIError(
            f"study {config.study_name!r} was run with {run_with}, not {asked}: pass those, "
            "or use another --study-name"
        )


def _check_objectives(
    study: optuna.Study, directions: list[Literal["maximize", "minimize"]], config: RunConfig
) -> None:
    """Refuse to resume a study with other objectives (or directions) than this run's."""
    stored = [d.name.lower() for d in study.directions]
    recorded = recorded_config(study)
    ours = list(config.objectives or ["accuracy"])
    theirs = recorded.get("objectives", ours) or ["accuracy"]  # None: the default
    if stored == directions and theirs == ours:
        return
    if len(stored) == len(directions) == 1 and "objectives" not in recorded:
        raise CLIError(
            f"study {config.study_name!r} was created to {stored[0]}, but this objective wants "
            f"to {directions[0]}: use another --study-name"
        )
    what = f"has the directions {', '.join(stored)}"  # not recorded by optuna-ga run
    if isinstance(theirs, list) and len(theirs) == len(stored):
        what = f"was run with --objectives {','.join(map(str, theirs))}"
    raise CLIError(
        f"study {config.study_name!r} {what}, not --objectives {','.join(ours)}: give the "
        "study's --objectives, or use another --study-name"
    )


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

    def __init__(self, config: RunConfig, stop: _StopSignals) -> None:
        self.config = config
        self.n_trials = config.n_trials
        self.n_workers = config.workers
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
            interval=config.progress_interval,
            objectives=config.objectives or (),
        )
        self.panels = Panels(
            enabled=config.publish,
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

    def _open_study(self, directions: list[Literal["maximize", "minimize"]]) -> None:
        config = self.config
        storage = open_storage(config.storage, heartbeat_interval=None)
        try:
            study = optuna.create_study(
                study_name=config.study_name,
                storage=storage,
                load_if_exists=True,
                directions=directions,
            )
            _check_network(study, config)  # again: another run may have created the study
            _check_objectives(study, directions, config)
            study.set_user_attr(CONFIG_ATTR, config.recorded())
            if len(directions) > 1 and config.objectives:
                with warnings.catch_warnings():  # experimental in Optuna (since 3.2)
                    warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                    study.set_metric_names(list(config.objectives))
        except optuna.exceptions.StorageInternalError as error:  # e.g. a read-only database
            raise cannot_write(config.storage, error) from error
        self.study = study
        self.progress.start(study)
        planned = "until the timeout" if self.n_trials is None else self.n_trials
        if len(directions) == 1:
            goal = "maximizing" if directions[0] == "maximize" else "minimizing"
            aim = f"{goal} the {self.label}"
        else:
            aim = "searching the Pareto front of " + ", ".join(
                f"{name} ({direction[:3]})"
                for name, direction in zip(config.objectives or (), directions, strict=True)
            )
        say(
            f"study {config.study_name!r} in {mask_url(config.storage)}: "
            f"{count(len(study.trials), 'trial')} so far; running {planned} more with "
            f"{len(self.pool.workers)} worker(s), {aim}"
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
                best_text = ""
                if len(study.directions) > 1:
                    best_text = f", Pareto front of {count(len(study.best_trials), 'trial')}"
                elif (best := best_or_none(study)) is not None:
                    best_text = f", best {self.label} {best.value:.4f} (#{best.number})"
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
