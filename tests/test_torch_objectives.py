"""MLPObjective / CNNObjective: arguments, pruning, failures, determinism, rebuilding."""

from __future__ import annotations

import dataclasses
import math

import optuna
import pytest

torch = pytest.importorskip("torch")

from optuna.trial import FixedTrial  # noqa: E402
from optuna.trial import TrialState  # noqa: E402

from optuna_ga.torch import CNNObjective  # noqa: E402
from optuna_ga.torch import DataSplits  # noqa: E402
from optuna_ga.torch import MLPObjective  # noqa: E402
from optuna_ga.torch import build_cnn  # noqa: E402
from optuna_ga.torch import build_mlp  # noqa: E402
from optuna_ga.torch import count_params  # noqa: E402
from optuna_ga.torch import load_dataset  # noqa: E402
from optuna_ga.torch import measure_latency  # noqa: E402

optuna.logging.set_verbosity(optuna.logging.WARNING)

# A small, fast MLP space: what the tests need is behaviour, not accuracy.
SMALL_MLP = dict(max_layers=2, units=(8, 32), epochs=3, patience=None)

MLP_PARAMS = {
    "n_layers": 2,
    "input_dropout": 0.0,
    "units_l1": 32,
    "dropout_l1": 0.1,
    "units_l2": 16,
    "dropout_l2": 0.0,
    "activation": "relu",
    "batch_norm": True,
    "initializer": "kaiming_uniform",
    "optimizer": "adam",
    "learning_rate": 0.01,
    "weight_decay": 1e-5,
    "batch_size": 64,
}


@pytest.fixture(scope="module")
def digits() -> DataSplits:
    return load_dataset("digits")


def _study(direction: str = "maximize", **kwargs) -> optuna.Study:
    kwargs.setdefault("sampler", optuna.samplers.RandomSampler(seed=0))
    return optuna.create_study(direction=direction, **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"max_layers": 0}, "max_layers"),
        ({"min_layers": 3, "max_layers": 2}, "min_layers"),
        ({"units": (0, 10)}, "units"),
        ({"units": []}, "units"),
        ({"units": (64, 16)}, "units"),
        ({"units": 12.5}, "units"),
        ({"activations": ["relu", "swish"]}, "activations"),
        ({"dropout": (0.0, 1.5)}, "dropout"),
        ({"input_dropout": -0.1}, "input_dropout"),
        ({"batch_norm": "yes"}, "batch_norm"),
        ({"initializers": ["he"]}, "initializers"),
        ({"optimizers": "lbfgs"}, "optimizers"),
        ({"learning_rate": (0.0, 0.1)}, "learning_rate"),
        ({"weight_decay": (0.0, 1e-2)}, "weight_decay"),
        ({"batch_size": 0}, "batch_size"),
        ({"epochs": 0}, "epochs"),
        ({"patience": 0}, "patience"),
        ({"max_training_time": -1}, "max_training_time"),
        ({"metric": "f1"}, "metric"),
        ({"seed": -1}, "seed"),
        ({"num_threads": 0}, "num_threads"),
        ({"download": "yes"}, r"download must be True or False, got 'yes'"),
        ({"download": 3}, r"download must be True or False, got 3"),
        ({"max_params": True}, "max_params"),
        ({"objectives": ["accuracy", "flops"]}, "objectives"),
        ({"objectives": []}, "objectives"),
        ({"objectives": ["params", "macs"]}, "objectives"),
        ({"objectives": ["accuracy", "loss"]}, "objectives"),
        ({"objectives": ["accuracy", "params", "params"]}, "objectives"),
    ],
)
def test_mlp_rejects_bad_arguments(digits, kwargs, argument):
    with pytest.raises(ValueError, match=argument):
        MLPObjective(dataset=digits, **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"kernel_sizes": [2, 3]}, "kernel_sizes"),
        ({"min_conv_blocks": 4}, "min_conv_blocks"),  # 8x8 images allow 3
        ({"max_dense_layers": -1}, "max_dense_layers"),
        ({"pooling": [True, 1]}, "pooling"),
        ({"filters": (8, 10_000)}, "filters"),
    ],
)
def test_cnn_rejects_bad_arguments(digits, kwargs, argument):
    with pytest.raises(ValueError, match=argument):
        CNNObjective(dataset=digits, **kwargs)


