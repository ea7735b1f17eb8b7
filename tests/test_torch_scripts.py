"""Smoke runs of the torch example and of the training-loop benchmark (figures not checked)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("sklearn")

ROOT = Path(__file__).resolve().parents[1]


def _load(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_mlp_digits_example_smoke(capsys):
    example = _load(ROOT / "examples" / "02_mlp_digits.py")
    study = example.main(["--smoke"])
    assert len(study.trials) == 6
    out = capsys.readouterr().out
    assert "best validation accuracy" in out and "test accuracy" in out


def test_training_loop_benchmark_quick(tmp_path):
    bench = _load(ROOT / "benchmarks" / "training_loop.py")
    rows = bench.main(["--quick", "--write", str(tmp_path / "TRAINING.md")])
    assert {row["loop"] for row in rows} == {
        "optuna_ga.torch.fit (index slicing)",
        "DataLoader(TensorDataset)",
        "DataLoader + per-sample transform (Optuna example style)",
    }
    text = (tmp_path / "TRAINING.md").read_text()
    assert "--quick" in text and "samples/s" in text
