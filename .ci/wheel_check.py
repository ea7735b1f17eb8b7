"""CI check of what a user installs: the sdist and wheel, the wheel in a fresh venv.

1. ``python -m build`` makes the sdist and, from it, the wheel (in build/wheel-check/dist).
2. The wheel holds every module of optuna_ga, its ``py.typed`` and its metadata with the
   LICENSE, and nothing else: no tests, benchmarks, docs or images.
3. A fresh venv gets the wheel with its core dependencies only: ``import optuna_ga`` imports
   neither torch nor the plotting libraries, ``optuna_ga.__version__`` is the distribution's
   version and the wheel's, a 30-trial study on SQLite runs, ``optuna-ga --version`` prints it,
   and ``optuna-ga run`` says in one line which extra it needs.
4. The same venv then gets ``[torch]``: ``optuna_ga.torch`` loads the digits data (torch,
   torchvision and scikit-learn import), and ``optuna-ga run --help`` shows the GA options.

pip installs each step: it resolves it for the venv (``pip install --dry-run --report``) and
installs it. A distribution that the CI venv (the one running this script) already holds in the
very version pip chose is hard-linked from there first, so that pip finds it installed: torch's
CUDA build alone is 5.5 GB and more than a minute to unpack. The venvs run without PYTHONPATH and
outside the checkout, so they import the wheel's optuna_ga, never the checkout's.

Run from the repository root: ``.venv/bin/python .ci/wheel_check.py`` (``bash .ci/run`` does).
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import time
import zipfile
from pathlib import Path
from typing import NoReturn

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "build" / "wheel-check"
PROJECT = "optuna-ga"
IMAGES = (".png", ".jpg", ".jpeg", ".gif", ".svg")
ENV = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
START = time.monotonic()

STUDY = """
import importlib.metadata, importlib.util, json, sys
import optuna, optuna_ga

optuna.logging.set_verbosity(optuna.logging.WARNING)
heavy = sorted(m for m in ("torch", "plotly", "matplotlib", "sklearn") if m in sys.modules)


def objective(trial):
    x = trial.suggest_float("x", -5.0, 5.0)
    n = trial.suggest_int("n", 1, 4)
    kind = trial.suggest_categorical("kind", ["a", "b"])
    return (x - 1.0) ** 2 + n + (kind == "b")


study = optuna.create_study(storage="sqlite:///study.db", sampler=optuna_ga.GeneticSampler(seed=0))
study.optimize(objective, n_trials=30)
print(json.dumps({
    "file": optuna_ga.__file__,
    "version": optuna_ga.__version__,
    "dist_version": importlib.metadata.version("optuna-ga"),
    "imported_heavy": heavy,
    "torch_installed": importlib.util.find_spec("torch") is not None,
    "complete": sum(t.state == optuna.trial.TrialState.COMPLETE for t in study.trials),
    "distinct": len({json.dumps(t.params, sort_keys=True) for t in study.trials}),
    "generations": sorted({t.user_attrs["ga_generation"] for t in study.trials}),
    "bred": sum(bool(t.user_attrs["ga_parents"]) for t in study.trials),
}))
"""

TORCH = """
import torchvision  # imports only beside a matching torch build
from optuna_ga.torch import load_dataset

splits = load_dataset("digits")  # scikit-learn's bundled data
print(splits.n_classes)
"""


def fail(message: str) -> NoReturn:
    raise SystemExit(f"wheel-check: FAILED: {message}")


def step(message: str) -> None:
    print(f"wheel-check [{time.monotonic() - START:5.1f} s] {message}", flush=True)


def run(*cmd: str | Path, cwd: Path = WORK, returncode: int = 0) -> subprocess.CompletedProcess:
    """Run ``cmd`` without PYTHONPATH; fail unless it exits with ``returncode``."""
    args = [str(c) for c in cmd]
    result = subprocess.run(args, cwd=cwd, env=ENV, capture_output=True, text=True, timeout=600)
    if result.returncode != returncode:
        fail(f"{' '.join(args)} exited {result.returncode}:\n{result.stdout}{result.stderr}")
    return result


def norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def build() -> tuple[Path, Path]:
    dist = WORK / "dist"
    run(sys.executable, "-m", "build", "--outdir", dist, ROOT, cwd=ROOT)
    wheels, sdists = sorted(dist.glob("*.whl")), sorted(dist.glob("*.tar.gz"))
    if len(wheels) != 1 or len(sdists) != 1:
        fail(f"expected one wheel and one sdist in {dist}, found {wheels + sdists}")
    return wheels[0], sdists[0]


def check_wheel_files(wheel: Path, version: str) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    dist_info = f"optuna_ga-{version}.dist-info/"
    package = {n for n in names if n.startswith("optuna_ga/")}
    expected = {p.relative_to(ROOT).as_posix() for p in (ROOT / "optuna_ga").rglob("*.py")}
    expected.add("optuna_ga/py.typed")
    if package != expected:
        fail(f"wheel files differ: missing {expected - package}, extra {package - expected}")
    stray = sorted(n for n in names - package if not n.startswith(dist_info))
    if stray:
        fail(f"the wheel holds files outside optuna_ga/: {stray}")
    if f"{dist_info}licenses/LICENSE" not in names:
        fail("the wheel has no LICENSE in its metadata")
    if any(n.lower().endswith(IMAGES) for n in names):
        fail("the wheel holds images")
    step(f"{wheel.name}: {len(package)} package files, py.typed, LICENSE, nothing else")


def new_venv(path: Path) -> tuple[Path, Path]:
    """A fresh venv of this interpreter's Python, without pip (this pip installs into it)."""
    run(sys.executable, "-m", "venv", "--without-pip", path)
    python = path / "bin" / "python"
    purelib = run(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))")
    return python, Path(purelib.stdout.strip())