def test_cnn_needs_images():
    table = load_dataset((torch.randn(40, 5), torch.arange(40) % 2))
    with pytest.raises(ValueError, match="images"):
        CNNObjective(dataset=table)


def test_suggestion_order_and_fixed_genes(digits):
    objective = MLPObjective(dataset=digits, units=[16, 32], activations="tanh", weight_decay=0.0)
    fixed = {"units_l1": 16, "activation": "tanh", "weight_decay": 0.0}
    params = objective.suggest(FixedTrial(MLP_PARAMS | fixed))
    names = list(params)
    assert names[:6] == ["n_layers", "input_dropout", "units_l1", "dropout_l1", "units_l2",
                         "dropout_l2"]  # fmt: skip
    assert names[-4:] == ["optimizer", "learning_rate", "weight_decay", "batch_size"]
    # Fixed genes are still recorded, so the params alone describe the whole network.
    study = _study()
    study.optimize(lambda t: len(objective.suggest(t)), n_trials=3)
    for trial in study.trials:
        assert trial.params["activation"] == "tanh"
        assert trial.params["weight_decay"] == 0.0
        assert trial.params["units_l1"] in (16, 32)


def test_cnn_caps_conv_blocks_by_image_size(digits):
    objective = CNNObjective(dataset=digits, max_conv_blocks=6, filters=[4], epochs=1)
    study = _study()
    study.optimize(lambda t: objective.suggest(t)["n_conv"], n_trials=30)
    assert study.trials[0].distributions["n_conv"].high == 3


def test_same_seed_same_accuracy(digits):
    values = [
        MLPObjective(dataset=digits, epochs=3, seed=7)(FixedTrial(MLP_PARAMS)) for _ in range(2)
    ]
    assert values[0] == values[1]
    # The caller's global RNG state is left alone.
    torch.manual_seed(123)
    expected = torch.rand(1)
    torch.manual_seed(123)
    MLPObjective(dataset=digits, epochs=1, seed=7)(FixedTrial(MLP_PARAMS))
    assert torch.equal(torch.rand(1), expected)


def test_study_records_attrs_and_rebuilds_from_params(digits):
    objective = MLPObjective(dataset=digits, **SMALL_MLP)
    study = _study()
    study.optimize(objective, n_trials=4)
    for trial in study.get_trials(states=[TrialState.COMPLETE]):
        attrs = trial.user_attrs
        assert attrs["architecture"] == "mlp"
        assert 1 <= attrs["epochs"] <= 3 and attrs["train_seconds"] > 0
        assert attrs["macs"] > 0
        rebuilt = build_mlp(trial.params, digits.input_shape, digits.n_classes)
        assert count_params(rebuilt) == attrs["n_params"]
        assert str(rebuilt) == str(objective.build(trial.params))
        assert build_mlp(trial, digits.input_shape, digits.n_classes).__repr__() == repr(rebuilt)
        # The same params through a FixedTrial reproduce the suggestion and the value.
        assert objective.suggest(FixedTrial(trial.params)) == trial.params


def test_several_objectives_return_one_value_each_in_order(digits):
    names = ["params", "accuracy", "macs", "latency", "train_time"]
    objective = MLPObjective(dataset=digits, objectives=names, **SMALL_MLP)
    assert objective.objectives == tuple(names)
    assert objective.directions == ["minimize", "maximize", "minimize", "minimize", "minimize"]
    assert objective.direction == "maximize"  # the validation metric's
    # Pruners are not consulted: Optuna refuses reports in multi-objective studies.
    study = optuna.create_study(
        directions=objective.directions,
        sampler=optuna.samplers.RandomSampler(seed=0),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=0, n_warmup_steps=0),
    )
    study.optimize(objective, n_trials=3)
    assert [t.state for t in study.trials] == [TrialState.COMPLETE] * 3
    for trial in study.trials:
        params, accuracy, macs, latency, train_time = trial.values
        assert params == trial.user_attrs["n_params"] and macs == trial.user_attrs["macs"]
        assert 0.0 < accuracy <= 1.0 and latency > 0.0 and train_time > 0.0
        assert trial.user_attrs["latency_ms"] == pytest.approx(latency, abs=1e-6)
        assert trial.intermediate_values == {}
    # The accuracy is the single-objective run's, for the same parameters and seed.
    single = MLPObjective(dataset=digits, **SMALL_MLP)
    fixed = FixedTrial(study.trials[0].params, number=0)
    assert single(fixed) == study.trials[0].values[1]


