"""What ``optuna-ga run`` prints while it runs, and the GA panels it publishes to the study.

The parent process reads the study back from storage whenever one of its workers finishes a
trial, so the lines cover every worker's trials (and other machines'), in generation order.
What it reads is tallied incrementally (:class:`GenerationTally`): each update looks at the new
trials and the unfinished ones only, never at the whole study again.
"""

from __future__ import annotations

import contextlib
import json
import math
import threading
import time
from collections import Counter
from collections.abc import Sequence

import optuna
from optuna.trial import FrozenTrial
from optuna.trial import TrialState

from optuna_ga._population import generation_of
from optuna_ga._population import generation_range
from optuna_ga.cli._common import count
from optuna_ga.cli._common import one_line
from optuna_ga.cli._common import say


def generation_summary(
    generation: int,
    members: Sequence[FrozenTrial],
    direction: optuna.study.StudyDirection | Sequence[optuna.study.StudyDirection],
    names: Sequence[str] = (),
) -> str:
    """One line: best, mean and spread of a generation, and how many trials ended how.

    With several directions (a multi-objective study), the best value of each objective, by
    its name in ``names``.

    Example:
        >>> import optuna
        >>> t = [optuna.create_trial(value=v, params={}, distributions={}) for v in (0.9, 0.8)]
        >>> generation_summary(3, t, optuna.study.StudyDirection.MAXIMIZE)
        'generation 3: best 0.9000, mean 0.8500 ± 0.0500 (2 complete, 0 pruned, 0 failed)'
        >>> t = [optuna.create_trial(values=v) for v in ((0.9, 500), (0.8, 300))]
        >>> up, down = optuna.study.StudyDirection.MAXIMIZE, optuna.study.StudyDirection.MINIMIZE
        >>> generation_summary(0, t, [up, down], ["accuracy", "params"])
        'generation 0: best accuracy 0.9000, params 300 (2 complete, 0 pruned, 0 failed)'
    """
    directions = [direction] if isinstance(direction, optuna.study.StudyDirection) else direction
    completed = [
        t.values
        for t in members
        if t.state == TrialState.COMPLETE
        and t.values is not None
        and all(math.isfinite(v) for v in t.values)
    ]
    counts = {state: sum(t.state == state for t in members) for state in TrialState}
    tail = (
        f"({counts[TrialState.COMPLETE]} complete, {counts[TrialState.PRUNED]} pruned, "
        f"{counts[TrialState.FAIL]} failed)"
    )
    if not completed:
        return f"generation {generation}: no completed trial {tail}"
    picks = [max if d == optuna.study.StudyDirection.MAXIMIZE else min for d in directions]
    if len(directions) > 1:
        names = names or [f"values[{i}]" for i in range(len(directions))]
        bests = ", ".join(
            f"{name} {format_value(pick(v[i] for v in completed))}"
            for i, (name, pick) in enumerate(zip(names, picks, strict=True))
        )
        return f"generation {generation}: best {bests} {tail}"
    values = [v[0] for v in completed]
    mean = sum(values) / len(values)
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))
    return (
        f"generation {generation}: best {picks[0](values):.4f}, mean {mean:.4f} ± {std:.4f} {tail}"
    )


def format_value(value: float) -> str:
    """An objective's value: a whole number as such (a parameter count), else four decimals.

    Example:
        >>> format_value(12345.0), format_value(0.91234)
        ('12345', '0.9123')
    """
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.4f}"


def best_text(study: optuna.Study, label: str) -> str:
    """The best so far: ``best LABEL VALUE (#N)``, or the size of the Pareto front."""
    if len(study.directions) > 1:
        front = study.best_trials
        return f"Pareto front: {count(len(front), 'trial')}" if front else "Pareto front: none yet"
    best = best_or_none(study)
    return f"best {label} none yet" if best is None else f"best {label} {best.value:.4f}"


def best_or_none(study: optuna.Study) -> FrozenTrial | None:
    """The best trial, or None while no trial has completed."""
    try:
        return study.best_trial
    except json.JSONDecodeError:  # a ValueError too, but a corrupt storage: not "none yet"
        raise
    except ValueError:
        return None


class GenerationTally:
    """Which trials have finished, per generation, brought up to date one trial at a time.

    :meth:`update` looks at the trials it has not seen and those it saw unfinished, never at a
    trial it saw finished: its work does not grow with the study. Trials finish in any order
    (several workers), so a generation is complete once all its numbers have finished.

    Example:
        >>> import optuna
        >>> done = optuna.create_trial(value=1.0, params={}, distributions={})
        >>> running = optuna.create_trial(state=optuna.trial.TrialState.RUNNING)
        >>> tally = GenerationTally(population_size=2, n_elites=1)
        >>> tally.update([done, running, done]), tally.complete, tally.finished
        (3, 0, 2)
        >>> tally.update([done, done, done]), tally.complete, tally.finished
        (1, 2, 3)
    """

    def __init__(self, *, population_size: int, n_elites: int) -> None:
        self._size = population_size
        self._elites = n_elites
        self._seen = 0  # trials 0 .. _seen - 1 have been looked at
        self._unfinished: set[int] = set()  # of those, the ones not finished then
        self._finished_in: Counter[int] = Counter()  # generation -> its finished trials
        #: Trials seen finished.
        self.finished = 0
        #: Generations, from generation 0 on, that have every trial finished.
        self.complete = 0

    def update(self, trials: Sequence[FrozenTrial]) -> int:
        """Tally the study's trials (``trials[n]`` is trial ``n``); how many it looked at."""
        looked = [*sorted(self._unfinished), *range(self._seen, len(trials))]
        for number in looked:
            if trials[number].state.is_finished():
                self._unfinished.discard(number)
                self._finished_in[generation_of(number, self._size, self._elites)[0]] += 1
                self.finished += 1
            else:
                self._unfinished.add(number)
        self._seen = max(self._seen, len(trials))
        while self._finished_in[self.complete] == len(self.members(self.complete)):
            self.complete += 1
        return len(looked)

    def members(self, generation: int) -> range:
        """The trial numbers of ``generation``."""
        return generation_range(generation, self._size, self._elites)


