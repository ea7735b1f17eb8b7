"""Every numbered example runs with ``--smoke`` as a script and exits 0.

Each runs in a fresh interpreter (``sys.executable``) in a temporary working directory, so
nothing is written into the repository. An example that imports an optional dependency that is
not installed is skipped with the name of the missing module.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).parent.parent / "examples").glob("[0-9][0-9]_*.py"))
# Top-level modules an example may need beyond optuna and numpy, by the text that imports them.
OPTIONAL = {
    "import torch": "torch",
    "optuna_ga.torch": "torch",
    "sklearn": "sklearn",
    "optuna_ga.dashboard": "optuna_dashboard",
}


def test_examples_are_found():
    assert len(EXAMPLES) >= 9, [p.name for p in EXAMPLES]


@pytest.mark.slow
@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_runs_with_smoke(path: Path, tmp_path: Path):
    source = path.read_text()
    for text, module in OPTIONAL.items():
        if text in source and importlib.util.find_spec(module) is None:
            pytest.skip(f"{path.name} needs {module}, which is not installed")
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONPATH": str(path.parent.parent)}
    result = subprocess.run(
        [sys.executable, str(path), "--smoke"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, f"{path.name} failed:\n{result.stdout}\n{result.stderr}"
    assert result.stdout.strip(), f"{path.name} printed nothing"
    assert list(tmp_path.iterdir()) == [], "--smoke must not write into the working directory"