def test_loss_with_the_parameter_count(digits):
    objective = MLPObjective(dataset=digits, objectives=("loss", "params"), **SMALL_MLP)
    assert objective.directions == ["minimize", "minimize"] and objective.direction == "minimize"
    loss, n_params = objective(FixedTrial(MLP_PARAMS))
    assert loss > 0.0 and n_params == count_params(objective.build(MLP_PARAMS))
    # One objective named is the single-objective form: a float.
    value = MLPObjective(dataset=digits, objectives=["loss"], **SMALL_MLP)(FixedTrial(MLP_PARAMS))
    assert value == loss


def test_latency_is_per_sample_and_checks_its_arguments():
    model = torch.nn.Linear(64, 10)
    assert measure_latency(model, torch.zeros(8, 64), repeats=1) > 0.0
    assert model.training  # left as it was
    with pytest.raises(ValueError, match="repeats"):
        measure_latency(model, torch.zeros(8, 64), repeats=0)
    with pytest.raises(ValueError, match="inputs"):
        measure_latency(model, torch.zeros(0, 64))


def test_median_pruner_prunes(digits):
    objective = MLPObjective(
        dataset=digits,
        max_layers=1,
        units=(8, 32),
        optimizers=["sgd", "adagrad"],
        learning_rate=(1e-5, 1e-1),
        epochs=4,
        patience=None,
    )
    study = _study(pruner=optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=0))
    study.optimize(objective, n_trials=14)
    pruned = study.get_trials(states=[TrialState.PRUNED])
    assert pruned, "MedianPruner pruned nothing"
    assert all(t.user_attrs["stopped_by"] == "pruned" for t in pruned)
    assert any(t.state == TrialState.COMPLETE for t in study.trials)


@pytest.mark.filterwarnings("ignore:Fixed parameter learning_rate")
def test_diverging_runs_are_pruned_not_crashing(digits):
    objective = MLPObjective(dataset=digits, epochs=2, optimizers="sgd", batch_norm=False)
    study = _study()
    study.enqueue_trial(MLP_PARAMS | {"optimizer": "sgd", "learning_rate": 1e6,
                                      "batch_norm": False})  # fmt: skip
    study.enqueue_trial(MLP_PARAMS | {"optimizer": "sgd", "learning_rate": 0.05,
                                      "batch_norm": False})  # fmt: skip
    study.optimize(objective, n_trials=2)
    diverged, fine = study.trials
    assert diverged.state == TrialState.PRUNED
    assert diverged.user_attrs["failure"] == "diverged"
    assert diverged.user_attrs["stopped_by"] == "diverged"
    assert fine.state == TrialState.COMPLETE and fine.value > 0.5


def test_nan_inputs_are_pruned(digits):
    x = digits.x_train.clone()
    x[0, 0, 0, 0] = float("nan")
    poisoned = dataclasses.replace(digits, x_train=x)
    study = _study()
    study.optimize(MLPObjective(dataset=poisoned, **SMALL_MLP), n_trials=2)
    assert [t.state for t in study.trials] == [TrialState.PRUNED] * 2
    assert {t.user_attrs["failure"] for t in study.trials} == {"diverged"}


