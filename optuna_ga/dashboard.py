"""Live GA panels in optuna-dashboard: generation plot, allele frequencies, genealogy and a note.

Run a study with the callback, then open the dashboard on the same storage::

    study.optimize(objective, n_trials=300, callbacks=[GenerationPublisher()])
    # optuna-dashboard sqlite:///ga.db   ->  the study's top page shows the panels

Design:

* **A callback, not part of the sampler.** Publishing needs plotly and optuna-dashboard, which
  the sampler must not depend on, and it is a presentation concern that a user turns on per
  ``optimize`` call (or per worker). The sampler's ``after_trial`` runs before the trial's state
  is final in storage; a callback runs after it, so the finished generation is complete in
  storage when it is checked. Studies run earlier, or by other tools, get :func:`publish`.
* **On generation completion, and throttled in between.** After each trial the callback
  works out the trial's generation and publishes at once when every trial number of that
  generation has finished (COMPLETE, PRUNED or FAIL) and this callback has not published it
  yet. After other trials it publishes at most every ``min_interval`` seconds (10 by
  default; a publish takes about 0.2 s at 200 trials): a trial held back is published by a
  timer when the interval is over, by :meth:`GenerationPublisher.flush`, or at the latest
  when the process exits, so the last, unfinished generation shows too.
* **Which trials.** Each publish marks the figures' titles and the note "as of trial N (M
  finished)" and saves that in the :data:`AS_OF_ATTR` study system attr.
  :class:`PanelRefresher` (which ``optuna-ga dashboard`` runs beside the server) compares it
  with each study's trials and republishes the panels of every GA study that changed, also of
  studies run without the callback or created after the server started.
* **Replace, don't append.** optuna-dashboard stores a custom plot as study system attrs
  ``dashboard:plot_data:<id>:<chunk>`` (2045-character chunks of the figure's JSON) and the
  study note as ``dashboard:note_str:<chunk>`` plus a version counter. The figures are saved
  under fixed ids (:data:`PLOT_IDS`) and the note is rewritten from its
  :data:`NOTE_HEADING` down (text above it is kept), so each publish overwrites the previous
  one: the number of attrs is bounded by the largest figure, not by the number of publishes.
  (A :class:`~optuna.storages.JournalStorage` log is append-only by design and grows with each
  publish; RDB storages update rows in place.)
* **Several workers.** Each worker's callback may publish the same generation; the result is
  the same attrs written again. The note is capped at the last ``max_note_rows`` generations.

Needs ``pip install "optuna-ga[dashboard]"`` (plotly and optuna-dashboard), imported lazily.
"""

from __future__ import annotations

import atexit
import inspect
import itertools
import math
import threading
import time
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Any
from typing import TypedDict
from typing import cast

import optuna
from optuna.storages import BaseStorage
from optuna.trial import FrozenTrial
from optuna.trial import TrialState

from optuna_ga import _store
from optuna_ga import visualization
from optuna_ga._population import generation_of
from optuna_ga._population import generation_range
from optuna_ga.storages import mask_password
from optuna_ga.visualization import _data
from optuna_ga.visualization._imports import require

if TYPE_CHECKING:
    from typing import Unpack

__all__ = [
    "AS_OF_ATTR",
    "NOTE_HEADING",
    "PARETO_PLOT_ID",
    "PLOT_IDS",
    "GenerationPublisher",
    "PanelRefresher",
    "PublishOptions",
    "panels_as_of",
    "publish",
    "summary_note",
]

#: Fixed optuna-dashboard graph object ids: each publish overwrites the previous figures.
PLOT_IDS = {
    "generations": "optuna-ga-generations",
    "allele_frequency": "optuna-ga-allele-frequency",
    "genealogy": "optuna-ga-genealogy",
}
#: Graph object id of the Pareto front per generation, published for multi-objective studies
#: besides :data:`PLOT_IDS`.
PARETO_PLOT_ID = "optuna-ga-pareto-fronts"
#: First line of the part of the study note that optuna-ga rewrites on each publish.
NOTE_HEADING = "### optuna-ga: generations"
#: Study system attr that says which trials the published panels show (JSON, see
#: :func:`panels_as_of`); one key, overwritten on each publish.
AS_OF_ATTR = "optuna_ga:panels_as_of"

