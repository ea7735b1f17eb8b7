"""Plotly figures of a GA study: fitness per generation, allele frequencies, genealogy.

Figures use a bare template and compact arrays so that their JSON stays small: the dashboard
stores each one in study system attrs (see :mod:`optuna_ga.dashboard`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Any

import optuna

from optuna_ga.visualization import _data
from optuna_ga.visualization._imports import require

if TYPE_CHECKING:
    import plotly.graph_objects as go

#: Marker symbol of each ``ga_operator`` (plotly names; matplotlib's are in
#: :mod:`optuna_ga.visualization.matplotlib`). Each is a different shape, one that stays
#: different at marker size 5 (a hexagon or an octagon looks like a circle there). An
#: operator not listed here (a newer one) is drawn as a circle, like ``random``.
OPERATOR_SYMBOLS = {
    "random": "circle",
    "immigrant": "star",
    "enqueued": "square",
    "crossover": "diamond",
    "crossover+mutation": "triangle-down",
    "mutation": "triangle-up",
    "copy": "cross",
    "random-fallback": "triangle-left",
    "retry": "triangle-right",
    "repeat": "hourglass",
    _data.UNKNOWN_OPERATOR: "bowtie",
}
#: Colour of the "pruned / failed" share in the allele plot.
OTHER_COLOR = "#c8c8c8"
_QUALITATIVE = [
    "#636efa",
    "#EF553B",
    "#00cc96",
    "#ab63fa",
    "#FFA15A",
    "#19d3f3",
    "#FF6692",
    "#B6E880",
    "#FF97FF",
    "#FECB52",
]


def _go() -> Any:
    return require("plotly.graph_objects")


def _layout(title: str, xtitle: str, ytitle: str) -> dict[str, Any]:
    axis = {"gridcolor": "#e5e5e5", "zeroline": False, "showline": True, "linecolor": "#888"}
    return {
        "template": "none",
        "title": {"text": title, "x": 0.02, "font": {"size": 15}},
        "xaxis": {**axis, "title": {"text": xtitle}},
        "yaxis": {**axis, "title": {"text": ytitle}},
        "margin": {"l": 60, "r": 20, "t": 45, "b": 45},
        "legend": {"font": {"size": 10}},
        "hovermode": "closest",
    }


def plot_generations(
    study: optuna.Study,
    *,
    population_size: int | None = None,
    n_elites: int | None = None,
) -> go.Figure:
    """Objective per generation: best, mean ± std band, worst, and the best so far.

    Every trial with a value is a grey dot; PRUNED, FAILED and non-finite trials are left
    out (their count is in the hover text). Best and worst follow the study's direction. The
    band is clipped to each generation's smallest and largest value, so an accuracy's band
    never passes 1.

    Args:
        study: A study run by :class:`~optuna_ga.GeneticSampler`, from any storage, finished
            or running.
        population_size: Generation size for trials without a ``ga_generation`` attr;
            ``None`` takes the study sampler's, if it is a GeneticSampler, else generation 0.
        n_elites: Elites per generation, with ``population_size``.

    Returns:
        A :class:`plotly.graph_objects.Figure`.
    """
    return generations_figure(
        _data.study_records(study, population_size=population_size, n_elites=n_elites)
    )


def generations_figure(data: _data.StudyRecords) -> go.Figure:
    """:func:`plot_generations` of a study already read by
    :func:`~optuna_ga.visualization.study_records`."""
    go = _go()
    records, direction, labels = data.records, data.direction, _data.value_labels(data)
    stats = _data.generation_stats(records, direction=direction)
    gens = stats["generation"]
    dots_x, dots_y, dots_n = [], [], []
    by_generation: dict[int, list[_data.TrialRecord]] = {}
    for record in records:
        if record.value is not None:
            by_generation.setdefault(record.generation, []).append(record)
    for generation, members in sorted(by_generation.items()):
        for i, record in enumerate(members):
            offset = 0.0 if len(members) == 1 else (i / (len(members) - 1) - 0.5) * 0.3
            dots_x.append(round(generation + offset, 3))
            dots_y.append(record.value)
            dots_n.append(record.number)
    hover = [
        f"generation {g}<br>{c} with a value, {o} pruned/failed"
        for g, c, o in zip(gens, stats["n_complete"], stats["n_other"], strict=True)
    ]
    band = {"mode": "lines", "line": {"width": 0}, "hoverinfo": "skip", "legendgroup": "band"}
    traces = [
        go.Scatter(
            x=dots_x,
            y=dots_y,
            customdata=dots_n,
            mode="markers",
            name="trials",
            marker={"size": 4, "color": "rgba(120,120,120,0.45)"},
            hovertemplate="trial %{customdata}<br>value %{y:.4g}<extra></extra>",
        ),
        go.Scatter(x=gens, y=stats["upper"], showlegend=False, **band),
        go.Scatter(
            x=gens,
            y=stats["lower"],
            fill="tonexty",
            fillcolor="rgba(99,110,250,0.18)",
            name="mean ± std",
            **band,
        ),
    ]
    mean_hover = {"text": hover, "hovertemplate": "%{text}<br>mean %{y:.4g}<extra></extra>"}
    dotted = {"mode": "lines+markers", "marker": {"size": 5}}
    # The lines: (statistic, name, line style, other settings).
    lines: list[tuple[str, str, dict[str, Any], dict[str, Any]]] = [
        ("mean", "mean", {"color": "#636efa", "width": 1.5}, mean_hover),
        ("worst", "worst", {"color": "#EF553B", "width": 1, "dash": "dot"}, {}),
        ("best", "best", {"color": "#00a07a", "width": 1.5}, dotted),
        ("best_so_far", "best so far", {"color": "black", "width": 2.5, "shape": "hv"}, {}),
    ]
    for key, name, line, extra in lines:
        settings = {"mode": "lines", "hovertemplate": f"{name} %{{y:.4g}}<extra></extra>", **extra}
        traces.append(go.Scatter(x=gens, y=stats[key], name=name, line=line, **settings))
    layout = _layout(labels["title"], "generation", labels["axis"])
    layout["xaxis"]["dtick"] = _dtick(len(gens))
    return go.Figure(data=traces, layout=layout)


def plot_allele_frequency(
    study: optuna.Study,
    params: Sequence[str] | None = None,
    *,
    n_bins: int = 5,
    population_size: int | None = None,
    n_elites: int | None = None,
) -> go.Figure:
    """Share of each gene variant in each generation, as stacked bars that sum to 1.

    Categorical parameters show their choices; numeric ones with more than ``n_bins`` values
    are binned over their range (log-spaced for log parameters), see
    :func:`optuna_ga.visualization._data.allele_frequencies`. With several parameters, a
    drop-down menu at the top right picks the one shown. Trials with a value are counted by
    variant; PRUNED, FAILED and non-finite trials make one grey "pruned / failed" share on top
    (they are never parents), so a generation that was all pruned shows a grey bar only.

    Args:
        study: A study run by :class:`~optuna_ga.GeneticSampler`.
        params: Parameter names to show; ``None`` shows all.
        n_bins: Bins for numeric parameters, at least 2.
        population_size: See :func:`plot_generations`.
        n_elites: See :func:`plot_generations`.

    Returns:
        A :class:`plotly.graph_objects.Figure`.
    """
    data = _data.study_records(study, population_size=population_size, n_elites=n_elites)
    return allele_frequency_figure(data, params, n_bins=n_bins)


def allele_frequency_figure(
    data: _data.StudyRecords, params: Sequence[str] | None = None, *, n_bins: int = 5
) -> go.Figure:
    """:func:`plot_allele_frequency` of a study already read by
    :func:`~optuna_ga.visualization.study_records`."""
    go = _go()
    alleles = _data.allele_frequencies(
        data.records, data.distributions, params=params, n_bins=n_bins
    )
    traces = []
    owners = []
    for index, gene in enumerate(alleles):
        colors = _sequential(len(gene.labels)) if gene.binned else _QUALITATIVE
        segments = [
            (label, [row[j] for row in gene.frequencies], [row[j] for row in gene.counts])
            for j, label in enumerate(gene.labels)
        ]
        if any(gene.n_other):
            segments.append(("pruned / failed", gene.other, gene.n_other))
        for j, (label, shares, counts) in enumerate(segments):
            color = OTHER_COLOR if j == len(gene.labels) else colors[j % len(colors)]
            traces.append(
                go.Bar(
                    x=gene.generations,
                    y=[round(share, 4) for share in shares],
                    customdata=counts,
                    name=label,
                    visible=index == 0,
                    marker={"color": color, "line": {"width": 0}},
                    hovertemplate=(
                        f"{gene.param} = {label}<br>generation %{{x}}: %{{y:.0%}} "
                        "(%{customdata} trials)<extra></extra>"
                    ),
                )
            )
            owners.append(index)
    title = "Allele frequency per generation"
    if len(alleles) == 1:
        title += f": {alleles[0].param}"  # with several, the menu shows the one drawn
    layout = _layout(title, "generation", "share of trials")
    layout.update(barmode="stack", bargap=0.05)
    layout["yaxis"].update(range=[0, 1], tickformat=".0%")
    if alleles:
        layout["xaxis"]["dtick"] = _dtick(max((len(a.generations) for a in alleles), default=1))
    else:
        layout["annotations"] = [
            {"text": _data.NO_PARAMETERS, "showarrow": False, "xref": "paper", "yref": "paper"}
        ]
    if len(alleles) > 1:
        layout["margin"]["t"] = 75  # room for the menu below plotly's mode bar
        layout["updatemenus"] = [
            {
                "buttons": [
                    {
                        "label": gene.param,
                        "method": "update",
                        "args": [{"visible": [owner == index for owner in owners]}],
                    }
                    for index, gene in enumerate(alleles)
                ],
                # In the top margin, opening downwards over the plot: the whole figure's
                # height is free for the list, and plotly adds a scroll bar if it is longer.
                "direction": "down",
                "x": 1.0,
                "xanchor": "right",
                "y": 1.0,
                "yanchor": "bottom",
                "pad": {"b": 4},
                "font": {"size": 11},
            }
        ]
    return go.Figure(data=traces, layout=layout)


def plot_genealogy(
    study: optuna.Study,
    *,
    top_k: int | None = None,
    population_size: int | None = None,
    n_elites: int | None = None,
) -> go.Figure:
    """Family tree: trials by generation (x) and rank (y), edges from parents to children.

    Trials with a value are coloured by its rank among the trials shown (bright is best; the
    colour bar names the values), so that the colours tell the trials of late generations
    apart too, not only the wide spread of generation 0. PRUNED, FAILED and non-finite trials
    are grey crosses. The marker shape and the hover text show the operator that made the
    trial. Within its generation's column a trial stands further right the later it ran, so
    every edge runs left to right, also from a parent of the same generation (steady state).
    Elites bred in a later generation draw long edges.

    Args:
        study: A study run by :class:`~optuna_ga.GeneticSampler`.
        top_k: Show only the ``top_k`` best trials and their ancestors; ``None`` shows all.
        population_size: See :func:`plot_generations`.
        n_elites: See :func:`plot_generations`.

    Returns:
        A :class:`plotly.graph_objects.Figure`.
    """
    data = _data.study_records(study, population_size=population_size, n_elites=n_elites)
    return genealogy_figure(data, top_k=top_k)


def genealogy_figure(data: _data.StudyRecords, *, top_k: int | None = None) -> go.Figure:
    """:func:`plot_genealogy` of a study already read by
    :func:`~optuna_ga.visualization.study_records`."""
    go = _go()
    tree = _data.genealogy(data.records, direction=data.direction, top_k=top_k)
    nodes = tree["nodes"]
    where = {n["number"]: (n["x"], n["y"]) for n in nodes}
    edge_x: list[float | None] = []
    edge_y: list[float | None] = []
    for parent, child in tree["edges"]:
        (x0, y0), (x1, y1) = where[parent], where[child]
        edge_x += [x0, x1, None]
        edge_y += [y0, y1, None]
    size = 9 if len(nodes) <= 100 else 7 if len(nodes) <= 300 else 5
    edges = {"x": edge_x, "y": edge_y, "mode": "lines", "hoverinfo": "skip"}
    line = {"width": 0.7, "color": "rgba(90,90,90,0.35)"}
    traces = [go.Scatter(name="parent → child", line=line, **edges)]
    groups: dict[str, list[dict[str, Any]]] = {}
    for node in nodes:
        key = node["operator"] if node["value"] is not None else "_none"
        groups.setdefault(key, []).append(node)
    shown = []  # (legend name, nodes, marker): one trace each
    for operator in [*OPERATOR_SYMBOLS, *sorted(set(groups) - set(OPERATOR_SYMBOLS))]:
        members = groups.get(operator)
        if members and operator != "_none":
            marker = {
                "symbol": OPERATOR_SYMBOLS.get(operator, "circle"),
                "size": size,
                "color": [n["quantile"] for n in members],
                "coloraxis": "coloraxis",
                "line": {"width": 0.5, "color": "#333"},
            }
            shown.append((operator, members, marker))
    if "_none" in groups:
        marker = {"symbol": "x-thin", "size": size, "line": {"width": 1.5, "color": "#999"}}
        shown.append(("pruned / failed", groups["_none"], marker))
    for name, members, marker in shown:
        traces.append(
            go.Scatter(
                x=[n["x"] for n in members],
                y=[n["y"] for n in members],
                mode="markers",
                name=name,
                marker=marker,
                text=[_node_text(n) for n in members],
                hovertemplate="%{text}<extra></extra>",
            )
        )
    title = "Genealogy" if top_k is None else f"Genealogy of the {top_k} best trials"
    layout = _layout(title, "generation", "rank in generation (best on top)")
    layout["yaxis"]["autorange"] = "reversed"
    layout["xaxis"]["dtick"] = _dtick(1 + max((n["generation"] for n in nodes), default=0))
    if nodes:  # every generation's column whole, with its tick, also a partial last one
        generations = [n["generation"] for n in nodes]
        layout["xaxis"]["range"] = [min(generations) - 0.5, max(generations) + 0.5]
    layout["coloraxis"] = {
        "colorscale": "Viridis",
        "cmin": 0.0,
        "cmax": 1.0,
        "colorbar": {
            "title": {"text": f"{_data.value_labels(data)['colorbar']}<br>(by rank)"},
            "thickness": 12,
            "x": 1.0,
            "tickvals": [q for q, _ in tree["scale"]],
            "ticktext": [f"{value:.4g}" for _, value in tree["scale"]],
        },
    }
    layout["legend"].update(orientation="h", y=-0.18, x=0)
    layout["margin"]["b"] = 70
    return go.Figure(data=traces, layout=layout)


def plot_pareto_fronts(
    study: optuna.Study,
    *,
    population_size: int | None = None,
    n_elites: int | None = None,
) -> go.Figure:
    """Pareto front per generation of a multi-objective study: how the front moved.

    Each generation ``g`` is a step line, coloured from dark (early) to bright (late): the
    front of every trial with values in generations ``<= g`` (see
    :func:`optuna_ga.visualization._data.pareto_fronts`), over the first two objectives; a
    study with more objectives is drawn in those two, as the title says. Every trial with
    values is a grey dot. An objective whose positive values span two decades or more, most
    of them near the smallest (parameter counts, MACs, times), is drawn on a log axis (see
    :func:`optuna_ga.visualization._data.front_scales`).

    Args:
        study: A study with two or more objectives run by :class:`~optuna_ga.GeneticSampler`.
        population_size: See :func:`plot_generations`.
        n_elites: See :func:`plot_generations`.

    Returns:
        A :class:`plotly.graph_objects.Figure`.

    Raises:
        ValueError: If the study has one objective.
    """
    return pareto_fronts_figure(
        _data.study_records(study, population_size=population_size, n_elites=n_elites)
    )


def pareto_fronts_figure(data: _data.StudyRecords) -> go.Figure:
    """:func:`plot_pareto_fronts` of a study already read by
    :func:`~optuna_ga.visualization.study_records`."""
    go = _go()
    fronts = _data.pareto_fronts(data.records, data.directions)
    valued = [r for r in data.records if r.values is not None]
    traces = [
        go.Scatter(
            x=[r.values[0] for r in valued if r.values is not None],
            y=[r.values[1] for r in valued if r.values is not None],
            customdata=[[r.number, r.generation] for r in valued],
            mode="markers",
            name="trials",
            marker={"size": 4, "color": "rgba(120,120,120,0.45)"},
            hovertemplate="trial %{customdata[0]} (generation %{customdata[1]})<extra></extra>",
        )
    ]
    if fronts:  # one colour bar for the generations, rather than a legend entry for each
        first, last = fronts[0]["generation"], fronts[-1]["generation"]
        traces.append(
            go.Scatter(
                x=[None],
                y=[None],
                mode="markers",
                showlegend=False,
                hoverinfo="skip",
                marker={
                    "color": [first],
                    "cmin": first,
                    "cmax": max(last, first + 1),
                    "colorscale": _VIRIDIS,
                    "showscale": True,
                    "colorbar": {"title": {"text": "front of<br>generations ≤ g"}, "thickness": 9},
                },
            )
        )
    colors = _sequential(len(fronts))
    for front, color in zip(fronts, colors, strict=True):
        traces.append(
            go.Scatter(
                x=front["x"],
                y=front["y"],
                customdata=front["numbers"],
                mode="lines+markers",
                showlegend=False,
                name=f"generation ≤ {front['generation']}",
                line={"color": color, "width": 1.5, "shape": "hv"},
                marker={"size": 5, "color": color},
                hovertemplate=f"front of generations ≤ {front['generation']}"
                "<br>trial %{customdata}<extra></extra>",
            )
        )
    title, x_name, y_name = _data.front_labels(data)
    layout = _layout(title, x_name, y_name)
    layout["xaxis"]["type"], layout["yaxis"]["type"] = _data.front_scales(data)
    return go.Figure(data=traces, layout=layout)


def _node_text(node: dict[str, Any]) -> str:
    value = node["value"]
    shown = f"{value:.4g}" if value is not None else node["state"].lower()
    parents = ", ".join(str(p) for p in node["parents"]) or "none"
    return (
        f"trial {node['number']} (generation {node['generation']})<br>value {shown}"
        f"<br>operator {node['operator']}<br>parents {parents}"
    )


def _dtick(n_generations: int) -> int:
    return max(1, math.ceil(n_generations / 12))


#: Viridis, dark to bright, as the stops of :func:`_sequential` and a plotly colour scale.
_VIRIDIS_STOPS = ("#440154", "#3b528b", "#21918c", "#5ec962", "#fde725")
_VIRIDIS = [[i / (len(_VIRIDIS_STOPS) - 1), c] for i, c in enumerate(_VIRIDIS_STOPS)]


def _sequential(n: int) -> list[str]:
    """``n`` colours from Viridis, dark to bright (ordered bins read as a gradient)."""
    stops = list(_VIRIDIS_STOPS)
    if n <= 1:
        return stops[2 : 2 + n]  # none, or the middle one
    out = []
    for i in range(n):
        t = i / (n - 1) * (len(stops) - 1)
        k = min(int(t), len(stops) - 2)
        out.append(_mix(stops[k], stops[k + 1], t - k))
    return out


def _mix(a: str, b: str, t: float) -> str:
    ca = [int(a[i : i + 2], 16) for i in (1, 3, 5)]
    cb = [int(b[i : i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(x + (y - x) * t):02x}" for x, y in zip(ca, cb, strict=True))
