"""The documentation site builds with ``mkdocs build --strict`` (no warnings), offline.

Needs the ``docs`` extra (mkdocs-material, mkdocstrings[python]). Without it the tests skip,
except in CI (``CI=true``), where a missing docs toolchain is a failure.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NEEDED = ("mkdocs", "material", "mkdocstrings", "mkdocstrings_handlers.python")


def _missing() -> list[str]:
    missing = []
    for name in NEEDED:
        try:
            found = importlib.util.find_spec(name) is not None
        except ModuleNotFoundError:  # the parent package is missing
            found = False
        if not found:
            missing.append(name)
    return missing


@pytest.fixture(scope="module", autouse=True)
def _docs_toolchain() -> None:
    missing = _missing()
    if not missing:
        return
    message = f"the docs toolchain is not installed (missing {', '.join(missing)}): "
    message += "pip install -e '.[docs]'"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def _build(root: Path, site: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "PYTHONPATH": str(root)}
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _copy_project(target: Path) -> Path:
    """The files the site is built from, copied so that a test can add or change some."""
    target.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copy(ROOT / "mkdocs.yml", target / "mkdocs.yml")
    for folder in ("docs", "optuna_ga", "examples"):
        shutil.copytree(ROOT / folder, target / folder, ignore=ignore)
    (target / "benchmarks").mkdir()
    for path in (ROOT / "benchmarks").glob("*.md"):
        shutil.copy(path, target / "benchmarks" / path.name)
    return target


@pytest.mark.slow
def test_docs_build_strict(tmp_path: Path) -> None:
    site = tmp_path / "site"
    result = _build(ROOT, site)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNING" not in result.stderr, result.stderr
    # The API pages hold every public function and class (mkdocstrings renders them by id).
    api = "".join(p.read_text() for p in (site / "api").rglob("index.html"))
    for module in ("operators", "storages", "torch", "visualization", "dashboard"):
        exported = __import__(f"optuna_ga.{module}", fromlist=["__all__"]).__all__
        for name in exported:
            if not name.isupper():  # constants have no docstring of their own
                assert f'id="optuna_ga.{module}.{name}"' in api, f"{module}.{name}"
    for name in ("GeneticSampler", "canonical_hash"):
        assert f'id="optuna_ga.{name}"' in api
    # The CLI page holds the generated --help text of every subcommand.
    cli = (site / "cli" / "index.html").read_text()
    for command in ("run", "best", "train-best", "plot", "dashboard"):
        assert f"usage: optuna-ga {command}" in cli


@pytest.mark.slow
def test_docs_build_with_or_without_benchmark_results(tmp_path: Path) -> None:
    root = _copy_project(tmp_path / "project")
    results = root / "benchmarks" / "RESULTS.md"
    results.unlink(missing_ok=True)
    result = _build(root, tmp_path / "without")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Not written yet" in (tmp_path / "without" / "benchmarks" / "index.html").read_text()

    # Links of every kind that a results file may hold: a figure under benchmarks/, a figure
    # under docs/images/, another markdown file, a source file, a web link and an anchor.
    (root / "benchmarks" / "images").mkdir()
    shutil.copy(ROOT / "docs" / "images" / "generations.png", root / "benchmarks" / "images")
    results.write_text(
        "# Benchmark results\n\n## Search quality\n\n"
        "![regret](images/generations.png) ![dashboard](../docs/images/dashboard.png)\n"
        "See [the runner](search_quality.py), [training](TRAINING.md), "
        "[Optuna](https://optuna.org) and [above](#search-quality).\n\n"
        "```\n# not a heading\n[not](a-link.md)\n```\n"
    )
    result = _build(root, tmp_path / "with")
    assert result.returncode == 0, result.stdout + result.stderr
    page = (tmp_path / "with" / "benchmarks" / "index.html").read_text()
    assert "images/generations.png" in page and "<code>benchmarks/search_quality.py</code>" in page
    assert (tmp_path / "with" / "benchmarks" / "images" / "generations.png").is_file()
    assert "# not a heading" in page and "Not written yet" not in page
