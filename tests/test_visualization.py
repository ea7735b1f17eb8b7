"""GA plots: the numbers behind each figure, on a hand-built study and on a real GA run."""

from __future__ import annotations

import itertools
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import pytest
from optuna.distributions import CategoricalDistribution
from optuna.distributions import FloatDistribution
from optuna.distributions import IntDistribution
from optuna.trial import TrialState

from optuna_ga import GeneticSampler
from optuna_ga import visualization
from optuna_ga.visualization import _data
from optuna_ga.visualization import plot_allele_frequency
from optuna_ga.visualization import plot_genealogy
from optuna_ga.visualization import plot_generations
from optuna_ga.visualization import plot_pareto_fronts
from optuna_ga.visualization import write_figures
from optuna_ga.visualization._imports import require

DISTS = {
    "opt": CategoricalDistribution(["adam", "sgd"]),
    "layers": IntDistribution(1, 3),
    "lr": FloatDistribution(1e-4, 1e-1, log=True),
}

# (number, generation, state, value, opt, layers, lr, parents, operator); population 4,
# 1 elite: generation 0 = trials 0-3, generation 1 = 4-6, generation 2 = 7-9.
KNOWN = [
    (0, 0, "COMPLETE", 4.0, "sgd", 1, 1e-4, [], "random"),
    (1, 0, "COMPLETE", 2.0, "sgd", 2, 1e-3, [], "random"),
    (2, 0, "FAIL", None, "adam", 3, 1e-2, [], "random"),
    (3, 0, "COMPLETE", 6.0, "adam", 1, 0.05, [], "random"),
    (4, 1, "COMPLETE", 1.0, "adam", 2, 1e-3, [1, 3], "crossover"),
    (5, 1, "PRUNED", None, "sgd", 2, 2e-3, [1], "mutation"),
    (6, 1, "COMPLETE", 3.0, "adam", 3, 2e-2, [0, 1], "crossover+mutation"),
    (7, 2, "COMPLETE", 0.5, "adam", 2, 2e-3, [4, 1], "crossover"),
    (8, 2, "COMPLETE", 2.0, "adam", 2, 5e-3, [4], "mutation"),
    (9, 2, "COMPLETE", math.inf, "adam", 1, 1e-3, [], "immigrant"),
]


def known_study(direction: str = "minimize", storage: str | None = None) -> optuna.Study:
    study = optuna.create_study(direction=direction, storage=storage)
    for number, generation, state, value, opt, layers, lr, parents, operator in KNOWN:
        assert number == len(study.trials)
        study.add_trial(
            optuna.trial.create_trial(
                state=TrialState[state],
                value=value,
                params={"opt": opt, "layers": layers, "lr": lr},
                distributions=DISTS,
                user_attrs={
                    "ga_generation": generation,
                    "ga_parents": parents,
                    "ga_operator": operator,
                },
            )
        )
    return study


def records(study: optuna.Study) -> tuple[list[_data.TrialRecord], dict[str, Any], str]:
    return _data.study_records(study, population_size=4, n_elites=1)[:3]


# -- data --------------------------------------------------------------------------------------


def test_records_keep_only_finite_complete_values() -> None:
    recs, _, direction = records(known_study())
    assert direction == "minimize"
    assert [r.value for r in recs] == [4.0, 2.0, None, 6.0, 1.0, None, 3.0, 0.5, 2.0, None]
    assert [r.state for r in recs][2] == "FAIL"
    assert recs[9].state == "COMPLETE"  # infinite value: counted as "no value"


def test_generation_stats_match_hand_computed_numbers() -> None:
    recs, _, _ = records(known_study())
    stats = _data.generation_stats(recs, direction="minimize")
    assert stats["generation"] == [0, 1, 2]
    assert stats["n_complete"] == [3, 2, 2]
    assert stats["n_other"] == [1, 1, 1]
    assert stats["best"] == [2.0, 1.0, 0.5]
    assert stats["worst"] == [6.0, 3.0, 2.0]
    assert stats["mean"] == [4.0, 2.0, 1.25]
    assert stats["std"] == pytest.approx([np.std([4, 2, 6]), 1.0, 0.75])
    assert stats["best_so_far"] == [2.0, 1.0, 0.5]

    maximize = _data.generation_stats(recs, direction="maximize")
    assert maximize["best"] == [6.0, 3.0, 2.0]
    assert maximize["best_so_far"] == [6.0, 6.0, 6.0]


def test_best_so_far_is_monotone_and_skips_empty_generations() -> None:
    recs = [
        _data.TrialRecord(0, 0, "COMPLETE", 3.0),
        _data.TrialRecord(1, 1, "FAIL", None),
        _data.TrialRecord(2, 2, "COMPLETE", 5.0),
        _data.TrialRecord(3, 3, "COMPLETE", 1.0),
    ]
    stats = _data.generation_stats(recs, direction="minimize")
    assert math.isnan(stats["best"][1])
    assert stats["best_so_far"] == [3.0, 3.0, 3.0, 1.0]


