"""The README keeps its promises: its first command installs what it uses next, and its Python
snippet and the quickstart example keep their studies out of the main job's file."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import optuna

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def code_blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.DOTALL)


def test_the_first_two_commands_stay_at_the_top() -> None:
    first = code_blocks("bash")[0]
    commands = [line for line in first.splitlines() if line and not line.startswith("#")]
    assert commands[0].endswith("optuna-ga run --storage sqlite:///optuna_ga.db --n-trials 60")
    assert commands[1] == "bash .ci/run"
    assert README.index(first) < README.index("## ")  # before the first section


def test_the_main_command_installs_what_the_readme_uses() -> None:
    main = code_blocks("bash")[0].splitlines()[1]
    (extras,) = re.findall(r"pip install -e '\.\[([\w,]+)\]'", main)
    installed = set(extras.split(","))
    # The README's later commands: plot and dashboard need the dashboard extra, run the torch one.
    used = {"torch"}
    if re.search(r"optuna-ga (plot|dashboard)", README) or "optuna_ga.dashboard" in README:
        used.add("dashboard")
    assert used <= installed, f"the main command installs {installed}, the README uses {used}"


def run_python(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONWARNINGS": "ignore"}
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def test_usage_snippet_has_its_own_study_and_prints_its_result(tmp_path: Path) -> None:
    (snippet,) = [block for block in code_blocks("python") if "create_study" in block]
    assert "n_trials=100" in snippet
    snippet = snippet.replace("n_trials=100", "n_trials=12")  # seconds, not a minute
    for _ in range(2):  # run again: the same study continues
        result = run_python("-c", snippet, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith("best value "), result.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["usage.db"]
    storage = f"sqlite:///{tmp_path}/usage.db"
    assert optuna.get_all_study_names(storage) == ["usage"]
    assert len(optuna.load_study(study_name="usage", storage=storage).trials) == 24


def test_quickstart_example_keeps_out_of_the_main_jobs_file(tmp_path: Path) -> None:
    script = ROOT / "examples" / "01_quickstart.py"
    result = run_python(str(script), "--n-trials", "20", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("best value ")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["quickstart.db"]