_FINISHED = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)
_MAX_INTERVAL = 3600
_logger = optuna.logging.get_logger(__name__)


def publish(
    study: optuna.Study,
    *,
    population_size: int | None = None,
    n_elites: int | None = None,
    params: Sequence[str] | None = None,
    top_k: int | None = None,
    note: bool = True,
    max_note_rows: int = 12,
) -> list[str]:
    """Save the GA figures (and the summary note) to the study for optuna-dashboard.

    A study with several objectives gets the Pareto front per generation too
    (:data:`PARETO_PLOT_ID`); its generations panel, genealogy colours and note show each
    trial's Pareto fitness (see :mod:`optuna_ga.visualization`).

    Args:
        study: A study run by :class:`~optuna_ga.GeneticSampler`.
        population_size: Generation size for trials without a ``ga_generation`` attr; ``None``
            takes the study sampler's (see :func:`optuna_ga.visualization.plot_generations`).
        n_elites: Elites per generation, with ``population_size``.
        params: Parameters of the allele plot; ``None`` means all.
        top_k: Genealogy of the ``top_k`` best trials only; ``None`` draws every trial.
        note: Whether to rewrite the study note's summary table too.
        max_note_rows: Generations in the note's table (the latest ones), at least 1.

    Each figure's title (on a second line) and the note's first line say "as of trial N (M
    finished)": N is the last finished trial (COMPLETE, PRUNED or FAIL), M the number of
    finished trials; the same is saved as the :data:`AS_OF_ATTR` study system attr (see
    :func:`panels_as_of`).

    Returns:
        The graph object ids written (:data:`PLOT_IDS` values, then :data:`PARETO_PLOT_ID`
        for a multi-objective study).

    Example:
        >>> import optuna
        >>> from optuna_ga import GeneticSampler
        >>> from optuna_ga.dashboard import publish
        >>> optuna.logging.set_verbosity(optuna.logging.WARNING)
        >>> study = optuna.create_study(sampler=GeneticSampler(population_size=6, seed=0))
        >>> study.optimize(lambda t: t.suggest_float("x", -1, 1) ** 2, n_trials=12)
        >>> publish(study)
        ['optuna-ga-generations', 'optuna-ga-allele-frequency', 'optuna-ga-genealogy']
    """
    options: PublishOptions = {
        "population_size": population_size,
        "n_elites": n_elites,
        "params": params,
        "top_k": top_k,
        "note": note,
        "max_note_rows": max_note_rows,
    }
    _publish(study, options)
    return list(PLOT_IDS.values()) + ([PARETO_PLOT_ID] if len(study.directions) > 1 else [])


class PublishOptions(TypedDict, total=False):
    """The keyword arguments of :func:`publish`, which :class:`GenerationPublisher` takes too."""

    population_size: int | None
    n_elites: int | None
    params: Sequence[str] | None
    top_k: int | None
    note: bool
    max_note_rows: int


#: The defaults of :func:`publish`'s keyword arguments (those of its signature).
_DEFAULTS = cast(
    PublishOptions,
    {
        name: parameter.default
        for name, parameter in inspect.signature(publish).parameters.items()
        if parameter.kind is inspect.Parameter.KEYWORD_ONLY
    },
)


