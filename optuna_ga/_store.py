"""The one module that reads and writes study storage for the sampler.

What a trial records (all JSON):

* system attr ``optuna_ga:genome``: the full parameter set proposed for the trial (its *claim*).
  Other workers read it to avoid proposing the same set while the trial runs. The claim is
  tentative until system attr ``optuna_ga:held`` is True (see :class:`Claim`);
* user attrs ``ga_generation``, ``ga_parents`` (trial numbers) and ``ga_operator`` (how the
  trial was made), and ``ga_surrogate_score`` when the child was chosen among several bred
  candidates by the surrogate (:mod:`optuna_ga._surrogate`). optuna-dashboard shows user
  attrs in its trial list;
* study system attr ``optuna_ga:settings``: the ``population_size`` and ``n_elites`` that number
  the study's trials into generations, written by the first sampler that asks
  (:func:`check_settings`).

The CLI, the dashboard panels and weight inheritance read and write storage here too: one
trial by number (:func:`stored_trial`), a trial's id (:func:`trial_id`), failing a dead
worker's trial (:func:`fail_if_running`), trials created with system attrs
(:func:`tag_new_trials`), study system attrs (:func:`study_attr`, :func:`set_study_attr`) and
every study of a storage (:func:`studies`, :func:`finished_trials`). Where Optuna has a public
call it is used; a private one is named in a comment where it is unavoidable.

A process-local :class:`~optuna_ga._history.History` per (storage, study) caches the digest
of finished trials; it is a cache of storage, never a source of truth.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import threading
import warnings
import weakref
from collections.abc import Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

import optuna
from optuna.exceptions import UpdateFinishedTrialError
from optuna.storages import BaseStorage
from optuna.storages import InMemoryStorage
from optuna.storages import RDBStorage
from optuna.trial import FrozenTrial
from optuna.trial import TrialState

from optuna_ga._history import History

GENOME_KEY = "optuna_ga:genome"
HELD_KEY = "optuna_ga:held"
SETTINGS_KEY = "optuna_ga:settings"
GENERATION_ATTR = "ga_generation"
PARENTS_ATTR = "ga_parents"
OPERATOR_ATTR = "ga_operator"
SCORE_ATTR = "ga_surrogate_score"
_ENQUEUED_KEY = "fixed_params"  # set by Study.enqueue_trial
_RETRY_KEY = "failed_trial"  # set by RetryFailedTrialCallback on the WAITING copy it adds
_FINISHED = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)

_lock = threading.Lock()
_histories: weakref.WeakKeyDictionary[BaseStorage, dict[int, History]] = (
    weakref.WeakKeyDictionary()
)
_claim_locks: weakref.WeakKeyDictionary[BaseStorage, threading.Lock] = weakref.WeakKeyDictionary()
# Genomes proposed in this process, by storage and trial id, so that suggesting a parameter does
# not need a storage round trip. Entries leave in ``forget``; a miss falls back to the stored
# system attr. Keyed by the storage object, not its ``id()``: a new storage can reuse the address
# of one that was freed, and must not inherit its entries.
_genomes: weakref.WeakKeyDictionary[BaseStorage, dict[int, dict[str, Any]]] = (
    weakref.WeakKeyDictionary()
)
# Settings already checked against a study in this process: (study id, settings) by storage.
_checked: weakref.WeakKeyDictionary[BaseStorage, set[tuple[int, str]]] = (
    weakref.WeakKeyDictionary()
)


def _per_storage(
    cache: weakref.WeakKeyDictionary[BaseStorage, Any], storage: BaseStorage, new: Any
) -> Any:
    """``cache[storage]``, created as ``new`` if missing (under the module lock)."""
    with _lock:
        return cache.setdefault(storage, new)


@dataclass(frozen=True)
class Claim:
    """The parameter set an unfinished trial holds or will hold.

    ``held`` is False while the trial's sampler still checks that no other worker claimed the
    same set at the same moment (it may yet give the set up); True once it keeps it, and for a
    waiting trial (enqueued, or a retry of a failed one), which runs its parameters as they are.
    """

    number: int
    params: dict[str, Any]
    held: bool


def history(study: optuna.Study, *, refresh: bool = True) -> History:
    """The study's digest of finished trials, brought up to date unless told not to."""
    storage, study_id = study._storage, study._study_id
    with _lock:
        per_study = _histories.setdefault(storage, {})
        if study_id not in per_study:
            per_study[study_id] = History(study.directions)
        digest = per_study[study_id]
    if refresh:
        digest.update(storage.get_all_trials(study_id, deepcopy=False))
    return digest


