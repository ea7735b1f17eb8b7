"""The one module that reads and writes study storage for the sampler.

What a trial records (all JSON):

* system attr ``optuna_ga:genome``: the full parameter set proposed for the trial. Other workers
  read it to avoid proposing the same set while the trial runs;
* user attrs ``ga_generation``, ``ga_parents`` (trial numbers) and ``ga_operator`` (how the
  trial was made), and ``ga_surrogate_score`` when the child was chosen among several bred
  candidates by the surrogate (:mod:`optuna_ga._surrogate`). optuna-dashboard shows user
  attrs in its trial list.

A process-local :class:`~optuna_ga._history.History` per (storage, study) caches the digest
of finished trials; it is a cache of storage, never a source of truth.
"""

from __future__ import annotations

import contextlib
import threading
import warnings
import weakref
from collections.abc import Mapping
from contextlib import AbstractContextManager
from typing import Any

import optuna
from optuna.storages import BaseStorage
from optuna.storages import InMemoryStorage
from optuna.storages import RDBStorage
from optuna.trial import FrozenTrial
from optuna.trial import TrialState

from optuna_ga._history import History

GENOME_KEY = "optuna_ga:genome"
GENERATION_ATTR = "ga_generation"
PARENTS_ATTR = "ga_parents"
OPERATOR_ATTR = "ga_operator"
SCORE_ATTR = "ga_surrogate_score"
_ENQUEUED_KEY = "fixed_params"  # set by Study.enqueue_trial
_RETRY_KEY = "failed_trial"  # set by RetryFailedTrialCallback on the WAITING copy it adds

_lock = threading.Lock()
_histories: weakref.WeakKeyDictionary[BaseStorage, dict[int, History]] = (
    weakref.WeakKeyDictionary()
)
_claim_locks: weakref.WeakKeyDictionary[BaseStorage, threading.Lock] = weakref.WeakKeyDictionary()
# Genomes proposed in this process, by trial id, so that suggesting a parameter does not need a
# storage round trip. Entries leave in ``forget``; a miss falls back to the stored system attr.
_genomes: dict[tuple[int, int], dict[str, Any]] = {}


def history(study: optuna.Study, *, refresh: bool = True) -> History:
    """The study's digest of finished trials, brought up to date unless told not to."""
    storage, study_id = study._storage, study._study_id
    with _lock:
        per_study = _histories.setdefault(storage, {})
        if study_id not in per_study:
            per_study[study_id] = History(study.direction)
        digest = per_study[study_id]
    if refresh:
        digest.update(storage.get_all_trials(study_id, deepcopy=False))
    return digest


def read(study: optuna.Study, trial: FrozenTrial) -> tuple[History, list[dict[str, Any]]]:
    """The study's digest, brought up to date, and the claims of the other unfinished trials.

    A claim is the parameter set a running trial was proposed (its genome) or a waiting trial
    will use (its enqueued parameters). A malformed claim (not a JSON object of parameter
    values, e.g. written by hand) is ignored with a warning: one trial's bad attr must not stop
    every worker from asking.
    """
    digest = history(study, refresh=False)
    unfinished = digest.update(study._storage.get_all_trials(study._study_id, deepcopy=False))
    held = []
    for other in unfinished:
        if other._trial_id == trial._trial_id:
            continue
        params = _claim(other)
        if params:
            held.append(params)
    return digest, held


def _claim(trial: FrozenTrial) -> dict[str, Any] | None:
    """An unfinished trial's claim: its genome, else its enqueued or retried parameters."""
    for key in (GENOME_KEY, _ENQUEUED_KEY):
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
            return dict(value)
    return dict(trial.params) if _RETRY_KEY in trial.system_attrs else None


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
    """Parameters fixed before the sampler is asked: enqueued, or a retry of a failed trial."""
    if _ENQUEUED_KEY in trial.system_attrs:
        return dict(trial.system_attrs[_ENQUEUED_KEY])
    if _RETRY_KEY in trial.system_attrs:
        return dict(trial.params)
    return None


def retried_number(trial: FrozenTrial) -> int | None:
    """The number of the failed trial this one retries, if it is a retry."""
    number = trial.system_attrs.get(_RETRY_KEY)
    return number if isinstance(number, int) else None


def write_proposal(
    study: optuna.Study,
    trial: FrozenTrial,
    genome: Mapping[str, Any],
    *,
    generation: int,
    parents: list[int],
    operator: str,
    score: float | None = None,
) -> None:
    """Record a trial's genome (for other workers), lineage and surrogate score (for people)."""
    storage = study._storage
    _genomes[(id(storage), trial._trial_id)] = dict(genome)
    user: dict[str, Any] = {GENERATION_ATTR: generation, PARENTS_ATTR: parents}
    user[OPERATOR_ATTR] = operator
    if score is not None:
        user[SCORE_ATTR] = score
    _write_attrs(storage, trial._trial_id, system={GENOME_KEY: dict(genome)}, user=user)


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
    cached = _genomes.get((id(study._storage), trial._trial_id))
    if cached is not None:
        return cached
    stored = trial.system_attrs.get(GENOME_KEY)
    return dict(stored) if stored and _is_params(stored) else {}


def fail(study: optuna.Study, trial: FrozenTrial) -> None:
    """Mark a trial FAIL, unless it has finished already (best effort: used while raising)."""
    with contextlib.suppress(Exception):
        study._storage.set_trial_state_values(trial._trial_id, TrialState.FAIL)


def forget(study: optuna.Study, trial: FrozenTrial) -> None:
    """Drop the process-local copy of a finished trial's genome."""
    _genomes.pop((id(study._storage), trial._trial_id), None)
