"""The worker processes of ``optuna-ga run``, and how the parent starts, watches and stops them.

Every trial runs in a worker process; the parent only starts workers, prints and publishes.
This is what makes Ctrl-C reliable:

* Workers ignore SIGINT, from their first instruction on (they start with it blocked). The
  parent's handler only sets a flag, so no ``KeyboardInterrupt`` lands inside Optuna or
  SQLAlchemy code, where it can be swallowed (``Exception ignored in ... _cleanup``) or leave
  a trial RUNNING.
* The parent stops a worker with SIGKILL: at once, also in the middle of an epoch. A worker
  sends the parent the number of each trial it starts, through a pipe, as soon as Optuna has
  created it; from before the trial is created until its number is sent (and around each
  append to a journal file) the worker holds its *busy* lock, and the parent takes that lock
  before it kills. So the parent knows every trial a killed worker left RUNNING and marks it
  FAIL; an RDB storage rolls the killed worker's open transaction back.
* A worker that dies by itself (``kill -9``, out of memory) is seen by the parent at once
  through the process sentinel. Each trial a worker creates carries the worker's token in the
  system attr :data:`WORKER_ATTR`, written with the trial itself, so the parent also finds a
  trial whose number the dead worker had no time to send. (A waiting trial, enqueued or a
  retry, gets no token: a worker killed from outside in the instant between taking one and
  sending its number leaves it RUNNING; Optuna's heartbeat never fails a trial that has not
  beaten yet.)

Messages, worker to parent: ``("ready", directions)`` once the objective is built (PyTorch
imported, data loaded, device checked), ``("error", text)``, ``("start", number, trial_id)``,
``("end", number, state)``. Parent to worker: ``"go"`` once the study exists.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import signal
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from multiprocessing.connection import Connection
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess
from typing import Any

import optuna
from optuna.storages.journal import JournalFileBackend
from optuna.trial import FrozenTrial

from optuna_ga import _store
from optuna_ga._sampler import GeneticSampler
from optuna_ga.cli._common import error_text
from optuna_ga.cli._common import local_file
from optuna_ga.cli._config import RunConfig
from optuna_ga.storages import make_storage

#: System attr of a trial created by a worker of ``optuna-ga run``: the worker's token.
WORKER_ATTR = "optuna_ga:cli_worker"
#: Seconds the parent waits for a worker's busy lock (one trial creation) before it kills anyway.
BUSY_TIMEOUT_S = 10.0


# -- in the worker process -------------------------------------------------------------------


class _Link:
    """The worker's side of the pipe and of its busy lock."""

    def __init__(self, conn: Connection, busy: Any) -> None:
        self._conn = conn
        self._busy = busy
        self._held = False

    def send(self, *message: Any) -> None:
        self._conn.send(message)

    def hold(self) -> None:
        if not self._held:
            self._busy.acquire()
            self._held = True

    def let_go(self) -> None:
        if self._held:
            self._held = False
            self._busy.release()

    def started(self, study: optuna.Study, trial: FrozenTrial) -> None:
        try:
            self.send("start", trial.number, _store.trial_id(trial))
        except BrokenPipeError:  # the parent is gone: nobody else would fail this trial
            _store.fail(study, trial)
            raise
        self.let_go()

    def ended(self, study: optuna.Study, trial: FrozenTrial) -> None:
        self.hold()  # until the next trial's number is sent
        self.send("end", trial.number, trial.state.name)


