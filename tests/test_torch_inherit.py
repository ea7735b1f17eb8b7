"""Weight inheritance: exact layer copies, fallbacks, bounded artifacts, and off by default."""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
from pathlib import Path
from typing import Any

import optuna
import pytest

torch = pytest.importorskip("torch")

from optuna.artifacts import FileSystemArtifactStore  # noqa: E402
from optuna.trial import TrialState  # noqa: E402
from torch import nn  # noqa: E402

from optuna_ga import GeneticSampler  # noqa: E402
from optuna_ga.storages import make_storage  # noqa: E402
from optuna_ga.torch import CNNObjective  # noqa: E402
from optuna_ga.torch import DataSplits  # noqa: E402
from optuna_ga.torch import MLPObjective  # noqa: E402
from optuna_ga.torch import build_cnn  # noqa: E402
from optuna_ga.torch import build_mlp  # noqa: E402
from optuna_ga.torch import load_dataset  # noqa: E402
from optuna_ga.torch._inherit import Parent  # noqa: E402
from optuna_ga.torch._inherit import inherit  # noqa: E402
from optuna_ga.torch._inherit import live_parents  # noqa: E402

# Tiny networks and data: these tests are about behaviour, not accuracy.
TINY_MLP = dict(
    max_layers=2,
    units=[4, 8],
    epochs=2,
    patience=None,
    batch_size=[32],
    optimizers="adam",
    learning_rate=(1e-3, 1e-2),
)
TINY_CNN = dict(
    max_conv_blocks=2,
    filters=[2, 4],
    kernel_sizes=[3],
    max_dense_layers=1,
    units=[4],
    epochs=2,
    patience=None,
    batch_size=[32],
    optimizers="adam",
    learning_rate=(1e-3, 1e-2),
)

MLP = {
    "n_layers": 2,
    "input_dropout": 0.0,
    "units_l1": 32,
    "dropout_l1": 0.0,
    "units_l2": 16,
    "dropout_l2": 0.0,
    "activation": "relu",
    "batch_norm": True,
    "initializer": "kaiming_uniform",
}
CNN = {
    "n_conv": 2,
    "filters_c1": 8,
    "kernel_c1": 3,
    "activation_c1": "relu",
    "batch_norm_c1": True,
    "pool_c1": True,
    "dropout_c1": 0.0,
    "filters_c2": 16,
    "kernel_c2": 3,
    "activation_c2": "relu",
    "batch_norm_c2": False,
    "pool_c2": True,
    "dropout_c2": 0.0,
    "n_dense": 1,
    "units_d1": 32,
    "dropout_d1": 0.0,
    "dense_activation": "relu",
    "dense_batch_norm": False,
}
TRAINING = {"optimizer", "learning_rate", "weight_decay", "batch_size"}
SHAPE = (1, 8, 8)
BUILD = {"mlp": build_mlp, "cnn": build_cnn}
# Distinct constants: a fresh network never holds them (batch norm starts at 0 and 1).
FILL = {"A": 3.0, "B": 5.0}


@pytest.fixture(scope="module")
def tiny() -> DataSplits:
    return load_dataset("digits", max_train_samples=96)


def _parent(label: str, number: int, architecture: str, params: dict[str, Any]) -> Parent:
    model = BUILD[architecture](params, SHAPE, 10)
    with torch.no_grad():
        for tensor in model.state_dict().values():
            tensor.fill_(FILL[label])
    return Parent(number, params, model)