def test_allele_frequencies_count_valued_trials_by_variant_and_sum_to_one() -> None:
    recs, dists, _ = records(known_study())
    alleles = {a.param: a for a in _data.allele_frequencies(recs, dists)}
    opt = alleles["opt"]
    assert (opt.labels, opt.generations, opt.binned) == (["adam", "sgd"], [0, 1, 2], False)
    assert opt.counts == [[1, 2], [2, 0], [2, 0]]  # the failed, pruned, infinite: n_other
    layers = alleles["layers"]  # 3 values <= n_bins: kept as values
    assert (layers.labels, layers.binned) == (["1", "2", "3"], False)
    assert layers.counts == [[2, 1, 0], [0, 1, 1], [0, 2, 0]]
    lr = alleles["lr"]  # log-scale float: 3 log-spaced bins of one decade each
    lr3 = _data.allele_frequencies(recs, dists, params=["lr"], n_bins=3)[0]
    assert lr.binned and lr3.labels == ["[0.0001, 0.001)", "[0.001, 0.01)", "[0.01, 0.1]"]
    assert lr3.counts == [[1, 1, 1], [0, 1, 1], [0, 2, 0]]
    for gene in alleles.values():
        assert gene.n_other == [1, 1, 1]
        assert gene.other == [0.25, pytest.approx(1 / 3), pytest.approx(1 / 3)]
        for row, other in zip(gene.frequencies, gene.other, strict=True):
            assert sum(row) + other == pytest.approx(1.0)


def test_numeric_bins_linear_and_integer_log() -> None:
    dists = {
        "x": FloatDistribution(-5.0, 5.0),
        "n": IntDistribution(1, 64, log=True),
        "units": IntDistribution(1, 6, log=True),
    }
    recs = [
        _data.TrialRecord(0, 0, "COMPLETE", 0.0, {"x": -5.0, "n": 1, "units": 6}),
        _data.TrialRecord(1, 0, "COMPLETE", 0.0, {"x": 5.0, "n": 64, "units": 1}),
        _data.TrialRecord(2, 0, "COMPLETE", 0.0, {"x": 0.1, "n": 8, "units": 3}),
    ]
    x, n, units = _data.allele_frequencies(recs, dists, params=["x", "n", "units"], n_bins=5)
    assert x.labels == ["[-5, -3)", "[-3, -1)", "[-1, 1)", "[1, 3)", "[3, 5]"]
    assert x.counts == [[1, 0, 1, 0, 1]]
    assert n.labels == ["1-2", "3-5", "6-12", "13-27", "28-64"]
    assert n.counts == [[1, 0, 1, 0, 1]]
    # Narrow log range: empty integer bins are dropped, every value has a bin.
    assert units.labels == ["1", "2", "3-4", "5-6"]
    assert units.counts == [[1, 0, 1, 1]]


def test_conditional_genes_count_only_trials_that_have_them() -> None:
    dists = {"a": CategoricalDistribution(["u", "v"])}
    recs = [
        _data.TrialRecord(0, 0, "COMPLETE", 0.0, {"a": "u"}),
        _data.TrialRecord(1, 0, "COMPLETE", 0.0, {}),
        _data.TrialRecord(2, 1, "COMPLETE", 0.0, {}),
    ]
    (a,) = _data.allele_frequencies(recs, dists)
    assert a.generations == [0] and a.frequencies == [[1.0, 0.0]]


def test_genealogy_edges_are_the_recorded_parents() -> None:
    recs, _, _ = records(known_study())
    tree = _data.genealogy(recs, direction="minimize")
    expected = {(p, n) for n, *_rest, parents, _op in KNOWN for p in parents}
    assert set(tree["edges"]) == expected and len(tree["edges"]) == len(expected)
    nodes = {n["number"]: n for n in tree["nodes"]}
    assert len(nodes) == 10
    # Rank within generation: valued trials best first, then the others by number.
    assert [nodes[i]["y"] for i in (0, 1, 2, 3)] == [1, 0, 3, 2]
    assert [nodes[i]["y"] for i in (7, 8, 9)] == [0, 1, 2]
    assert nodes[6]["operator"] == "crossover+mutation"


def test_genealogy_top_k_keeps_the_lineage_of_the_best() -> None:
    recs, _, _ = records(known_study())
    tree = _data.genealogy(recs, direction="minimize", top_k=1)  # best: trial 7 (0.5)
    assert sorted(n["number"] for n in tree["nodes"]) == [1, 3, 4, 7]
    assert set(tree["edges"]) == {(1, 4), (3, 4), (4, 7), (1, 7)}
    tree = _data.genealogy(recs, direction="maximize", top_k=2)  # best: 3 (6.0) and 0 (4.0)
    assert sorted(n["number"] for n in tree["nodes"]) == [0, 3]


