"""What ``optuna-ga run`` prints per generation (optuna_ga.cli._progress): the tally of finished
trials is incremental, so an update's work does not grow with the study."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from typing import overload

import optuna
import pytest
from optuna.trial import FrozenTrial
from optuna.trial import TrialState

from optuna_ga.cli._progress import GenerationTally
from optuna_ga.cli._progress import Progress


class CountingTrials(Sequence[FrozenTrial]):
    """A study's trials that count how many times a trial is looked at."""

    def __init__(self, trials: list[FrozenTrial]) -> None:
        self.trials = trials
        self.looked = 0

    def __len__(self) -> int:
        return len(self.trials)

    @overload
    def __getitem__(self, index: int) -> FrozenTrial: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[FrozenTrial]: ...
    def __getitem__(self, index: Any) -> Any:
        found = self.trials[index]
        self.looked += len(found) if isinstance(index, slice) else 1
        return found


def trial(number: int, state: TrialState = TrialState.COMPLETE) -> FrozenTrial:
    made = optuna.trial.create_trial(
        state=state, value=float(number) if state == TrialState.COMPLETE else None
    )
    made.number = number
    return made


def test_an_update_looks_at_new_and_unfinished_trials_only() -> None:
    tally = GenerationTally(population_size=10, n_elites=2)
    trials = CountingTrials([])
    looked = []
    for number in range(2000):  # one trial more per update, the last one still running
        trials.trials.append(trial(number, TrialState.RUNNING))
        if number:
            trials.trials[number - 1] = trial(number - 1)
        trials.looked = 0
        tally.update(trials)
        looked.append(trials.looked)
    assert max(looked) <= 2  # the one that finished and the new one, at 10 trials as at 2000
    assert tally.finished == 1999
    assert tally.complete == 249  # generation 249 (trials 1994-2001) is not complete


def test_trials_that_finish_out_of_order_complete_their_generation_once_all_are_done() -> None:
    tally = GenerationTally(population_size=4, n_elites=1)  # generations: 0-3, 4-6, 7-9
    states = [TrialState.RUNNING] * 10
    for number, state in [(5, TrialState.COMPLETE), (0, TrialState.FAIL), (9, TrialState.PRUNED)]:
        states[number] = state
    tally.update([trial(n, s) for n, s in enumerate(states)])
    assert (tally.complete, tally.finished) == (0, 3)
    for number in (1, 2, 4, 6, 7, 8):  # generations 1 and 2 are done, 0 is not
        states[number] = TrialState.COMPLETE
    trials = CountingTrials([trial(n, s) for n, s in enumerate(states)])
    assert tally.update(trials) == 7  # the 7 unfinished ones, not the 3 that had finished
    assert trials.looked == 7
    assert (tally.complete, tally.finished) == (0, 9)
    states[3] = TrialState.COMPLETE
    assert tally.update([trial(n, s) for n, s in enumerate(states)]) == 1
    assert (tally.complete, tally.finished) == (3, 10)


def test_progress_prints_each_generation_once_in_order(
    capsys: pytest.CaptureFixture[str],
) -> None:
    study = optuna.create_study(direction="maximize")
    progress = Progress(population_size=2, n_elites=0, label="accuracy", tty=False, interval=0)
    study.add_trial(trial(0))
    progress.start(study)  # generation 0 is not complete: it will be printed
    running = study.ask()
    study.ask()
    assert not progress.update(study, 1, None)
    study.tell(study.ask(), 3.0)  # trial 3, generation 1, finishes before trials 1 and 2
    assert not progress.update(study, 2, None)
    study.tell(running, 1.0)
    assert progress.update(study, 3, None)
    assert (
        capsys.readouterr().out == "generation 0: best 1.0000, mean 0.5000 ± 0.5000 "
        "(2 complete, 0 pruned, 0 failed)\n"
    )
    study.tell(2, state=TrialState.PRUNED)
    assert progress.update(study, 4, None)
    assert (
        capsys.readouterr().out == "generation 1: best 3.0000, mean 3.0000 ± 0.0000 "
        "(1 complete, 1 pruned, 0 failed)\n"
    )
    assert not progress.update(study, 4, None)
    assert capsys.readouterr().out == ""