class Progress:
    """A line per finished generation, and a progress line: a live bar on a terminal, else a
    plain line every ``interval`` seconds without other output (0: never)."""

    def __init__(
        self,
        *,
        population_size: int,
        n_elites: int,
        label: str,
        tty: bool,
        interval: float,
        objectives: Sequence[str] = (),
    ) -> None:
        self._tally = GenerationTally(population_size=population_size, n_elites=n_elites)
        self._label = label
        self._objectives = objectives  # the names of a multi-objective study's values
        self._tty = tty
        self._interval = interval
        self._reported = 0  # generations printed (or finished before this run)
        self._bar = False
        self._last_output = time.monotonic()
        self._started = time.monotonic()

    def start(self, study: optuna.Study) -> None:
        """Skip the generations that finished before this run."""
        self._tally.update(study.get_trials(deepcopy=False))
        self._reported = self._tally.complete
        self._started = self._last_output = time.monotonic()

    def update(self, study: optuna.Study, done: int, total: int | None) -> bool:
        """Print the generations finished since the last call; True if there were any."""
        trials = study.get_trials(deepcopy=False)
        self._tally.update(trials)
        complete = self._tally.complete
        new = complete > self._reported
        for generation in range(self._reported, complete):
            members = [trials[n] for n in self._tally.members(generation)]
            self.line(generation_summary(generation, members, study.directions, self._objectives))
        self._reported = complete
        if self._tty:
            self._clear()
            say(self._status(study, done, total), end="")
            self._bar = True
        return new

    def tick(self, study: optuna.Study, done: int, total: int | None) -> None:
        """Without a terminal: a plain progress line when nothing was printed for a while."""
        if self._tty or self._interval <= 0:
            return
        if time.monotonic() - self._last_output >= self._interval:
            self._tally.update(study.get_trials(deepcopy=False))  # printed by the next update
            self.line(self._status(study, done, total))

    def line(self, text: str, *, err: bool = False) -> None:
        """A line of its own (the bar, if any, is redrawn by the next update)."""
        self._clear()
        say(text, err=err)
        self._last_output = time.monotonic()

    def close(self) -> None:
        self._clear()

    def _clear(self) -> None:
        if self._bar:
            say("\r\033[K", end="")
            self._bar = False

    def _status(self, study: optuna.Study, done: int, total: int | None) -> str:
        minutes, seconds = divmod(int(time.monotonic() - self._started), 60)
        finished = self._tally.finished
        of_total = f"{done} of {total} trials" if total is not None else count(done, "trial")
        return (
            f"[{minutes}:{seconds:02d}] {of_total} of this run done, {finished} in the "
            f"study; generation {self._reported} running; {best_text(study, self._label)}"
        )


class Panels:
    """Publishes the GA panels and note of :mod:`optuna_ga.dashboard` to the study.

    Without the dashboard extra, or after a failed publish, it says so once and stops trying;
    the run goes on.
    """

    def __init__(self, *, enabled: bool, population_size: int, n_elites: int) -> None:
        self.enabled = enabled
        self._size = population_size
        self._elites = n_elites

    def warm_up(self) -> None:
        """Draw once into a throwaway in-memory study, in a daemon thread.

        plotly imports its figure machinery on first use (seconds on a busy machine); done
        here, while the workers start, a later Ctrl-C never waits for it. The thread writes
        to no real storage, so leaving it behind at exit is harmless.
        """
        if self.enabled:
            threading.Thread(target=_draw_once, daemon=True).start()

    def publish(self, study: optuna.Study, progress: Progress) -> None:
        if not self.enabled:
            return
        try:
            from optuna_ga.dashboard import publish

            publish(study, population_size=self._size, n_elites=self._elites)
        except ImportError:
            self.enabled = False
            progress.line(
                "optuna-ga: GA panels not published: optuna-dashboard and plotly are not "
                "installed (pip install 'optuna-ga[dashboard]'; --no-publish hides this line)",
                err=True,
            )
        except Exception as error:
            self.enabled = False
            progress.line(
                f"optuna-ga: publishing the GA panels failed, not retried: {one_line(error)}",
                err=True,
            )


def _draw_once() -> None:
    try:
        from optuna_ga.dashboard import publish
    except ImportError:  # publish says so
        return
    study = optuna.create_study()
    for value in (0.0, 1.0):
        study.add_trial(
            optuna.trial.create_trial(
                value=value,
                params={"x": value},
                distributions={"x": optuna.distributions.FloatDistribution(0, 1)},
                user_attrs={"ga_generation": 0, "ga_parents": [], "ga_operator": "random"},
            )
        )
    with contextlib.suppress(Exception):
        publish(study, population_size=2, n_elites=0)