def test_trials_without_attrs_get_generation_from_population_size() -> None:
    study = optuna.create_study()
    for i in range(7):
        study.add_trial(optuna.trial.create_trial(value=float(i)))
    by_size = _data.study_records(study, population_size=3, n_elites=1)[0]
    assert [r.generation for r in by_size] == [0, 0, 0, 1, 1, 2, 2]
    assert {r.operator for r in by_size} == {"unknown"}
    without = _data.study_records(study)[0]  # TPE study, no size given: generation 0
    assert {r.generation for r in without} == {0}


def test_running_trials_are_left_out() -> None:
    study = known_study()
    study.ask()
    recs, _, _ = records(study)
    assert len(recs) == 10


def test_generation_summary_diversity_and_duplicates() -> None:
    recs, dists, _ = records(known_study())
    rows = _data.generation_summary(recs, dists, direction="minimize")
    assert [r["n_trials"] for r in rows] == [4, 3, 3]
    assert [r["duplicates"] for r in rows] == [0, 0, 0]
    assert all(r["distinct"] == 1.0 for r in rows)
    assert all(0.0 < r["diversity"] <= 1.0 for r in rows)
    same = [_data.TrialRecord(i, 0, "COMPLETE", 0.0, {"opt": "adam"}) for i in range(3)]
    (row,) = _data.generation_summary(same, dists, direction="minimize")
    assert (row["diversity"], row["duplicates"], row["distinct"]) == (0.0, 2, pytest.approx(1 / 3))


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda s: plot_genealogy(s, top_k=0), "top_k"),
        (lambda s: plot_allele_frequency(s, ["nope"]), "params"),
        (lambda s: plot_allele_frequency(s, "opt"), "params"),
        (lambda s: plot_allele_frequency(s, n_bins=1), "n_bins"),
        (lambda s: plot_generations(s, population_size=1), "population_size"),
        (lambda s: plot_generations(s, population_size=4, n_elites=4), "n_elites"),
        (lambda s: write_figures(s, "unused", formats=["pdf"]), "formats"),
        (lambda s: write_figures(s, "unused", plotlyjs="web"), "plotlyjs"),
        (lambda s: write_figures(s, "unused", png_engine="cairo"), "png_engine"),
    ],
)
def test_bad_arguments_name_the_argument(call: Any, name: str) -> None:
    with pytest.raises(ValueError, match=name):
        call(known_study())


def test_pareto_fronts_need_several_objectives() -> None:
    with pytest.raises(ValueError, match="two or more objectives"):
        plot_pareto_fronts(known_study())


# -- figures -----------------------------------------------------------------------------------


def test_plotly_figures_show_the_extracted_numbers() -> None:
    study = known_study()
    fig = plot_generations(study, population_size=4, n_elites=1)
    traces = {t.name: t for t in fig.data}
    assert list(traces["best"].y) == [2.0, 1.0, 0.5]
    assert list(traces["best so far"].y) == [2.0, 1.0, 0.5]
    assert list(traces["mean"].y) == [4.0, 2.0, 1.25]
    assert len(traces["trials"].y) == 7  # the failed, pruned and infinite trials are skipped

    fig = plot_allele_frequency(study, ["opt", "layers"])
    other = "pruned / failed"
    assert [t.name for t in fig.data] == ["adam", "sgd", other, "1", "2", "3", other]
    assert [t.visible for t in fig.data] == [True] * 3 + [False] * 4
    stacked = np.sum([list(t.y) for t in fig.data[:3]], axis=0)
    assert stacked == pytest.approx([1.0, 1.0, 1.0], abs=1e-3)
    assert len(fig.layout.updatemenus[0].buttons) == 2

    fig = plot_genealogy(study)
    names = [t.name for t in fig.data]
    assert names[0] == "parent → child" and "pruned / failed" in names
    assert len(fig.data[0].x) == 3 * 8  # 8 edges, each a segment and a gap
    assert len(fig.data[names.index("pruned / failed")].x) == 3
    assert any("operator crossover+mutation" in text for t in fig.data[1:] for text in t.text)


def test_matplotlib_variant_draws(tmp_path: Path) -> None:
    require("matplotlib").use("Agg")
    from optuna_ga.visualization import matplotlib as mpl

    study = known_study()
    assert mpl.plot_generations(study).get_xlabel() == "generation"
    axes = mpl.plot_allele_frequency(study)
    assert len(axes) == 3 and [ax.get_title(loc="left") for ax in axes] == ["layers", "lr", "opt"]
    assert mpl.plot_allele_frequency(study, ["opt"]).get_title(loc="left") == "opt"
    assert mpl.plot_genealogy(study, top_k=2).get_title(loc="left").startswith("Genealogy")
    require("matplotlib.pyplot").close("all")