def _sources(architecture: str, params: dict[str, Any], parents: list[Parent]) -> dict[str, Any]:
    """Copy into a fresh child; say per module index which parent each tensor came from."""
    child = BUILD[architecture](params, SHAPE, 10)
    fresh = {k: v.clone() for k, v in child.state_dict().items()}
    copied = inherit(child, params, parents, architecture=architecture)
    labels = {p.number: label for p, label in zip(parents, ["A", "B"], strict=False)}
    found: dict[str, Any] = {}
    for key, tensor in child.state_dict().items():
        index = key.split(".")[0]
        if torch.equal(tensor, fresh[key]):
            source = None
        else:
            (source,) = [
                label
                for label, value in FILL.items()
                if torch.equal(tensor, torch.full_like(tensor, value))
            ]
        assert found.setdefault(index, source) == source, f"module {index} mixes sources"
    total = sum(copied.values())
    assert total == sum(
        1
        for key in child.state_dict()
        if found[key.split(".")[0]] is not None  # every copied tensor is counted once
    )
    assert set(copied) <= {p.number for p in parents}
    assert {labels[n] for n in copied} == {s for s in found.values() if s is not None}
    return found


def test_mlp_mutation_copies_only_modules_whose_shapes_match() -> None:
    # Sequential indices of the child: 1 Linear, 2 BN, 4 Linear, 5 BN, 7 output Linear.
    parent = _parent("A", 3, "mlp", {**MLP, "dropout_l1": 0.2})  # its modules sit elsewhere
    wider = {**MLP, "units_l2": 24}
    assert _sources("mlp", wider, [parent]) == {
        "1": "A",
        "2": "A",
        "4": None,  # (24, 32) != (16, 32)
        "5": None,
        "7": None,  # (10, 24) != (10, 16)
    }
    narrower_first = {**MLP, "units_l1": 24}
    assert _sources("mlp", narrower_first, [parent]) == {
        "1": None,
        "2": None,
        "4": None,  # (16, 24) != (16, 32)
        "5": "A",  # batch norm of 16 units fits
        "7": "A",
    }
    other_genes = {**MLP, "activation": "tanh", "initializer": "xavier_normal"}
    assert set(_sources("mlp", other_genes, [parent]).values()) == {"A"}


def test_mlp_crossover_takes_each_layer_from_the_parent_of_its_genes() -> None:
    a = _parent("A", 1, "mlp", {**MLP, "n_layers": 3, "units_l3": 8, "dropout_l3": 0.0})
    b = _parent("B", 2, "mlp", {**MLP, "units_l1": 24, "dropout_l2": 0.3})
    # Layer 1's genes from B, layer 2's from A (dropout_l2 = 0.0 says so), two layers as B.
    child = {**MLP, "units_l1": 24}
    assert _sources("mlp", child, [a, b]) == {
        "1": "B",  # only B has (24, 64)
        "2": "B",
        "4": "B",  # A agrees on layer 2's genes, but its (16, 32) does not fit (16, 24)
        "5": "A",  # A's batch norm fits, and A's genes come first
        "7": "B",  # A's output layer reads 8 units
    }
    # The genes decide between parents that both fit: layer 1 as A's, layer 2 as B's.
    b_same_shapes = _parent("B", 2, "mlp", {**MLP, "dropout_l1": 0.4, "dropout_l2": 0.3})
    child = {**MLP, "dropout_l1": 0.4}  # a Dropout module at index 4 shifts the rest
    assert _sources("mlp", child, [a, b_same_shapes]) == {
        "1": "B",
        "2": "B",
        "5": "A",
        "6": "A",
        "8": "B",
    }


def test_cnn_mutation_and_crossover_copy_exactly_where_shapes_match() -> None:
    # Child layout: 0 conv, 1 BN, 3 pool, 4 conv, 6 pool, 8 Linear, 10 output (7 flatten).
    a = _parent("A", 4, "cnn", CNN)
    assert _sources("cnn", {**CNN, "kernel_c2": 5}, [a]) == {
        "0": "A",
        "1": "A",
        "4": None,  # (16, 8, 5, 5) != (16, 8, 3, 3)
        "8": "A",  # 16 x 2 x 2 inputs either way
        "10": "A",
    }
    b_params = {
        **{k: v for k, v in CNN.items() if not k.endswith("c2") and "_d" not in k},
        "n_conv": 1,
        "filters_c1": 16,
        "kernel_c1": 5,
        "n_dense": 0,
    }
    del b_params["dense_activation"], b_params["dense_batch_norm"]
    b = _parent("B", 5, "cnn", b_params)
    # Conv block 1 from B, block 2 and the dense layers from A.
    child = {**CNN, "filters_c1": 16, "kernel_c1": 5}
    assert _sources("cnn", child, [a, b]) == {
        "0": "B",
        "1": "B",
        "4": None,  # A's block 2 reads 8 channels, this one 16; B has no block 2
        "8": "A",
        "10": "A",
    }


