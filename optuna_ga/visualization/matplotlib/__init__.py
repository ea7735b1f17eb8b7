"""Matplotlib versions of the GA plots, like :mod:`optuna.visualization.matplotlib`.

Same data and conventions as the plotly figures of :mod:`optuna_ga.visualization`; each
function returns the ``Axes`` it drew on (an array of them for several parameters). Needs
matplotlib (``pip install "optuna-ga[dashboard]"``); it is imported only when a function runs.

Example:
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import optuna
    >>> from optuna_ga import GeneticSampler
    >>> from optuna_ga.visualization import matplotlib as ga_plots
    >>> optuna.logging.set_verbosity(optuna.logging.WARNING)
    >>> study = optuna.create_study(sampler=GeneticSampler(population_size=6, seed=0))
    >>> study.optimize(lambda t: t.suggest_float("x", -1, 1) ** 2
    ...                + (t.suggest_categorical("a", ["p", "q"]) == "q"), n_trials=16)
    >>> ga_plots.plot_generations(study).get_xlabel()
    'generation'
    >>> ga_plots.plot_allele_frequency(study).shape  # one Axes per parameter
    (2,)
    >>> type(ga_plots.plot_allele_frequency(study, ["a"])).__name__
    'Axes'
    >>> ga_plots.plot_genealogy(study, top_k=3).get_xlabel()
    'generation'
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import optuna

from optuna_ga.visualization import _data
from optuna_ga.visualization._imports import require

__all__ = [
    "MAX_ALLELE_PANELS",
    "plot_allele_frequency",
    "plot_genealogy",
    "plot_generations",
    "plot_pareto_fronts",
]

#: Most parameters :func:`plot_allele_frequency` draws (the first ones, in ``params`` order);
#: pass ``params`` to choose others.
MAX_ALLELE_PANELS = 24

# The shapes of optuna_ga.visualization._plotly.OPERATOR_SYMBOLS, one distinct shape each
# (hourglass and bowtie as polygons: matplotlib has no such marker).
_MARKERS: dict[str, Any] = {
    "random": "o",
    "immigrant": "*",
    "enqueued": "s",
    "crossover": "D",
    "crossover+mutation": "v",
    "mutation": "^",
    "copy": "P",
    "random-fallback": "<",
    "retry": ">",
    "repeat": [(-1, 1), (1, 1), (-1, -1), (1, -1)],
    _data.UNKNOWN_OPERATOR: [(-1, -1), (-1, 1), (1, -1), (1, 1)],
}
_OTHER_COLOR = "#c8c8c8"


def _plt() -> Any:
    return require("matplotlib.pyplot")


def plot_generations(
    study: optuna.Study,
    *,
    population_size: int | None = None,
    n_elites: int | None = None,
    ax: Any = None,
) -> Any:
    """Objective per generation: best, mean ± std band, worst, best so far.

    See :func:`optuna_ga.visualization.plot_generations`.

    Args:
        study: A study run by :class:`~optuna_ga.GeneticSampler`.
        population_size: See :func:`optuna_ga.visualization.plot_generations`.
        n_elites: See :func:`optuna_ga.visualization.plot_generations`.
        ax: Axes to draw on; ``None`` makes a new figure.

    Returns:
        The ``matplotlib.axes.Axes``.
    """
    plt = _plt()
    data = _data.study_records(study, population_size=population_size, n_elites=n_elites)
    records, labels = data.records, _data.value_labels(data)
    stats = _data.generation_stats(records, direction=data.direction)
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4.5), layout="constrained")
    gens = np.asarray(stats["generation"], dtype=float)
    mean = np.asarray(stats["mean"], dtype=float)
    xs = [r.generation for r in records if r.value is not None]
    ys = [r.value for r in records if r.value is not None]
    ax.scatter(xs, ys, s=6, color="0.55", alpha=0.5, label="trials", linewidths=0)
    ax.fill_between(
        gens,
        np.asarray(stats["lower"], dtype=float),
        np.asarray(stats["upper"], dtype=float),
        color="#636efa",
        alpha=0.18,
        label="mean ± std",
    )
    ax.plot(gens, mean, color="#636efa", lw=1.5, label="mean")
    ax.plot(gens, stats["worst"], color="#EF553B", lw=1, ls=":", label="worst")
    ax.plot(gens, stats["best"], color="#00a07a", lw=1.5, marker="o", ms=3, label="best")
    ax.step(gens, stats["best_so_far"], where="post", color="black", lw=2.2, label="best so far")
    ax.set_title(labels["title"], loc="left")
    ax.set_xlabel("generation")
    ax.set_ylabel(labels["axis"])
    ax.xaxis.set_major_locator(require("matplotlib.ticker").MaxNLocator(integer=True))
    ax.grid(color="0.9")
    ax.legend(fontsize=8, loc="best")
    return ax


def plot_allele_frequency(
    study: optuna.Study,
    params: Sequence[str] | None = None,
    *,
    n_bins: int = 5,
    population_size: int | None = None,
    n_elites: int | None = None,
) -> Any:
    """Share of each gene variant per generation; one stacked-bar Axes per parameter.

    See :func:`optuna_ga.visualization.plot_allele_frequency`. Several parameters are drawn as
    a grid (up to 4 columns), at most :data:`MAX_ALLELE_PANELS` of them: the first ones in
    ``params`` order (by name for ``None``); the figure's title says how many were left out.

    Returns:
        An ``Axes`` for one parameter (or none yet: the ``Axes`` says so), else a 1-D numpy
        array of them, one per parameter.
    """
    plt = _plt()
    ticker = require("matplotlib.ticker")
    data = _data.study_records(study, population_size=population_size, n_elites=n_elites)
    records, distributions = data.records, data.distributions
    alleles = _data.allele_frequencies(records, distributions, params=params, n_bins=n_bins)
    title = "Allele frequency per generation"
    if len(alleles) > MAX_ALLELE_PANELS:
        title += f" (the first {MAX_ALLELE_PANELS} of {len(alleles)} parameters)"
        alleles = alleles[:MAX_ALLELE_PANELS]
    n = max(len(alleles), 1)
    n_cols = min(4, -(-n // 5))  # at most 5 rows before another column
    n_rows = -(-n // n_cols)
    width = 8.0 if n_cols == 1 else 3.6 * n_cols
    fig, axes = plt.subplots(
        n_rows,
        n_cols,
        figsize=(width, 2.1 * n_rows + 0.6),
        squeeze=False,
        layout="constrained",
    )
    fig.suptitle(title, x=0.02, ha="left")
    flat = axes.ravel()
    for ax in flat[len(alleles) :]:
        ax.set_visible(False)
    for ax, gene in zip(flat, alleles, strict=False):
        if gene.binned:
            colors = plt.get_cmap("viridis")(np.linspace(0, 1, len(gene.labels)))
        else:
            colors = plt.get_cmap("tab10")(np.arange(len(gene.labels)) % 10)
        freq = np.asarray(gene.frequencies, dtype=float).reshape(len(gene.generations), -1)
        segments = [(label, freq[:, j], colors[j]) for j, label in enumerate(gene.labels)]
        if any(gene.n_other):
            segments.append(("pruned / failed", np.asarray(gene.other), _OTHER_COLOR))
        bottom = np.zeros(len(gene.generations))
        for label, shares, color in segments:
            ax.bar(gene.generations, shares, bottom=bottom, width=0.95, color=color, label=label)
            bottom += shares
        ax.set_ylim(0, 1)
        ax.set_title(gene.param, loc="left", fontsize=9)
        ax.tick_params(labelsize=7)
        ax.xaxis.set_major_locator(ticker.MaxNLocator(integer=True))
        handles, labels = ax.get_legend_handles_labels()  # top of the stack first
        ax.legend(
            handles[::-1],
            labels[::-1],
            fontsize=6.5 if n_cols > 1 else 7,
            loc="center left",
            bbox_to_anchor=(1.0, 0.5),
            frameon=False,
        )
    if not alleles:
        flat[0].set_visible(True)
        flat[0].text(
            0.5,
            0.5,
            _data.NO_PARAMETERS,
            ha="center",
            va="center",
            color="0.4",
            transform=flat[0].transAxes,
        )
    fig.supxlabel("generation", fontsize=9)
    fig.supylabel("share of trials", fontsize=9)
    return flat[0] if len(alleles) <= 1 else flat[: len(alleles)]


def plot_genealogy(
    study: optuna.Study,
    *,
    top_k: int | None = None,
    population_size: int | None = None,
    n_elites: int | None = None,
    ax: Any = None,
) -> Any:
    """Family tree by generation and rank; see :func:`optuna_ga.visualization.plot_genealogy`.

    Returns:
        The ``matplotlib.axes.Axes``.
    """
    plt = _plt()
    data = _data.study_records(study, population_size=population_size, n_elites=n_elites)
    tree = _data.genealogy(data.records, direction=data.direction, top_k=top_k)
    colorbar = f"{_data.value_labels(data)['colorbar']} (by rank)"
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 5.5), layout="constrained")
    nodes = tree["nodes"]
    where = {n["number"]: (n["x"], n["y"]) for n in nodes}
    if tree["edges"]:
        collections = require("matplotlib.collections")
        segments = [(where[p], where[c]) for p, c in tree["edges"]]
        ax.add_collection(collections.LineCollection(segments, colors="0.35", alpha=0.3, lw=0.6))
    valued = [n for n in nodes if n["value"] is not None]
    size = 40 if len(nodes) <= 100 else 18
    if valued:
        norm = plt.Normalize(0.0, 1.0)  # by rank: see optuna_ga.visualization.plot_genealogy
        cmap = plt.get_cmap("viridis")
        mappable = None
        for operator in sorted({n["operator"] for n in valued}):
            group = [n for n in valued if n["operator"] == operator]
            mappable = ax.scatter(
                [n["x"] for n in group],
                [n["y"] for n in group],
                c=[n["quantile"] for n in group],
                cmap=cmap,
                norm=norm,
                marker=_MARKERS.get(operator, "o"),
                s=size,
                edgecolors="0.2",
                linewidths=0.4,
                label=operator,
                zorder=3,
            )
        bar = ax.figure.colorbar(mappable, ax=ax, label=colorbar, fraction=0.04)
        bar.set_ticks([q for q, _ in tree["scale"]], labels=[f"{v:.4g}" for _, v in tree["scale"]])
    others = [n for n in nodes if n["value"] is None]
    if others:
        ax.scatter(
            [n["x"] for n in others],
            [n["y"] for n in others],
            marker="x",
            color="0.6",
            s=size,
            label="pruned / failed",
            zorder=3,
        )
    ticker = require("matplotlib.ticker")
    ax.xaxis.set_major_locator(ticker.MaxNLocator(integer=True))
    ax.yaxis.set_major_locator(ticker.MaxNLocator(integer=True))
    ax.invert_yaxis()
    title = "Genealogy" if top_k is None else f"Genealogy of the {top_k} best trials"
    ax.set_title(title, loc="left")
    ax.set_xlabel("generation")
    ax.set_ylabel("rank in generation (best on top)")
    if nodes:
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(0.0, -0.1), ncol=5, frameon=False)
    ax.autoscale_view()
    if nodes:  # every generation's column whole, with its tick, also a partial last one
        generations = [n["generation"] for n in nodes]
        ax.set_xlim(min(generations) - 0.5, max(generations) + 0.5)
    return ax


def plot_pareto_fronts(
    study: optuna.Study,
    *,
    population_size: int | None = None,
    n_elites: int | None = None,
    ax: Any = None,
) -> Any:
    """The ``matplotlib.axes.Axes`` of :func:`optuna_ga.visualization.plot_pareto_fronts`."""
    plt = _plt()
    data = _data.study_records(study, population_size=population_size, n_elites=n_elites)
    fronts = _data.pareto_fronts(data.records, data.directions)
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 5), layout="constrained")
    values = [r.values for r in data.records if r.values is not None]
    ax.scatter(
        [v[0] for v in values],
        [v[1] for v in values],
        s=6,
        color="0.55",
        alpha=0.5,
        label="trials",
        linewidths=0,
    )
    cmap = plt.get_cmap("viridis")
    for i, front in enumerate(fronts):
        color = cmap(i / (len(fronts) - 1) if len(fronts) > 1 else 0.5)
        ax.step(front["x"], front["y"], where="post", color=color, lw=1.3, marker="o", ms=3)
    if fronts:
        last = fronts[-1]["generation"]
        bar = plt.cm.ScalarMappable(cmap=cmap, norm=plt.Normalize(fronts[0]["generation"], last))
        ax.figure.colorbar(bar, ax=ax, label="front of generations ≤ g", fraction=0.04)
    title, x_name, y_name = _data.front_labels(data)
    ax.set_title(title, loc="left")
    ax.set_xlabel(x_name)
    ax.set_ylabel(y_name)
    x_scale, y_scale = _data.front_scales(data)
    ax.set_xscale(x_scale)
    ax.set_yscale(y_scale)
    ax.grid(color="0.9")
    ax.legend(fontsize=8, loc="best")
    return ax