def test_write_figures_writes_html_and_png(tmp_path: Path) -> None:
    paths = write_figures(known_study(), tmp_path / "out", plotlyjs="cdn")
    assert [p.name for p in paths] == [
        "generations.html",
        "generations.png",
        "allele_frequency.html",
        "allele_frequency.png",
        "genealogy.html",
        "genealogy.png",
    ]
    for path in paths:
        assert path.stat().st_size > 1000
        if path.suffix == ".png":
            assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("n_objectives", [1, 2])
@pytest.mark.parametrize("n_trials", [0, 3])
def test_a_study_without_parameters_gets_every_figure(
    tmp_path: Path, n_objectives: int, n_trials: int
) -> None:
    require("matplotlib").use("Agg")
    from optuna_ga.visualization import matplotlib as mpl

    study = optuna.create_study(directions=["minimize"] * n_objectives)
    study.optimize(lambda t: (1.0,) * n_objectives, n_trials=n_trials)  # no parameter
    paths = write_figures(study, tmp_path / "out", plotlyjs="cdn")
    assert len(paths) == 6 + 2 * (n_objectives > 1)
    assert all(p.stat().st_size > 1000 for p in paths)
    ax = mpl.plot_allele_frequency(study)
    assert [t.get_text() for t in ax.texts] == ["no parameters yet"]
    figure = visualization.plot_allele_frequency(study)
    assert [a.text for a in figure.layout.annotations] == ["no parameters yet"]
    require("matplotlib.pyplot").close("all")


@pytest.mark.parametrize("existed", [False, True])
def test_write_figures_leaves_no_partial_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, existed: bool
) -> None:
    from optuna_ga.visualization import _io

    out = tmp_path / "out"
    if existed:
        out.mkdir()
        (out / "notes.txt").write_text("mine")

    def broken(study: optuna.Study, name: str, path: Path, **kwargs: Any) -> None:
        if name == "genealogy":
            path.write_bytes(b"half a PNG")
            raise OSError("disk full")
        path.write_bytes(b"PNG")

    monkeypatch.setattr(_io, "_matplotlib_png", broken)
    with pytest.raises(OSError, match="disk full"):
        write_figures(known_study(), out, plotlyjs="cdn")
    assert sorted(p.name for p in tmp_path.rglob("*")) == (["notes.txt", "out"] if existed else [])


# -- a real run --------------------------------------------------------------------------------


def objective(trial: optuna.Trial) -> float:
    x = trial.suggest_float("x", -5.0, 5.0)
    act = trial.suggest_categorical("act", ["relu", "tanh", "gelu"])
    if trial.number % 7 == 3:
        raise optuna.TrialPruned()
    if trial.number % 11 == 5:
        raise RuntimeError("diverged")
    return x**2 + (act != "gelu")


def test_real_genetic_run_from_sqlite(sqlite_url: str) -> None:
    study = optuna.create_study(
        storage=sqlite_url, sampler=GeneticSampler(population_size=6, n_elites=1, seed=3)
    )
    study.optimize(objective, n_trials=36, catch=(RuntimeError,))
    loaded = optuna.load_study(study_name=study.study_name, storage=sqlite_url)  # TPE sampler
    recs, dists, direction, *_ = _data.study_records(loaded)
    assert len(recs) == 36 and {r.state for r in recs} == {"COMPLETE", "PRUNED", "FAIL"}
    assert [r.generation for r in recs] == [t.user_attrs["ga_generation"] for t in study.trials]
    tree = _data.genealogy(recs, direction=direction)
    parents = {(p, t.number) for t in study.trials for p in t.user_attrs["ga_parents"]}
    assert set(tree["edges"]) == parents and parents
    for gene in _data.allele_frequencies(recs, dists):
        assert gene.generations == list(range(7))
        shares = np.sum(gene.frequencies, axis=1) + gene.other
        assert shares == pytest.approx(np.ones(7))
    best = _data.generation_stats(recs, direction=direction)["best_so_far"]
    assert all(b <= a for a, b in itertools.pairwise(best))
    assert best[-1] == study.best_value
    rows = _data.generation_summary(recs, dists, direction=direction)
    assert sum(r["duplicates"] for r in rows) == 0
    for plot in (plot_generations, plot_allele_frequency, plot_genealogy):
        assert plot(loaded).data