def _run(objective: Any, n_trials: int, *, sampler: Any = None, **kwargs: Any) -> optuna.Study:
    study = optuna.create_study(
        direction="maximize",
        sampler=sampler
        or GeneticSampler(population_size=4, n_elites=1, population="hall_of_fame", seed=0),
        pruner=optuna.pruners.NopPruner(),
        **kwargs,
    )
    study.optimize(objective, n_trials=n_trials)
    return study


@pytest.mark.parametrize(("cls", "space"), [(MLPObjective, TINY_MLP), (CNNObjective, TINY_CNN)])
def test_children_inherit_and_train_inherit_epochs(tiny, tmp_path, cls, space) -> None:
    store = FileSystemArtifactStore(tmp_path)
    objective = cls(
        dataset=tiny, inherit_weights=True, artifact_store=store, inherit_epochs=1, **space
    )
    study = _run(objective, 16)
    assert all(t.state == TrialState.COMPLETE for t in study.trials)
    children = 0
    for trial in study.trials:
        record = trial.user_attrs["ga_inherited"]
        assert isinstance(trial.user_attrs["ga_weights"], str)
        if not trial.user_attrs["ga_parents"]:
            assert record == {"tensors": 0, "of": record["of"], "by_parent": {}}
        by_parent = {int(n): k for n, k in record["by_parent"].items()}
        assert set(by_parent) <= set(trial.user_attrs["ga_parents"])
        assert sum(by_parent.values()) == record["tensors"] <= record["of"]
        assert trial.user_attrs["epochs"] == (1 if record["tensors"] else 2)
        children += record["tensors"] > 0
        # A child with a parent's network genes (only training genes changed) gets it all.
        for number in trial.user_attrs["ga_parents"]:
            parent = study.trials[number].params
            if all(parent.get(k) == v for k, v in trial.params.items() if k not in TRAINING):
                assert record["tensors"] == record["of"]
    assert children >= 6