def _publish(study: optuna.Study, options: PublishOptions) -> tuple[dict[str, Any], set[int]]:
    """:func:`publish` with every option given; the :data:`AS_OF_ATTR` value it saved, and the
    numbers of the finished trials it shows."""
    max_note_rows = options["max_note_rows"]
    _check_rows(max_note_rows, "max_note_rows")
    dashboard = require("optuna_dashboard")
    require("plotly.graph_objects")  # before the study is read
    data = visualization.study_records(
        study, population_size=options["population_size"], n_elites=options["n_elites"]
    )
    figures = {
        "generations": visualization.generations_figure(data),
        "allele_frequency": visualization.allele_frequency_figure(data, options["params"]),
        "genealogy": visualization.genealogy_figure(data, top_k=options["top_k"]),
    }
    ids = dict(PLOT_IDS)
    if data.pareto:
        figures["pareto_fronts"] = visualization.pareto_fronts_figure(data)
        ids["pareto_fronts"] = PARETO_PLOT_ID
    records, distributions, direction = data.records, data.distributions, data.direction
    as_of = {"trial": records[-1].number if records else None, "finished": len(records)}
    for name, figure in figures.items():  # as of which trial: a second, smaller title line
        figure.layout.title.text = f"{figure.layout.title.text}<br><sup>{_as_of_text(as_of)}</sup>"
        figure.layout.margin.t = 62  # (on one line it ran under the panel's plotly toolbar)
        dashboard.save_plotly_graph_object(study, figure, graph_object_id=ids[name])
    if options["note"]:
        rows = _data.generation_summary(records, distributions, direction=direction)
        shown = "Pareto fitness" if data.pareto else direction
        body = summary_note(rows, direction=shown, max_rows=max_note_rows, as_of=as_of)
        current = dashboard.get_note(study)
        kept = current.split(NOTE_HEADING, 1)[0].rstrip()
        dashboard.save_note(study, f"{kept}\n\n{body}" if kept else body)
    _store.set_study_attr(study, AS_OF_ATTR, as_of)
    return as_of, {record.number for record in records}


