"""Storage I/O (optuna_ga._store): what a trial records, what other workers read back as
claims, the study's settings, and the odd records that must not stop a study."""

from __future__ import annotations

from typing import Any

import optuna
import pytest
from optuna.trial import TrialState

from optuna_ga import GeneticSampler
from optuna_ga import _store


def new_study(storage: str | None = None) -> optuna.Study:
    return optuna.create_study(storage=storage, sampler=optuna.samplers.RandomSampler(seed=0))


@pytest.fixture(params=["memory", "sqlite"])
def study(request: pytest.FixtureRequest, tmp_path: Any) -> optuna.Study:
    return new_study(None if request.param == "memory" else f"sqlite:///{tmp_path}/s.db")


def frozen(study: optuna.Study, number: int) -> optuna.trial.FrozenTrial:
    return study._storage.get_trial(
        study._storage.get_trial_id_from_study_id_trial_number(study._study_id, number)
    )


# -- proposals, lineage and claims -------------------------------------------------------------


def test_a_proposal_is_recorded_for_people_and_for_other_workers(study: optuna.Study) -> None:
    trial = study.ask()
    _store.write_proposal(
        study,
        frozen(study, trial.number),
        {"x": 0.5},
        generation=2,
        parents=[0, 1],
        operator="crossover",
        score=1.25,
    )
    stored = frozen(study, trial.number)
    assert stored.user_attrs == {
        "ga_generation": 2,
        "ga_parents": [0, 1],
        "ga_operator": "crossover",
        "ga_surrogate_score": 1.25,
    }
    assert stored.system_attrs[_store.GENOME_KEY] == {"x": 0.5}
    assert stored.system_attrs[_store.HELD_KEY] is True
    # Another worker sees a held claim.
    other = study.ask()
    _, claims = _store.read(study, frozen(study, other.number))
    assert claims == [_store.Claim(trial.number, {"x": 0.5}, True)]


def test_a_tentative_claim_is_not_held_until_it_is(study: optuna.Study) -> None:
    first, second = study.ask(), study.ask()
    _store.write_claim(study, frozen(study, first.number), {"x": 1})
    _, claims = _store.read(study, frozen(study, second.number))
    assert claims == [_store.Claim(first.number, {"x": 1}, False)]
    _store.hold(study, frozen(study, first.number), {"x": 1})
    _, claims = _store.read(study, frozen(study, second.number))
    assert claims == [_store.Claim(first.number, {"x": 1}, True)]
    # Withdrawn: an empty claim is no claim.
    _store.write_claim(study, frozen(study, first.number), {})
    assert _store.read(study, frozen(study, second.number))[1] == []


def test_waiting_trials_claim_what_they_will_run(study: optuna.Study) -> None:
    study.enqueue_trial({"x": 0.25})
    asking = study.ask()  # takes the enqueued trial: RUNNING with fixed params
    study.enqueue_trial({"x": 0.75})  # WAITING
    _, claims = _store.read(study, frozen(study, asking.number))
    assert claims == [_store.Claim(1, {"x": 0.75}, True)]
    assert _store.fixed_params(frozen(study, asking.number)) == {"x": 0.25}
    assert _store.retried_number(frozen(study, asking.number)) is None


def test_genomes_are_read_from_this_process_then_from_storage(study: optuna.Study) -> None:
    trial = study.ask()
    stored = frozen(study, trial.number)
    assert _store.genome(study, stored) == {}
    _store.write_proposal(study, stored, {"x": 2}, generation=0, parents=[], operator="random")
    assert _store.genome(study, stored) == {"x": 2}  # cached in this process
    _store.forget(study, stored)
    assert _store.genome(study, frozen(study, trial.number)) == {"x": 2}  # read back
    assert _store.genome(study, stored) == {}  # the old snapshot had no genome


def test_lineage_alone_writes_no_claim(study: optuna.Study) -> None:
    trial = study.ask()
    _store.write_lineage(
        study, frozen(study, trial.number), generation=0, parents=[], operator="enqueued"
    )
    stored = frozen(study, trial.number)
    assert stored.user_attrs["ga_operator"] == "enqueued"
    assert _store.GENOME_KEY not in stored.system_attrs


