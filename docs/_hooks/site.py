"""MkDocs hooks of the documentation site (``hooks:`` in ``mkdocs.yml``; local, nothing fetched).

* ``<!-- include: benchmarks/NAME.md -->`` in a page is replaced by that file of the
  repository, without its first title and with its other headings moved one level down, and
  with its links fixed: figures under
  ``benchmarks/`` are copied into the site, files under ``docs/`` are linked within the site,
  web links stay, and any other repository path becomes plain code text. A missing file
  becomes a note, so the build passes whether or not the benchmarks have been written yet.
* ``<!-- optuna-ga-help: COMMAND -->`` is replaced by the ``--help`` text of ``optuna-ga
  COMMAND`` (``optuna-ga`` itself for ``main``), taken from the parser of :mod:`optuna_ga.cli`.
* ``<!-- optuna-ga-architectures: table -->`` is replaced by a table of the built-in network
  architectures (``optuna_ga/_architectures.py``: name, first line of the module's docstring,
  module), and ``<!-- optuna-ga-architectures: api -->`` by an API section per architecture
  module. Neither imports torch.
* Sphinx roles in docstrings (``:func:`x```) are shown as plain code in the API pages.
"""

from __future__ import annotations

import argparse
import ast
import os
import posixpath
import re
from pathlib import Path
from typing import Any

from mkdocs.structure.files import File
from mkdocs.structure.files import Files

ROOT = Path(__file__).resolve().parents[2]
BENCHMARKS = ROOT / "benchmarks"
ASSETS = {".png", ".svg", ".jpg", ".jpeg", ".gif", ".csv", ".json"}
INCLUDE = re.compile(r"^<!-- include: (benchmarks/[\w.-]+\.md) -->$", re.MULTILINE)
LINK = re.compile(r"(!?)\[([^\]]*)\]\(([^)\s]+)((?:\s+\"[^\"]*\")?)\)")
FENCE = re.compile(r"^(```|~~~)")
HELP = re.compile(r"^<!-- optuna-ga-help: ([\w-]+) -->$", re.MULTILINE)
ARCHITECTURES = re.compile(r"^<!-- optuna-ga-architectures: (table|api) -->$", re.MULTILINE)
ROLE = re.compile(r":(?:func|class|mod|meth|attr|data|exc|obj):(?=<)")


def on_files(files: Files, config: Any) -> Files:
    """Copy figures and data files under ``benchmarks/`` into the site, same paths."""
    if BENCHMARKS.is_dir():
        for path in sorted(BENCHMARKS.rglob("*")):
            if path.is_file() and path.suffix.lower() in ASSETS:
                uri = path.relative_to(ROOT).as_posix()
                files.append(File.generated(config, uri, abs_src_path=str(path)))
    return files


def _fix_link(match: re.Match[str], source: str, page_dir: str, files: Files) -> str:
    bang, text, target, title = match.groups()
    if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
        return match.group(0)
    path, _, anchor = target.partition("#")
    repo_path = posixpath.normpath(posixpath.join(posixpath.dirname(source), path))
    for uri in (repo_path, repo_path.removeprefix("docs/")):
        if not repo_path.endswith(".md") and files.get_file_from_path(uri) is not None:
            rel = posixpath.relpath(uri, page_dir or ".")
            return f"{bang}[{text}]({rel}{'#' + anchor if anchor else ''}{title})"
    label = text or posixpath.basename(repo_path)
    return f"{label} (`{repo_path}`)" if label != repo_path else f"`{repo_path}`"


def _included(source: str, page_dir: str, files: Files) -> str:
    path = ROOT / source
    if not path.is_file():
        return (
            f'!!! note "Not written yet"\n    `{source}` does not exist in this checkout yet; '
            "it appears here once the benchmarks have been run and recorded.\n"
        )
    lines, in_code, title_dropped = [], False, False
    for line in path.read_text(encoding="utf-8").splitlines():
        if FENCE.match(line):
            in_code = not in_code
        elif not in_code:
            if line.startswith("# ") and not title_dropped:
                title_dropped = True  # the including page has its own heading
                continue
            if line.startswith("#"):
                line = "#" + line
            line = LINK.sub(lambda m: _fix_link(m, source, page_dir, files), line)
        lines.append(line)
    return "\n".join(lines) + "\n"


def _cli_help(command: str) -> str:
    from optuna_ga.cli import build_parser

    parser = build_parser()
    if command != "main":
        subparsers = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        parser = subparsers[0].choices[command]
    columns = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "96"  # the same line breaks on every machine
    try:
        text = parser.format_help()
    finally:
        if columns is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = columns
    return f"```text\n{text.rstrip()}\n```\n"


def _architectures(kind: str) -> str:
    from optuna_ga._architectures import BUILTIN_ARCHITECTURES

    if kind == "api":
        return "\n".join(
            f"### `{name}`\n\n::: {module}\n    options:\n      show_root_heading: false\n"
            f"      heading_level: 4\n"
            for name, module in BUILTIN_ARCHITECTURES.items()
        )
    rows = ["| `--model`, `architecture=` | network | module |", "| --- | --- | --- |"]
    for name, module in BUILTIN_ARCHITECTURES.items():
        source = (ROOT / (module.replace(".", "/") + ".py")).read_text(encoding="utf-8")
        summary = (ast.get_docstring(ast.parse(source)) or "").splitlines()[0]
        summary = re.sub(r'\s*\(``"?[\w-]+"?``\)(\.?)$', r"\1", summary)  # the name: column 1
        rows.append(f"| `{name}` | {summary} | `{module}` |")
    return "\n".join(rows) + "\n"


def on_page_markdown(markdown: str, page: Any, config: Any, files: Files) -> str:
    """Replace include, help and architecture markers by the text they name."""
    page_dir = posixpath.dirname(page.file.src_uri)
    markdown = HELP.sub(lambda m: _cli_help(m.group(1)), markdown)
    markdown = ARCHITECTURES.sub(lambda m: _architectures(m.group(1)), markdown)
    return INCLUDE.sub(lambda m: _included(m.group(1), page_dir, files), markdown)


def on_page_content(html: str, page: Any, config: Any, files: Files) -> str:
    """Drop Sphinx role prefixes in front of rendered code (``:func:`` etc.)."""
    return ROLE.sub("", html)