def test_import_optuna_ga_needs_no_plotting_library() -> None:
    code = (
        "import sys\n"
        "sys.modules['plotly'] = None\n"
        "sys.modules['matplotlib'] = None\n"
        "import optuna, optuna_ga, optuna_ga.visualization, optuna_ga.visualization.matplotlib\n"
        "import optuna_ga.dashboard\n"
        "study = optuna.create_study()\n"
        "for call in (optuna_ga.visualization.plot_generations,\n"
        "             optuna_ga.visualization.matplotlib.plot_genealogy):\n"
        "    try:\n"
        "        call(study)\n"
        "    except ImportError as error:\n"
        "        assert 'optuna-ga[dashboard]' in str(error), error\n"
        "    else:\n"
        "        raise SystemExit('no ImportError')\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


# -- issue 11: pruned generations, the band, the menu, the markers, the PNG size -------------


def pruned_generation_study() -> optuna.Study:
    """Generation 0 has values; every trial of generation 1 was pruned."""
    study = optuna.create_study()
    dists = {"opt": CategoricalDistribution(["adam", "sgd"])}
    for number, (generation, state, opt) in enumerate(
        [
            (0, "COMPLETE", "adam"),
            (0, "COMPLETE", "sgd"),
            (1, "PRUNED", "adam"),
            (1, "PRUNED", "sgd"),
        ]
    ):
        study.add_trial(
            optuna.trial.create_trial(
                state=TrialState[state],
                value=float(number) if state == "COMPLETE" else None,
                params={"opt": opt},
                distributions=dists,
                user_attrs={"ga_generation": generation},
            )
        )
    return study


def test_a_generation_of_pruned_trials_shows_no_allele_shares() -> None:
    recs, dists, _, *_ = _data.study_records(pruned_generation_study())
    (opt,) = _data.allele_frequencies(recs, dists)
    assert opt.generations == [0, 1]
    assert opt.frequencies == [[0.5, 0.5], [0.0, 0.0]]
    assert opt.other == [0.0, 1.0]

    fig = plot_allele_frequency(pruned_generation_study())
    traces = {t.name: t for t in fig.data}
    assert list(traces["adam"].y) == [0.5, 0.0] and list(traces["sgd"].y) == [0.5, 0.0]
    assert list(traces["pruned / failed"].y) == [0.0, 1.0]

    require("matplotlib").use("Agg")
    from optuna_ga.visualization import matplotlib as mpl

    ax = mpl.plot_allele_frequency(pruned_generation_study())
    heights = {c.get_label(): [bar.get_height() for bar in c] for c in ax.containers}
    assert heights["adam"] == [0.5, 0.0] and heights["sgd"] == [0.5, 0.0]
    assert heights["pruned / failed"] == [0.0, 1.0]
    require("matplotlib.pyplot").close("all")


def test_known_study_alleles_count_values_and_pruned_apart() -> None:
    recs, dists, _ = records(known_study())
    (opt,) = _data.allele_frequencies(recs, dists, params=["opt"])
    assert opt.counts == [[1, 2], [2, 0], [2, 0]]  # trials with a value only
    assert opt.n_other == [1, 1, 1]  # the failed, the pruned and the infinite trial
    for row, other in zip(opt.frequencies, opt.other, strict=True):
        assert sum(row) + other == pytest.approx(1.0)


def accuracy_study() -> optuna.Study:
    study = optuna.create_study(direction="maximize")
    for value in (1.0, 1.0, 0.2, 0.9, 1.0):
        study.add_trial(optuna.trial.create_trial(value=value, user_attrs={"ga_generation": 0}))
    return study


def test_mean_std_band_stays_within_the_observed_values() -> None:
    recs, _, direction, *_ = _data.study_records(accuracy_study())
    stats = _data.generation_stats(recs, direction=direction)
    assert stats["mean"][0] + stats["std"][0] > 1.0  # unclipped, the band would pass 1.0
    assert stats["upper"] == [1.0]
    assert stats["lower"] == [pytest.approx(stats["mean"][0] - stats["std"][0])]

    fig = plot_generations(accuracy_study())
    band = [t for t in fig.data if t.legendgroup == "band"]
    assert len(band) == 2 and max(max(t.y) for t in band) == 1.0

    require("matplotlib").use("Agg")
    from optuna_ga.visualization import matplotlib as mpl

    ax = mpl.plot_generations(accuracy_study())
    (fill,) = [c for c in ax.collections if c.get_label() == "mean ± std"]
    assert fill.get_paths()[0].vertices[:, 1].max() == pytest.approx(1.0)
    require("matplotlib.pyplot").close("all")


def test_allele_menu_opens_into_the_figure() -> None:
    (menu,) = plot_allele_frequency(known_study()).layout.updatemenus
    direction = menu.direction or "down"
    # A drop-down anchored at the bottom that opens downwards is cut off by the panel's edge.
    assert (direction == "down" and menu.y >= 0.5) or (direction == "up" and menu.y <= 0.5)


def _shape(symbol: str, round_shapes: set[str]) -> str:
    base = symbol.removesuffix("-open").removesuffix("-dot")
    return "round" if base.split("-")[0] in round_shapes else base


def test_operator_markers_are_distinct_shapes() -> None:
    from optuna_ga.visualization import _plotly
    from optuna_ga.visualization import matplotlib as mpl

    # Shapes that look like a circle at marker size 9 (plotly) or 40 pt^2 (matplotlib).
    plotly_shapes = [
        _shape(s, {"circle", "hexagon", "hexagon2", "octagon", "pentagon"})
        for s in _plotly.OPERATOR_SYMBOLS.values()
    ]
    assert len(set(plotly_shapes)) == len(plotly_shapes), _plotly.OPERATOR_SYMBOLS
    mpl_shapes = [_shape(str(m), {"o", "8", "h", "H", "p", "."}) for m in mpl._MARKERS.values()]
    assert len(set(mpl_shapes)) == len(mpl_shapes), mpl._MARKERS
    assert set(mpl._MARKERS) == set(_plotly.OPERATOR_SYMBOLS)
    made_by_the_sampler = {  # every ga_operator value that docs/design.md lists
        "random", "immigrant", "enqueued", "crossover", "crossover+mutation", "mutation",
        "copy", "random-fallback", "repeat", "retry",
    }  # fmt: skip
    assert made_by_the_sampler <= set(_plotly.OPERATOR_SYMBOLS)


def many_params_study(n_params: int) -> optuna.Study:
    study = optuna.create_study()
    dists = {f"p{i:02d}": FloatDistribution(0.0, 1.0) for i in range(n_params)}
    rng = np.random.default_rng(0)
    for number in range(12):
        study.add_trial(
            optuna.trial.create_trial(
                value=float(number),
                params={name: float(rng.random()) for name in dists},
                distributions=dists,
                user_attrs={"ga_generation": number // 4},
            )
        )
    return study


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    return int.from_bytes(header[16:20], "big"), int.from_bytes(header[20:24], "big")


@pytest.mark.parametrize("n_params", [1, 3, 18, 40])
def test_allele_png_keeps_a_sensible_size(tmp_path: Path, n_params: int) -> None:
    (path,) = [
        p
        for p in write_figures(many_params_study(n_params), tmp_path, formats=["png"])
        if p.stem == "allele_frequency"
    ]
    width, height = png_size(path)
    assert 600 <= width <= 2000 and 300 <= height <= 2000, (width, height)


def test_matplotlib_allele_grid_caps_the_panels() -> None:
    require("matplotlib").use("Agg")
    from optuna_ga.visualization import matplotlib as mpl

    axes = mpl.plot_allele_frequency(many_params_study(40))
    assert len(axes) == mpl.MAX_ALLELE_PANELS
    assert [ax.get_title(loc="left") for ax in axes] == [f"p{i:02d}" for i in range(len(axes))]
    assert f"{mpl.MAX_ALLELE_PANELS} of 40 parameters" in axes[0].figure.get_suptitle()
    assert len(mpl.plot_allele_frequency(many_params_study(18))) == 18
    require("matplotlib.pyplot").close("all")


# -- genealogy: colour scale and edges ---------------------------------------------------------


def converging_study() -> optuna.Study:
    """A maximized study as issue 19 showed it: generation 0 spread wide, later ones close.

    Steady state: trials 7, 8, 9, 11 and 12 have a parent of their own generation.
    """
    values = [0.5, 0.6, 0.7, 0.8, 0.9, 0.96, 0.965, 0.97, 0.972, 0.973, 0.975, 0.978, 0.979]
    generations = [0] * 6 + [1] * 4 + [2] * 3
    parents = [[], [], [], [], [], [], [5], [6], [6, 5], [4, 8], [8], [10], [10, 11]]
    study = optuna.create_study(direction="maximize")
    for value, generation, mine in zip(values, generations, parents, strict=True):
        study.add_trial(
            optuna.trial.create_trial(
                value=value,
                params={"x": value},
                distributions={"x": FloatDistribution(0.0, 1.0)},
                user_attrs={
                    "ga_generation": generation,
                    "ga_parents": mine,
                    "ga_operator": "random" if generation == 0 else "mutation",
                },
            )
        )
    return study


def _colour_positions(colours: list[float], low: float, high: float) -> list[float]:
    return [(c - low) / (high - low) for c in colours]


def plotly_colour_positions(fig: Any) -> dict[int, list[float]]:
    """Each generation's marker colours as positions on the colour scale (0 to 1)."""
    markers = [t for t in fig.data if t.mode == "markers" and t.marker.color is not None]
    colours = [float(c) for t in markers for c in t.marker.color]
    axis = fig.layout.coloraxis
    low = axis.cmin if axis.cmin is not None else min(colours)
    high = axis.cmax if axis.cmax is not None else max(colours)
    out: dict[int, list[float]] = {}
    for trace in markers:
        for text, colour in zip(trace.text, trace.marker.color, strict=True):
            generation = int(text.split("(generation ")[1].split(")")[0])
            out.setdefault(generation, []).extend(_colour_positions([colour], low, high))
    return out


def test_genealogy_colour_scale_spans_the_later_generations_too() -> None:
    # Coloured by value, generation 0 took 0.5-0.96 of a 0.5-0.979 scale and every later
    # trial was the same bright yellow.
    positions = plotly_colour_positions(plot_genealogy(converging_study()))
    later = positions[1] + positions[2]
    assert max(later) - min(later) >= 0.4
    assert min(positions[2]) > max(positions[0])  # better generations, brighter colours
    assert np.mean(positions[2]) - np.mean(positions[1]) >= 0.15


def test_matplotlib_genealogy_colour_scale_spans_the_later_generations_too() -> None:
    require("matplotlib").use("Agg")
    from optuna_ga.visualization import matplotlib as mpl

    ax = mpl.plot_genealogy(converging_study())
    by_generation: dict[int, list[float]] = {}
    for collection in ax.collections:
        array = collection.get_array()
        if array is None or not hasattr(collection, "get_offsets"):
            continue
        positions = collection.norm(np.asarray(array, dtype=float))
        for (x, _y), position in zip(collection.get_offsets(), positions, strict=True):
            by_generation.setdefault(round(float(x)), []).append(float(position))
    later = by_generation[1] + by_generation[2]
    assert max(later) - min(later) >= 0.4
    assert np.mean(by_generation[2]) - np.mean(by_generation[1]) >= 0.15
    require("matplotlib.pyplot").close("all")


def test_genealogy_edges_run_left_to_right_also_within_a_generation() -> None:
    recs, _, direction, *_ = _data.study_records(converging_study())
    tree = _data.genealogy(recs, direction=direction)
    nodes = {n["number"]: n for n in tree["nodes"]}
    same = [(p, c) for p, c in tree["edges"] if nodes[p]["generation"] == nodes[c]["generation"]]
    assert len(same) == 6
    assert all(nodes[p]["x"] < nodes[c]["x"] for p, c in tree["edges"])
    # Each trial stays within half a step of its generation's tick.
    assert all(abs(n["x"] - n["generation"]) < 0.5 for n in nodes.values())

    fig = plot_genealogy(converging_study())
    edges = fig.data[0]
    xs = list(edges.x)
    segments = [(xs[i], xs[i + 1]) for i in range(0, len(xs), 3)]
    assert len(segments) == len(tree["edges"])
    assert all(x1 > x0 for x0, x1 in segments)  # no vertical segment through a column

    require("matplotlib").use("Agg")
    from optuna_ga.visualization import matplotlib as mpl

    ax = mpl.plot_genealogy(converging_study())
    (lines,) = [c for c in ax.collections if type(c).__name__ == "LineCollection"]
    for path in lines.get_paths():
        vertices = path.vertices
        assert vertices[-1][0] > vertices[0][0]
    require("matplotlib.pyplot").close("all")


# -- multi-objective studies -------------------------------------------------------------------


def zdt_like(trial: optuna.Trial) -> tuple[float, float]:
    x, y = trial.suggest_float("x", 0, 1), trial.suggest_float("y", 0, 1)
    g = 1 + 9 * y
    return x, g * (1 - math.sqrt(x / g))


def two_objective_study(storage: str | None = None) -> optuna.Study:
    study = optuna.create_study(
        storage=storage,
        directions=["minimize", "minimize"],
        sampler=GeneticSampler(population_size=8, seed=0),
    )
    study.optimize(zdt_like, n_trials=48)
    return study


def test_pareto_fronts_are_nondominated_and_only_move_forward() -> None:
    data = _data.study_records(two_objective_study())
    assert data.pareto and data.directions == ("minimize", "minimize")
    fronts = _data.pareto_fronts(data.records, data.directions)
    values = {r.number: r.values for r in data.records if r.values is not None}
    generation = {r.number: r.generation for r in data.records}
    assert [f["generation"] for f in fronts] == sorted({generation[n] for n in values})
    assert len(fronts) >= 5
    for front in fronts:
        points = np.array(list(zip(front["x"], front["y"], strict=True)))
        assert front["x"] == sorted(front["x"])  # drawn left to right, y going down
        assert front["y"] == sorted(front["y"], reverse=True)
        for number in values:  # nothing up to the generation dominates a front point
            if generation[number] <= front["generation"]:
                v = np.array(values[number])
                assert not np.any(np.all(v <= points, axis=1) & np.any(v < points, axis=1))
        assert all(generation[n] <= front["generation"] for n in front["numbers"])
    for before, after in itertools.pairwise(fronts):
        later = np.array(list(zip(after["x"], after["y"], strict=True)))
        for point in zip(before["x"], before["y"], strict=True):
            assert np.any(np.all(later <= np.array(point), axis=1))  # weakly dominated
    assert fronts[-1]["numbers"] != fronts[0]["numbers"]  # the GA moved the front


def test_multi_objective_values_are_pareto_fitness() -> None:
    data = _data.study_records(two_objective_study())
    assert data.direction == "maximize"
    valued = [r for r in data.records if r.values is not None]
    final = set(_data.pareto_fronts(data.records, data.directions)[-1]["numbers"])
    for record in valued:  # front 0: fitness in [0, 1); a dominated trial: below 0
        assert record.value is not None
        assert (0.0 <= record.value < 1.0) == (record.number in final)
    stats = _data.generation_stats(data.records, direction=data.direction)
    assert stats["best_so_far"][-1] == max(r.value for r in valued if r.value is not None)


def test_multi_objective_figures_draw() -> None:
    data = _data.study_records(two_objective_study())
    generations = visualization.generations_figure(data)
    assert generations.layout.title.text.startswith("Pareto fitness")
    assert visualization.allele_frequency_figure(data).data
    genealogy = visualization.genealogy_figure(data, top_k=3)
    assert "Pareto fitness" in genealogy.layout.coloraxis.colorbar.title.text
    fronts = visualization.pareto_fronts_figure(data)
    expected = _data.pareto_fronts(data.records, data.directions)
    # The trials, a colour bar of the generations, then one line per generation.
    assert len(fronts.data) == 2 + len(expected)
    scale = fronts.data[1].marker
    assert scale.showscale and (scale.cmin, scale.cmax) == (0, expected[-1]["generation"])
    assert not any(trace.showlegend for trace in fronts.data[1:])  # no legend entry each
    last = fronts.data[-1]
    assert list(last.x) == expected[-1]["x"] and last.line.shape == "hv"
    assert fronts.layout.xaxis.title.text == "values[0] (minimize)"


def test_three_objectives_draw_the_first_two() -> None:
    study = optuna.create_study(
        directions=["minimize", "maximize", "minimize"],
        sampler=GeneticSampler(population_size=6, seed=0),
    )
    study.optimize(lambda t: (*zdt_like(t), t.suggest_float("z", 0, 1)), n_trials=18)
    figure = plot_pareto_fronts(study)
    assert "objectives 1-2 of 3" in figure.layout.title.text
    assert figure.layout.yaxis.title.text == "values[1] (maximize)"
    assert plot_genealogy(study).data


def test_an_objective_spanning_decades_is_drawn_on_a_log_axis() -> None:
    def accuracy_and_size(trial: optuna.Trial) -> tuple[float, float]:
        units = trial.suggest_int("units", 4, 4096, log=True)
        return 1.0 - 1.0 / units, float(units * 100)  # sizes span three decades

    study = optuna.create_study(
        directions=["maximize", "minimize"], sampler=GeneticSampler(population_size=6, seed=0)
    )
    study.optimize(accuracy_and_size, n_trials=12)
    figure = plot_pareto_fronts(study)
    assert (figure.layout.xaxis.type, figure.layout.yaxis.type) == ("linear", "log")
    # Log only where positive values span two decades with most of them near the smallest.
    for column, scale in [
        ([1, 2, 3, 500], "log"),  # huge outliers squash the rest
        ([1, 50, 100, 150, 200], "linear"),  # spread out
        ([2, 3, 5, 100], "linear"),  # under two decades
        ([-1, 0.001, 0.002, 500], "linear"),  # not all positive
    ]:
        records = [
            _data.TrialRecord(n, 0, "COMPLETE", 0.0, values=(float(v), 1.0))
            for n, v in enumerate(column)
        ]
        data = _data.StudyRecords(records, {}, "maximize", ("minimize", "minimize"))
        assert _data.front_scales(data) == (scale, "linear"), column

    require("matplotlib").use("Agg")
    from optuna_ga.visualization import matplotlib as mpl

    ax = mpl.plot_pareto_fronts(study)
    assert (ax.get_xscale(), ax.get_yscale()) == ("linear", "log")
    require("matplotlib.pyplot").close("all")


def test_write_figures_adds_the_pareto_fronts(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    paths = write_figures(two_objective_study(), tmp_path, plotlyjs="cdn")
    assert [p.name for p in paths][-2:] == ["pareto_fronts.html", "pareto_fronts.png"]
    assert len(paths) == 8 and all(p.stat().st_size > 0 for p in paths)


def test_pareto_fitness_puts_infeasible_trials_last() -> None:
    def trial(number: int, values: list[float], violation: float) -> Any:
        made = optuna.trial.create_trial(
            values=values,
            system_attrs={"constraints": [violation]},
            user_attrs={"ga_generation": 0},
        )
        made.number = number
        return made

    trials = [trial(0, [0.0, 0.0], 1.0), trial(1, [1.0, 2.0], 0.0), trial(2, [2.0, 1.0], -1.0)]
    recs = _data.trial_records(trials, directions=["minimize", "minimize"])
    assert [r.values for r in recs] == [(0.0, 0.0), (1.0, 2.0), (2.0, 1.0)]
    infeasible, *feasible = [r.value for r in recs]  # trial 0 dominates, but is infeasible
    assert infeasible is not None and infeasible < 0
    assert all(value is not None and value >= 0 for value in feasible)
