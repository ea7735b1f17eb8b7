"""Architectures as plug-ins: the registry, the layer walker, and an architecture of the user's
own through the Python API."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import optuna
import pytest

torch = pytest.importorskip("torch")

from optuna.artifacts import FileSystemArtifactStore  # noqa: E402
from torch import nn  # noqa: E402

from optuna_ga import GeneticSampler  # noqa: E402
from optuna_ga.torch import Architecture  # noqa: E402
from optuna_ga.torch import CNNObjective  # noqa: E402
from optuna_ga.torch import MLPObjective  # noqa: E402
from optuna_ga.torch import Objective  # noqa: E402
from optuna_ga.torch import architecture_of  # noqa: E402
from optuna_ga.torch import build_cnn  # noqa: E402
from optuna_ga.torch import get_architecture  # noqa: E402
from optuna_ga.torch import list_architectures  # noqa: E402
from optuna_ga.torch import load_dataset  # noqa: E402
from optuna_ga.torch import load_model  # noqa: E402
from optuna_ga.torch import register_architecture  # noqa: E402
from optuna_ga.torch import train_best  # noqa: E402
from optuna_ga.torch.architectures import int_gene  # noqa: E402
from optuna_ga.torch.architectures import layer_modules  # noqa: E402


@pytest.fixture(scope="module")
def tiny() -> Any:
    return load_dataset("digits", max_train_samples=160)


# -- the registry ----------------------------------------------------------------------------


def test_builtin_architectures_are_listed_and_loaded_on_demand() -> None:
    assert list_architectures()[:2] == ["mlp", "cnn"]
    for name, marker in (("mlp", "n_layers"), ("cnn", "n_conv")):
        architecture = get_architecture(name)
        assert architecture.name == name and architecture.marker == marker
        assert get_architecture(architecture) is architecture


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "Has Space"}, "name must be"),
        ({"name": ""}, "name must be"),
        ({"name": "ok", "build": "not callable"}, "build must be callable"),
        ({"name": "ok", "marker": 3}, "marker must be"),
    ],
)
def test_bad_architecture_records_are_refused(kwargs: dict[str, Any], message: str) -> None:
    fields = {"genes": lambda shape: None, "build": lambda p, s, n: None, **kwargs}
    with pytest.raises(ValueError, match=message):
        Architecture(**fields)


def test_a_name_is_registered_once() -> None:
    for name in ("mlp", "cnn"):
        clash = Architecture(name=name, genes=lambda shape: None, build=lambda p, s, n: None)
        with pytest.raises(ValueError, match=f"architecture '{name}' is registered already"):
            register_architecture(clash)
    assert get_architecture("cnn").build is build_cnn
    with pytest.raises(ValueError, match="takes an Architecture, or a name"):
        register_architecture(3)  # type: ignore[call-overload]
    with pytest.raises(ValueError, match="genes is missing"):
        register_architecture("other")  # type: ignore[call-overload]
    with pytest.raises(ValueError, match=r"architecture must be one of \['mlp', 'cnn'"):
        get_architecture("nosuch")


def test_unknown_and_bad_options_name_the_argument(tiny: Any) -> None:
    with pytest.raises(ValueError, match="units_l1 is not an argument of the 'mlp' architecture"):
        Objective(architecture="mlp", dataset=tiny, units_l1=[8])
    with pytest.raises(ValueError, match="filters"):
        Objective(architecture="cnn", dataset=tiny, filters=0)
    with pytest.raises(ValueError, match="images"):
        Objective(architecture="cnn", dataset=(torch.randn(40, 6), torch.arange(40) % 2))
    with pytest.raises(ValueError, match="MLPObjective searches 'mlp' networks"):
        MLPObjective(architecture="cnn", dataset=tiny)


def test_named_objectives_are_the_generic_one(tiny: Any) -> None:
    assert MLPObjective(dataset=tiny).architecture == "mlp"
    assert CNNObjective(dataset=tiny).architecture == "cnn"
    assert Objective(dataset=tiny).architecture == "mlp"  # the default
    assert isinstance(CNNObjective(dataset=tiny), Objective)


def test_nested_sequentials_are_walked_and_counted_by_kind() -> None:
    inner = nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4), nn.BatchNorm1d(4), nn.LayerNorm(4))
    net = nn.Sequential(nn.Flatten(), inner, nn.ReLU(), inner.__class__(nn.Linear(4, 2)))
    assert {name: sorted(roles) for name, roles in layer_modules(net).items()} == {
        "sequential1.dense1": ["batch_norm", "weights"],
        "sequential1.batchnorm1d1": ["weights"],  # a second norm is a layer of its own
        "sequential1.layernorm1": ["weights"],
        "sequential2.output": ["weights"],
    }
    assert list(layer_modules(nn.Linear(3, 2))) == ["output"]


# -- an architecture of the user's own ----------------------------------------------------------


def _user_genes(input_shape: tuple[int, ...], *, units: Any = (4, 32)) -> Any:
    gene = int_gene("units", units, lower=1, upper=4096, log=True)

    def suggest(trial: optuna.trial.BaseTrial) -> dict[str, Any]:
        return {"units": gene.suggest(trial, "units")}

    return suggest


def _build_user(params: Any, input_shape: Any, n_classes: int) -> nn.Module:
    units = int(params["units"])
    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(math.prod(input_shape), units),
        nn.ReLU(),
        nn.Linear(units, n_classes),
    )


USER = register_architecture(
    Architecture(name="user-dense", genes=_user_genes, build=_build_user, marker="units")
)


def test_a_user_architecture_works_through_the_python_api(tiny: Any, tmp_path: Path) -> None:
    assert register_architecture(USER) is USER  # again: nothing happens
    assert "user-dense" in list_architectures() and USER.options == ("units",)
    objective = Objective(
        architecture="user-dense",
        dataset=tiny,
        units=[8, 16],
        epochs=2,
        optimizers="adam",
        learning_rate=0.01,
        inherit_weights=True,
        artifact_store=FileSystemArtifactStore(tmp_path),
    )
    study = optuna.create_study(
        direction="maximize", sampler=GeneticSampler(population_size=2, n_elites=1, seed=0)
    )
    study.optimize(objective, n_trials=6)
    assert {t.user_attrs["architecture"] for t in study.trials} == {"user-dense"}
    assert {t.params["units"] for t in study.trials} <= {8, 16}
    assert any(t.user_attrs["ga_inherited"]["tensors"] == 4 for t in study.trials)
    trained = train_best(study, dataset=tiny, epochs=10, save_to=tmp_path / "model")
    assert trained.architecture == "user-dense" and trained.test_accuracy > 0.5
    assert isinstance(load_model(tmp_path / "model")[1], nn.Linear)
    # A bare params dict: named, or told apart by the marker gene.
    params = dict(study.best_params)
    assert train_best(params, architecture=USER, dataset=tiny, epochs=1).architecture == (
        "user-dense"
    )
    assert architecture_of(params) is USER
    with pytest.raises(ValueError, match="filters is not an argument of the 'user-dense'"):
        Objective(architecture="user-dense", dataset=tiny, filters=[8])


def test_the_architecture_of_stored_params_is_recorded_or_guessed() -> None:
    def frozen(params: dict[str, Any], **attrs: Any) -> optuna.trial.FrozenTrial:
        return optuna.trial.create_trial(
            params=params,
            distributions={k: optuna.distributions.IntDistribution(0, 9) for k in params},
            value=0.5,
            user_attrs=attrs,
        )

    assert architecture_of({}, frozen({"n_conv": 1}, architecture="mlp")).name == "mlp"
    # Studies made before the name was recorded: the marker genes tell.
    assert architecture_of({"n_conv": 1}, frozen({"n_conv": 1})).name == "cnn"
    assert architecture_of({"n_layers": 2}).name == "mlp"
    with pytest.raises(ValueError, match="'n_conv' \\(cnn\\)"):
        architecture_of({"width": 3})
    with pytest.raises(ValueError, match="architecture must be one of"):
        architecture_of({}, frozen({"n_conv": 1}, architecture="vgg"))
