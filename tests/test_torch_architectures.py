"""Architectures as plug-ins: the registry, the residual CNN, inheritance into its blocks, and an
architecture of the user's own through the Python API."""

from __future__ import annotations

import math
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import pytest

torch = pytest.importorskip("torch")
torchvision = pytest.importorskip("torchvision")

from optuna.artifacts import FileSystemArtifactStore  # noqa: E402
from optuna.trial import TrialState  # noqa: E402
from torch import nn  # noqa: E402

from optuna_ga import GeneticSampler  # noqa: E402
from optuna_ga.torch import Architecture  # noqa: E402
from optuna_ga.torch import CNNObjective  # noqa: E402
from optuna_ga.torch import MLPObjective  # noqa: E402
from optuna_ga.torch import Objective  # noqa: E402
from optuna_ga.torch import architecture_of  # noqa: E402
from optuna_ga.torch import get_architecture  # noqa: E402
from optuna_ga.torch import list_architectures  # noqa: E402
from optuna_ga.torch import load_dataset  # noqa: E402
from optuna_ga.torch import load_model  # noqa: E402
from optuna_ga.torch import register_architecture  # noqa: E402
from optuna_ga.torch import train_best  # noqa: E402
from optuna_ga.torch._inherit import Parent  # noqa: E402
from optuna_ga.torch._inherit import inherit  # noqa: E402
from optuna_ga.torch.architectures import int_gene  # noqa: E402
from optuna_ga.torch.architectures import layer_modules  # noqa: E402
from optuna_ga.torch.architectures.resnet import build_resnet  # noqa: E402

TINY_RESNET = dict(
    stages=(1, 2),
    blocks=(1, 2),
    filters=[4, 8],
    kernel_sizes=[3],
    epochs=2,
    patience=None,
    batch_size=[32],
    optimizers="adam",
    learning_rate=0.01,
)
# Two stages: stage 1 keeps the image size, stage 2 halves it.
RESNET = {
    "n_stages": 2,
    "blocks_s1": 2,
    "filters_s1": 8,
    "kernel_s1": 3,
    "downsample_s1": False,
    "blocks_s2": 1,
    "filters_s2": 16,
    "kernel_s2": 3,
    "downsample_s2": True,
    "activation": "relu",
    "dropout": 0.0,
}
SHAPE = (1, 8, 8)


@pytest.fixture(scope="module")
def tiny() -> Any:
    return load_dataset("digits", max_train_samples=160)


# -- the registry ----------------------------------------------------------------------------


def test_builtin_architectures_are_listed_and_loaded_on_demand() -> None:
    assert list_architectures()[:3] == ["mlp", "cnn", "resnet"]
    for name, marker in (("mlp", "n_layers"), ("cnn", "n_conv"), ("resnet", "n_stages")):
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
    for name in ("mlp", "resnet"):
        clash = Architecture(name=name, genes=lambda shape: None, build=lambda p, s, n: None)
        with pytest.raises(ValueError, match=f"architecture '{name}' is registered already"):
            register_architecture(clash)
    assert get_architecture("resnet").build is build_resnet
    with pytest.raises(ValueError, match="takes an Architecture, or a name"):
        register_architecture(3)  # type: ignore[call-overload]
    with pytest.raises(ValueError, match="genes is missing"):
        register_architecture("other")  # type: ignore[call-overload]
    with pytest.raises(ValueError, match=r"architecture must be one of \['mlp', 'cnn', 'resnet'"):
        get_architecture("nosuch")


def test_unknown_and_bad_options_name_the_argument(tiny: Any) -> None:
    with pytest.raises(ValueError, match="units is not an argument of the 'resnet' architecture"):
        Objective(architecture="resnet", dataset=tiny, units=[8])
    with pytest.raises(ValueError, match="filters"):
        Objective(architecture="resnet", dataset=tiny, filters=0)
    with pytest.raises(ValueError, match="stages"):
        Objective(architecture="resnet", dataset=tiny, stages=(1, 9))
    with pytest.raises(ValueError, match="images"):
        Objective(architecture="resnet", dataset=(torch.randn(40, 6), torch.arange(40) % 2))
    with pytest.raises(ValueError, match="MLPObjective searches 'mlp' networks"):
        MLPObjective(architecture="cnn", dataset=tiny)


def test_named_objectives_are_the_generic_one(tiny: Any) -> None:
    assert MLPObjective(dataset=tiny).architecture == "mlp"
    assert CNNObjective(dataset=tiny).architecture == "cnn"
    assert Objective(dataset=tiny).architecture == "mlp"  # the default
    assert isinstance(CNNObjective(dataset=tiny), Objective)


# -- the residual CNN ------------------------------------------------------------------------