def read(study: optuna.Study, trial: FrozenTrial) -> tuple[History, list[Claim]]:
    """The study's digest, brought up to date, and the claims of the other unfinished trials.

    A claim is the parameter set a running trial was proposed (its genome) or a waiting trial
    will use (its enqueued parameters). A malformed claim (not a JSON object of parameter
    values, e.g. written by hand) is ignored with a warning: one trial's bad attr must not stop
    every worker from asking.
    """
    digest = history(study, refresh=False)
    unfinished = digest.update(study._storage.get_all_trials(study._study_id, deepcopy=False))
    claims = []
    for other in unfinished:
        if other._trial_id == trial._trial_id:
            continue
        claim = _claim(other)
        if claim is not None:
            claims.append(claim)
    return digest, claims


def _claim(trial: FrozenTrial) -> Claim | None:
    """An unfinished trial's claim: its genome, its enqueued parameters or its retried ones.

    A waiting trial claims only what it is sure to run, the parameters :func:`fixed_params`
    gives it: enqueued ones, else those a retry copied from its failed trial (the genome it
    copied too is no claim: the retry completes those parameters anew). A running trial claims
    its genome, which holds an enqueued or retried trial's fixed values too, else the same.
    """
    waiting = trial.state == TrialState.WAITING
    for key in (_ENQUEUED_KEY,) if waiting else (GENOME_KEY, _ENQUEUED_KEY):
        value = trial.system_attrs.get(key)
        if value is None:
            continue
        if not _is_params(value):
            warnings.warn(
                f"Trial {trial.number}: ignoring its malformed system attr {key!r} "
                f"({_preview(value)}).",
                stacklevel=3,
            )
        elif value:
            held = key == _ENQUEUED_KEY or trial.system_attrs.get(HELD_KEY) is True
            return Claim(trial.number, dict(value), held)
    if _RETRY_KEY in trial.system_attrs and trial.params:  # waiting, or running without a genome
        return Claim(trial.number, dict(trial.params), True)
    return None


def _is_params(value: Any) -> bool:
    """Whether ``value`` is a parameter set: names mapped to JSON scalars (Optuna's choices)."""
    return isinstance(value, dict) and all(
        isinstance(name, str) and (v is None or isinstance(v, (bool, int, float, str)))
        for name, v in value.items()
    )