def test_max_params_sets_constraint_and_prunes(digits):
    objective = MLPObjective(dataset=digits, max_params=2_000, **SMALL_MLP)
    study = _study()
    study.enqueue_trial(MLP_PARAMS | {"n_layers": 1, "units_l1": 8})  # 626 params
    study.enqueue_trial(MLP_PARAMS)  # 32 + 16 units: 3,226 params
    study.optimize(objective, n_trials=2)
    small, big = study.trials
    assert small.state == TrialState.COMPLETE and small.constraints == {"max_params": 626 - 2_000}
    assert big.state == TrialState.PRUNED and big.user_attrs["failure"] == "too_many_params"
    assert big.constraints == {"max_params": big.user_attrs["n_params"] - 2_000}
    assert big.constraints["max_params"] > 0


def test_early_stopping_and_time_cap(digits):
    frozen = MLP_PARAMS | {"optimizer": "sgd", "learning_rate": 1e-8}
    stalled = MLPObjective(dataset=digits, epochs=10, patience=1, learning_rate=(1e-8, 0.1))
    trial = FixedTrial(frozen)
    stalled(trial)
    assert trial.user_attrs["stopped_by"] == "early_stopping"
    assert trial.user_attrs["epochs"] == 2

    capped = MLPObjective(dataset=digits, epochs=50, max_training_time=1e-6)
    trial = FixedTrial(MLP_PARAMS)
    capped(trial)
    assert trial.user_attrs["stopped_by"] == "time_limit"
    assert trial.user_attrs["epochs"] == 1


def test_loss_metric_minimises(digits):
    objective = MLPObjective(dataset=digits, metric="loss", epochs=2)
    assert objective.direction == "minimize"
    value = objective(FixedTrial(MLP_PARAMS))
    assert 0 < value < math.log(10)


def test_cnn_on_digits_and_rebuild(digits):
    objective = CNNObjective(
        dataset=digits, filters=(4, 16), max_dense_layers=1, units=(8, 32), epochs=2
    )
    study = _study()
    study.optimize(objective, n_trials=3)
    for trial in study.get_trials(states=[TrialState.COMPLETE]):
        assert 0.0 <= trial.value <= 1.0
        model = build_cnn(trial.params, (1, 8, 8), 10)
        assert count_params(model) == trial.user_attrs["n_params"]
        assert trial.user_attrs["architecture"] == "cnn"


def test_pooling_below_one_pixel_is_rejected():
    params = {"n_conv": 2, "n_dense": 0}
    for i in (1, 2):
        params |= {f"filters_c{i}": 4, f"kernel_c{i}": 3, f"activation_c{i}": "relu"}
        params |= {f"batch_norm_c{i}": False, f"pool_c{i}": True, f"dropout_c{i}": 0.0}
    with pytest.raises(ValueError, match="pool_c2"):
        build_cnn(params, (1, 3, 3), 10)
    with pytest.raises(ValueError, match="params has no 'units_l1'"):
        build_mlp({"n_layers": 1, "input_dropout": 0.0, "activation": "relu",
                   "batch_norm": False}, (4,), 2)  # fmt: skip


def test_user_tensors_and_sqlite_storage(tmp_path):
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(300, 6, generator=gen)
    y = (x[:, 0] + x[:, 1] > 0).long()
    data = load_dataset((x, y), val_fraction=0.25)
    assert data.input_shape == (6,) and data.n_classes == 2 and data.x_test is None
    objective = MLPObjective(dataset=data, **SMALL_MLP)
    study = optuna.create_study(
        storage=f"sqlite:///{tmp_path / 'study.db'}",
        direction="maximize",
        sampler=optuna.samplers.RandomSampler(seed=1),
    )
    study.optimize(objective, n_trials=2)
    best = study.best_trial
    assert best.value > 0.6
    assert isinstance(best.user_attrs["n_params"], int)


def test_genetic_sampler_drives_the_objective(digits):
    genetic = pytest.importorskip("optuna_ga")
    if not hasattr(genetic, "GeneticSampler"):
        pytest.skip("GeneticSampler not available yet")
    objective = MLPObjective(dataset=digits, max_layers=2, units=[16, 32], epochs=1)
    study = _study(sampler=genetic.GeneticSampler(population_size=4, seed=0))
    study.optimize(objective, n_trials=8)
    assert len(study.get_trials(states=[TrialState.COMPLETE, TrialState.PRUNED])) == 8
