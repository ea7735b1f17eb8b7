"""Pure data extraction for the GA plots: trials in, plain lists and dicts out.

Nothing here imports plotly or matplotlib, and only :func:`study_records` reads a study; the
other functions take :class:`TrialRecord` lists, so tests can check the numbers a figure shows
without drawing it.

Rules shared by every plot and by the dashboard note:

* **Generation.** A trial's generation is its ``ga_generation`` user attr. A trial without it
  (run by another sampler, or added by hand) gets ``generation_of(number, population_size,
  n_elites)`` when the population size is known (given, or read from a study's
  :class:`~optuna_ga.GeneticSampler`), else generation 0.
* **Objective values.** Only COMPLETE trials with a finite value have one (``value``);
  PRUNED, FAIL and non-finite COMPLETE trials have ``value=None``: the fitness plots skip
  them, the genealogy draws them as grey crosses, diversity counts them (the GA bred them),
  and allele frequencies show them as one "pruned / failed" share per generation, not by
  gene variant (they are never parents, so their genes do not spread).
* **Unfinished trials.** RUNNING and WAITING trials (a study still running) are left out of
  statistics and frequencies; the genealogy leaves them out too.
* **Several objectives.** In a multi-objective study a trial's ``value`` is its Pareto
  fitness among all the study's trials with finite values (higher is better: minus its front,
  0 for the non-dominated, plus a diversity tie-break in ``[0, 1)``, as the sampler ranks
  them; see :func:`optuna_ga._pareto.fitness`), and ``values`` holds its objective values; the
  plots that need one number per trial (best per generation, genealogy colour) read the
  fitness, and :func:`pareto_fronts` draws the objectives themselves.
* **A generation's population** in these plots is the trials *of* that generation. Elites
  carried over from earlier generations are not counted again; the best-so-far line shows them.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from typing import Any
from typing import NamedTuple

import numpy as np
import optuna
from optuna.distributions import BaseDistribution
from optuna.distributions import CategoricalDistribution
from optuna.distributions import FloatDistribution
from optuna.distributions import IntDistribution
from optuna.study import StudyDirection
from optuna.trial import FrozenTrial
from optuna.trial import TrialState

from optuna_ga._encoding import canonical_hash
from optuna_ga._pareto import nondominated_ranks
from optuna_ga._pareto import to_losses
from optuna_ga._pareto import violations
from optuna_ga._population import generation_of
from optuna_ga._population import pareto_scores_of
from optuna_ga._store import GENERATION_ATTR
from optuna_ga._store import OPERATOR_ATTR
from optuna_ga._store import PARENTS_ATTR

#: Operator label of trials that carry no ``ga_operator`` attr (another sampler, added by hand).
UNKNOWN_OPERATOR = "unknown"
#: What the allele plots say while no trial has a parameter.
NO_PARAMETERS = "no parameters yet"

_FINISHED = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)
#: Trial system attr where Optuna's samplers record ``constraints_func``'s values.
_CONSTRAINTS_KEY = "constraints"


@dataclass(frozen=True)
class TrialRecord:
    """What the GA plots need of one finished trial.

    Attributes:
        number: The trial number.
        generation: See the module docstring.
        state: ``"COMPLETE"``, ``"PRUNED"`` or ``"FAIL"``.
        value: The objective value of a COMPLETE trial with a finite value, else ``None``.
        params: Parameter names mapped to their (external) values.
        parents: Parent trial numbers (``[]`` for random, immigrant and enqueued trials).
        operator: The ``ga_operator`` attr, or ``"unknown"``.
        values: A multi-objective trial's finite objective values (``value`` is then its
            Pareto fitness), else ``None``.
    """

    number: int
    generation: int
    state: str
    value: float | None
    params: dict[str, Any] = field(default_factory=dict)
    parents: list[int] = field(default_factory=list)
    operator: str = UNKNOWN_OPERATOR
    values: tuple[float, ...] | None = None


def trial_records(
    trials: Iterable[FrozenTrial],
    *,
    population_size: int | None = None,
    n_elites: int = 0,
    directions: Sequence[str] | None = None,
) -> list[TrialRecord]:
    """Turn finished trials into :class:`TrialRecord` s, sorted by number.

    Args:
        trials: Trials of one study; unfinished ones are skipped.
        population_size: Generation size for trials without a ``ga_generation`` attr;
            ``None`` puts them in generation 0.
        n_elites: Elites per generation, used with ``population_size``.
        directions: ``"minimize"`` or ``"maximize"`` per objective; several make each
            trial's ``value`` its Pareto fitness (see the module docstring). ``None``: one
            objective.

    Returns:
        One record per COMPLETE, PRUNED or FAIL trial.

    Example:
        >>> import optuna
        >>> t = optuna.trial.create_trial(value=1.5, user_attrs={"ga_generation": 2})
        >>> trial_records([t])[0].generation, trial_records([t])[0].value
        (2, 1.5)
    """
    _check_population(population_size, n_elites)
    n_objectives = 1 if directions is None else len(directions)
    records = []
    violation: dict[int, float] = {}  # of multi-objective trials with constraints
    for trial in trials:
        if trial.state not in _FINISHED:
            continue
        attrs = trial.user_attrs
        generation = attrs.get(GENERATION_ATTR)
        if not isinstance(generation, int) or isinstance(generation, bool):
            generation = (
                0
                if population_size is None
                else generation_of(trial.number, population_size, n_elites)[0]
            )
        value, values = None, None
        if trial.state == TrialState.COMPLETE and trial.values is not None:
            if len(trial.values) != n_objectives:
                raise ValueError(
                    f"trial {trial.number} has {len(trial.values)} values, but the study has "
                    f"{n_objectives} objectives."
                )
            if all(math.isfinite(v) for v in trial.values):
                if n_objectives == 1:
                    value = float(trial.values[0])
                else:
                    values = tuple(float(v) for v in trial.values)
                    constraints = trial.system_attrs.get(_CONSTRAINTS_KEY)
                    if isinstance(constraints, (list, tuple)) and constraints:
                        total = violations(np.array([constraints], dtype=float))[0]
                        violation[trial.number] = float(total)
        parents = attrs.get(PARENTS_ATTR)
        operator = attrs.get(OPERATOR_ATTR)
        records.append(
            TrialRecord(
                number=trial.number,
                generation=generation,
                state=trial.state.name,
                value=value,
                params=dict(trial.params),
                parents=[int(p) for p in parents] if isinstance(parents, list) else [],
                operator=operator if isinstance(operator, str) else UNKNOWN_OPERATOR,
                values=values,
            )
        )
    records.sort(key=lambda r: r.number)
    if directions is not None and n_objectives > 1:
        records = _with_pareto_fitness(records, directions, violation)
    return records


def _with_pareto_fitness(
    records: list[TrialRecord], directions: Sequence[str], violation: Mapping[int, float]
) -> list[TrialRecord]:
    """The records, with each one's Pareto fitness among those with values as its value
    (feasible trials first, as the sampler ranks them: ``violation`` by trial number, 0 if
    absent)."""
    valued = [r for r in records if r.values is not None]
    if not valued:
        return records
    maximize = [_is_maximize(d) for d in directions]
    losses = to_losses(np.array([r.values for r in valued]), maximize)
    scores = pareto_scores_of(
        losses,
        np.array([violation.get(r.number, 0.0) for r in valued]),
        np.array([r.number for r in valued]),
    )
    fitness = {r.number: float(s) for r, s in zip(valued, scores, strict=True)}
    return [dataclasses.replace(r, value=fitness.get(r.number)) for r in records]


class StudyRecords(NamedTuple):
    """A study read once for the GA plots (:func:`study_records`), drawn by the ``*_figure``
    functions of :mod:`optuna_ga.visualization`."""

    #: The finished trials, by number (see :class:`TrialRecord`).
    records: list[TrialRecord]
    #: Each parameter's distribution, widened to cover every trial's range.
    distributions: dict[str, BaseDistribution]
    #: ``"minimize"`` or ``"maximize"``; ``"maximize"`` with several objectives, whose
    #: records' values are Pareto fitness (higher is better).
    direction: str
    #: The direction of each objective (one for a single-objective study).
    directions: tuple[str, ...] = ()
    #: The name of each objective: the study's metric names, else the ``--objectives`` that
    #: ``optuna-ga run`` recorded, else ``values[i]``.
    objectives: tuple[str, ...] = ()

    @property
    def pareto(self) -> bool:
        """Whether the study has several objectives (records' values are Pareto fitness)."""
        return len(self.directions) > 1


def study_records(
    study: optuna.Study,
    *,
    population_size: int | None = None,
    n_elites: int | None = None,
) -> StudyRecords:
    """Read a study once, for any number of GA figures: its records, distributions, direction.

    Args:
        study: A study run by :class:`~optuna_ga.GeneticSampler`; with several objectives,
            each record's value is its Pareto fitness (see the module docstring).
        population_size: Generation size for trials without a ``ga_generation`` attr;
            ``None`` takes the study sampler's, if it is a GeneticSampler, else generation 0.
        n_elites: Elites per generation, with ``population_size``.

    Raises:
        ValueError: If the sizes are out of range.
    """
    size, elites = resolve_population(study, population_size, n_elites)
    trials = study.get_trials(deepcopy=False)
    directions = tuple(
        "maximize" if d == StudyDirection.MAXIMIZE else "minimize" for d in study.directions
    )
    pareto = len(directions) > 1
    records = trial_records(
        trials, population_size=size, n_elites=elites, directions=directions if pareto else None
    )
    # optuna-ga run names a multi-objective study's values (Study.set_metric_names).
    objectives = tuple(study.metric_names or (f"values[{i}]" for i in range(len(directions))))
    direction = "maximize" if pareto else directions[0]
    return StudyRecords(records, param_distributions(trials), direction, directions, objectives)


def value_labels(data: StudyRecords) -> dict[str, str]:
    """What the figures call the records' values: ``title`` (of the generations plot),
    ``axis`` and ``colorbar`` (the genealogy's); Pareto fitness with several objectives."""
    if data.pareto:
        return {
            "title": "Pareto fitness per generation (higher is better)",
            "axis": "Pareto fitness (-front + spread)",
            "colorbar": "Pareto fitness",
        }
    return {
        "title": f"Objective per generation ({data.direction})",
        "axis": "objective value",
        "colorbar": "value",
    }


def front_labels(data: StudyRecords) -> tuple[str, str, str]:
    """Title, x and y axis titles of the Pareto front plot: the first two objectives."""
    names, directions = data.objectives[:2], data.directions[:2]
    x_name, y_name = (f"{n} ({d})" for n, d in zip(names, directions, strict=True))
    title = "Pareto front per generation"
    if len(data.directions) > 2:
        title += f" (objectives 1-2 of {len(data.directions)})"
    return title, x_name, y_name


#: An objective whose positive values span at least this ratio, and half of which would lie in
#: the bottom :data:`LOG_SQUEEZE` of a linear axis, is drawn on a log axis.
LOG_SPAN = 100.0
LOG_SQUEEZE = 0.1


def front_scales(data: StudyRecords) -> tuple[str, str]:
    """``"log"`` or ``"linear"`` for the x and y axes of the Pareto front plot.

    An objective is drawn on a log axis when all its values are positive, the largest is at
    least :data:`LOG_SPAN` times the smallest and the median lies in the bottom
    :data:`LOG_SQUEEZE` of the range, as parameter counts, MACs and times often do: on a
    linear axis a few huge networks would squash the front into a corner.

    Example:
        >>> records = [TrialRecord(n, 0, "COMPLETE", 0.0, values=(0.9, size))
        ...            for n, size in enumerate([2e3, 5e3, 9e3, 5e5])]
        >>> front_scales(StudyRecords(records, {}, "maximize", ("maximize", "minimize")))
        ('linear', 'log')
    """
    values = np.array([r.values[:2] for r in data.records if r.values is not None], float)
    if len(values) == 0:
        return "linear", "linear"
    low, high, median = values.min(axis=0), values.max(axis=0), np.median(values, axis=0)
    squeezed = (low > 0) & (high >= LOG_SPAN * low) & (median - low <= LOG_SQUEEZE * (high - low))
    x, y = ("log" if s else "linear" for s in squeezed)
    return x, y


def resolve_population(
    study: optuna.Study, population_size: int | None, n_elites: int | None
) -> tuple[int | None, int]:
    """Population size and elites: the given ones, else the study's GeneticSampler's."""
    from optuna_ga._sampler import GeneticSampler

    sampler = study.sampler
    if population_size is None and isinstance(sampler, GeneticSampler):
        population_size = sampler.population_size
        if n_elites is None:
            n_elites = sampler.n_elites
    if n_elites is None:
        n_elites = 0
    _check_population(population_size, n_elites)
    return population_size, n_elites


def param_distributions(trials: Iterable[FrozenTrial]) -> dict[str, BaseDistribution]:
    """Each parameter's distribution; numeric ranges widened to cover every trial's range.

    Example:
        >>> from optuna.distributions import FloatDistribution as F
        >>> a = optuna.trial.create_trial(value=0, params={"x": 1.0},
        ...                               distributions={"x": F(0, 2)})
        >>> b = optuna.trial.create_trial(value=0, params={"x": 3.0},
        ...                               distributions={"x": F(1, 4)})
        >>> param_distributions([a, b])["x"]
        FloatDistribution(high=4.0, log=False, low=0.0, step=None)
    """
    merged: dict[str, BaseDistribution] = {}
    for trial in trials:
        for name, dist in trial.distributions.items():
            old = merged.get(name)
            if (
                isinstance(old, (FloatDistribution, IntDistribution))
                and type(old) is type(dist)
                and isinstance(dist, (FloatDistribution, IntDistribution))
                and old.log == dist.log
            ):
                low, high = min(old.low, dist.low), max(old.high, dist.high)
                if isinstance(dist, IntDistribution):
                    dist = IntDistribution(int(low), int(high), log=dist.log, step=dist.step)
                else:
                    dist = FloatDistribution(low, high, log=dist.log, step=None)
            merged[name] = dist
    return merged


# -- fitness per generation --------------------------------------------------------------------


def generation_stats(records: Sequence[TrialRecord], *, direction: str) -> dict[str, list[Any]]:
    """Objective statistics per generation over trials with a value.

    Args:
        records: From :func:`trial_records`.
        direction: ``"minimize"`` or ``"maximize"``: which end is *best*.

    Returns:
        Lists indexed alike, one entry per generation from 0 to the last one: ``generation``,
        ``n_complete`` (trials with a value), ``n_other`` (pruned, failed, non-finite),
        ``best``, ``mean``, ``std`` (population standard deviation), ``worst``, ``lower`` and
        ``upper`` (the band ``mean ± std`` clipped to the generation's smallest and largest
        value, so that it never shows a value no trial had; all ``nan`` where a generation has
        no value) and ``best_so_far`` (best over generations ``<= g``; ``nan`` before the
        first value; monotone).

    Example:
        >>> recs = [TrialRecord(0, 0, "COMPLETE", 3.0), TrialRecord(1, 0, "COMPLETE", 1.0),
        ...         TrialRecord(2, 1, "FAIL", None), TrialRecord(3, 1, "COMPLETE", 2.0)]
        >>> s = generation_stats(recs, direction="minimize")
        >>> s["best"], s["mean"], s["worst"], s["best_so_far"], s["n_other"]
        ([1.0, 2.0], [2.0, 2.0], [3.0, 2.0], [1.0, 1.0], [0, 1])
        >>> s["upper"]  # 2.0 + 1.0 is clipped to the largest value, 3.0; 2.0 + 0.0 is not
        [3.0, 2.0]
    """
    maximize = _is_maximize(direction)
    n_generations = max((r.generation for r in records), default=-1) + 1
    values: list[list[float]] = [[] for _ in range(n_generations)]
    n_other = [0] * n_generations
    for record in records:
        if record.value is None:
            n_other[record.generation] += 1
        else:
            values[record.generation].append(record.value)
    stats: dict[str, list[Any]] = {
        "generation": list(range(n_generations)),
        "n_complete": [len(v) for v in values],
        "n_other": n_other,
        "best": [],
        "mean": [],
        "std": [],
        "worst": [],
        "lower": [],
        "upper": [],
        "best_so_far": [],
    }
    pick_best, pick_worst = (max, min) if maximize else (min, max)
    so_far = math.nan
    for generation_values in values:
        if generation_values:
            array = np.asarray(generation_values, dtype=float)
            best = float(pick_best(generation_values))
            mean, std = float(array.mean()), float(array.std())
            stats["best"].append(best)
            stats["mean"].append(mean)
            stats["std"].append(std)
            stats["worst"].append(float(pick_worst(generation_values)))
            stats["lower"].append(max(mean - std, float(array.min())))
            stats["upper"].append(min(mean + std, float(array.max())))
            so_far = best if math.isnan(so_far) else pick_best(so_far, best)
        else:
            for key in ("best", "mean", "std", "worst", "lower", "upper"):
                stats[key].append(math.nan)
        stats["best_so_far"].append(so_far)
    return stats


# -- allele frequencies ------------------------------------------------------------------------


@dataclass(frozen=True)
class Alleles:
    """Allele counts of one gene (parameter) per generation.

    Attributes:
        param: Parameter name.
        labels: Allele labels: categorical values as text, or bins such as
            ``"[0.001, 0.01)"`` or ``"3-5"``.
        generations: Generations in which at least one trial has this parameter.
        counts: ``counts[i][j]``: trials of ``generations[i]`` with a value whose parameter
            has label ``j``.
        n_other: ``n_other[i]``: trials of ``generations[i]`` with this parameter but without
            a value (PRUNED, FAIL, non-finite).
        frequencies: ``counts[i][j]`` over all of the generation's trials with this parameter
            (``sum(counts[i]) + n_other[i]``).
        other: ``n_other[i]`` over the same total; ``sum(frequencies[i]) + other[i] == 1``.
        binned: Whether numeric values were grouped into bins.
    """

    param: str
    labels: list[str]
    generations: list[int]
    counts: list[list[int]]
    n_other: list[int]
    frequencies: list[list[float]]
    other: list[float]
    binned: bool


def allele_frequencies(
    records: Sequence[TrialRecord],
    distributions: Mapping[str, BaseDistribution],
    *,
    params: Sequence[str] | None = None,
    n_bins: int = 5,
) -> list[Alleles]:
    """Share of each gene variant in each generation.

    A categorical parameter's variants are its choices. A numeric parameter with at most
    ``n_bins`` possible values (e.g. ``suggest_int("layers", 1, 4)``) keeps its values; any
    other is cut into ``n_bins`` equal-width bins over its distribution's range (equal-width
    in log space for ``log=True``). Bins follow the distribution, not the observed values,
    so labels do not move as a live study grows. Trials lacking the parameter (a conditional
    gene that is not in use) do not count towards its frequencies. Trials without a value
    (pruned, failed, non-finite) count as one ``other`` share, whatever their genes: they are
    never parents, so a generation whose trials were all pruned has no variant shares.

    Args:
        records: From :func:`trial_records`.
        distributions: From :func:`param_distributions`.
        params: Parameters to show, in this order; ``None`` means all, sorted by name.
        n_bins: Bins for numeric parameters, at least 2.

    Returns:
        One :class:`Alleles` per parameter.

    Example:
        >>> from optuna.distributions import CategoricalDistribution as C
        >>> recs = [TrialRecord(0, 0, "COMPLETE", 1.0, {"opt": "sgd"}),
        ...         TrialRecord(1, 0, "FAIL", None, {"opt": "adam"}),
        ...         TrialRecord(2, 1, "COMPLETE", 0.5, {"opt": "adam"})]
        >>> a = allele_frequencies(recs, {"opt": C(["sgd", "adam"])})[0]
        >>> a.labels, a.generations, a.frequencies, a.other
        (['sgd', 'adam'], [0, 1], [[0.5, 0.0], [0.0, 1.0]], [0.5, 0.0])
    """
    if isinstance(n_bins, bool) or not isinstance(n_bins, int) or n_bins < 2:
        raise ValueError(f"n_bins must be an int >= 2, got {n_bins!r}.")
    if params is None:
        names = sorted(distributions)
    else:
        if isinstance(params, str):
            raise ValueError(f"params must be a sequence of names, got the string {params!r}.")
        names = list(params)
        unknown = [name for name in names if name not in distributions]
        if unknown:
            raise ValueError(
                f"params names unknown parameters {unknown}; "
                f"the study has {sorted(distributions)}."
            )
    result = []
    for name in names:
        labeler, labels, binned = _labeler(distributions[name], n_bins)
        by_generation: dict[int, list[int]] = {}
        n_other: dict[int, int] = {}
        for record in records:
            if name not in record.params:
                continue
            row = by_generation.setdefault(record.generation, [0] * len(labels))
            n_other.setdefault(record.generation, 0)
            if record.value is None:
                n_other[record.generation] += 1
                continue
            index = labeler(record.params[name])
            if index >= len(labels):  # a value outside the known choices
                labels.append(str(record.params[name]))
                for other_row in by_generation.values():
                    other_row.append(0)
            row[index] += 1
        generations = sorted(by_generation)
        counts = [by_generation[g] for g in generations]
        others = [n_other[g] for g in generations]
        totals = [sum(row) + o for row, o in zip(counts, others, strict=True)]
        result.append(
            Alleles(
                param=name,
                labels=labels,
                generations=generations,
                counts=counts,
                n_other=others,
                frequencies=[[c / t for c in row] for row, t in zip(counts, totals, strict=True)],
                other=[o / t for o, t in zip(others, totals, strict=True)],
                binned=binned,
            )
        )
    return result


def _labeler(
    dist: BaseDistribution, n_bins: int
) -> tuple[Any, list[str], bool]:  # (value -> label index, labels, binned)
    if isinstance(dist, CategoricalDistribution):
        choices = list(dist.choices)
        labels = [str(c) for c in choices]

        def categorical_index(value: Any) -> int:
            for i, choice in enumerate(choices):
                if choice == value and type(choice) is type(value):
                    return i
            for i, choice in enumerate(choices):
                if choice == value:
                    return i
            extra = str(value)
            return labels.index(extra) if extra in labels else len(labels)

        return categorical_index, labels, False
    assert isinstance(dist, (FloatDistribution, IntDistribution))
    if isinstance(dist, IntDistribution) or dist.step is not None:
        step = dist.step if dist.step is not None else 1
        n_values = round((dist.high - dist.low) / step) + 1
        if n_values <= n_bins:
            values = [dist.low + i * step for i in range(n_values)]
            labels = [_fmt(v) for v in values]

            def value_index(value: Any) -> int:
                return int(np.argmin([abs(value - v) for v in values]))

            return value_index, labels, False
    low, high = float(dist.low), float(dist.high)
    space = np.geomspace if dist.log else np.linspace
    edges = space(low, high, n_bins + 1)
    if isinstance(dist, IntDistribution):
        # Integer bins: value v lies in bin i when uppers[i - 1] < v <= uppers[i]; empty bins
        # (narrow log ranges) are dropped.
        uppers = sorted({math.floor(e) for e in edges[1:]})
        labels = []
        lower = dist.low
        for upper in uppers:
            labels.append(f"{lower}" if lower == upper else f"{lower}-{upper}")
            lower = upper + 1

        def int_bin_index(value: Any) -> int:
            return min(int(np.searchsorted(uppers, value, side="left")), len(uppers) - 1)

        return int_bin_index, labels, True
    labels = [
        f"[{_fmt(edges[i])}, {_fmt(edges[i + 1])}" + ("]" if i == n_bins - 1 else ")")
        for i in range(n_bins)
    ]

    def bin_index(value: Any) -> int:
        return min(max(int(np.searchsorted(edges, value, side="right")) - 1, 0), n_bins - 1)

    return bin_index, labels, True


def _fmt(value: float) -> str:
    return f"{value:.3g}"


# -- Pareto fronts ----------------------------------------------------------------------------


def pareto_fronts(
    records: Sequence[TrialRecord], directions: Sequence[str]
) -> list[dict[str, Any]]:
    """The Pareto front of the first two objectives of the trials up to each generation.

    Fronts are of the trials with values (:attr:`TrialRecord.values`) in generations
    ``<= g``, by :func:`optuna_ga._pareto.nondominated_ranks` over the first two objectives
    (a study with more objectives is drawn in those two), so each front weakly dominates the
    one before: every earlier point is on it or dominated by one of its points.

    Args:
        records: From :func:`trial_records` of a multi-objective study.
        directions: ``"minimize"`` or ``"maximize"`` per objective (two or more).

    Returns:
        One dict per generation from the first one with a value: ``generation``, and ``x``,
        ``y``, ``numbers`` (the front's points, best first objective first, then best second,
        then by number; equal points all shown): joined in this order by steps that go along
        ``x`` first (plotly's ``line_shape="hv"``), they draw the front's attainment line.

    Example:
        >>> recs = [TrialRecord(0, 0, "COMPLETE", 0.0, values=(1.0, 3.0)),
        ...         TrialRecord(1, 0, "COMPLETE", 0.0, values=(2.0, 4.0)),
        ...         TrialRecord(2, 1, "COMPLETE", 0.0, values=(2.0, 1.0))]
        >>> [(f["generation"], f["x"], f["y"]) for f in pareto_fronts(recs, ["minimize"] * 2)]
        [(0, [1.0], [3.0]), (1, [1.0, 2.0], [3.0, 1.0])]
    """
    if len(directions) < 2:
        raise ValueError(f"Pareto fronts need two or more objectives, got {len(directions)}.")
    maximize = [_is_maximize(d) for d in directions[:2]]
    valued = sorted(
        (r for r in records if r.values is not None), key=lambda r: (r.generation, r.number)
    )
    fronts: list[dict[str, Any]] = []
    for i, record in enumerate(valued):
        if i + 1 < len(valued) and valued[i + 1].generation == record.generation:
            continue  # the last trial of its generation: the front up to this generation
        so_far = valued[: i + 1]
        points = np.array([r.values[:2] for r in so_far if r.values is not None])
        losses = to_losses(points, maximize)
        on_front = np.flatnonzero(nondominated_ranks(losses) == 0)
        by = on_front[np.lexsort((on_front, losses[on_front, 1], losses[on_front, 0]))]
        fronts.append(
            {
                "generation": record.generation,
                "x": points[by, 0].tolist(),
                "y": points[by, 1].tolist(),
                "numbers": [so_far[j].number for j in by],
            }
        )
    return fronts


# -- genealogy ---------------------------------------------------------------------------------

#: Width of a generation's trials on the genealogy's x axis, in generations (see
#: :func:`genealogy`).
GENEALOGY_SPREAD = 0.7


def genealogy(
    records: Sequence[TrialRecord], *, direction: str, top_k: int | None = None
) -> dict[str, Any]:
    """Nodes and parent-to-child edges of the trials' family tree.

    Nodes are laid out by generation and, within a generation, by rank (``y = 0`` is the best;
    trials without a value come after the ranked ones, by number). ``x`` is the generation
    plus an offset within ``±GENEALOGY_SPREAD / 2`` that grows with the trial's slot (its
    place by number within the generation; slots are as wide in every generation, so a
    partial generation ends early): parents come before their children, so every edge runs
    left to right, also from a parent of the child's own generation (steady state), instead
    of straight down the generation's column through the other trials.

    ``quantile`` places a trial's value among all the trials shown, 1.0 for the best and 0.0
    for the worst (by rank, equal values alike): a colour scale over it spans the late
    generations too, where a scale over the values themselves would be spent on the wide
    spread of generation 0 and paint every later trial the same colour.

    Args:
        records: From :func:`trial_records`.
        direction: ``"minimize"`` or ``"maximize"``.
        top_k: Keep only the ``top_k`` best trials and their ancestors (their lineage);
            ``None`` keeps every trial.

    Returns:
        ``{"nodes": [...], "edges": [(parent, child), ...], "scale": [(quantile, value),
        ...]}``; each node is a dict with ``number``, ``generation``, ``x``, ``y``, ``value``,
        ``quantile`` (``None`` without a value), ``state``, ``operator``, ``parents``. Edges
        join recorded parents to children, both among the nodes. ``scale`` gives the values of
        the trials at about the quantiles 0, 0.25, 0.5, 0.75 and 1 with their exact
        quantiles (the ticks of a colour bar), worst first.

    Example:
        >>> recs = [TrialRecord(0, 0, "COMPLETE", 2.0), TrialRecord(1, 0, "COMPLETE", 1.0),
        ...         TrialRecord(2, 1, "COMPLETE", 0.5, parents=[0, 1], operator="crossover"),
        ...         TrialRecord(3, 1, "PRUNED", None, parents=[1], operator="mutation")]
        >>> g = genealogy(recs, direction="minimize")
        >>> g["edges"]
        [(0, 2), (1, 2), (1, 3)]
        >>> [(n["number"], n["x"], n["y"], n["quantile"]) for n in g["nodes"]]
        [(0, -0.35, 1, 0.0), (1, 0.35, 0, 0.5), (2, 0.65, 0, 1.0), (3, 1.35, 1, None)]
        >>> g["scale"]
        [(0.0, 2.0), (0.5, 1.0), (1.0, 0.5)]
        >>> sorted(n["number"] for n in genealogy(recs, direction="minimize", top_k=1)["nodes"])
        [0, 1, 2]
    """
    maximize = _is_maximize(direction)
    if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1):
        raise ValueError(f"top_k must be a positive int or None, got {top_k!r}.")
    by_number = {r.number: r for r in records}
    keep: set[int] = set(by_number)
    if top_k is not None:
        ranked = _ranked([r for r in records if r.value is not None], maximize)
        keep = set()
        stack = [r.number for r in ranked[:top_k]]
        while stack:
            number = stack.pop()
            if number in keep or number not in by_number:
                continue
            keep.add(number)
            stack.extend(by_number[number].parents)
    groups = [
        (generation, list(group))
        for generation, group in itertools.groupby(
            sorted((by_number[n] for n in keep), key=lambda r: (r.generation, r.number)),
            key=lambda r: r.generation,
        )
    ]
    widest = max((len(members) for _, members in groups), default=1)
    step = GENEALOGY_SPREAD / (widest - 1) if widest > 1 else 0.0
    y: dict[int, int] = {}
    x: dict[int, float] = {}
    for generation, members in groups:
        valued = _ranked([r for r in members if r.value is not None], maximize)
        others = sorted((r for r in members if r.value is None), key=lambda r: r.number)
        for rank, record in enumerate([*valued, *others]):
            y[record.number] = rank
        start = generation - (GENEALOGY_SPREAD / 2 if widest > 1 else 0.0)
        for slot, record in enumerate(members):  # by number: a partial generation ends early
            x[record.number] = round(start + slot * step, 6)
    by_value = [
        (r.number, r.value)
        for r in _ranked([by_number[n] for n in keep if by_number[n].value is not None], maximize)
        if r.value is not None
    ]
    quantile: dict[int, float] = {}
    first_rank: dict[float, int] = {}
    for rank, (number, value) in enumerate(by_value):
        tied = first_rank.setdefault(value, rank)  # equal values share the better rank
        quantile[number] = round(1.0 - tied / (len(by_value) - 1), 4) if len(by_value) > 1 else 1.0
    scale: list[tuple[float, float]] = []
    for share in (1.0, 0.75, 0.5, 0.25, 0.0) if by_value else ():
        number, value = by_value[math.floor(share * (len(by_value) - 1) + 0.5)]  # worst first
        if not scale or scale[-1][1] != value:
            scale.append((quantile[number], value))
    nodes = [
        {
            "number": r.number,
            "generation": r.generation,
            "x": x[r.number],
            "y": y[r.number],
            "value": r.value,
            "quantile": quantile.get(r.number),
            "state": r.state,
            "operator": r.operator,
            "parents": list(r.parents),
        }
        for r in records
        if r.number in keep
    ]
    edges = [
        (parent, r.number)
        for r in records
        if r.number in keep
        for parent in r.parents
        if parent in keep
    ]
    return {"nodes": nodes, "edges": edges, "scale": scale}