def link_distribution(dist: importlib.metadata.Distribution, target: Path) -> None:
    """Hard-link (or copy, across file systems) the files of ``dist`` under ``target``."""
    for file in dist.files or []:
        if file.parts[0] == "..":  # scripts in bin/: nothing here runs another package's
            continue
        source, dest = Path(str(dist.locate_file(file))), target / file
        if not source.is_file() or dest.exists():
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(source, dest)
        except OSError:
            shutil.copy2(source, dest)


def install(python: Path, purelib: Path, requirement: str) -> None:
    """``pip install requirement`` into the venv, reusing the CI venv's identical distributions."""
    pip = (sys.executable, "-m", "pip", "--python", python)
    dry_run = run(*pip, "install", "--quiet", "--dry-run", "--report", "-", requirement)
    report = json.loads(dry_run.stdout)
    held = {
        norm(d.metadata["Name"]): d
        for d in importlib.metadata.distributions(path=[sysconfig.get_path("purelib")])
        if d.read_text("direct_url.json") is None  # from an index, not a path (editable)
    }
    linked = []
    for item in report["install"]:
        name, version = norm(item["metadata"]["name"]), item["metadata"]["version"]
        dist = held.get(name)
        if name != PROJECT and dist is not None and dist.version == version:
            link_distribution(dist, purelib)
            linked.append(name)
    run(*pip, "install", "--quiet", requirement)
    run(*pip, "check")
    others = len(report["install"]) - len(linked)
    name = Path(requirement).name
    step(f"installed {name}: {len(linked)} distributions linked from this venv, {others} by pip")


def check_core(python: Path, purelib: Path, wheel_version: str) -> None:
    result = json.loads(run(python, "-c", STUDY).stdout)
    if not Path(result["file"]).is_relative_to(purelib):
        fail(f"the venv imported optuna_ga from {result['file']}, not from the wheel")
    versions = {result["version"], result["dist_version"], wheel_version}
    if len(versions) != 1:
        fail(f"__version__, the distribution's and the wheel's version differ: {versions}")
    if result["imported_heavy"] or result["torch_installed"]:
        fail(f"the core install pulls in more than the sampler needs: {result}")
    generations = result["generations"]
    if (result["complete"], result["distinct"]) != (30, 30) or result["bred"] == 0:
        fail(f"the 30-trial study did not run as expected: {result}")
    if len(generations) < 3 or generations != list(range(len(generations))):
        fail(f"the 30-trial study did not evolve generation by generation: {result}")
    step(
        f"import optuna_ga {result['version']} from the wheel, no torch; 30 distinct trials in "
        f"{len(generations)} generations, {result['bred']} bred from parents"
    )
    bin_dir = python.parent
    printed = run(bin_dir / "optuna-ga", "--version").stdout.strip()
    if printed != f"optuna-ga {wheel_version}":
        fail(f"optuna-ga --version printed {printed!r}")
    error = run(bin_dir / "optuna-ga", "run", "--n-trials", "1", returncode=2).stderr
    if "optuna-ga[torch]" not in error or len(error.strip().splitlines()) != 1:
        fail(f"optuna-ga run without torch did not name the extra in one line: {error!r}")
    step(f"{printed}; without torch, optuna-ga run says: {error.strip()}")


def check_torch(python: Path) -> None:
    if run(python, "-c", TORCH).stdout.strip() != "10":
        fail("optuna_ga.torch did not load the digits data")
    text = run(python.parent / "optuna-ga", "run", "--help").stdout
    if "--population-size" not in text or "--epochs" not in text:
        fail(f"optuna-ga run --help is incomplete:\n{text}")
    step("import optuna_ga.torch, torchvision; scikit-learn's digits; optuna-ga run --help")


def main() -> None:
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    wheel, sdist = build()
    version = wheel.name.split("-")[1]
    step(f"python -m build: {sdist.name}, {wheel.name}")
    check_wheel_files(wheel, version)
    python, purelib = new_venv(WORK / "venv")
    install(python, purelib, str(wheel))
    check_core(python, purelib, version)
    install(python, purelib, f"{wheel}[torch]")
    check_torch(python)
    shutil.rmtree(WORK)  # kept when a check fails, to look into
    step("passed")


if __name__ == "__main__":
    main()
