"""Multi-objective and constrained studies: Pareto fitness, constraints, determinism, workers."""

from __future__ import annotations

import copy
import math
import multiprocessing
import time
from collections import Counter
from collections.abc import Sequence

import numpy as np
import optuna
import pytest
from optuna.distributions import FloatDistribution
from optuna.study import StudyDirection
from optuna.study._constrained_optimization import _CONSTRAINTS_KEY
from optuna.trial import FrozenTrial
from optuna.trial import TrialState

from optuna_ga import GeneticSampler
from optuna_ga import _pareto
from optuna_ga import canonical_hash
from optuna_ga._history import History
from optuna_ga._population import DIVERSITY
from optuna_ga._population import generation_of
from optuna_ga.storages import make_storage
from tests.parallel_checks import check_worker_study

MIN, MAX = StudyDirection.MINIMIZE, StudyDirection.MAXIMIZE


def two_objectives(trial: optuna.Trial) -> tuple[float, float]:
    x = trial.suggest_float("x", 0.0, 1.0)
    y = trial.suggest_float("y", 0.0, 1.0)
    return x, (1.0 - x) ** 2 + y


def every_kind(trial: optuna.Trial) -> tuple[float, float, float]:
    f = trial.suggest_float("f", -1.0, 1.0)
    lf = trial.suggest_float("lf", 1e-4, 1.0, log=True)
    sf = trial.suggest_float("sf", 0.0, 1.0, step=0.25)
    i = trial.suggest_int("i", -3, 3)
    li = trial.suggest_int("li", 1, 64, log=True)
    c = trial.suggest_categorical("c", ["a", "b", None])
    extra = trial.suggest_int("extra", 0, 4) if c == "a" else 0  # a conditional gene
    return f**2 + sf, -(lf + li) - extra, abs(i) + (c is None)


def finite_front(study: optuna.Study) -> np.ndarray:
    values = np.array([t.values for t in study.trials if t.state == TrialState.COMPLETE])
    maximize = [d == MAX for d in study.directions]
    return _pareto.to_losses(values, maximize)


def test_a_two_objective_study_runs_and_improves_on_random() -> None:
    def hv(sampler: optuna.samplers.BaseSampler) -> float:
        study = optuna.create_study(directions=["minimize", "minimize"], sampler=sampler)
        study.optimize(two_objectives, n_trials=80)
        return _pareto.hypervolume_2d(finite_front(study), np.array([1.0, 2.0]))

    ga = [hv(GeneticSampler(seed=s)) for s in range(3)]
    rand = [hv(optuna.samplers.RandomSampler(seed=s)) for s in range(3)]
    assert np.median(ga) > np.median(rand)


def test_young_multi_objective_broods_hold_random_points() -> None:
    def operators(directions: list[str]) -> list[str]:
        study = optuna.create_study(directions=directions, sampler=GeneticSampler(seed=0))
        study.optimize(lambda t: two_objectives(t)[: len(directions)], n_trials=60)
        return [t.user_attrs["ga_operator"] for t in study.trials[10:]]  # generations >= 1

    # The surrogate picks some of the random points among the bred children while the study
    # is young (fewer than 5 * population_size = 50 individuals), none later.
    multi = operators(["minimize", "minimize"])
    assert "random" in multi[:40] and "random" not in multi[40:]
    assert "random" not in operators(["minimize"])  # one objective: bred children only


@pytest.mark.parametrize("population", ["steady", "hall_of_fame", "generational"])
def test_every_kind_of_gene_and_three_objectives(population: str) -> None:
    sampler = GeneticSampler(population_size=6, n_elites=2, population=population, seed=3)
    study = optuna.create_study(directions=["minimize", "maximize", "minimize"], sampler=sampler)
    study.optimize(every_kind, n_trials=40)
    trials = study.trials
    assert all(t.state == TrialState.COMPLETE for t in trials)
    hashes = [canonical_hash(t.params) for t in trials]
    assert len(set(hashes)) == len(hashes)
    for t in trials:
        for name, distribution in t.distributions.items():
            assert distribution._contains(distribution.to_internal_repr(t.params[name]))
        assert ("extra" in t.params) == (t.params["c"] == "a")
        assert t.user_attrs["ga_generation"] == generation_of(t.number, 6, 2)[0]
        for parent in t.user_attrs["ga_parents"]:
            assert trials[parent].state == TrialState.COMPLETE
    operators = Counter(t.user_attrs["ga_operator"] for t in trials[6:])
    assert sum(n for op, n in operators.items() if "crossover" in op or "mutation" in op) > 20


@pytest.mark.parametrize("n_candidates", [1, 24])
def test_same_seed_same_parameters(n_candidates: int) -> None:
    def params(seed: int) -> list[dict[str, object]]:
        sampler = GeneticSampler(population_size=6, n_candidates=n_candidates, seed=seed)
        study = optuna.create_study(
            directions=["minimize", "maximize", "minimize"], sampler=sampler
        )
        study.optimize(every_kind, n_trials=30)
        return [t.params for t in study.trials]

    assert params(7) == params(7)
    assert params(7) != params(8)