@pytest.mark.parametrize("value", [[1, 2], "x", 7, {"x": [0.5]}, {"x": {"nested": 1}}], ids=repr)
def test_a_malformed_claim_is_ignored_with_a_warning(sqlite_url: str, value: Any) -> None:
    study = optuna.create_study(storage=sqlite_url, sampler=GeneticSampler(population_size=4))
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=2)
    tampered = study.ask()
    study._storage.set_trial_system_attr(tampered._trial_id, _store.GENOME_KEY, value)
    with pytest.warns(UserWarning, match=f"Trial {tampered.number}: ignoring its malformed"):
        study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=6)
    others = [t for t in study.trials if t.number != tampered.number]
    assert len(others) == 8 and {t.state for t in others} == {TrialState.COMPLETE}


def test_claims_are_atomic_only_where_this_process_alone_sees_the_storage(
    sqlite_url: str,
) -> None:
    memory, sqlite = new_study(), new_study(sqlite_url)
    assert _store.claims_are_atomic(memory) and not _store.claims_are_atomic(sqlite)
    with _store.claim_guard(memory) as lock:
        assert lock is not None  # a real lock: held now
        assert not _store._claim_locks[memory._storage].acquire(blocking=False)


def test_each_ask_reads_only_new_and_unfinished_trials() -> None:
    study = optuna.create_study(sampler=GeneticSampler(population_size=6, seed=0))
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=60)
    digest = _store.history(study)
    assert _store.history(study) is digest  # one digest per study and process
    # Every trial below the watermark is digested once and never scanned again.
    assert digest._watermark == 60
    running = study.ask()
    _, claims = _store.read(study, frozen(study, running.number))
    assert claims == []  # its own claim is not a rival
    unfinished = digest.update(study._storage.get_all_trials(study._study_id, deepcopy=False))
    assert [t.number for t in unfinished] == [running.number]


# -- settings ----------------------------------------------------------------------------------


def test_the_first_settings_are_kept_and_others_reported(study: optuna.Study) -> None:
    settings = {"population_size": 10, "n_elites": 2}
    assert _store.check_settings(study, settings) is None  # recorded
    assert _store.check_settings(study, settings) is None  # the same: fine
    assert _store.check_settings(study, {"population_size": 8, "n_elites": 2}) == settings
    attrs = study._storage.get_study_system_attrs(study._study_id)
    assert attrs[_store.SETTINGS_KEY] == settings


def test_malformed_stored_settings_are_reported_as_the_study_s() -> None:
    study = optuna.create_study(study_name="bad", sampler=GeneticSampler(seed=0))
    study._storage.set_study_system_attr(study._study_id, _store.SETTINGS_KEY, [10])
    with pytest.raises(ValueError, match="Study 'bad' holds a malformed system attr"):
        study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=1)


# -- heartbeats and failures -------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore:Heartbeat of storage is supposed to be used")
@pytest.mark.parametrize("interval", [60, None])
def test_the_first_heartbeat_is_recorded_when_the_storage_has_heartbeats(
    sqlite_url: str, interval: int | None
) -> None:
    from optuna.storages._rdb import models

    storage = optuna.storages.RDBStorage(sqlite_url, heartbeat_interval=interval)
    study = optuna.create_study(storage=storage)
    trial = study.ask()  # study.ask records no heartbeat (the optimize loop does, later)

    def beat() -> Any:
        with storage.scoped_session() as session:
            return models.TrialHeartbeatModel.where_trial_id(trial._trial_id, session)

    assert beat() is None
    _store.record_heartbeat(study, frozen(study, trial.number))
    assert (beat() is not None) == (interval is not None)


def test_no_heartbeat_on_a_storage_without_heartbeats() -> None:
    study = new_study()  # in memory: no heartbeat methods at all
    trial = study.ask()
    _store.record_heartbeat(study, frozen(study, trial.number))
    assert frozen(study, trial.number).state == TrialState.RUNNING