def test_resnet_genes_in_order_and_within_their_ranges(tiny: Any) -> None:
    objective = Objective(architecture="resnet", dataset=tiny, **TINY_RESNET)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1))
    for _ in range(10):
        params = objective.suggest(study.ask())
        stages = params["n_stages"]
        expected = ["n_stages"]
        for s in range(1, stages + 1):
            expected += [f"blocks_s{s}", f"filters_s{s}", f"kernel_s{s}", f"downsample_s{s}"]
        expected += ["activation", "dropout", "optimizer", "learning_rate"]
        assert list(params)[: len(expected)] == expected
        assert 1 <= stages <= 2
        assert all(params[f"filters_s{s}"] in (4, 8) for s in range(1, stages + 1))
        assert objective.build(params)(tiny.x_val[:3]).shape == (3, 10)


def test_resnet_shapes_shortcuts_and_downsampling() -> None:
    model = build_resnet(RESNET, (3, 32, 32), 10)
    assert model(torch.zeros(2, 3, 32, 32)).shape == (2, 10)
    blocks = model.stage1.block1, model.stage1.block2, model.stage2.block1
    assert [isinstance(b.shortcut, nn.Identity) for b in blocks] == [True, True, False]
    assert model.stage2.block1.conv1.stride == (2, 2)
    # Any number of downsampling stages fits a small image: it shrinks to ceil(size / 2).
    deep = {"n_stages": 5, "activation": "gelu", "dropout": 0.2}
    for s in range(1, 6):
        deep |= {f"blocks_s{s}": 1, f"filters_s{s}": 4, f"kernel_s{s}": 5, f"downsample_s{s}": 1}
    assert build_resnet(deep, SHAPE, 3)(torch.zeros(2, *SHAPE)).shape == (2, 3)
    with pytest.raises(ValueError, match="kernel_s1 must be odd"):
        build_resnet({**RESNET, "kernel_s1": 4}, SHAPE, 10)
    with pytest.raises(ValueError, match="params has no 'blocks_s2'"):
        build_resnet({k: v for k, v in RESNET.items() if k != "blocks_s2"}, SHAPE, 10)


def test_resnet_layers_are_named_by_stage_block_and_role() -> None:
    layers = layer_modules(build_resnet(RESNET, SHAPE, 10))
    assert list(layers) == [
        "stem.conv",
        "stage1.block1.conv1",
        "stage1.block1.conv2",
        "stage1.block2.conv1",
        "stage1.block2.conv2",
        "stage2.block1.conv1",
        "stage2.block1.conv2",
        "stage2.block1.shortcut.conv",
        "head.output",
    ]
    assert all(sorted(roles) == ["batch_norm", "weights"] for roles in list(layers.values())[:-1])
    resnet = get_architecture("resnet")
    assert resnet.layer_genes("stage2.block1.conv1", RESNET) == [
        "blocks_s2",
        "filters_s2",
        "kernel_s2",
        "downsample_s2",
    ]
    assert resnet.layer_genes("stem.conv", RESNET) == []


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


def _filled(params: dict[str, Any], value: float) -> Parent:
    model = build_resnet(params, SHAPE, 10)
    with torch.no_grad():
        for tensor in model.state_dict().values():
            tensor.fill_(value)
    return Parent(int(value), params, model)


def _modules_equal(child: nn.Module, parent: nn.Module, prefix: str) -> bool:
    theirs = parent.state_dict()
    return all(
        torch.equal(tensor, theirs[key])
        for key, tensor in child.state_dict().items()
        if key.startswith(prefix)
    )


def test_a_deeper_child_inherits_into_the_residual_blocks_it_shares() -> None:
    parent = _filled(RESNET, 3.0)
    deeper = {**RESNET, "blocks_s1": 3}
    child = build_resnet(deeper, SHAPE, 10)
    fresh = {k: v.clone() for k, v in child.state_dict().items()}
    copied = inherit(child, deeper, [parent], architecture="resnet")
    shared = ("stem.", "stage1.block1.", "stage1.block2.", "stage2.block1.", "head.")
    for prefix in shared:
        assert _modules_equal(child, parent.model, prefix), prefix
    for key, tensor in child.state_dict().items():
        if key.startswith("stage1.block3."):  # the new block keeps its fresh weights
            assert torch.equal(tensor, fresh[key]), key
    assert copied == {3: len(parent.model.state_dict())}

    # A wider first stage: stem and stage 1 no longer fit, nor the convolutions that read
    # stage 1's output; stage 2's other modules (batch norms included) and the output do.
    wider = {**RESNET, "filters_s1": 12}
    child = build_resnet(wider, SHAPE, 10)
    fresh = {k: v.clone() for k, v in child.state_dict().items()}
    inherit(child, wider, [parent], architecture="resnet")
    stale = ("stem.conv.", "stage1.", "stage2.block1.conv1.", "stage2.block1.shortcut.conv.")
    for prefix in stale:
        assert all(
            torch.equal(t, fresh[k]) for k, t in child.state_dict().items() if k.startswith(prefix)
        ), prefix
    for prefix in ("stage2.block1.bn1.", "stage2.block1.conv2.", "stage2.block1.shortcut.bn."):
        assert _modules_equal(child, parent.model, prefix), prefix