def _preview(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def claim_guard(study: optuna.Study) -> AbstractContextManager[Any]:
    """A lock that makes read-propose-write atomic, where this process alone sees the storage.

    An in-memory storage is shared only by the threads of this process: under this lock no
    other thread can claim between a worker's read and its write, so the claim needs no second
    read. Other storages are shared by other processes; there the sampler re-reads instead and
    this is a no-op.
    """
    storage = study._storage
    if not isinstance(storage, InMemoryStorage):
        return contextlib.nullcontext()
    with _lock:
        return _claim_locks.setdefault(storage, threading.Lock())


def claims_are_atomic(study: optuna.Study) -> bool:
    """Whether :func:`claim_guard` serialises every claim on the study's storage."""
    return isinstance(study._storage, InMemoryStorage)


def fixed_params(trial: FrozenTrial) -> dict[str, Any] | None:
    """Parameters fixed before the sampler is asked: enqueued, or a retry of a failed trial.

    A retry of a trial that failed before it had any parameter (its worker died while asking)
    has nothing fixed: it is proposed like a new trial.
    """
    if _ENQUEUED_KEY in trial.system_attrs:
        return dict(trial.system_attrs[_ENQUEUED_KEY])
    if _RETRY_KEY in trial.system_attrs and trial.params:
        return dict(trial.params)
    return None


def retried_number(trial: FrozenTrial) -> int | None:
    """The number of the failed trial this one retries, if it is a retry."""
    number = trial.system_attrs.get(_RETRY_KEY)
    return number if isinstance(number, int) else None


def write_claim(study: optuna.Study, trial: FrozenTrial, genome: Mapping[str, Any]) -> None:
    """Record a tentative claim on ``genome`` (not held yet; ``{}`` withdraws the claim)."""
    _write_attrs(
        study._storage,
        trial._trial_id,
        system={GENOME_KEY: dict(genome), HELD_KEY: False},
        user={},
    )


def hold(study: optuna.Study, trial: FrozenTrial, genome: Mapping[str, Any]) -> None:
    """Hold ``genome`` as the trial's claim (the lineage already written stays)."""
    _per_storage(_genomes, study._storage, {})[trial._trial_id] = dict(genome)
    system = {GENOME_KEY: dict(genome), HELD_KEY: True}
    _write_attrs(study._storage, trial._trial_id, system=system, user={})


def write_proposal(
    study: optuna.Study,
    trial: FrozenTrial,
    genome: Mapping[str, Any],
    *,
    generation: int,
    parents: list[int],
    operator: str,
    score: float | None = None,
    held: bool = True,
) -> None:
    """Hold the trial's genome (for other workers); record lineage and score (for people).

    With ``held=False`` the genome is only recorded, as a claim not held (``{}``: none).
    """
    storage = study._storage
    _per_storage(_genomes, storage, {})[trial._trial_id] = dict(genome) if held else {}
    user: dict[str, Any] = {GENERATION_ATTR: generation, PARENTS_ATTR: parents}
    user[OPERATOR_ATTR] = operator
    if score is not None:
        user[SCORE_ATTR] = score
    system = {GENOME_KEY: dict(genome), HELD_KEY: held}
    _write_attrs(storage, trial._trial_id, system=system, user=user)


def write_lineage(
    study: optuna.Study,
    trial: FrozenTrial,
    *,
    generation: int,
    parents: list[int],
    operator: str,
) -> None:
    """Record generation, parents and operator as user attrs."""
    _write_attrs(
        study._storage,
        trial._trial_id,
        system={},
        user={GENERATION_ATTR: generation, PARENTS_ATTR: parents, OPERATOR_ATTR: operator},
    )


def _write_attrs(
    storage: BaseStorage, trial_id: int, *, system: dict[str, Any], user: dict[str, Any]
) -> None:
    """Set several trial attrs; on an RDB storage in one transaction instead of one each.

    The single transaction uses RDBStorage internals (pinned by ``optuna<6``); if they change,
    the public one-call-per-attr path is taken.
    """
    backend = getattr(storage, "_backend", storage)
    if isinstance(backend, RDBStorage):
        try:
            from optuna.storages._rdb import models
            from optuna.storages._rdb.storage import _create_scoped_session

            with _create_scoped_session(backend.scoped_session, True) as session:
                for model, attrs in (
                    (models.TrialSystemAttributeModel, system),
                    (models.TrialUserAttributeModel, user),
                ):
                    for key, value in attrs.items():
                        backend._set_trial_attr_without_commit(
                            session, model, trial_id, key, value
                        )
            return
        except (ImportError, AttributeError):  # pragma: no cover - depends on optuna's internals
            pass
    for key, value in system.items():
        storage.set_trial_system_attr(trial_id, key, value)
    for key, value in user.items():
        storage.set_trial_user_attr(trial_id, key, value)


def genome(study: optuna.Study, trial: FrozenTrial) -> dict[str, Any]:
    """The genome proposed for a trial: from this process if it proposed it, else storage."""
    cached = _genomes.get(study._storage, {}).get(trial._trial_id)
    if cached is not None:
        return cached
    stored = trial.system_attrs.get(GENOME_KEY)
    return dict(stored) if stored and _is_params(stored) else {}


def record_heartbeat(study: optuna.Study, trial: FrozenTrial) -> None:
    """Record the trial's first heartbeat now, if the storage has heartbeats enabled.

    Optuna records a trial's first heartbeat only once ``study.ask`` has returned, and a trial
    with no heartbeat is never failed as stale. A worker killed while the sampler proposes would
    leave its trial RUNNING, holding its claim, for ever; with this heartbeat the next worker
    fails it once the grace period has passed (and retries it, with a retry callback).
    """
    storage = study._storage
    interval = getattr(storage, "get_heartbeat_interval", None)
    if interval is not None and interval() is not None:
        storage.record_heartbeat(trial._trial_id)  # type: ignore[attr-defined]


def check_settings(study: optuna.Study, settings: Mapping[str, int]) -> dict[str, Any] | None:
    """The study's stored settings if they differ from ``settings``, else None.

    The first sampler to ask records its settings in the study; later ones (other workers, a
    resumed run) are checked against them, once per process.

    Raises:
        ValueError: If the stored settings are malformed (written by hand or corrupted).
    """
    storage, study_id = study._storage, study._study_id
    checked = _per_storage(_checked, storage, set())
    key = (study_id, json.dumps(dict(settings), sort_keys=True))
    if key in checked:
        return None
    stored = storage.get_study_system_attrs(study_id).get(SETTINGS_KEY)
    if stored is None:
        storage.set_study_system_attr(study_id, SETTINGS_KEY, dict(settings))
        # Two new workers may have written at once: the last write stands, and both check it.
        stored = storage.get_study_system_attrs(study_id).get(SETTINGS_KEY)
    if not isinstance(stored, dict) or set(stored) != set(settings):
        raise ValueError(
            f"Study {study.study_name!r} holds a malformed system attr {SETTINGS_KEY!r} "
            f"({_preview(stored)}); expected an object with keys {sorted(settings)}."
        )
    if stored != dict(settings):
        return dict(stored)
    checked.add(key)
    return None


def fail(study: optuna.Study, trial: FrozenTrial) -> None:
    """Mark a trial FAIL, unless it has finished already (best effort: used while raising)."""
    with contextlib.suppress(Exception):
        study._storage.set_trial_state_values(trial._trial_id, TrialState.FAIL)


def release(study: optuna.Study, trial: FrozenTrial) -> None:
    """End a trial that ``study.ask`` could not start (best effort: used while raising).

    A trial that was waiting (enqueued, or a retry of a failed trial) goes back to waiting,
    without the claim it may have written, so that the next ask runs it; any other one fails.
    """
    if _ENQUEUED_KEY not in trial.system_attrs and _RETRY_KEY not in trial.system_attrs:
        fail(study, trial)
        return
    forget(study, trial)
    try:
        write_claim(study, trial, {})
        study._storage.set_trial_state_values(trial._trial_id, TrialState.WAITING)
    except Exception:
        fail(study, trial)


def forget(study: optuna.Study, trial: FrozenTrial) -> None:
    """Drop the process-local copy of a finished trial's genome."""
    _genomes.get(study._storage, {}).pop(trial._trial_id, None)


def stored_settings(study: optuna.Study) -> dict[str, Any] | None:
    """The settings recorded by :func:`check_settings` (None for a study without them)."""
    stored = study_attr(study, SETTINGS_KEY)
    return dict(stored) if isinstance(stored, dict) else None


# -- for the CLI, the dashboard panels and weight inheritance ----------------------------------


def trial_id(trial: FrozenTrial) -> int:
    """The trial's id in its storage, which outlives the study object (e.g. across processes)."""
    return trial._trial_id  # Optuna has no public trial id (optuna 5)


def stored_trial(study: optuna.Study, number: int) -> FrozenTrial | None:
    """One trial as storage holds it now, or None if the study has no such trial.

    ``Study.get_trials`` reads them all; this reads one.
    """
    storage, study_id = study._storage, study._study_id  # Optuna has no public ones (optuna 5)
    try:
        found = storage.get_trial_id_from_study_id_trial_number(study_id, number)
    except KeyError:
        return None
    return storage.get_trial(found)


def fail_if_running(study: optuna.Study, trial_id: int) -> FrozenTrial | None:
    """Mark the trial of id ``trial_id`` FAIL if it is still RUNNING; the failed trial, if so.

    A trial that finished meanwhile (also in the instant between the read and the write) is
    left as it is, and None is returned.
    """
    storage = study._storage  # Optuna's public Study API cannot fail a trial it did not ask
    try:
        if storage.get_trial(trial_id).state != TrialState.RUNNING:
            return None
        storage.set_trial_state_values(trial_id, TrialState.FAIL)
    except UpdateFinishedTrialError:
        return None
    return storage.get_trial(trial_id)


def tag_new_trials(study: optuna.Study, system_attrs: Mapping[str, Any]) -> None:
    """From now on, ``study.ask`` creates each new trial with ``system_attrs``, in one write.

    Optuna has no public hook on trial creation (optuna 5): this wraps the study's storage's
    ``create_new_trial``, which ``Study.ask`` calls without a template for a new trial. A waiting
    trial (enqueued, or a retry) is created from its template, and keeps it untouched.
    """
    storage = study._storage
    create = storage.create_new_trial

    def create_new_trial(study_id: int, template_trial: FrozenTrial | None = None) -> int:
        if template_trial is None:  # what Optuna's ask creates, plus the attrs
            template_trial = FrozenTrial(
                number=-1,
                state=TrialState.RUNNING,
                value=None,
                datetime_start=datetime.datetime.now(),
                datetime_complete=None,
                params={},
                distributions={},
                user_attrs={},
                system_attrs=dict(system_attrs),
                intermediate_values={},
                trial_id=-1,
            )
        return create(study_id, template_trial)

    storage.create_new_trial = create_new_trial  # type: ignore[method-assign]


def rdb_tables() -> set[str]:
    """The names of the tables of Optuna's RDB storage schema (for checks of a database)."""
    from optuna.storages._rdb.models import BaseModel  # Optuna has no public list (optuna 5)

    return set(BaseModel.metadata.tables)


@dataclass(frozen=True, kw_only=True)
class StoredStudy:
    """A study of a storage, as listed by :func:`studies` (without loading it)."""

    storage: BaseStorage
    study_id: int
    name: str
    n_objectives: int


def studies(storage: BaseStorage) -> list[StoredStudy]:
    """Every study of ``storage``, in one read."""
    return [
        StoredStudy(
            storage=storage,
            study_id=summary._study_id,  # FrozenStudy has no public id (optuna 5)
            name=summary.study_name,
            n_objectives=len(summary.directions),
        )
        for summary in storage.get_all_studies()
    ]


def finished_trials(study: StoredStudy) -> list[FrozenTrial]:
    """The study's COMPLETE, PRUNED and FAIL trials (not copied: do not change them).

    Raises:
        KeyError: If the study was deleted since it was listed.
    """
    return study.storage.get_all_trials(study.study_id, deepcopy=False, states=_FINISHED)


def study_attr(study: optuna.Study | StoredStudy, key: str) -> Any:
    """The study system attr ``key`` (None if unset).

    ``Study.system_attrs`` is deprecated in Optuna (optuna 5), so this reads its storage.
    """
    storage, study_id = _location(study)
    return storage.get_study_system_attrs(study_id).get(key)


def set_study_attr(study: optuna.Study, key: str, value: Any) -> None:
    """Set the study system attr ``key`` (JSON) (``Study.set_system_attr`` is deprecated)."""
    storage, study_id = _location(study)
    storage.set_study_system_attr(study_id, key, value)


def _location(study: optuna.Study | StoredStudy) -> tuple[BaseStorage, int]:
    if isinstance(study, StoredStudy):
        return study.storage, study.study_id
    return study._storage, study._study_id  # Optuna has no public ones (optuna 5)
