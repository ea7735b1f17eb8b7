"""Quick smoke runs of the benchmark runners (their figures are not checked: they are not tests).

None of them needs the committed NN table: ``synthetic_table`` writes a made-up one.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import optuna
import pytest

from benchmarks import continuous
from benchmarks import hpo_tables
from benchmarks import inheritance
from benchmarks import multi_objective
from benchmarks import nn_table
from benchmarks import noise_floor
from benchmarks import paired
from benchmarks import parallel
from benchmarks import pruning
from benchmarks import search_quality


def synthetic_table(path: Path) -> Path:
    """Every configuration of the NN space with a made-up loss (a few diverged rows)."""
    rng = np.random.default_rng(0)
    with open(path, "w", newline="") as f:
        f.write("# synthetic table for tests\n")
        writer = csv.DictWriter(
            f, fieldnames=[*nn_table.GENES, *nn_table.RESULTS], lineterminator="\n"
        )
        writer.writeheader()
        for i, params in enumerate(nn_table.all_configs()):
            loss = float("nan") if i % 97 == 0 else float(rng.uniform(0.05, 2.5))
            row = nn_table.Row(
                params, loss, 1 - loss / 3, 1 - loss / 3, 5, 0.1, "ok" if loss == loss else "x"
            )
            writer.writerow(nn_table._row_to_csv(row))
    return path


def test_nn_table_space_size_and_round_trip(tmp_path: Path) -> None:
    configs = list(nn_table.all_configs())
    assert len(configs) == 1872
    assert len({nn_table.config_key(c) for c in configs}) == 1872
    rows = nn_table.load_table(str(synthetic_table(tmp_path / "t.csv")))
    assert [r.params for r in rows] == configs
    assert sum(math.isnan(r.val_loss) for r in rows) == 20


@pytest.mark.slow
def test_nn_table_quick_trains_a_slice(tmp_path: Path) -> None:
    out = tmp_path / "slice.csv"
    nn_table.main(["--quick", "--limit", "2", "--out", str(out)])
    rows = nn_table.load_table(str(out))
    assert len(rows) == 2
    assert all(r.status == "ok" and 0 <= r.val_accuracy <= 1 for r in rows)


def test_search_quality_quick_reports_every_sampler(tmp_path: Path) -> None:
    table = synthetic_table(tmp_path / "t.csv")
    args = ["--quick", "--seeds", "2", "--budget", "30", "--table", str(table)]
    text = search_quality.main([*args, "--images", str(tmp_path / "img")])
    for name in ("GA default", "RandomSampler", "TPESampler", "brute force"):
        assert f"| {name} |" in text
    assert "### nn-loss" in text and "### cond-mixed" in text
    assert (tmp_path / "img" / "search_quality_nn-loss.png").stat().st_size > 0
    # GeneticSampler never repeats a parameter set.
    ga_row = next(line for line in text.splitlines() if line.startswith("| GA default |"))
    assert "| 0.0% |" in ga_row


def test_trials_to_reach_and_best_so_far() -> None:
    assert search_quality.trials_to_reach([3.0, 2.0, 1.0], 2.0) == 2
    assert search_quality.trials_to_reach([3.0], 1.0) == math.inf
    curve = search_quality.best_so_far([3.0, float("nan"), 1.0], 4)
    assert curve.tolist() == [3.0, 3.0, 1.0, 1.0]


def test_parallel_quick_on_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'p.db'}"
    args = ["--quick", "--storage", url, "--workers", "2", "--trials", "6", "--sleep", "0.01"]
    text = parallel.main([*args, "--samplers", "GeneticSampler"])
    row = next(line for line in text.splitlines() if line.startswith("| GeneticSampler | 2 |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[6] == "0"  # duplicates
    assert cells[7] == "0"  # worker exit codes


def test_inheritance_quick_compares_both_spaces(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    text = inheritance.main(["--quick", "--images", str(tmp_path)])
    for space in ("mlp", "cnn"):
        assert f"### {space}" in text
        assert (tmp_path / f"inheritance_{space}.png").stat().st_size > 0
        row = next(
            line for line in text.split(f"### {space}")[1].splitlines() if line.startswith("| 0 |")
        )
        cells = [c.strip() for c in row.strip("|").split("|")]
        scratch_epochs, heir_epochs = (int(x) for x in cells[3].split(" / "))
        assert scratch_epochs == 16 <= heir_epochs  # 8 trials x 2 epochs; then the same budget
        heirs, trials = (int(x) for x in cells[-2].split("/"))
        assert 0 < heirs < trials
    assert "python -m benchmarks.inheritance --quick" in text


def test_cost_to_reach_and_best_within() -> None:
    assert inheritance.cost_to_reach([0.5, 0.9], [2, 3], 0.9) == 5
    assert inheritance.cost_to_reach([0.5], [2], 0.9) == math.inf
    assert inheritance.best_within([0.5, 0.9, 0.8], [2, 3, 4], 9) == 0.9
    assert math.isnan(inheritance.best_within([0.5], [3], 2))


def test_hpo_tables_quick(tmp_path: Path) -> None:
    text = hpo_tables.main(["--quick", "--jobs", "1", "--out", str(tmp_path / "h.md")])
    assert "GA default" in text and "TPESampler" in text and "NAS" not in text


def test_auto_sampler_loads_from_a_local_registry_and_says_what_it_needs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(hpo_tables.REGISTRY_ENV, str(tmp_path))
    with pytest.raises(ValueError, match="--registry"):
        hpo_tables.auto_sampler(0)
    package = tmp_path / "package" / "samplers" / "auto_sampler"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(
        "import optuna\n\n\nclass AutoSampler(optuna.samplers.RandomSampler):\n    pass\n"
    )
    sampler = hpo_tables.auto_sampler(3)
    assert type(sampler).__name__ == "AutoSampler"
    assert "AutoSampler" not in hpo_tables.DEFAULT_SAMPLERS  # it needs --registry


def test_hpo_tables_top_percent_of_the_true_best_is_one_over_n() -> None:
    table = hpo_tables.table("hpolib/naval_propulsion")
    best = min(table.true, key=table.true.__getitem__)
    assert table.top_percent(best) == pytest.approx(100 / len(table.true))
    assert len(table.true) == 62_208


def test_multi_objective_quick(tmp_path: Path) -> None:
    argv = ["--quick", "--jobs", "1", "--samplers", "RandomSampler", "GA default"]
    text = multi_objective.main([*argv, "--out", str(tmp_path / "m.md")])
    assert "GA default" in text and "HPOLib" in text and "NAS" not in text


def test_multi_objective_gap_of_the_whole_table_is_zero() -> None:
    table = multi_objective.table("hpobench/australian")
    keys = list(table.runs)
    assert table.gap(keys) == pytest.approx(0.0)
    # The configuration worst on both objectives (quantile sum) covers almost nothing.
    worst = keys[int(np.argmax(table.quantiles.sum(axis=1)))]
    assert table.gap([worst]) > 0.9
    best = keys[int(np.argmin(table.quantiles.sum(axis=1)))]
    assert 0.0 < table.gap([best]) < table.gap([worst])


def test_pruning_quick(tmp_path: Path) -> None:
    text = pruning.main(["--quick", "--jobs", "1", "--out", str(tmp_path / "p.md")])
    assert "Hyperband" in text and "GA default" in text
    # every pruner is paired with no pruner; the table of early-pruning losses closes the report
    assert "| GA default | none | " in text and "/ none, paired" in text
    assert text.rstrip().splitlines()[-1].startswith("| naval_propulsion | 1.00 |")


def test_pruning_ranks_the_incumbent_by_its_last_epoch() -> None:
    tab = hpo_tables.table("hpolib/protein_structure")
    names = list(tab.space)
    rates = {
        key: pruning.rate({n: int(c) for n, c in zip(names, key, strict=True)}, tab.space)
        for key in tab.runs
    }
    slowest, fastest = min(rates.values()), max(rates.values())
    slow = min((k for k in rates if rates[k] == slowest), key=tab.top_percent)
    fast = min((k for k in rates if rates[k] == fastest), key=tab.top_percent)
    # The best of the slowest learners has not converged by the last epoch: ranked there, it
    # falls far behind its converged rank; the best of the fastest (rate 3) keeps its place.
    assert pruning.top_at_last_epoch(tab, slow) > 10 * tab.top_percent(slow)
    assert pruning.top_at_last_epoch(tab, fast) < 2 * tab.top_percent(fast)
    final = np.array([0.5, 0.01])
    assert pruning.last_epoch(final, 100.0) == pytest.approx(final)
    assert np.all(pruning.last_epoch(final, 0.01) > final)


def test_long_studies_are_scored_at_their_budget_too(tmp_path: Path) -> None:
    cache = tmp_path / "runs.jsonl"
    args = ["--families", "hpolib", "--datasets", "naval_propulsion", "--seeds", "1"]
    args += ["--jobs", "1", "--samplers", "GA default", "--budget", "240", "--cache", str(cache)]
    hpo_tables.main(args)
    (run,) = [json.loads(line) for line in cache.read_text().splitlines()]
    assert run["budget"] == 240 and len(run["top"]) == len(hpo_tables.BUDGETS) + 1
    assert run["top"][-1] <= run["top"][-2]  # the incumbent after 240 trials is no worse
    text = paired.main(["--cache", str(cache), "--base", "GA default", "--variants", "GA x"])
    assert "| @200 | @240 |" in text


@pytest.mark.parametrize("name", continuous.problem_names())
def test_continuous_problems_reach_their_optimum_and_nothing_beats_it(name: str) -> None:
    p = continuous.problem(name)
    best = p.offset()
    if p.function == "levy":
        best = np.ones(p.d)
    if p.function == "styblinski_tang":
        best = np.where(np.arange(p.d) < p.n_int, -3.0, -2.903534)
    params: dict[str, object] = {f"x{i}": float(v) for i, v in enumerate(best)}
    params |= {f"x{i}": int(best[i]) for i in range(p.n_int)}
    if p.form == "mixed":
        params["c"] = "a"
    assert p(optuna.trial.FixedTrial(params)) == pytest.approx(p.optimum(), abs=1e-6)
    rng = np.random.default_rng(0)  # random points of the box are all worse
    for _ in range(200):
        point: dict[str, object] = {
            f"x{i}": int(rng.integers(-5, 6)) if i < p.n_int else float(rng.uniform(-5, 5))
            for i in range(p.d)
        }
        if p.form == "mixed":
            point["c"] = str(rng.choice(list(continuous.CATEGORIES)))
        assert p(optuna.trial.FixedTrial(point)) >= p.optimum() - 1e-9


def test_continuous_quick(tmp_path: Path) -> None:
    text = continuous.main(["--quick", "--samplers", "GA default", "TPESampler", "CatCMAwM"])
    assert "zakharov/2/continuous" in text and "alpine/2/mixed" in text
    assert "GA default at 100 trials per dimension" in text


def test_noise_floor_best_evaluated_is_never_worse_than_the_incumbent() -> None:
    _, _, _, scores = noise_floor.run_one(("hpolib/naval_propulsion", "GA default", 0, 60))
    assert len(scores) == 2  # at 25 and 50 trials
    for incumbent, best in scores:
        assert 0 < best <= incumbent
    assert scores[1][1] <= scores[0][1]  # the best evaluated can only get better
    text = noise_floor.main(["--seeds", "1", "--budget", "30", "--samplers", "RandomSampler"])
    assert "| RandomSampler | best evaluated |" in text and "@50" not in text


def test_pruning_rate_spread_zero_gives_curves_that_never_cross() -> None:
    tab = hpo_tables.table("hpolib/protein_structure")
    assert len(set(pruning.rates(tab, 0.0).values())) == 1
    assert len(set(pruning.rates(tab).values())) > 1  # the default spread, 0.5
    # Same rate: the ranking at epoch 1 is the final one, so a first rung keeps the best.
    assert "| protein_structure | 1.00 | 0.002 |" in pruning.ceilings([tab.name], 0.0)
    assert "| protein_structure | 0.06 |" in pruning.ceilings([tab.name])
