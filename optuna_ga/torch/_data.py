"""Datasets as in-memory tensors with fixed, seeded train/validation/test splits.

Images become float32 ``(N, C, H, W)`` tensors, tabular data ``(N, F)``; labels are int64.
Normalisation statistics come from the training split only and are kept with the splits, so a
saved model can normalise new inputs the same way.
"""

from __future__ import annotations

import os
import pickle
import shutil
import tempfile
from dataclasses import dataclass
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from optuna_ga.torch._genes import check_bool
from optuna_ga.torch._genes import check_int

__all__ = ["DATASETS", "DataSplits", "DatasetNotFoundError", "load_dataset"]


class DatasetNotFoundError(FileNotFoundError):
    """A dataset's files are missing, corrupt (truncated, not the format expected, labels that
    do not match the images) or could not be downloaded under ``data_dir``.

    Example:
        >>> from optuna_ga.torch import DatasetNotFoundError
        >>> try:
        ...     load_dataset("mnist", data_dir="/nonexistent")
        ... except DatasetNotFoundError as error:
        ...     print("MNIST/raw/" in str(error), isinstance(error, FileNotFoundError))
        True True
    """


@dataclass(frozen=True, eq=False)
class DataSplits:
    """Train, validation and (optional) test tensors of one classification dataset.

    Attributes:
        name: Dataset name (``"digits"``, ``"mnist"``, ...; ``"custom"`` for user data).
        x_train: Normalised training inputs.
        y_train: Training labels in ``[0, n_classes)``.
        x_val: Normalised validation inputs.
        y_val: Validation labels.
        x_test: Normalised held-out test inputs, or None if there is no test split.
        y_test: Test labels, or None.
        n_classes: Number of classes.
        mean: Normalisation mean (per channel for images, per feature for tables), as
            subtracted from raw inputs.
        std: Normalisation standard deviation, as divided by.

    Example:
        >>> data = load_dataset("digits")
        >>> data.input_shape, data.n_classes, data.normalize(torch.zeros(2, 8, 8)).shape
        ((1, 8, 8), 10, torch.Size([2, 1, 8, 8]))
    """

    name: str
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor
    x_test: torch.Tensor | None
    y_test: torch.Tensor | None
    n_classes: int
    mean: torch.Tensor
    std: torch.Tensor

    @property
    def input_shape(self) -> tuple[int, ...]:
        """Shape of one sample, e.g. ``(1, 8, 8)``."""
        return tuple(self.x_train.shape[1:])

    @property
    def device(self) -> torch.device:
        """Device the tensors live on."""
        return self.x_train.device

    def to(self, device: torch.device | str) -> DataSplits:
        """Return the splits moved to ``device`` (self if they are there already)."""
        device = torch.device(device)
        if self.x_train.device == device:
            return self

        def move(t: torch.Tensor | None) -> torch.Tensor | None:
            return None if t is None else t.to(device)

        return replace(
            self,
            x_train=self.x_train.to(device),
            y_train=self.y_train.to(device),
            x_val=self.x_val.to(device),
            y_val=self.y_val.to(device),
            x_test=move(self.x_test),
            y_test=move(self.y_test),
        )

    def normalize(self, x: torch.Tensor) -> torch.Tensor:
        """Normalise raw inputs (same shape as one batch of the source data) like the splits."""
        x = x.to(torch.float32)
        if x.ndim == 3 and self.x_train.ndim == 4:
            x = x.unsqueeze(1)
        return (x - self.mean.to(x.device)) / self.std.to(x.device)


#: Dataset names :func:`load_dataset` knows, with the files each needs under ``data_dir``.
DATASETS: dict[str, str] = {
    "digits": "bundled with scikit-learn (8x8 images, 1797 samples); no files needed",
    "mnist": "MNIST/raw/ with train-images-idx3-ubyte, train-labels-idx1-ubyte, "
    "t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte (uncompressed IDX files)",
    "fashion-mnist": "FashionMNIST/raw/ with train-images-idx3-ubyte, train-labels-idx1-ubyte, "
    "t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte (uncompressed IDX files)",
    "cifar10": "cifar-10-batches-py/ with data_batch_1 ... data_batch_5, test_batch and "
    "batches.meta (the python version of CIFAR-10, extracted)",
}