def test_missing_or_corrupt_artifacts_fall_back_to_fresh_weights(tiny, tmp_path, caplog) -> None:
    store = FileSystemArtifactStore(tmp_path)
    objective = MLPObjective(dataset=tiny, inherit_weights=True, artifact_store=store, **TINY_MLP)
    study = _run(objective, 4)  # generation 0
    ids = [t.user_attrs["ga_weights"] for t in study.trials]
    (tmp_path / ids[0]).unlink()  # deleted by another worker
    (tmp_path / ids[1]).write_bytes(b"not a torch file")
    content = (tmp_path / ids[2]).read_bytes()
    (tmp_path / ids[2]).write_bytes(content[: len(content) // 2])  # truncated
    torch.save({"config": "{}", "state_dict": {}}, tmp_path / ids[3])  # not our format
    with caplog.at_level(logging.WARNING):
        study.optimize(objective, n_trials=6)  # generations 1 and 2
    assert [t.state for t in study.trials] == [TrialState.COMPLETE] * 10
    for trial in study.trials[4:7]:  # generation 1: every parent is unreadable
        record = trial.user_attrs["ga_inherited"]
        assert record["tensors"] == 0 and record["unavailable"] == trial.user_attrs["ga_parents"]
        assert trial.user_attrs["epochs"] == TINY_MLP["epochs"]
        for number in trial.user_attrs["ga_parents"]:
            message = f"Trial {trial.number}: the weights of parent trial {number} are unavailable"
            assert message in caplog.text
    # Generation 2 breeds from readable weights again (trials 4-6 saved theirs).
    assert any(t.user_attrs["ga_inherited"]["tensors"] for t in study.trials[7:])


def _trial_count(directory: Path) -> int:
    return sum(1 for p in directory.iterdir() if p.is_file())


def _bounded_worker(url: str, study_name: str, folder: str, n_trials: int) -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.load_study(
        study_name=study_name,
        storage=make_storage(url, heartbeat_interval=None),
        sampler=GeneticSampler(population_size=POPULATION, n_elites=ELITES, seed=0),
        pruner=optuna.pruners.NopPruner(),
    )
    objective = MLPObjective(
        dataset=load_dataset("digits", max_train_samples=64),
        inherit_weights=True,
        artifact_store=FileSystemArtifactStore(folder),
        **{**TINY_MLP, "epochs": 1},
    )
    study.optimize(objective, n_trials=n_trials)


POPULATION, ELITES = 6, 2


def _check_bounded(url: str, study_name: str, folder: Path) -> None:
    storage = make_storage(url, heartbeat_interval=None)
    optuna.create_study(study_name=study_name, storage=storage, direction="maximize")
    most = 0
    done = threading.Event()

    def watch() -> None:
        nonlocal most
        while not done.wait(0.02):
            most = max(most, _trial_count(folder))

    watcher = threading.Thread(target=watch)
    watcher.start()
    context = multiprocessing.get_context("spawn")
    workers = [
        context.Process(target=_bounded_worker, args=(url, study_name, str(folder), 30))
        for _ in range(2)
    ]
    try:
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=300)
    finally:
        done.set()
        watcher.join()
    assert [w.exitcode for w in workers] == [0, 0]
    study = optuna.load_study(study_name=study_name, storage=storage)
    trials = study.trials
    assert len(trials) == 60
    assert all(t.state == TrialState.COMPLETE for t in trials)  # no trial lost
    assert sum(t.user_attrs["ga_inherited"]["tensors"] > 0 for t in trials) >= 20
    # About a population's worth of files, not 60: the populations that children may still be
    # bred from (the hall of fame plus newer members of the generations being bred: at most
    # 2 generations' children), and each worker's freshly saved trial.
    bound = POPULATION + 2 * (POPULATION - ELITES) + 2
    most = max(most, _trial_count(folder))
    print(f"artifact files: at most {most} during the study, {_trial_count(folder)} at the end")
    assert _trial_count(folder) <= most <= bound, most
    # Whatever is still needed is there: the final population's weights.
    keep = live_parents(
        trials,
        direction=study.direction,
        population_size=POPULATION,
        n_elites=ELITES,
        modes=[GeneticSampler().population],  # the sampler's default
    )
    stored = set(os.listdir(folder))
    assert {trials[n].user_attrs["ga_weights"] for n in keep} <= stored
    assert trials[study.best_trial.number].user_attrs["ga_weights"] in stored


@pytest.mark.slow
def test_artifacts_stay_bounded_with_two_workers_on_sqlite(tmp_path, study_name) -> None:
    folder = tmp_path / "artifacts"
    folder.mkdir()
    _check_bounded(f"sqlite:///{tmp_path / 'study.db'}", study_name, folder)


@pytest.mark.slow
@pytest.mark.postgres
def test_artifacts_stay_bounded_with_two_workers_on_postgres(
    tmp_path, postgres_url, study_name
) -> None:
    folder = tmp_path / "artifacts"
    folder.mkdir()
    _check_bounded(postgres_url, study_name, folder)


def _parents_by_ga(mode_kwargs: dict[str, Any], n_trials: int) -> None:
    """Every trial's parents were live when each earlier trial finished (one worker)."""
    sampler = GeneticSampler(population_size=6, n_elites=2, n_immigrants=1, seed=1, **mode_kwargs)
    live: dict[int, set[int]] = {}

    def objective(trial: optuna.Trial) -> float:
        trials = trial.study.get_trials(deepcopy=False)
        live[trial.number] = live_parents(
            trials,
            direction=trial.study.direction,
            population_size=6,
            n_elites=2,
            modes=[sampler.population],
        )
        x = trial.suggest_float("x", -3, 3)
        n = trial.suggest_int("n", 1, 3)
        return -((x - 1) ** 2) - abs(n - 2)

    study = optuna.create_study(direction="maximize", sampler=sampler)
    study.optimize(objective, n_trials=n_trials)
    sizes = []
    for trial in study.trials:
        for earlier in range(trial.number):
            finished_then = set(range(earlier))
            parents = set(trial.user_attrs["ga_parents"]) & finished_then
            assert parents <= live[earlier], (trial.number, earlier)
        sizes.append(len(live[trial.number]))
    assert max(sizes) <= 6 + 2  # a population plus the running trial's parents


@pytest.mark.parametrize("population", ["steady", "hall_of_fame", "generational"])
def test_live_parents_holds_every_future_parent(population) -> None:
    _parents_by_ga({"population": population}, 80)


def test_live_parents_refuses_an_unknown_mode() -> None:
    with pytest.raises(ValueError, match=r"^modes must be one of 'steady'"):
        live_parents(
            [],
            direction=optuna.study.StudyDirection.MAXIMIZE,
            population_size=2,
            n_elites=1,
            modes=["steady_state"],
        )


def test_inheritance_off_changes_nothing(tiny, tmp_path) -> None:
    store = FileSystemArtifactStore(tmp_path)
    off = _run(MLPObjective(dataset=tiny, artifact_store=store, **TINY_MLP), 8)
    default = _run(MLPObjective(dataset=tiny, **TINY_MLP), 8)
    assert list(tmp_path.iterdir()) == []
    assert [t.values for t in off.trials] == [t.values for t in default.trials]
    expected = {"architecture", "best_epoch", "epochs", "macs", "n_params", "seed"}
    expected |= {"stopped_by", "train_seconds", "ga_generation", "ga_parents", "ga_operator"}
    # Children chosen by the sampler's surrogate also carry its score.
    assert all(set(t.user_attrs) - {"ga_surrogate_score"} == expected for t in off.trials)
    assert all(not t.system_attrs.get("artifacts") for t in off.trials)
    # Generation 0 trains from scratch with inheritance on too: the same values.
    on = _run(
        MLPObjective(dataset=tiny, inherit_weights=True, artifact_store=store, **TINY_MLP), 8
    )
    assert [t.values for t in on.trials[:4]] == [t.values for t in off.trials[:4]]


def test_other_samplers_train_from_scratch_with_one_warning(tiny, tmp_path, caplog) -> None:
    store = FileSystemArtifactStore(tmp_path)
    objective = MLPObjective(dataset=tiny, inherit_weights=True, artifact_store=store, **TINY_MLP)
    with caplog.at_level(logging.WARNING):
        study = _run(objective, 3, sampler=optuna.samplers.RandomSampler(seed=0))
    assert caplog.text.count("inherit_weights needs a GeneticSampler") == 1
    assert list(tmp_path.iterdir()) == []
    assert all("ga_inherited" not in t.user_attrs for t in study.trials)


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"inherit_weights": True}, "artifact_store"),
        ({"inherit_weights": "yes", "artifact_store": None}, "inherit_weights"),
        ({"artifact_store": "folder"}, "artifact_store"),
        ({"inherit_epochs": 0}, "inherit_epochs"),
    ],
)
def test_bad_inheritance_arguments(tiny, kwargs, argument) -> None:
    with pytest.raises(ValueError, match=argument):
        MLPObjective(dataset=tiny, **kwargs)