def _check_rows(value: Any, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be an int >= 1, got {value!r}.")


def panels_as_of(study: optuna.Study) -> dict[str, Any] | None:
    """Which trials the study's published panels show; ``None`` if never published.

    Returns:
        ``{"trial": N, "finished": M}``: the last finished trial's number (``None`` with no
        finished trial) and the number of finished trials when :func:`publish` last ran.

    Example:
        >>> import optuna
        >>> from optuna_ga import GeneticSampler
        >>> from optuna_ga.dashboard import panels_as_of, publish
        >>> optuna.logging.set_verbosity(optuna.logging.WARNING)
        >>> study = optuna.create_study(sampler=GeneticSampler(population_size=4, seed=0))
        >>> panels_as_of(study) is None
        True
        >>> study.optimize(lambda t: t.suggest_float("x", -1, 1) ** 2, n_trials=6)
        >>> _ = publish(study)
        >>> panels_as_of(study)
        {'trial': 5, 'finished': 6}
    """
    value = _store.study_attr(study, AS_OF_ATTR)
    return dict(value) if isinstance(value, dict) else None


def _as_of_text(as_of: dict[str, Any]) -> str:
    if as_of["trial"] is None:
        return "no finished trial yet"
    return f"as of trial {as_of['trial']} ({as_of['finished']} finished)"


def summary_note(
    rows: Sequence[dict[str, Any]],
    *,
    direction: str,
    max_rows: int = 12,
    as_of: dict[str, Any] | None = None,
) -> str:
    """The note's Markdown: a table with one row per generation (the latest ``max_rows``).

    Every cell but the first starts with an em space (``&emsp;``): optuna-dashboard draws
    the table without cell padding, and Markdown trims plain spaces around a cell's text.

    Args:
        rows: From :func:`optuna_ga.visualization._data.generation_summary`.
        direction: ``"minimize"`` or ``"maximize"``, shown after the generation (any text:
            :func:`publish` shows ``"Pareto fitness"`` for a multi-objective study).
        max_rows: Generations shown, at least 1.
        as_of: ``{"trial": N, "finished": M}`` (as :func:`panels_as_of` returns it) adds
            "As of trial N (M finished)." to the first line; ``None`` adds nothing.

    Example:
        >>> rows = [{"generation": 0, "n_trials": 4, "n_complete": 3, "best": 1.0, "mean": 2.0,
        ...          "best_so_far": 1.0, "diversity": 0.5, "distinct": 1.0, "duplicates": 0}]
        >>> as_of = {"trial": 3, "finished": 4}
        >>> print(summary_note(rows, direction="minimize", as_of=as_of))
        ... # doctest: +NORMALIZE_WHITESPACE
        ### optuna-ga: generations
        <BLANKLINE>
        Generation 0 (minimize): best so far **1**; 0 duplicate parameter sets. As of trial 3
        (4 finished).
        <BLANKLINE>
        | gen | &emsp;trials | &emsp;complete | &emsp;best | &emsp;mean | &emsp;best so far
          | &emsp;diversity | &emsp;distinct | &emsp;dup |
        |---:|---:|---:|---:|---:|---:|---:|---:|---:|
        | 0 | &emsp;4 | &emsp;3 | &emsp;1 | &emsp;2 | &emsp;1 | &emsp;0.500 | &emsp;100%
          | &emsp;0 |
    """
    _check_rows(max_rows, "max_rows")
    if not rows:
        return f"{NOTE_HEADING}\n\nNo finished trials yet."
    last = rows[-1]
    duplicates = sum(r["duplicates"] for r in rows)
    when = "" if as_of is None else f" {_as_of_text(as_of).capitalize()}."
    header = ["gen", "trials", "complete", "best", "mean", "best so far", "diversity"]
    lines = [
        NOTE_HEADING,
        "",
        f"Generation {last['generation']} ({direction}): best so far "
        f"**{_num(last['best_so_far'])}**; {duplicates} duplicate parameter sets.{when}",
        "",
        _table_row([*header, "distinct", "dup"]),
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    shown = rows[-max_rows:]
    if len(rows) > len(shown):
        lines.append(_table_row([f"… {len(rows) - len(shown)} earlier", *[""] * 8]))
    for r in shown:
        distinct = "-" if math.isnan(r["distinct"]) else f"{r['distinct']:.0%}"
        diversity = "-" if math.isnan(r["diversity"]) else f"{r['diversity']:.3f}"
        lines.append(
            _table_row(
                [
                    str(r["generation"]),
                    str(r["n_trials"]),
                    str(r["n_complete"]),
                    _num(r["best"]),
                    _num(r["mean"]),
                    _num(r["best_so_far"]),
                    diversity,
                    distinct,
                    str(r["duplicates"]),
                ]
            )
        )
    return "\n".join(lines)


#: Space before each table cell but the first: optuna-dashboard renders the note without table
#: styles (the cells stood edge to edge) and Markdown trims a cell's spaces, but not this.
_CELL_GAP = "&emsp;"


def _table_row(cells: Sequence[str]) -> str:
    first, *rest = cells
    return "| " + " | ".join([first, *(f"{_CELL_GAP}{c}" if c else c for c in rest)]) + " |"


def _num(value: float) -> str:
    return "-" if value is None or math.isnan(value) else f"{value:.4g}"


class GenerationPublisher:
    """``study.optimize`` callback that keeps the study's GA panels current while it runs.

    It publishes (see :func:`publish`) when a trial completes its generation, and after any
    other trial at most once every ``min_interval`` seconds. A trial held back by that
    interval is published by a background timer once the interval has passed, or at once by
    :meth:`flush`, or when the Python process exits: the panels show every generation that
    has a finished trial, the last, unfinished one too.

    Args:
        min_interval: Least number of seconds between two publishes that no completed
            generation asks for, from 0 to 3600; 0 publishes after every trial. A publish
            takes about 0.2 s at 200 trials.
        options: The keyword arguments of :func:`publish` (:class:`PublishOptions`), for
            each publish. A ``population_size`` or ``n_elites`` of ``None`` is read from the
            study's sampler, which must then be a GeneticSampler.

    Attributes:
        published: Generations whose completion this callback published, in order.
        seconds: Wall time of each publish, in seconds.
        as_of: ``{"trial": N, "finished": M}`` of the last publish (see
            :func:`panels_as_of`); ``None`` before the first.

    Example:
        >>> import optuna
        >>> from optuna_ga import GeneticSampler
        >>> from optuna_ga.dashboard import GenerationPublisher
        >>> publisher = GenerationPublisher()  # population size and elites: the sampler's
        >>> optuna.logging.set_verbosity(optuna.logging.WARNING)
        >>> study = optuna.create_study(sampler=GeneticSampler(population_size=6, n_elites=1))
        >>> study.optimize(lambda t: t.suggest_float("x", -1, 1) ** 2, n_trials=18,
        ...                callbacks=[publisher])
        >>> publisher.published  # 6 trials in generation 0, then 5 each: 2 of generation 3
        [0, 1, 2]
        >>> publisher.flush()  # publish trials 16 and 17 now, not when the interval is over
        True
        >>> publisher.as_of
        {'trial': 17, 'finished': 18}
    """

    def __init__(self, *, min_interval: float = 10.0, **options: Unpack[PublishOptions]) -> None:
        unknown = sorted(set(options) - set(_DEFAULTS))
        if unknown:
            raise TypeError(f"GenerationPublisher got unexpected keyword arguments {unknown}.")
        self._options: PublishOptions = {**_DEFAULTS, **options}
        population_size = self._options["population_size"]
        n_elites = self._options["n_elites"]
        top_k = self._options["top_k"]
        if population_size is not None:
            _data._check_population(population_size, 0 if n_elites is None else n_elites)
        elif n_elites is not None and (
            isinstance(n_elites, bool) or not isinstance(n_elites, int) or n_elites < 0
        ):
            raise ValueError(f"n_elites must be an int >= 0 or None, got {n_elites!r}.")
        if top_k is not None and (
            isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1
        ):
            raise ValueError(f"top_k must be a positive int or None, got {top_k!r}.")
        _check_rows(self._options["max_note_rows"], "max_note_rows")
        if (
            isinstance(min_interval, bool)
            or not isinstance(min_interval, int | float)
            or not 0 <= min_interval <= _MAX_INTERVAL
        ):
            raise ValueError(
                f"min_interval must be a number of seconds from 0 to {_MAX_INTERVAL}, "
                f"got {min_interval!r}."
            )
        require("optuna_dashboard")
        require("plotly.graph_objects")
        params = self._options["params"]
        self._options["params"] = list(params) if params is not None else None
        self._min_interval = float(min_interval)
        self._lock = threading.Lock()
        self._study: optuna.Study | None = None
        self._population: tuple[int, int] = (0, 0)
        self._pending = False  # a finished trial that the panels do not show yet
        self._last = -math.inf  # time.monotonic() of the last publish
        self._timer: threading.Timer | None = None
        self.published: list[int] = []
        self.seconds: list[float] = []
        self.as_of: dict[str, Any] | None = None
        self._shown: set[int] = set()  # finished trials that the last publish showed

    def __call__(self, study: optuna.Study, trial: FrozenTrial) -> None:
        """Publish now, or within ``min_interval`` seconds (the callback protocol)."""
        size, elites = _data.resolve_population(
            study, self._options["population_size"], self._options["n_elites"]
        )
        if size is None:
            raise ValueError(
                "population_size must be given to GenerationPublisher when the study's sampler "
                "is not a GeneticSampler."
            )
        generation = trial.user_attrs.get(_data.GENERATION_ATTR)
        if not isinstance(generation, int) or isinstance(generation, bool):
            generation = generation_of(trial.number, size, elites)[0]
        with self._lock:
            # A publish that read the study after this trial finished (the timer's, from
            # another thread) shows it already: nothing to publish for it.
            shown = self._study is study and trial.number in self._shown
            self._study, self._population = study, (size, elites)
            self._pending = self._pending or not shown
            completed = generation not in self.published and self._completes(
                study, generation, size, elites
            )
            members = generation_range(generation, size, elites)
            if completed and not self._pending and self._shown.issuperset(members):
                self.published.append(generation)  # the last publish showed it complete
            elif completed or (
                self._pending and time.monotonic() - self._last >= self._min_interval
            ):
                self._publish()
                if completed:
                    self.published.append(generation)
            elif self._pending and self._timer is None:
                delay = max(0.0, self._last + self._min_interval - time.monotonic())
                self._timer = threading.Timer(delay, self._publish_held_back)
                self._timer.daemon = True  # the process does not wait: atexit publishes
                self._timer.start()
                atexit.register(self._publish_at_exit)

    def flush(self) -> bool:
        """Publish now what the interval holds back; whether there was anything.

        Call it after ``optimize`` to have the panels final at once (else the timer does it
        within ``min_interval`` seconds, or the process when it exits).
        """
        with self._lock:
            if not self._pending:
                return False
            self._publish()
            return True

    @staticmethod
    def _completes(study: optuna.Study, generation: int, size: int, elites: int) -> bool:
        numbers = generation_range(generation, size, elites)
        finished = {
            t.number
            for t in study.get_trials(deepcopy=False, states=_FINISHED)
            if t.number in numbers
        }
        return len(finished) == len(numbers)

    def _publish(self) -> None:  # with the lock held
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        atexit.unregister(self._publish_at_exit)
        if self._study is None:
            return
        size, elites = self._population
        start = time.perf_counter()
        options: PublishOptions = {**self._options, "population_size": size, "n_elites": elites}
        self.as_of, self._shown = _publish(self._study, options)
        self.seconds.append(time.perf_counter() - start)
        self._last = time.monotonic()
        self._pending = False

    def _publish_held_back(self) -> None:
        with self._lock:
            self._timer = None
            if not self._pending:
                return
            try:
                self._publish()
            except Exception as error:  # a background thread: say it, do not raise
                self._pending = False
                _logger.warning(f"optuna-ga: publishing the GA panels failed: {error}")

    def _publish_at_exit(self) -> None:
        try:
            self.flush()
        except Exception as error:
            _logger.warning(f"optuna-ga: publishing the GA panels at exit failed: {error}")


class PanelRefresher:
    """Keeps the GA panels of every GA study in a storage current; ``optuna-ga dashboard`` runs it.

    Every ``interval`` seconds a background thread calls :meth:`tick`, which lists the
    storage's studies (so it finds studies created after it started) and compares each
    study's last finished trial and number of finished trials with what its panels show
    (:func:`panels_as_of`). It republishes (:func:`publish`) the GA studies that changed,
    at most ``max_per_tick`` per tick, those waiting longest first; studies without a
    finished ``ga_generation`` trial are left alone, and panels
    already current (published by :class:`GenerationPublisher` or ``optuna-ga run``) are not
    written again. An error (a lost database server) is reported as one line, once until a
    tick succeeds again (per study: until its publish succeeds); the thread goes on, and a
    study whose publish failed is tried again after the others waiting.

    The check reads each study's finished trials through Optuna's cached storage: after the
    first tick, only new and running trials come from the database.

    Args:
        storage: The storage, or an RDB storage URL.
        interval: Seconds between two ticks of the thread, above 0 and at most 3600.
        max_per_tick: Most studies published in one tick, from 1 to 100.
        options: Keyword arguments of :func:`publish` for a study (``population_size`` and
            ``n_elites`` of a run whose trials lack ``ga_generation``); ``None``: none.
        on_error: Called with each error line; ``None`` logs it as a warning.

    Example:
        >>> import optuna
        >>> from optuna_ga import GeneticSampler
        >>> from optuna_ga.dashboard import PanelRefresher
        >>> optuna.logging.set_verbosity(optuna.logging.WARNING)
        >>> storage = optuna.storages.InMemoryStorage()
        >>> refresher = PanelRefresher(storage=storage, interval=5)
        >>> study = optuna.create_study(storage=storage, study_name="ga",
        ...                             sampler=GeneticSampler(population_size=4, seed=0))
        >>> study.optimize(lambda t: t.suggest_float("x", -1, 1) ** 2, n_trials=6)
        >>> refresher.tick()  # what the thread does every 5 s: publish what changed
        ['ga']
        >>> refresher.tick()
        []
        >>> with refresher:  # the thread runs until the block ends
        ...     pass
    """

    def __init__(
        self,
        *,
        storage: str | BaseStorage,
        interval: float = 5.0,
        max_per_tick: int = 2,
        options: Callable[[optuna.Study], Mapping[str, Any]] | None = None,
        on_error: Callable[[str], None] | None = None,
    ) -> None:
        if (
            isinstance(interval, bool)
            or not isinstance(interval, int | float)
            or not 0 < interval <= _MAX_INTERVAL
        ):
            raise ValueError(
                f"interval must be a number of seconds above 0 and at most {_MAX_INTERVAL}, "
                f"got {interval!r}."
            )
        if (
            isinstance(max_per_tick, bool)
            or not isinstance(max_per_tick, int)
            or not 1 <= max_per_tick <= 100
        ):
            raise ValueError(f"max_per_tick must be an int from 1 to 100, got {max_per_tick!r}.")
        require("optuna_dashboard")
        require("plotly.graph_objects")
        # RDB storages get Optuna's cache of finished trials: a tick reads only what changed.
        self._storage = optuna.storages.get_storage(storage)
        self._interval = float(interval)
        self._max_per_tick = max_per_tick
        self._options = options
        self._on_error = on_error
        self._seen: dict[int, dict[str, Any]] = {}  # study id -> state last handled
        self._waiting: dict[int, int] = {}  # study id -> place in line (lower: earlier)
        self._line = itertools.count()
        self._errors: dict[int | None, str] = {}  # last line said, per study (None: storage)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def tick(self) -> list[str]:
        """Republish the GA studies whose trials changed since the last tick; their names.

        Raises:
            Exception: What the storage raised while listing the studies (the thread reports
                it and goes on).
        """
        with self._lock:
            changed = []
            for stored in _store.studies(self._storage):
                try:
                    finished = _store.finished_trials(stored)
                except KeyError:  # deleted since it was listed
                    continue
                state = {
                    "trial": max((t.number for t in finished), default=None),
                    "finished": len(finished),
                }
                if self._seen.get(stored.study_id) == state:
                    continue
                if stored.study_id not in self._waiting:
                    self._waiting[stored.study_id] = next(self._line)
                changed.append((self._waiting[stored.study_id], stored, finished, state))
            published: list[str] = []
            attempts = 0
            for _, stored, finished, state in sorted(changed, key=lambda c: c[0]):
                study_id = stored.study_id
                is_ga = any(_data.GENERATION_ATTR in t.user_attrs for t in finished)
                if is_ga and _store.study_attr(stored, AS_OF_ATTR) != state:
                    if attempts >= self._max_per_tick:
                        continue  # next tick, first in line
                    attempts += 1
                    if not self._publish(study_id, stored.name):
                        self._waiting[study_id] = next(self._line)  # after the others
                        continue
                    published.append(stored.name)
                self._seen[study_id] = state
                self._waiting.pop(study_id, None)
            return published

    def _publish(self, study_id: int, name: str) -> bool:
        try:
            study = optuna.load_study(study_name=name, storage=self._storage)
            publish(study, **(self._options(study) if self._options is not None else {}))
        except Exception as error:
            self._report(study_id, f"optuna-ga: GA panels of study {name!r}: {_one_line(error)}")
            return False
        self._errors.pop(study_id, None)
        return True

    def _report(self, key: int | None, line: str) -> None:
        if self._errors.get(key) == line:
            return  # said already: one line per outage, not one per tick
        self._errors[key] = line
        if self._on_error is not None:
            self._on_error(line)
        else:
            _logger.warning(line)

    @property
    def running(self) -> bool:
        """Whether the thread runs."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Start the thread (a daemon: it never keeps the process alive)."""
        if self.running:
            raise RuntimeError("the refresher runs already.")
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._run, name="optuna-ga panel refresher", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the thread; a publish under way finishes first (at most ``timeout`` s)."""
        self._stop.set()
        if self._thread is not None and self._thread.ident is not None:  # started
            self._thread.join(timeout)
        self._thread = None

    def __enter__(self) -> PanelRefresher:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self.tick()
            except Exception as error:
                self._report(
                    None, f"optuna-ga: refreshing the GA panels failed: {_one_line(error)}"
                )
            else:
                self._errors.pop(None, None)


def _one_line(error: BaseException) -> str:
    """The error's message on one line, without the SQL that SQLAlchemy appends; masked."""
    kept = []
    for line in str(error).splitlines():
        if line.lstrip().startswith(("[SQL:", "[parameters:", "(Background on this error")):
            break
        kept.append(line.strip())
    return mask_password(" ".join(" ".join(kept).split()) or type(error).__name__)
