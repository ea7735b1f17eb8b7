"""The GPU throughput benchmark, run tiny on the CPU (it has not run on a GPU yet)."""

from __future__ import annotations

import pytest

pytest.importorskip("torch")

from benchmarks import gpu_throughput


def test_gpu_throughput_quick_on_the_cpu(tmp_path) -> None:
    out = tmp_path / "gpu.md"
    text = gpu_throughput.main(["--quick", "--out", str(out)])
    assert out.read_text() == text
    rows = [line for line in text.splitlines() if line.startswith(("| cnn |", "| resnet |"))]
    assert len(rows) == 4  # 2 architectures x 1 and 2 workers per device
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert cells[2:5] == ["1", cells[3], "2"]  # one device, 2 trials in all
        assert float(cells[6].replace(",", "")) > 0  # trials/hour
    assert "python -m benchmarks.gpu_throughput --quick" in text


def test_synthetic_cifar_has_the_shape_of_cifar10() -> None:
    x, y = gpu_throughput.synthetic_cifar(12)
    assert tuple(x.shape) == (12, 3, 32, 32) and 0 <= float(x.min()) <= float(x.max()) <= 255
    assert tuple(y.shape) == (12,) and set(y.tolist()) <= set(range(10))
