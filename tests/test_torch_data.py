"""Datasets (digits, MNIST IDX files through torchvision, user data) and train_best/save/load."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import optuna
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("torchvision")

from optuna.trial import FixedTrial  # noqa: E402

from optuna_ga.torch import CNNObjective  # noqa: E402
from optuna_ga.torch import DatasetNotFoundError  # noqa: E402
from optuna_ga.torch import MLPObjective  # noqa: E402
from optuna_ga.torch import load_config  # noqa: E402
from optuna_ga.torch import load_dataset  # noqa: E402
from optuna_ga.torch import load_model  # noqa: E402
from optuna_ga.torch import train_best  # noqa: E402

optuna.logging.set_verbosity(optuna.logging.WARNING)

MLP_PARAMS = {
    "n_layers": 1,
    "input_dropout": 0.0,
    "units_l1": 64,
    "dropout_l1": 0.1,
    "activation": "relu",
    "batch_norm": True,
    "initializer": "xavier_uniform",
    "optimizer": "adam",
    "learning_rate": 0.01,
    "weight_decay": 1e-5,
    "batch_size": 64,
}


def _write_idx(path: Path, array: torch.Tensor) -> None:
    """Write a uint8 tensor in the IDX format MNIST uses (big-endian header, raw bytes)."""
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(
        f">{array.ndim}I", *array.shape
    )
    path.write_bytes(header + array.contiguous().numpy().tobytes())


def write_fake_mnist(root: Path, folder: str = "MNIST", n_train: int = 240, n_test: int = 60):
    """Tiny MNIST-layout files: class k has a bright bar at rows 2k..2k+2, plus noise."""
    raw = root / folder / "raw"
    raw.mkdir(parents=True)
    gen = torch.Generator().manual_seed(0)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        labels = torch.arange(n, dtype=torch.uint8) % 10
        images = torch.randint(0, 60, (n, 28, 28), generator=gen, dtype=torch.uint8)
        for i, k in enumerate(labels.tolist()):
            images[i, 2 * k + 4 : 2 * k + 7, 4:24] = 255
        _write_idx(raw / f"{prefix}-images-idx3-ubyte", images)
        _write_idx(raw / f"{prefix}-labels-idx1-ubyte", labels)


def test_digits_splits_are_fixed_and_normalised_from_training_data():
    a, b = load_dataset("digits"), load_dataset("digits")
    assert torch.equal(a.x_val, b.x_val) and torch.equal(a.y_train, b.y_train)
    other = load_dataset("digits", seed=1)
    # The test split never depends on the seed (its normalisation follows the training split).
    assert torch.equal(a.y_test, other.y_test)
    assert torch.allclose(a.x_test * a.std + a.mean, other.x_test * other.std + other.mean)
    assert not torch.equal(a.y_val, other.y_val)
    assert abs(float(a.x_train.mean())) < 1e-5 and abs(float(a.x_train.std()) - 1) < 1e-3
    assert len(a.x_train) + len(a.x_val) + len(a.x_test) == 1797


def test_mnist_idx_files_through_torchvision(tmp_path):
    write_fake_mnist(tmp_path)
    data = load_dataset("mnist", data_dir=tmp_path, val_fraction=0.25)
    assert data.input_shape == (1, 28, 28) and data.n_classes == 10
    assert (len(data.x_train), len(data.x_val), len(data.x_test)) == (180, 60, 60)
    objective = CNNObjective(
        dataset=data, max_conv_blocks=2, filters=[4, 8], max_dense_layers=1, units=[16], epochs=2
    )
    study = optuna.create_study(
        direction="maximize", sampler=optuna.samplers.RandomSampler(seed=0)
    )
    study.optimize(objective, n_trials=2)
    assert all(0.0 <= t.value <= 1.0 for t in study.trials if t.value is not None)
    assert study.trials[0].distributions["n_conv"].high == 2


def test_fashion_mnist_uses_its_own_folder(tmp_path):
    write_fake_mnist(tmp_path, folder="FashionMNIST", n_train=50, n_test=10)
    data = load_dataset("fashion-mnist", data_dir=tmp_path, max_train_samples=20)
    assert len(data.x_train) == 20 and len(data.x_test) == 10


def test_missing_dataset_gives_one_clear_error(tmp_path):
    with pytest.raises(DatasetNotFoundError, match="download=True") as info:
        load_dataset("mnist", data_dir=tmp_path)
    assert str(tmp_path) in str(info.value) and "train-images-idx3-ubyte" in str(info.value)
    assert isinstance(info.value, FileNotFoundError)
    with pytest.raises(DatasetNotFoundError):
        MLPObjective(dataset="cifar10", data_dir=tmp_path)


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:5000])


def _random_bytes(path: Path) -> None:
    path.write_bytes(bytes(range(256)) * 12)


def _fewer_labels(path: Path) -> None:
    _write_idx(path, torch.arange(100, dtype=torch.uint8) % 10)


def _label_200(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[-1] = 200
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    ("spoil", "file", "cause"),
    [
        (_truncate, "train-images-idx3-ubyte", "RuntimeError: shape '[240, 28, 28]' is invalid"),
        (lambda p: p.write_bytes(b""), "t10k-images-idx3-ubyte", "ValueError: "),
        (lambda p: p.write_bytes(b"\0\0\x08\x01\0\0"), "train-labels-idx1-ubyte", "ValueError: "),
        (_random_bytes, "train-images-idx3-ubyte", "AssertionError"),
        (_fewer_labels, "train-labels-idx1-ubyte", "240 training images but 100 labels"),
        (_label_200, "t10k-labels-idx1-ubyte", "a test label is 200, not in [0, 10)"),
        (lambda p: (p.unlink(), p.mkdir()), "t10k-labels-idx1-ubyte", "a file is missing"),
    ],
)
def test_corrupt_mnist_files_give_one_clear_error(tmp_path, spoil, file, cause):
    write_fake_mnist(tmp_path)
    spoil(tmp_path / "MNIST" / "raw" / file)
    with pytest.raises(DatasetNotFoundError) as info:
        load_dataset("mnist", data_dir=tmp_path)
    assert str(info.value).startswith(
        f"Dataset 'mnist' under {tmp_path} is missing or corrupt ({cause}"
    ), info.value
    assert str(info.value).endswith(
        "): delete its files and copy them again, or pass download=True to fetch them again."
    )


def test_corrupt_cifar10_files_are_not_said_to_be_missing(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch", "batches.meta"]:
        (folder / name).write_bytes(bytes(range(100)))
    with pytest.raises(DatasetNotFoundError, match=r"'cifar10' under .* is missing or corrupt"):
        load_dataset("cifar10", data_dir=tmp_path)


def test_failed_download_leaves_nothing_behind(tmp_path, monkeypatch):
    import torchvision

    def broken_download(self):
        os.makedirs(self.raw_folder, exist_ok=True)
        Path(self.raw_folder, "train-images-idx3-ubyte").write_bytes(b"half a file")
        raise RuntimeError("Error downloading train-images-idx3-ubyte.gz: no network")

    monkeypatch.setattr(torchvision.datasets.MNIST, "download", broken_download)
    with pytest.raises(DatasetNotFoundError, match="no network"):
        load_dataset("mnist", data_dir=tmp_path, download=True)
    assert list(tmp_path.rglob("*")) == []


def test_torch_dataset_input():
    x = torch.randn(50, 1, 4, 4)
    y = torch.arange(50) % 3
    data = load_dataset(torch.utils.data.TensorDataset(x, y), test_fraction=0.2)
    assert data.input_shape == (1, 4, 4) and data.n_classes == 3
    assert len(data.x_test) == 10
    with pytest.raises(ValueError, match="labels"):
        load_dataset((x, y[:-1]))
    with pytest.raises(ValueError, match="dataset must be one of"):
        load_dataset("imagenet")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"seed": float("nan")}, "seed must be an int >= 0, got nan."),
        ({"seed": 1.5}, "seed must be an int >= 0, got 1.5."),
        ({"seed": True}, "seed must be an int >= 0, got True."),
        ({"seed": "x"}, "seed must be an int >= 0, got 'x'."),
        ({"seed": -1}, "seed must be an int >= 0, got -1."),
        ({"normalize": "no"}, "normalize must be True or False, got 'no'."),
        ({"download": 1}, "download must be True or False, got 1."),
    ],
)
def test_load_dataset_names_a_bad_argument_and_its_range(kwargs, message):
    with pytest.raises(ValueError) as info:
        load_dataset("digits", **kwargs)
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"num_threads": 0}, "num_threads must be an int >= 1, got 0."),
        ({"num_threads": 2.0}, "num_threads must be an int >= 1, got 2.0."),
        ({"seed": float("nan")}, "seed must be an int >= 0, got nan."),
        ({"seed": -1}, "seed must be an int >= 0, got -1."),
        ({"download": "yes"}, "download must be True or False, got 'yes'."),
        ({"include_validation": 0}, "include_validation must be True or False, got 0."),
    ],
)
def test_train_best_checks_its_arguments_before_loading_data(monkeypatch, kwargs, message):
    def never(*args, **kwargs):
        raise AssertionError("the data was loaded")

    monkeypatch.setattr("optuna_ga.torch._best.load_dataset", never)
    with pytest.raises(ValueError) as info:
        train_best(MLP_PARAMS, epochs=1, **kwargs)
    assert str(info.value) == message


def test_train_best_save_and_load_round_trip(tmp_path):
    best = train_best(MLP_PARAMS, epochs=4, save_to=tmp_path / "model")
    assert best.test_accuracy is not None and best.test_accuracy > 0.85
    loaded = load_model(tmp_path / "model")
    data = load_dataset("digits")
    best.model.eval()
    with torch.no_grad():
        assert torch.equal(best.model(data.x_test), loaded(data.x_test))
    config = load_config(tmp_path / "model")
    assert config["params"] == MLP_PARAMS and config["architecture"] == "mlp"
    assert config["metrics"]["test_accuracy"] == best.test_accuracy
    json.dumps(config)  # plain JSON all the way down
    # Raw pixels are normalised with the stored statistics.
    mean = torch.tensor(config["normalization"]["mean"])
    std = torch.tensor(config["normalization"]["std"])
    assert torch.allclose(
        data.normalize(data.x_test * data.std + data.mean), data.x_test, atol=1e-5
    )
    assert torch.allclose(mean, data.mean) and torch.allclose(std, data.std)
    with pytest.raises(FileNotFoundError):
        load_model(tmp_path / "nowhere")


def test_train_best_reproduces_the_trial():
    objective = MLPObjective(epochs=3, patience=None, seed=3)
    study = optuna.create_study(direction="maximize")
    study.enqueue_trial(MLP_PARAMS)
    study.optimize(objective, n_trials=1)
    again = train_best(study, epochs=3, include_validation=False)
    assert again.val_accuracy == study.best_value
    assert again.architecture == "mlp"


def test_train_best_cnn_from_frozen_trial(tmp_path):
    objective = CNNObjective(filters=[8], max_conv_blocks=1, max_dense_layers=0, epochs=1)
    params = {
        "n_conv": 1,
        "filters_c1": 8,
        "kernel_c1": 3,
        "activation_c1": "relu",
        "batch_norm_c1": True,
        "pool_c1": True,
        "dropout_c1": 0.0,
        "n_dense": 0,
        "optimizer": "adam",
        "learning_rate": 0.01,
        "weight_decay": 1e-5,
        "batch_size": 64,
    }
    assert objective.suggest(FixedTrial(params)) == params
    best = train_best(params, epochs=2, save_to=tmp_path)
    assert best.architecture == "cnn"
    x = torch.randn(3, 1, 8, 8)
    best.model.eval()
    with torch.no_grad():
        assert torch.equal(best.model(x), load_model(tmp_path)(x))


def test_import_optuna_ga_without_torch():
    code = (
        "import sys; sys.modules['torch'] = None; import optuna_ga; "
        "assert 'torchvision' not in sys.modules; print('ok')"
    )
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_cifar10_layout_becomes_channels_first(tmp_path, monkeypatch):
    import pickle

    import numpy as np
    import torchvision

    # Tiny stand-ins for CIFAR-10's batch files; their checksums cannot match the real ones.
    monkeypatch.setattr(torchvision.datasets.cifar, "check_integrity", lambda *a, **k: True)
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    rng = np.random.default_rng(0)
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    for name in names:
        entry = {"data": rng.integers(0, 256, (8, 3072), dtype=np.uint8), "labels": [0, 1] * 4}
        (folder / name).write_bytes(pickle.dumps(entry))
    (folder / "batches.meta").write_bytes(pickle.dumps({"label_names": ["a", "b"]}))
    data = load_dataset("cifar10", data_dir=tmp_path)
    assert data.input_shape == (3, 32, 32) and len(data.x_test) == 8
    assert data.mean.shape == (3, 1, 1)  # per-channel statistics


def test_corrupt_saved_model_gives_a_clear_error(tmp_path):
    model_dir = tmp_path / "model"
    train_best(MLP_PARAMS, epochs=1, save_to=model_dir)
    weights = (model_dir / "weights.pt").read_bytes()
    (model_dir / "weights.pt").write_bytes(weights[: len(weights) // 2])
    with pytest.raises(ValueError, match=r"weights\.pt is corrupt"):
        load_model(model_dir)
    (model_dir / "config.json").write_text('{"format":')
    with pytest.raises(ValueError, match=r"config\.json is corrupt"):
        load_model(model_dir)
