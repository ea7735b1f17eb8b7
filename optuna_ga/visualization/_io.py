"""Write the GA figures to files (what ``optuna-ga plot`` calls)."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

import optuna

from optuna_ga.visualization import _plotly
from optuna_ga.visualization._data import study_records
from optuna_ga.visualization._imports import require

#: File stem of each figure, in the order written.
FIGURES = ("generations", "allele_frequency", "genealogy")
#: File stem of the figure written for multi-objective studies too, after :data:`FIGURES`.
PARETO_FIGURE = "pareto_fronts"
_FORMATS = ("html", "png")
_PLOTLYJS = {"directory": "directory", "cdn": "cdn", "inline": True}
_PNG_ENGINES = ("matplotlib", "kaleido")


def write_figures(
    study: optuna.Study,
    out_dir: str | Path,
    *,
    formats: Sequence[str] = _FORMATS,
    params: Sequence[str] | None = None,
    top_k: int | None = None,
    population_size: int | None = None,
    n_elites: int | None = None,
    plotlyjs: str = "directory",
    png_engine: str = "matplotlib",
) -> list[Path]:
    """Write ``generations``, ``allele_frequency`` and ``genealogy`` as HTML and PNG.

    A study with several objectives gets ``pareto_fronts`` too
    (:func:`~optuna_ga.visualization.plot_pareto_fronts`), written last.

    HTML files are interactive plotly figures. PNG files are drawn with matplotlib by default
    (no browser needed; the allele plot shows one panel per parameter in a grid of up to 4
    columns, at most :data:`~optuna_ga.visualization.matplotlib.MAX_ALLELE_PANELS` of them);
    ``png_engine="kaleido"`` exports the plotly figures instead, which needs kaleido and a
    Chrome/Chromium that it can find.

    Args:
        study: A study run by :class:`~optuna_ga.GeneticSampler`.
        out_dir: Folder to write to; created if missing. Existing files are overwritten. An
            error removes the files written so far (and the folder, if this call made it).
        formats: Any of ``"html"`` and ``"png"``.
        params: Parameters of the allele plot; ``None`` means all.
        top_k: Genealogy of the ``top_k`` best trials only; ``None`` draws every trial.
        population_size: See :func:`optuna_ga.visualization.plot_generations`.
        n_elites: See :func:`optuna_ga.visualization.plot_generations`.
        plotlyjs: Where HTML files get plotly.js: ``"directory"`` (one ``plotly.min.js``
            beside them, works offline), ``"cdn"`` (small files, needs internet to view) or
            ``"inline"`` (self-contained files of about 5 MB each).
        png_engine: ``"matplotlib"`` or ``"kaleido"``.

    Returns:
        The paths written, figure by figure, HTML before PNG (not ``plotly.min.js``).

    Example:
        >>> import tempfile, optuna
        >>> from optuna_ga import GeneticSampler
        >>> from optuna_ga.visualization import write_figures
        >>> optuna.logging.set_verbosity(optuna.logging.WARNING)
        >>> study = optuna.create_study(sampler=GeneticSampler(population_size=6, seed=0))
        >>> study.optimize(lambda t: t.suggest_float("x", -1, 1) ** 2, n_trials=12)
        >>> with tempfile.TemporaryDirectory() as out:
        ...     [p.name for p in write_figures(study, out, formats=["html"], plotlyjs="cdn")]
        ['generations.html', 'allele_frequency.html', 'genealogy.html']
    """
    if isinstance(formats, str) or not set(formats) <= set(_FORMATS) or not formats:
        raise ValueError(f"formats must be a non-empty list of {list(_FORMATS)}, got {formats!r}.")
    if plotlyjs not in _PLOTLYJS:
        raise ValueError(f"plotlyjs must be one of {sorted(_PLOTLYJS)}, got {plotlyjs!r}.")
    if png_engine not in _PNG_ENGINES:
        raise ValueError(f"png_engine must be one of {list(_PNG_ENGINES)}, got {png_engine!r}.")
    out = Path(out_dir)
    created = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    names = FIGURES + ((PARETO_FIGURE,) if len(study.directions) > 1 else ())
    written: list[Path] = []  # each path before its file is written
    try:
        figures = {}
        if "html" in formats or png_engine == "kaleido":
            data = study_records(study, population_size=population_size, n_elites=n_elites)
            figures = {
                "generations": _plotly.generations_figure(data),
                "allele_frequency": _plotly.allele_frequency_figure(data, params),
                "genealogy": _plotly.genealogy_figure(data, top_k=top_k),
            }
            if PARETO_FIGURE in names:
                figures[PARETO_FIGURE] = _plotly.pareto_fronts_figure(data)
        for name in names:
            if "html" in formats:
                written.append(out / f"{name}.html")
                figures[name].write_html(
                    written[-1], include_plotlyjs=_PLOTLYJS[plotlyjs], full_html=True
                )
            if "png" in formats:
                written.append(out / f"{name}.png")
                if png_engine == "kaleido":
                    figures[name].write_image(written[-1], width=1100, height=600, scale=2)
                else:
                    _matplotlib_png(
                        study,
                        name,
                        written[-1],
                        params=params,
                        top_k=top_k,
                        population_size=population_size,
                        n_elites=n_elites,
                    )
    except BaseException:  # an error leaves no partial output behind
        for path in written:
            path.unlink(missing_ok=True)
        if created:
            shutil.rmtree(out, ignore_errors=True)
        raise
    return written


def _matplotlib_png(
    study: optuna.Study,
    name: str,
    path: Path,
    *,
    params: Sequence[str] | None,
    top_k: int | None,
    population_size: int | None,
    n_elites: int | None,
) -> None:
    require("matplotlib").use("Agg", force=False)
    plt = require("matplotlib.pyplot")
    from optuna_ga.visualization import matplotlib as mpl_plots

    if name == "generations":
        ax = mpl_plots.plot_generations(study, population_size=population_size, n_elites=n_elites)
    elif name == PARETO_FIGURE:
        ax = mpl_plots.plot_pareto_fronts(
            study, population_size=population_size, n_elites=n_elites
        )
    elif name == "allele_frequency":
        ax = mpl_plots.plot_allele_frequency(
            study, params, population_size=population_size, n_elites=n_elites
        )
    else:
        ax = mpl_plots.plot_genealogy(
            study, top_k=top_k, population_size=population_size, n_elites=n_elites
        )
    figure = (ax if not hasattr(ax, "__len__") else ax[0]).figure
    figure.savefig(path, dpi=130)
    plt.close(figure)