def _ranked(records: Sequence[TrialRecord], maximize: bool) -> list[TrialRecord]:
    sign = -1.0 if maximize else 1.0
    return sorted(records, key=lambda r: (sign * (r.value or 0.0), r.number))


# -- per-generation summary (the dashboard note) -----------------------------------------------


def generation_summary(
    records: Sequence[TrialRecord],
    distributions: Mapping[str, BaseDistribution],
    *,
    direction: str,
) -> list[dict[str, Any]]:
    """One row per generation: size, best, mean, diversity and duplicates.

    * ``diversity``: mean over pairs of the generation's trials of the mean per-gene
      difference (categorical: 0 or 1; numeric: ``|a - b|`` over the range, in log space for
      log parameters; a gene in one trial only: 1). 0 means identical genomes; ``nan`` for
      fewer than two trials.
    * ``distinct``: share of distinct parameter sets (:func:`optuna_ga.canonical_hash`).
    * ``duplicates``: trials whose parameter set equals an earlier complete or pruned trial's
      (the sampler guarantees 0; enqueued trials may repeat). A failed trial is no result, so
      trying its parameter set again is not counted.

    Example:
        >>> from optuna.distributions import CategoricalDistribution as C
        >>> recs = [TrialRecord(0, 0, "COMPLETE", 1.0, {"a": "x"}),
        ...         TrialRecord(1, 0, "COMPLETE", 3.0, {"a": "y"}),
        ...         TrialRecord(2, 1, "COMPLETE", 0.0, {"a": "x"})]
        >>> rows = generation_summary(recs, {"a": C(["x", "y"])}, direction="minimize")
        >>> [(r["generation"], r["best"], r["diversity"], r["duplicates"]) for r in rows]
        [(0, 1.0, 1.0, 0), (1, 0.0, nan, 1)]
    """
    stats = generation_stats(records, direction=direction)
    members: list[list[TrialRecord]] = [[] for _ in stats["generation"]]
    duplicates = [0] * len(members)
    seen: set[str] = set()
    for record in records:
        members[record.generation].append(record)
        digest = canonical_hash(record.params)
        if digest in seen:
            duplicates[record.generation] += 1
        if record.state in ("COMPLETE", "PRUNED"):
            seen.add(digest)
    rows = []
    for g, group in enumerate(members):
        hashes = {canonical_hash(r.params) for r in group}
        rows.append(
            {
                "generation": g,
                "n_trials": len(group),
                "n_complete": stats["n_complete"][g],
                "best": stats["best"][g],
                "mean": stats["mean"][g],
                "best_so_far": stats["best_so_far"][g],
                "diversity": _diversity([r.params for r in group], distributions),
                "distinct": len(hashes) / len(group) if group else math.nan,
                "duplicates": duplicates[g],
            }
        )
    return rows