class _AnnouncingSampler(GeneticSampler):
    """A GeneticSampler that first tells the parent which trial Optuna just created."""

    def __init__(self, *, link: _Link, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._link = link

    def before_trial(self, study: optuna.Study, trial: FrozenTrial) -> None:
        self._link.started(study, trial)
        super().before_trial(study, trial)


class _GuardedFileBackend(JournalFileBackend):
    """A journal file whose appends run under the busy lock: never killed half-written."""

    def __init__(self, path: str, busy: Any) -> None:
        super().__init__(path)
        self._busy = busy

    def append_logs(self, logs: list[dict[str, Any]]) -> None:
        with self._busy:
            super().append_logs(logs)


def _worker_storage(url: str, busy: Any, heartbeat_interval: int | None) -> Any:
    path = local_file(url)
    if path is not None and url.lower().startswith("journal:"):
        return optuna.storages.JournalStorage(_GuardedFileBackend(str(path), busy))
    return make_storage(url, heartbeat_interval=heartbeat_interval)


def worker_main(
    config: RunConfig,
    slot: int,
    n_trials: int | None,
    timeout: float | None,
    token: str,
    conn: Connection,
    busy: Any,
) -> None:
    """A worker process: build the objective, wait for "go", run its trials."""
    # Ctrl-C is the parent's business. The worker started with SIGINT blocked (see
    # Pool.start), so one that came during start-up is pending: ignoring SIGINT discards it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    link = _Link(conn, busy)
    try:
        objective = config.objective(slot)  # imports torch, loads the data, checks the device
    except Exception as error:
        link.send("error", error_text(error, config.storage))
        return
    link.send("ready", objective.directions)
    try:
        if conn.recv() != "go":
            return
    except EOFError:  # the parent is gone
        return
    link.hold()
    try:
        study = optuna.load_study(
            study_name=config.study_name,
            storage=_worker_storage(config.storage, busy, config.heartbeat_interval),
            sampler=config.sampler(_AnnouncingSampler, link=link),
            pruner=config.make_pruner(),
        )
        _store.tag_new_trials(study, {WORKER_ATTR: token})
        study.optimize(
            objective,
            n_trials=n_trials,
            timeout=timeout,
            callbacks=[link.ended],
            catch=(RuntimeError,),  # e.g. CUDA out of memory: that trial fails, the run goes on
        )
    except BrokenPipeError:  # the parent is gone
        return
    except Exception as error:
        link.send("error", error_text(error, config.storage))
    finally:
        link.let_go()


# -- in the parent ---------------------------------------------------------------------------


@dataclass(eq=False)
class Worker:
    """The parent's view of one worker process."""

    slot: int  # 0-based; a restarted worker keeps the slot of the one it replaces
    token: str  # in WORKER_ATTR of each trial it creates
    n_trials: int | None  # None: until the timeout
    process: BaseProcess
    conn: Connection
    busy: Any
    ready: bool = False
    exited: bool = False
    error: str | None = None
    started: int = 0  # trials it created
    ended: int = 0  # trials it finished
    running: dict[int, int] = field(default_factory=dict)  # number -> trial id

    @property
    def pid(self) -> int | None:
        return self.process.pid


@dataclass(frozen=True)
class Event:
    """Something a worker did: ``ready``, ``error``, ``start``, ``end`` or ``exit``."""

    kind: str
    worker: Worker
    detail: Any = None


class Pool:
    """Worker processes (``spawn``: CUDA-safe, nothing shared but the pipe and the lock)."""

    def __init__(self) -> None:
        self._context = multiprocessing.get_context("spawn")
        self.workers: list[Worker] = []

    def start(
        self, config: RunConfig, slot: int, n_trials: int | None, timeout: float | None
    ) -> Worker:
        ours, theirs = self._context.Pipe()
        busy = self._context.RLock()
        token = uuid.uuid4().hex
        process = self._context.Process(
            target=worker_main,
            args=(config, slot, n_trials, timeout, token, theirs, busy),
            daemon=True,
        )
        # A terminal's Ctrl-C reaches the workers too. A new process inherits the blocked
        # signals, so it gets none while its interpreter starts and imports (a traceback each,
        # else) until worker_main ignores SIGINT; here a Ctrl-C waits until the start is done.
        # (What multiprocessing does for its resource tracker.)
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            process.start()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        theirs.close()
        worker = Worker(
            slot=slot, token=token, n_trials=n_trials, process=process, conn=ours, busy=busy
        )
        self.workers.append(worker)
        return worker

    @property
    def alive(self) -> list[Worker]:
        return [w for w in self.workers if not w.exited]

    def go(self, worker: Worker) -> None:
        with contextlib.suppress(OSError):  # it died meanwhile: its exit event follows
            worker.conn.send("go")

    def events(self, timeout: float) -> list[Event]:
        """What the workers did, waiting up to ``timeout`` seconds for something."""
        alive = self.alive
        if not alive:
            return []
        handles: list[Any] = [w.conn for w in alive] + [w.process.sentinel for w in alive]
        wait(handles, timeout)
        events: list[Event] = []
        for worker in alive:
            events.extend(self._drain(worker))
            if not worker.process.is_alive():
                worker.process.join()
                events.extend(self._drain(worker))
                worker.exited = True
                events.append(Event("exit", worker, worker.process.exitcode))
        return events

    def kill_all(self) -> list[Event]:
        """Kill every worker (each once it holds no half-announced trial); their last events."""
        taken = []
        for worker in self.alive:
            if worker.process.is_alive():
                taken.append((worker, worker.busy.acquire(timeout=BUSY_TIMEOUT_S)))
                worker.process.kill()
        events: list[Event] = []
        for worker in self.alive:
            worker.process.join()
            events.extend(self._drain(worker))
            worker.exited = True
        for worker, got in taken:
            if got:
                worker.busy.release()
        return events

    def _drain(self, worker: Worker) -> Iterator[Event]:
        while True:
            try:
                if not worker.conn.poll():
                    return
                message = worker.conn.recv()
            except (EOFError, OSError):
                return
            kind, *rest = message
            if kind == "ready":
                worker.ready = True
                yield Event("ready", worker, rest[0])
            elif kind == "error":
                worker.error = rest[0]
                yield Event("error", worker, rest[0])
            elif kind == "start":
                number, trial_id = rest
                worker.started += 1
                worker.running[number] = trial_id
                yield Event("start", worker, number)
            elif kind == "end":
                number, state = rest
                worker.ended += 1
                worker.running.pop(number, None)
                yield Event("end", worker, (number, state))