def test_fixed_trial_ignores_inheritance(tiny, tmp_path) -> None:
    objective = MLPObjective(
        dataset=tiny,
        inherit_weights=True,
        artifact_store=FileSystemArtifactStore(tmp_path),
        **TINY_MLP,
    )
    params = {
        "n_layers": 1,
        "input_dropout": 0.0,
        "units_l1": 4,
        "dropout_l1": 0.0,
        "activation": "relu",
        "batch_norm": False,
        "initializer": "xavier_uniform",
        "optimizer": "adam",
        "learning_rate": 1e-2,
        "weight_decay": 1e-4,
        "batch_size": 32,
    }
    assert 0.0 <= objective(optuna.trial.FixedTrial(params)) <= 1.0
    assert list(tmp_path.iterdir()) == []


def test_layer_names_follow_position_not_module_index() -> None:
    with_dropout = build_mlp({**MLP, "input_dropout": 0.1, "dropout_l1": 0.2}, SHAPE, 10)
    assert isinstance(with_dropout[1], nn.Dropout)
    parent = Parent(0, MLP, with_dropout)
    child = build_mlp(MLP, SHAPE, 10)
    assert inherit(child, MLP, [parent], architecture="mlp") == {0: len(child.state_dict())}
    trained = with_dropout.state_dict().values()
    for name, tensor in child.state_dict().items():
        assert any(torch.equal(tensor, other) for other in trained), name