def test_fail_marks_an_unfinished_trial_only(study: optuna.Study) -> None:
    running = study.ask()
    _store.fail(study, frozen(study, running.number))
    assert frozen(study, running.number).state == TrialState.FAIL
    done = study.ask()
    study.tell(done, 1.0)
    _store.fail(study, frozen(study, done.number))  # best effort: no error, nothing changes
    assert frozen(study, done.number).state == TrialState.COMPLETE


def test_fail_if_running_fails_a_running_trial_by_id_and_returns_it(study: optuna.Study) -> None:
    running = study.ask()
    done = study.ask()
    study.tell(done, 1.0)
    ids = {t.number: _store.trial_id(t) for t in study.get_trials()}
    failed = _store.fail_if_running(study, ids[running.number])
    assert failed is not None and failed.number == running.number
    assert failed.state == TrialState.FAIL
    assert _store.fail_if_running(study, ids[running.number]) is None  # finished: left as is
    assert _store.fail_if_running(study, ids[done.number]) is None
    assert frozen(study, done.number).state == TrialState.COMPLETE


# -- reading trials and studies ----------------------------------------------------------------


def test_stored_trial_reads_one_trial_by_number_as_storage_holds_it(study: optuna.Study) -> None:
    trial = study.ask()
    trial.set_user_attr("k", 1)
    stored = _store.stored_trial(study, trial.number)
    assert stored is not None and stored.number == trial.number
    assert stored.user_attrs == {"k": 1}
    assert _store.stored_trial(study, 99) is None


def test_trial_id_is_the_id_that_storage_knows_the_trial_by(study: optuna.Study) -> None:
    study.ask()
    trial = study.get_trials()[0]
    assert study._storage.get_trial(_store.trial_id(trial)).number == trial.number


def test_tagged_new_trials_carry_the_attrs_and_waiting_ones_keep_theirs(
    study: optuna.Study,
) -> None:
    _store.tag_new_trials(study, {"who": "w1"})
    study.enqueue_trial({"x": 0.5})
    enqueued = study.ask()
    fresh = study.ask()
    assert frozen(study, fresh.number).system_attrs == {"who": "w1"}
    assert "who" not in frozen(study, enqueued.number).system_attrs
    assert frozen(study, fresh.number).state == TrialState.RUNNING


def test_study_attrs_are_written_and_read_back(study: optuna.Study) -> None:
    assert _store.study_attr(study, "k") is None
    _store.set_study_attr(study, "k", {"a": [1, 2]})
    assert _store.study_attr(study, "k") == {"a": [1, 2]}
    (listed,) = _store.studies(study._storage)
    assert _store.study_attr(listed, "k") == {"a": [1, 2]}


def test_studies_lists_each_study_and_finished_trials_reads_the_finished_ones(
    tmp_path: Any,
) -> None:
    url = f"sqlite:///{tmp_path}/two.db"
    one = optuna.create_study(storage=url, study_name="one")
    optuna.create_study(storage=url, study_name="two", directions=["minimize"] * 2)
    for value in (1.0, None):
        trial = one.ask()
        if value is not None:
            one.tell(trial, value)
    pruned = one.ask()
    one.tell(pruned, state=TrialState.PRUNED)
    storage = optuna.storages.get_storage(url)
    listed = {s.name: s for s in _store.studies(storage)}
    assert {n: s.n_objectives for n, s in listed.items()} == {"one": 1, "two": 2}
    assert sorted(t.number for t in _store.finished_trials(listed["one"])) == [0, 2]
    assert _store.finished_trials(listed["two"]) == []
    optuna.delete_study(study_name="two", storage=storage)
    with pytest.raises(KeyError):
        _store.finished_trials(listed["two"])


def test_rdb_tables_are_the_tables_an_rdb_storage_creates(sqlite_url: str) -> None:
    import sqlalchemy

    optuna.storages.RDBStorage(sqlite_url)
    created = set(sqlalchemy.inspect(sqlalchemy.create_engine(sqlite_url)).get_table_names())
    assert _store.rdb_tables() == created - {"alembic_version"}