def _diversity(
    genomes: Sequence[Mapping[str, Any]], distributions: Mapping[str, BaseDistribution]
) -> float:
    if len(genomes) < 2:
        return math.nan
    total, n_pairs = 0.0, 0
    for a, b in itertools.combinations(genomes, 2):
        genes = set(a) | set(b)
        if not genes:
            continue
        total += sum(_gene_distance(a, b, g, distributions.get(g)) for g in genes) / len(genes)
        n_pairs += 1
    return total / n_pairs if n_pairs else math.nan


def _gene_distance(
    a: Mapping[str, Any], b: Mapping[str, Any], name: str, dist: BaseDistribution | None
) -> float:
    if name not in a or name not in b:
        return 1.0
    x, y = a[name], b[name]
    if isinstance(dist, (FloatDistribution, IntDistribution)) and dist.high > dist.low:
        if dist.log:
            return abs(math.log(x) - math.log(y)) / (math.log(dist.high) - math.log(dist.low))
        return abs(x - y) / (dist.high - dist.low)
    return 0.0 if x == y else 1.0


# -- helpers -----------------------------------------------------------------------------------


def _is_maximize(direction: str) -> bool:
    if direction not in ("minimize", "maximize"):
        raise ValueError(f"direction must be 'minimize' or 'maximize', got {direction!r}.")
    return direction == "maximize"


def _check_population(population_size: int | None, n_elites: int) -> None:
    if population_size is None:
        return
    if isinstance(population_size, bool) or not isinstance(population_size, int):
        raise ValueError(f"population_size must be an int >= 2 or None, got {population_size!r}.")
    if population_size < 2:
        raise ValueError(f"population_size must be >= 2, got {population_size}.")
    if isinstance(n_elites, bool) or not isinstance(n_elites, int):
        raise ValueError(f"n_elites must be an int, got {n_elites!r}.")
    if not 0 <= n_elites < population_size:
        raise ValueError(
            f"n_elites must be in [0, population_size - 1] = [0, {population_size - 1}], "
            f"got {n_elites}."
        )