def test_parents_come_from_the_best_fronts() -> None:
    # Classic GA (one candidate), steady population of 6: every child's parents were among
    # the 6 survivors (NSGA-II) of the individuals that had finished when it was bred.
    study = optuna.create_study(
        directions=["minimize", "minimize"],
        sampler=GeneticSampler(population_size=6, n_elites=1, n_candidates=1, seed=2),
    )
    study.optimize(two_objectives, n_trials=40)
    trials = study.trials
    for t in trials[6:]:
        before = trials[: t.number]
        losses = np.array([b.values for b in before])
        ranks = _pareto.nondominated_ranks(losses)
        kept = {before[i].number for i in _pareto.survivors(losses, ranks, 6, DIVERSITY)}
        assert set(t.user_attrs["ga_parents"]) <= kept


def make_trials(values: Sequence[Sequence[float]], constraints: bool = False) -> list[FrozenTrial]:
    trials = []
    for number, v in enumerate(values):
        trial = optuna.trial.create_trial(
            params={"x": float(number)},
            distributions={"x": FloatDistribution(0.0, 1000.0)},
            values=list(v),
            system_attrs={_CONSTRAINTS_KEY: (float(v[0]) - 0.6,)} if constraints else {},
        )
        trial.number = number
        trials.append(trial)
    return trials


@pytest.mark.parametrize("constraints", [False, True])
def test_history_is_the_same_whatever_the_order_trials_finish(constraints: bool) -> None:
    rng = np.random.default_rng(4)
    trials = make_trials(rng.random((60, 2)).round(2).tolist(), constraints)
    at_once = History([MIN, MAX])
    at_once.update(trials)
    bit_by_bit = History([MIN, MAX])
    for stop in range(0, 61, 7):  # odd trials finish late: another worker's order
        partial = [copy.deepcopy(t) for t in trials[:stop]]
        for t in partial[1::2]:
            t.state, t.values = TrialState.RUNNING, None
        bit_by_bit.update(partial)
        bit_by_bit.population(0, population_size=8, n_elites=2, mode="steady")
        bit_by_bit.encoded(bit_by_bit.space)
    bit_by_bit.update(trials)
    for h in (at_once, bit_by_bit):
        assert h.pareto
    a = at_once.population(0, population_size=8, n_elites=2, mode="steady")
    b = bit_by_bit.population(0, population_size=8, n_elites=2, mode="steady")
    assert a == b
    # The steady population is NSGA-II's survival over every individual, scored within itself.
    losses = np.array([[t.values[0], -t.values[1]] for t in trials])
    violation = np.array([max(0.0, t.values[0] - 0.6) for t in trials]) * constraints
    ranks = _pareto.constrained_ranks(losses, violation)
    survivors = _pareto.survivors(losses, ranks, 8, DIVERSITY)
    assert [ind.number for ind in a] == survivors.tolist()
    # Its scores: each member's fitness among the members.
    members = sorted(ind.number for ind in a)
    fit = _pareto.fitness(
        losses[members],
        _pareto.constrained_ranks(losses[members], violation[members]),
        DIVERSITY,
    )
    assert [ind.score for ind in sorted(a)] == fit.tolist()
    if constraints:
        assert all(trials[ind.number].values[0] <= 0.6 for ind in a)
    # The surrogate's scores put the first front first (the good group).
    for h in (at_once, bit_by_bit):
        encoded = h.encoded(h.space)
        by_number = {n: encoded.scores[row] for n, row in encoded.row.items()}
        assert all(math.floor(by_number[i]) == -ranks[i] for i in range(60))


def test_history_of_a_single_objective_study_with_constraints_ranks_feasible_first() -> None:
    history = History(MIN)
    history.update(make_trials([[v] for v in (0.1, 0.9, 0.5, 0.7, 0.3)], constraints=True))
    assert history.pareto
    population = history.population(1, population_size=3, n_elites=1, mode="hall_of_fame")
    assert [ind.number for ind in population] == [0, 4, 2]  # feasible (<= 0.6), best first
    populations = []
    for constraints in (False, True):  # no constraints, or all satisfied: the classic order
        classic = History(MIN)
        classic.update(make_trials([[v] for v in (0.1, 0.6, 0.5, 0.5, 0.2, 0.6)], constraints))
        assert not classic.pareto
        assert [i.score for i in classic.individuals.values()][:3] == [-0.1, -0.6, -0.5]
        populations.append(
            [
                [i.number for i in classic.population(1, population_size=4, n_elites=1, mode=m)]
                for m in ("steady", "hall_of_fame", "generational")
            ]
        )
    assert populations[0] == populations[1] == [[0, 4, 2, 3], [0, 4, 2, 3], [0, 4, 5]]


