"""Smoke runs of the benchmark scripts (their figures are not checked here: they are not tests)."""

from __future__ import annotations

import pytest

from benchmarks import overhead


def test_overhead_quick_reports_every_sampler(capsys: pytest.CaptureFixture[str]) -> None:
    text = overhead.main(["--quick"])
    for name in overhead.SAMPLERS:
        for clock in ("wall", "cpu"):
            assert f"| memory | 60 | {clock} | {name} |" in text
    assert "python -m benchmarks.overhead --quick" in text