_MNIST_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)
#: The files of each torchvision dataset under ``data_dir``.
_FILES: dict[str, tuple[str, ...]] = {
    "mnist": tuple(f"MNIST/raw/{f}" for f in _MNIST_FILES),
    "fashion-mnist": tuple(f"FashionMNIST/raw/{f}" for f in _MNIST_FILES),
    "cifar10": tuple(
        f"cifar-10-batches-py/{f}"
        for f in (*(f"data_batch_{i}" for i in range(1, 6)), "test_batch", "batches.meta")
    ),
}
#: Classes of each torchvision dataset: its labels lie in ``[0, n)``.
_N_CLASSES = {"mnist": 10, "fashion-mnist": 10, "cifar10": 10}
#: What torchvision raises for files it cannot read (truncated, garbled, a folder, ...).
_READ_ERRORS = (
    RuntimeError,
    ValueError,
    AssertionError,
    IndexError,
    OSError,
    EOFError,
    pickle.UnpicklingError,
)


def _permutation(n: int, seed: int) -> torch.Tensor:
    return torch.randperm(n, generator=torch.Generator().manual_seed(seed))


def _stats(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel statistics for images, per-feature for tables, one scalar otherwise."""
    if x.ndim == 4:
        dims: tuple[int, ...] = (0, 2, 3)
        keep: tuple[int, ...] = (1, x.shape[1], 1, 1)
    elif x.ndim == 2:
        dims, keep = (0,), (1, x.shape[1])
    else:
        dims, keep = tuple(range(x.ndim)), (1,) * x.ndim
    x64 = x.to(torch.float64)
    mean = x64.mean(dim=dims).reshape(keep)
    std = x64.std(dim=dims).reshape(keep)
    # Constant features (e.g. digits' border pixels in a table) are only centred.
    std = torch.where(std > 1e-8, std, torch.ones_like(std))
    return mean.to(torch.float32), std.to(torch.float32)


def _as_tensors(x: Any, y: Any) -> tuple[torch.Tensor, torch.Tensor]:
    xt = torch.as_tensor(np.asarray(x) if not isinstance(x, torch.Tensor) else x)
    yt = torch.as_tensor(np.asarray(y) if not isinstance(y, torch.Tensor) else y)
    if xt.ndim < 2:
        raise ValueError(f"inputs must have shape (N, ...), got {tuple(xt.shape)}.")
    if yt.ndim != 1 or len(yt) != len(xt):
        raise ValueError(
            f"labels must have shape ({len(xt)},) to match the inputs, got {tuple(yt.shape)}."
        )
    if yt.is_floating_point() and not torch.equal(yt, yt.round()):
        raise ValueError("labels must be integer class indices.")
    yt = yt.to(torch.int64)
    if len(yt) and int(yt.min()) < 0:
        raise ValueError("labels must be class indices >= 0.")
    return xt, yt


def _from_dataset(dataset: torch.utils.data.Dataset[Any]) -> tuple[torch.Tensor, torch.Tensor]:
    xs, ys = [], []
    for i in range(len(dataset)):  # type: ignore[arg-type]
        x, y = dataset[i]
        xs.append(x if isinstance(x, torch.Tensor) else torch.as_tensor(np.asarray(x)))
        ys.append(int(y))
    if not xs:
        raise ValueError("dataset is empty.")
    return torch.stack(xs), torch.tensor(ys, dtype=torch.int64)


def _torchvision_class(name: str) -> Any:
    import torchvision

    return {
        "mnist": torchvision.datasets.MNIST,
        "fashion-mnist": torchvision.datasets.FashionMNIST,
        "cifar10": torchvision.datasets.CIFAR10,
    }[name]


def _download(name: str, data_dir: Path) -> None:
    """Download into a scratch folder and move complete files into place, or raise.

    A failed or interrupted download leaves nothing under ``data_dir`` that could later pass
    for a complete dataset.
    """
    cls = _torchvision_class(name)
    data_dir.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{name}-download-", dir=data_dir))
    try:
        try:
            cls(str(scratch), train=True, download=True)
            cls(str(scratch), train=False, download=False)
        except Exception as e:
            reason = " ".join(str(e).split()) or "no reason given"
            raise DatasetNotFoundError(
                f"Downloading {name!r} into {data_dir} failed ({type(e).__name__}: {reason}). "
                f"Without network access, put the files there yourself: {DATASETS[name]}."
            ) from e
        for path in sorted(scratch.rglob("*")):
            if path.is_file():
                target = data_dir / path.relative_to(scratch)
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(path, target)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _corrupt(name: str, data_dir: Path, cause: BaseException | str) -> DatasetNotFoundError:
    if isinstance(cause, BaseException):
        text = " ".join(str(cause).split())
        if text.startswith("Dataset not found"):  # torchvision's own check of the files
            cause = "a file is missing or fails torchvision's check"
        else:
            cause = f"{type(cause).__name__}: {text}" if text else type(cause).__name__
    return DatasetNotFoundError(
        f"Dataset {name!r} under {data_dir} is missing or corrupt ({cause}): delete its files "
        "and copy them again, or pass download=True to fetch them again."
    )


def _read_split(name: str, data_dir: Path, train: bool) -> list[torch.Tensor]:
    """One split as ``[images, labels]``, checked; raises one of ``_READ_ERRORS`` or
    :class:`DatasetNotFoundError`."""
    ds = _torchvision_class(name)(str(data_dir), train=train, download=False)
    x = torch.as_tensor(np.asarray(ds.data))
    y = torch.as_tensor(np.asarray(ds.targets), dtype=torch.int64)
    split = "training" if train else "test"
    if x.ndim not in (3, 4) or y.ndim != 1 or not len(x):
        cause = f"{split} images of shape {tuple(x.shape)}, labels of shape {tuple(y.shape)}"
        raise _corrupt(name, data_dir, cause)
    if len(x) != len(y):
        raise _corrupt(name, data_dir, f"{len(x)} {split} images but {len(y)} labels")
    n_classes = _N_CLASSES[name]
    outside = y[(y < 0) | (y >= n_classes)]
    if len(outside):
        raise _corrupt(
            name, data_dir, f"a {split} label is {int(outside[0])}, not in [0, {n_classes})"
        )
    if x.ndim == 3:  # (N, H, W) grey images
        x = x.unsqueeze(1)
    elif x.shape[-1] in (1, 3):  # CIFAR: (N, H, W, C)
        x = x.permute(0, 3, 1, 2).contiguous()
    return [x, y]


def _read_torchvision(name: str, data_dir: Path) -> list[torch.Tensor]:
    """Training images and labels, test images and labels; or :class:`DatasetNotFoundError`."""
    splits = []
    for train in (True, False):
        try:
            splits += _read_split(name, data_dir, train)
        except DatasetNotFoundError:  # an OSError: not to be wrapped below
            raise
        except _READ_ERRORS as error:
            if any((data_dir / f).exists() for f in _FILES[name]):
                raise _corrupt(name, data_dir, error) from error
            raise DatasetNotFoundError(
                f"Dataset {name!r} not found under {data_dir}. Expected files: "
                f"{data_dir}/{DATASETS[name]}. Pass download=True to fetch them; without "
                "network access, copy them there yourself."
            ) from None
    return splits


def _load_torchvision(
    name: str, data_dir: Path, download: bool
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    try:
        splits = _read_torchvision(name, data_dir)
    except DatasetNotFoundError:
        if not download:
            raise
        _download(name, data_dir)  # replaces files that are there
        splits = _read_torchvision(name, data_dir)
    return splits[0], splits[1], splits[2], splits[3]


def load_dataset(
    dataset: str | tuple[Any, Any] | torch.utils.data.Dataset[Any] = "digits",
    *,
    data_dir: str | os.PathLike[str] | None = None,
    download: bool = False,
    seed: int = 0,
    val_fraction: float = 0.2,
    test_fraction: float | None = None,
    max_train_samples: int | None = None,
    normalize: bool = True,
) -> DataSplits:
    """Load a classification dataset as normalised in-memory tensors with fixed splits.

    Args:
        dataset: A name from :data:`DATASETS` (``"digits"``, ``"mnist"``, ``"fashion-mnist"``,
            ``"cifar10"``), an ``(inputs, labels)`` pair of tensors or arrays, or a
            ``torch.utils.data.Dataset`` of ``(input, label)`` items.
        data_dir: Folder holding torchvision datasets; default ``~/.cache/optuna_ga/data``.
        download: Whether to download a missing torchvision dataset.
        seed: Seed of the train/validation split. The test split of ``digits`` and of user
            data does not depend on it (seed 0), so test results stay comparable.
        val_fraction: Share of the training data held out for validation, in ``(0, 1)``.
        test_fraction: Share held out for testing where the dataset has no test split of its
            own; default 0.2 for ``digits`` and 0 (no test split) for user data. Must stay
            None for datasets with an official test split.
        max_train_samples: Keep at most this many training samples (after the split), for
            quick searches on large datasets.
        normalize: Standardise inputs with statistics of the training split.

    Returns:
        The splits.

    Raises:
        DatasetNotFoundError: If a torchvision dataset's files are missing or corrupt and
            ``download`` is False, or the download fails.
        ValueError: If an argument is out of range.

    Example:
        >>> data = load_dataset("digits")
        >>> data.input_shape, data.n_classes, len(data.x_train), len(data.x_val), len(data.x_test)
        ((1, 8, 8), 10, 1150, 288, 359)
    """
    check_bool("download", download)
    check_int("seed", seed, 0)
    check_bool("normalize", normalize)
    if not isinstance(val_fraction, (int, float)) or not 0 < val_fraction < 1:
        raise ValueError(f"val_fraction must lie in (0, 1), got {val_fraction!r}.")
    if test_fraction is not None and (
        not isinstance(test_fraction, (int, float)) or not 0 <= test_fraction < 1
    ):
        raise ValueError(f"test_fraction must lie in [0, 1), got {test_fraction!r}.")
    if max_train_samples is not None and (
        isinstance(max_train_samples, bool)
        or not isinstance(max_train_samples, int)
        or max_train_samples < 1
    ):
        raise ValueError(f"max_train_samples must be an int >= 1, got {max_train_samples!r}.")

    x_test: torch.Tensor | None = None
    y_test: torch.Tensor | None = None
    if isinstance(dataset, str):
        name = dataset.lower()
        if name not in DATASETS:
            raise ValueError(f"dataset must be one of {sorted(DATASETS)}, got {dataset!r}.")
        if name == "digits":
            from sklearn.datasets import load_digits

            bunch = load_digits()
            x = torch.as_tensor(bunch.images, dtype=torch.float32).unsqueeze(1)
            y = torch.as_tensor(bunch.target, dtype=torch.int64)
            default_test = 0.2
        else:
            if test_fraction is not None:
                raise ValueError(f"test_fraction must be None: {name!r} has its own test split.")
            root = Path(data_dir) if data_dir is not None else _default_data_dir()
            x, y, x_test, y_test = _load_torchvision(name, root, download)
            default_test = 0.0
    else:
        name = "custom"
        if isinstance(dataset, tuple):
            if len(dataset) != 2:
                raise ValueError("dataset as a tuple must be (inputs, labels).")
            x, y = _as_tensors(*dataset)
        elif isinstance(dataset, torch.utils.data.Dataset):
            x, y = _as_tensors(*_from_dataset(dataset))
        else:
            raise ValueError(
                "dataset must be a name, an (inputs, labels) pair or a torch Dataset, "
                f"got {type(dataset)}."
            )
        default_test = 0.0

    if x_test is None:
        fraction = default_test if test_fraction is None else float(test_fraction)
        n_test = round(fraction * len(x))
        if n_test:
            order = _permutation(len(x), 0)
            x, y = x[order], y[order]
            x_test, y_test, x, y = x[:n_test], y[:n_test], x[n_test:], y[n_test:]
    n_val = max(1, round(val_fraction * len(x)))
    if len(x) - n_val < 2:
        raise ValueError(f"{len(x)} training samples are too few for a validation split.")
    order = _permutation(len(x), seed)
    x_val, y_val = x[order[:n_val]], y[order[:n_val]]
    x_train, y_train = x[order[n_val:]], y[order[n_val:]]
    if max_train_samples is not None:
        x_train, y_train = x_train[:max_train_samples], y_train[:max_train_samples]

    x_train = x_train.to(torch.float32)
    if normalize:
        mean, std = _stats(x_train)
    else:
        mean = torch.zeros((1,) * x_train.ndim)
        std = torch.ones((1,) * x_train.ndim)

    def norm(t: torch.Tensor) -> torch.Tensor:
        return ((t.to(torch.float32) - mean) / std).contiguous()

    labels = [y_train, y_val] + ([] if y_test is None else [y_test])
    n_classes = int(max(int(t.max()) for t in labels if len(t))) + 1
    return DataSplits(
        name=name,
        x_train=norm(x_train),
        y_train=y_train.contiguous(),
        x_val=norm(x_val),
        y_val=y_val.contiguous(),
        x_test=None if x_test is None else norm(x_test),
        y_test=None if y_test is None else y_test.contiguous(),
        n_classes=n_classes,
        mean=mean.squeeze(0),
        std=std.squeeze(0),
    )


def _default_data_dir() -> Path:
    return Path(os.environ.get("OPTUNA_GA_DATA", Path.home() / ".cache" / "optuna_ga" / "data"))