def test_constraints_are_stored_and_feasible_individuals_win() -> None:
    def constraints(trial: FrozenTrial) -> tuple[float, float]:
        return trial.params["x"] - 0.3, trial.params["y"] - 0.5

    sampler = GeneticSampler(population_size=8, seed=5, constraints_func=constraints)
    study = optuna.create_study(directions=["maximize", "maximize"], sampler=sampler)
    study.optimize(two_objectives, n_trials=60)
    for t in study.trials:
        assert t.system_attrs[_CONSTRAINTS_KEY] == pytest.approx(constraints(t))
    feasible = [all(c <= 0 for c in t.system_attrs[_CONSTRAINTS_KEY]) for t in study.trials]
    # Random points are feasible 15% of the time (4.5 of 30 expected); bred ones mostly.
    assert sum(feasible[30:]) >= 12
    # Optuna's own reading of the stored constraints agrees (best_trials are feasible).
    assert all(t.params["x"] <= 0.3 and t.params["y"] <= 0.5 for t in study.best_trials)


def test_constraints_func_must_be_callable() -> None:
    with pytest.raises(ValueError, match="constraints_func must be None or a callable"):
        GeneticSampler(constraints_func=3)  # type: ignore[arg-type]


def test_single_objective_constraints() -> None:
    sampler = GeneticSampler(
        population_size=6, seed=1, constraints_func=lambda t: (0.5 - t.params["x"],)
    )
    study = optuna.create_study(sampler=sampler)
    study.optimize(lambda t: t.suggest_float("x", 0.0, 1.0), n_trials=50)
    late = [t.params["x"] for t in study.trials[25:]]
    assert sum(x >= 0.5 for x in late) >= 14  # the best lie at the edge of the feasible half
    feasible = [t.value for t in study.trials if t.params["x"] >= 0.5]
    assert min(feasible) < 0.51


def test_constraints_set_by_the_objective_count_too() -> None:
    def objective(trial: optuna.Trial) -> tuple[float, float]:
        values = two_objectives(trial)
        trial.set_constraint("x_small", trial.params["x"] - 0.3)
        return values

    study = optuna.create_study(
        directions=["maximize", "maximize"], sampler=GeneticSampler(population_size=8, seed=5)
    )
    study.optimize(objective, n_trials=60)
    assert sum(t.params["x"] <= 0.3 for t in study.trials[30:]) >= 20  # random: 9 expected
    history = History([MAX, MAX])
    history.update(study.trials)
    assert history.pareto


# -- several worker processes on PostgreSQL -----------------------------------------------------

POPULATION, ELITES = 8, 2
N_WORKERS, TRIALS_PER_WORKER = 4, 10


def grid_two_objectives(trial: optuna.Trial) -> tuple[float, float]:
    a = trial.suggest_int("a", 0, 5)
    b = trial.suggest_int("b", 0, 3)
    act = trial.suggest_categorical("act", ["relu", "tanh", "gelu", "elu"])
    time.sleep(0.02)  # let the workers interleave
    return (a - 3) ** 2 + (act == "gelu"), b + a


def pg_constraints(trial: FrozenTrial) -> tuple[float]:
    return (trial.params["b"] - 2.5,)


def worker(url: str, study_name: str, seed: int) -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sampler = GeneticSampler(
        population_size=POPULATION, n_elites=ELITES, seed=seed, constraints_func=pg_constraints
    )
    storage = make_storage(url, heartbeat_interval=None)
    study = optuna.load_study(study_name=study_name, storage=storage, sampler=sampler)
    study.optimize(grid_two_objectives, n_trials=TRIALS_PER_WORKER)


@pytest.mark.slow
@pytest.mark.postgres
def test_four_multi_objective_workers_on_postgresql(postgres_url: str, study_name: str) -> None:
    storage = make_storage(postgres_url, heartbeat_interval=None)
    optuna.create_study(
        study_name=study_name, storage=storage, directions=["minimize", "minimize"]
    )
    try:
        context = multiprocessing.get_context("spawn")
        processes = [
            context.Process(target=worker, args=(postgres_url, study_name, 0))
            for _ in range(N_WORKERS)
        ]
        for process in processes:
            process.start()
        for process in processes:
            process.join(timeout=240)
            assert process.exitcode == 0
        study = optuna.load_study(study_name=study_name, storage=storage)
        check_worker_study(
            study,
            n_trials=N_WORKERS * TRIALS_PER_WORKER,
            population_size=POPULATION,
            n_elites=ELITES,
        )
        trials = study.trials
        for t in trials:
            assert list(t.system_attrs[_CONSTRAINTS_KEY]) == [t.params["b"] - 2.5]
        assert any(t.user_attrs["ga_parents"] for t in trials)
    finally:
        optuna.delete_study(study_name=study_name, storage=storage)
