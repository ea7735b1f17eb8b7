"""Without an extra's libraries, what needs them says in one line which extra to install."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NO_TORCH = "import sys\nsys.modules['torch'] = None  # as if torch were not installed\n"


def _python(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def test_import_optuna_ga_torch_without_torch_names_the_extra(tmp_path: Path) -> None:
    result = _python(NO_TORCH + "import optuna_ga.torch\n", tmp_path)
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last == (
        "ImportError: optuna_ga.torch needs torch, which is not installed. "
        'Install the extra: pip install "optuna-ga[torch]"'
    )


def test_optuna_ga_run_without_torch_names_the_extra_in_one_line(tmp_path: Path) -> None:
    run = "from optuna_ga.cli import main\nsys.exit(main(['run', '--n-trials', '1']))\n"
    result = _python(NO_TORCH + run, tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "optuna-ga run: error: optuna_ga.torch needs torch, which is not installed. "
        'Install the extra: pip install "optuna-ga[torch]"'
    ]