def test_live_parents_waits_for_trials_that_have_not_chosen_parents_yet() -> None:
    # Population 2, 1 elite: generation 0 = trials 0, 1; then one trial per generation.
    def trial(number: int, value: float | None, **attrs: Any) -> optuna.trial.FrozenTrial:
        state = TrialState.RUNNING if value is None else TrialState.COMPLETE
        made = optuna.trial.create_trial(state=state, value=value, user_attrs=attrs)
        made.number = number
        return made

    maximize = optuna.study.StudyDirection.MAXIMIZE
    done = [trial(0, 0.1), trial(1, 0.5), trial(3, 0.9), trial(4, 0.7)]
    # Trial 2 (generation 1) was created by a worker whose sampler has not run yet: it will
    # breed from Pop(0) = {0, 1}, which later trials pushed out of the hall of fame.
    waiting = [*done[:2], trial(2, None), *done[2:]]
    assert live_parents(waiting, direction=maximize, population_size=2, n_elites=1) == {
        0,
        1,
        3,
        4,
    }
    chosen = [*done[:2], trial(2, None, ga_parents=[1]), *done[2:]]
    assert live_parents(chosen, direction=maximize, population_size=2, n_elites=1) == {1, 3, 4}


def test_inheritance_work_per_trial_does_not_grow_with_the_study(tiny, tmp_path, monkeypatch):
    from optuna_ga.torch import _inherit

    digests = []  # History objects made by weight inheritance itself

    class Counted(_inherit.History):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            digests.append(self)
            super().__init__(*args, **kwargs)

    loading = {"now": False, "full_reads": 0}
    original_load, original_get_trials = _inherit.WeightStore.load, optuna.Study.get_trials

    def load(self: Any, *args: Any) -> int:
        loading["now"] = True
        try:
            return original_load(self, *args)
        finally:
            loading["now"] = False

    def get_trials(self: optuna.Study, *args: Any, **kwargs: Any) -> Any:
        loading["full_reads"] += loading["now"]
        return original_get_trials(self, *args, **kwargs)

    monkeypatch.setattr(_inherit, "History", Counted)
    monkeypatch.setattr(_inherit.WeightStore, "load", load)
    monkeypatch.setattr(optuna.Study, "get_trials", get_trials)
    store = FileSystemArtifactStore(tmp_path)
    objective = MLPObjective(dataset=tiny, inherit_weights=True, artifact_store=store, **TINY_MLP)
    study = _run(objective, 12)
    assert any(t.user_attrs["ga_inherited"]["tensors"] for t in study.trials)
    # Deleting reuses the sampler's digest (each finished trial hashed once per process), and
    # loading reads the trial and its parents, not the whole study.
    assert digests == [] and loading["full_reads"] == 0
