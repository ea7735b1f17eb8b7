"""The OptunaHub package in hub/samplers/genetic_sampler, as the registry loads and checks it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import optunahub
import yaml
from packaging.requirements import Requirement

import optuna_ga

ROOT = Path(__file__).resolve().parent.parent
REGISTRY_ROOT = ROOT / "hub"
PACKAGE = "samplers/genetic_sampler"
FOLDER = REGISTRY_ROOT / PACKAGE


def _python(code_or_file: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    args = [str(code_or_file)] if isinstance(code_or_file, Path) else ["-c", code_or_file]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def test_load_local_module_exposes_the_sampler() -> None:
    module = optunahub.load_local_module(PACKAGE, registry_root=str(REGISTRY_ROOT))
    assert module.__all__ == ["GeneticSampler"]
    assert module.GeneticSampler is optuna_ga.GeneticSampler


def test_example_runs_a_study(tmp_path: Path) -> None:
    result = _python(FOLDER / "example.py", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "30 trials in 4 generations"  # 10, then 8 per generation (2 elites)
    assert lines[1].startswith("best value ")


def test_without_optuna_ga_the_error_says_what_to_install(tmp_path: Path) -> None:
    code = (
        "import sys, optunahub\n"
        "sys.modules['optuna_ga'] = None  # as if optuna-ga were not installed\n"
        f"optunahub.load_local_module({PACKAGE!r}, registry_root={str(REGISTRY_ROOT)!r})\n"
    )
    result = _python(code, cwd=tmp_path)
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.endswith("needs the optuna-ga package: pip install optuna-ga"), result.stderr


def test_readme_front_matter_is_what_the_registry_checks() -> None:
    # The registry's header check: these keys, strings, lists of strings, 'MIT License'.
    text = (FOLDER / "README.md").read_text()
    _, front, body = text.split("---\n", 2)
    header = yaml.safe_load(front)
    assert set(header) == {
        "author",
        "title",
        "description",
        "tags",
        "optuna_versions",
        "license",
    }
    for key in ("author", "title", "description", "license"):
        assert isinstance(header[key], str) and header[key], key
    for key in ("tags", "optuna_versions"):
        assert header[key] and all(isinstance(v, str) for v in header[key]), key
    assert "sampler" in header["tags"]  # required of packages under package/samplers/
    assert header["license"] == "MIT License"
    assert "## Example" in body and "GeneticSampler" in body


def test_license_and_requirements_match_the_project() -> None:
    assert (FOLDER / "LICENSE").read_text() == (ROOT / "LICENSE").read_text()
    (line,) = (FOLDER / "requirements.txt").read_text().splitlines()
    requirement = Requirement(line)
    assert requirement.name == "optuna-ga"
    assert requirement.specifier.contains(optuna_ga.__version__)