def test_a_crossover_child_takes_each_stage_from_the_parent_of_its_genes() -> None:
    # Downsampling changes no tensor shape: both parents fit everywhere, the genes decide.
    a = _filled({**RESNET, "downsample_s1": True, "downsample_s2": False}, 3.0)
    b = _filled({**RESNET, "downsample_s1": False, "downsample_s2": True}, 5.0)
    params = {**RESNET, "downsample_s1": True, "downsample_s2": True}  # stage 1 of a, 2 of b
    child = build_resnet(params, SHAPE, 10)
    copied = inherit(child, params, [a, b], architecture="resnet")
    assert _modules_equal(child, a.model, "stage1.") and _modules_equal(child, b.model, "stage2.")
    assert _modules_equal(child, a.model, "stem.") and _modules_equal(child, a.model, "head.")
    assert sum(copied.values()) == len(child.state_dict())


def test_resnet_study_inherits_into_blocks_then_retrains_saves_and_loads(
    tiny: Any, tmp_path: Path
) -> None:
    objective = Objective(
        architecture="resnet",
        dataset=tiny,
        inherit_weights=True,
        artifact_store=FileSystemArtifactStore(tmp_path),
        inherit_epochs=1,
        **TINY_RESNET,
    )
    study = optuna.create_study(
        direction="maximize",
        sampler=GeneticSampler(population_size=4, n_elites=1, seed=0),
        pruner=optuna.pruners.NopPruner(),
    )
    study.optimize(objective, n_trials=10)
    assert all(t.state == TrialState.COMPLETE for t in study.trials)
    assert {t.user_attrs["architecture"] for t in study.trials} == {"resnet"}
    heirs = [t for t in study.trials if t.user_attrs["ga_inherited"]["tensors"]]
    assert heirs and all(t.user_attrs["epochs"] == 1 for t in heirs)
    trained = train_best(study, dataset=tiny, epochs=2, save_to=tmp_path / "best")
    assert trained.architecture == "resnet" and trained.test_accuracy is not None
    loaded = load_model(tmp_path / "best")
    x = tiny.x_test[:5]
    assert torch.equal(loaded(x), trained.model.cpu().eval()(x))


def _write_cifar_batches(folder: Path, n: int = 20) -> None:
    """Files in the layout of CIFAR-10's python version: pickled dicts of uint8 rows."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        labels = [i % 10 for i in range(n)]
        data = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
        (folder / name).write_bytes(pickle.dumps({"data": data, "labels": labels}))
    (folder / "batches.meta").write_bytes(pickle.dumps({"label_names": list("abcdefghij")}))


def test_resnet_on_cifar10_files_and_their_download(tmp_path: Path, monkeypatch: Any) -> None:
    # The tiny stand-ins cannot match CIFAR-10's checksums: present is enough.
    monkeypatch.setattr(
        torchvision.datasets.cifar, "check_integrity", lambda path, md5=None: Path(path).is_file()
    )
    downloads: list[str] = []

    def fake_download(url: str, download_root: str, **kwargs: Any) -> None:
        downloads.append(url)  # what torchvision would fetch and extract, written here
        _write_cifar_batches(Path(download_root) / "cifar-10-batches-py")

    monkeypatch.setattr(torchvision.datasets.cifar, "download_and_extract_archive", fake_download)
    objective = Objective(
        architecture="resnet", dataset="cifar10", data_dir=tmp_path, download=True, **TINY_RESNET
    )
    assert len(downloads) == 1 and downloads[0].endswith("cifar-10-python.tar.gz")
    assert objective.data.input_shape == (3, 32, 32) and objective.data.n_classes == 10
    assert sorted(p.name for p in (tmp_path / "cifar-10-batches-py").iterdir())[:2] == [
        "batches.meta",
        "data_batch_1",
    ]
    params = objective.suggest(optuna.create_study(sampler=optuna.samplers.RandomSampler(0)).ask())
    assert objective.build(params)(objective.data.x_val[:2]).shape == (2, 10)
    value = objective(optuna.trial.FixedTrial(params))
    assert 0.0 <= value <= 1.0
    # Present now: a second objective reads the files without downloading.
    Objective(architecture="resnet", dataset="cifar10", data_dir=tmp_path, **TINY_RESNET)
    assert len(downloads) == 1


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

    assert architecture_of({}, frozen({"n_conv": 1}, architecture="resnet")).name == "resnet"
    # Studies made before the name was recorded: the marker genes tell.
    assert architecture_of({"n_conv": 1}, frozen({"n_conv": 1})).name == "cnn"
    assert architecture_of({"n_layers": 2}).name == "mlp"
    with pytest.raises(ValueError, match="'n_stages' \\(resnet\\)"):
        architecture_of({"width": 3})
    with pytest.raises(ValueError, match="architecture must be one of"):
        architecture_of({}, frozen({"n_conv": 1}, architecture="vgg"))
