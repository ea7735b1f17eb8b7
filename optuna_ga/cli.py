"""The ``optuna-ga`` command: run GA studies of the PyTorch objectives, inspect and reuse them.

``optuna-ga run`` starts (or resumes) a study and runs it in ``--workers`` local processes; the
same command on several machines with one PostgreSQL URL makes them cooperate on one study.
``best``, ``train-best``, ``plot`` and ``dashboard`` read a study back. Every error is one line
on stderr (exit status 2), and passwords in storage URLs are never printed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import multiprocessing
import os
import signal
import sys
from collections.abc import Sequence
from dataclasses import asdict
from dataclasses import dataclass
from typing import Any
from typing import NoReturn
from typing import TextIO

import optuna
from optuna.trial import FrozenTrial
from optuna.trial import TrialState

from optuna_ga import __version__
from optuna_ga._population import generation_range
from optuna_ga._sampler import GeneticSampler
from optuna_ga.storages import make_storage
from optuna_ga.storages import mask_password

DEFAULT_STORAGE = "sqlite:///optuna_ga.db"
CONFIG_ATTR = "optuna_ga_config"  # study user attr: how `run` was configured
MODELS = ("mlp", "cnn")
PRUNERS = ("none", "median", "hyperband")


class CLIError(Exception):
    """An error worth one line to the user."""


@dataclass(frozen=True)
class RunConfig:
    """Everything a worker process needs (JSON-able, so it also documents the study)."""

    storage: str
    study_name: str
    model: str
    dataset: str
    data_dir: str | None
    download: bool
    epochs: int
    patience: int | None
    max_training_time: float | None
    pruner: str  # a name from PRUNERS; see make_pruner
    device: str | None
    threads: int
    population_size: int
    n_elites: int
    selection: str
    crossover: str
    crossover_prob: float
    mutation_prob: float | None
    n_immigrants: int
    hall_of_fame: bool
    seed: int
    heartbeat_interval: int | None
    timeout: float | None
    inherit_weights: bool = False
    artifacts: str = "optuna_ga_artifacts"  # folder of the inherited weights
    inherit_epochs: int | None = None

    def sampler(self) -> GeneticSampler:
        return GeneticSampler(
            population_size=self.population_size,
            n_elites=self.n_elites,
            selection=self.selection,
            crossover=self.crossover,
            crossover_prob=self.crossover_prob,
            mutation_prob=self.mutation_prob,
            n_immigrants=self.n_immigrants,
            hall_of_fame=self.hall_of_fame,
            seed=self.seed,
        )

    def objective(self) -> Any:
        from optuna_ga.torch import CNNObjective
        from optuna_ga.torch import MLPObjective

        cls = MLPObjective if self.model == "mlp" else CNNObjective
        store = None
        if self.inherit_weights:
            os.makedirs(self.artifacts, exist_ok=True)
            store = optuna.artifacts.FileSystemArtifactStore(self.artifacts)
        return cls(
            dataset=self.dataset,
            data_dir=self.data_dir,
            download=self.download,
            epochs=self.epochs,
            patience=self.patience,
            max_training_time=self.max_training_time,
            seed=self.seed,
            device=self.device,
            num_threads=self.threads,
            inherit_weights=self.inherit_weights,
            artifact_store=store,
            inherit_epochs=self.inherit_epochs,
        )


def make_pruner(name: str) -> optuna.pruners.BasePruner:
    """The pruner called ``name`` (none, median, hyperband)."""
    if name == "median":
        # Lenient: pruned trials are never parents, so pruning hard shrinks the gene pool.
        return optuna.pruners.MedianPruner(n_startup_trials=10, n_warmup_steps=3)
    if name == "hyperband":
        return optuna.pruners.HyperbandPruner()
    return optuna.pruners.NopPruner()


# -- progress --------------------------------------------------------------------------------


class Progress:
    """Optuna callback of the reporting worker: one line per finished generation, and a bar.

    Generations are read back from storage, so the lines cover every worker's trials.
    """

    def __init__(self, config: RunConfig, out: TextIO) -> None:
        self._config = config
        self._out = out
        self._reported = -1
        self._bar = out.isatty()

    def __call__(self, study: optuna.Study, trial: FrozenTrial) -> None:
        trials = study.get_trials(deepcopy=False)
        finished = {t.number for t in trials if t.state.is_finished()}
        P, E = self._config.population_size, self._config.n_elites
        generation = self._reported + 1
        while all(n in finished for n in generation_range(generation, P, E)):
            members = [trials[n] for n in generation_range(generation, P, E)]
            if self._bar:
                self._out.write("\r\033[K")
            self._out.write(generation_summary(generation, members, study.direction) + "\n")
            self._reported = generation
            generation += 1
        if self._bar:
            best = _best_or_none(study)
            best_text = "-" if best is None else f"{best.value:.4f}"
            self._out.write(
                f"\r{len(finished)} trials finished, generation {self._reported + 1} running, "
                f"best {best_text}"
            )
        self._out.flush()


def generation_summary(
    generation: int, members: Sequence[FrozenTrial], direction: optuna.study.StudyDirection
) -> str:
    """One line: best, mean and spread of a generation, and how many trials ended how.

    Example:
        >>> import optuna
        >>> t = [optuna.create_trial(value=v, params={}, distributions={}) for v in (0.9, 0.8)]
        >>> generation_summary(3, t, optuna.study.StudyDirection.MAXIMIZE)
        'generation 3: best 0.9000, mean 0.8500 ± 0.0500 (2 complete, 0 pruned, 0 failed)'
    """
    values = [
        t.value
        for t in members
        if t.state == TrialState.COMPLETE and t.value is not None and math.isfinite(t.value)
    ]
    counts = {state: sum(t.state == state for t in members) for state in TrialState}
    tail = (
        f"({counts[TrialState.COMPLETE]} complete, {counts[TrialState.PRUNED]} pruned, "
        f"{counts[TrialState.FAIL]} failed)"
    )
    if not values:
        return f"generation {generation}: no completed trial {tail}"
    pick = max if direction == optuna.study.StudyDirection.MAXIMIZE else min
    mean = sum(values) / len(values)
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))
    return f"generation {generation}: best {pick(values):.4f}, mean {mean:.4f} ± {std:.4f} {tail}"


# -- commands --------------------------------------------------------------------------------


def _open_storage(url: str, **kwargs: Any) -> Any:
    try:
        storage = make_storage(url, **kwargs)
        # Touch the database now, so a wrong host or password is reported here, in one line.
        storage.get_all_studies()
        return storage
    except ValueError:
        raise
    except Exception as error:
        raise CLIError(
            f"cannot open storage {mask_password(url)}: {_first_line(error)}"
        ) from error


def _load_study(url: str, study_name: str | None, **kwargs: Any) -> optuna.Study:
    storage = _open_storage(url, heartbeat_interval=None)
    names = [s.study_name for s in storage.get_all_studies()]
    if study_name is None:
        if len(names) != 1:
            raise CLIError(
                f"storage {mask_password(url)} holds {len(names)} studies "
                f"({', '.join(names) or 'none'}): name one with --study-name"
            )
        study_name = names[0]
    if study_name not in names:
        raise CLIError(
            f"no study named {study_name!r} in {mask_password(url)} "
            f"(studies there: {', '.join(names) or 'none'})"
        )
    return optuna.load_study(study_name=study_name, storage=storage, **kwargs)


def _work(config: RunConfig, n_trials: int | None, report: bool) -> None:
    """One worker: load the study and run ``n_trials`` trials (or until the timeout)."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = make_storage(config.storage, heartbeat_interval=config.heartbeat_interval)
    study = optuna.load_study(
        study_name=config.study_name,
        storage=storage,
        sampler=config.sampler(),
        pruner=make_pruner(config.pruner),
    )
    callbacks = [Progress(config, sys.stdout)] if report else []
    if n_trials == 0:
        return
    study.optimize(
        config.objective(),
        n_trials=n_trials,
        timeout=config.timeout,
        callbacks=callbacks,
        catch=(RuntimeError,),
    )


def _child(config_json: str, n_trials: int | None) -> None:
    config = RunConfig(**json.loads(config_json))
    with contextlib.suppress(KeyboardInterrupt):  # Optuna marked the running trial FAIL
        _work(config, n_trials, report=False)


def cmd_run(args: argparse.Namespace) -> int:
    if args.n_trials is None and args.timeout is None:
        args.n_trials = 60
    if args.n_trials is not None and args.n_trials < 1:
        raise ValueError(f"--n-trials must be >= 1, got {args.n_trials}.")
    if args.workers < 1:
        raise ValueError(f"--workers must be >= 1, got {args.workers}.")
    if args.threads < 1:
        raise ValueError(f"--threads must be >= 1, got {args.threads}.")
    if args.heartbeat_interval is not None and args.heartbeat_interval <= 0:
        args.heartbeat_interval = None
    storage = _open_storage(args.storage, heartbeat_interval=args.heartbeat_interval)
    study_name = args.study_name or f"{args.model}-{args.dataset}"

    config = RunConfig(
        storage=args.storage,
        study_name=study_name,
        model=args.model,
        dataset=args.dataset,
        data_dir=args.data_dir,
        download=args.download,
        epochs=args.epochs,
        patience=args.patience,
        max_training_time=args.max_training_time,
        pruner=args.pruner,
        device=args.device,
        threads=args.threads,
        population_size=args.population_size,
        n_elites=args.n_elites,
        selection=args.selection,
        crossover=args.crossover,
        crossover_prob=args.crossover_prob,
        mutation_prob=args.mutation_prob,
        n_immigrants=args.n_immigrants,
        hall_of_fame=args.hall_of_fame,
        seed=args.seed,
        heartbeat_interval=args.heartbeat_interval,
        timeout=args.timeout,
        inherit_weights=args.inherit_weights,
        artifacts=args.artifacts,
        inherit_epochs=args.inherit_epochs,
    )
    config.sampler()  # bad GA options fail here, before any process starts
    objective = config.objective()  # loads the data: a missing dataset fails here
    study = optuna.create_study(
        study_name=study_name,
        storage=storage,
        load_if_exists=True,
        direction=objective.direction,
    )
    if study.direction.name.lower() != objective.direction:
        raise CLIError(
            f"study {study_name!r} was created to {study.direction.name.lower()}, but this "
            f"objective wants to {objective.direction}: use another --study-name"
        )
    existing = len(study.trials)
    recorded = {k: v for k, v in asdict(config).items() if k != "storage"}
    study.set_user_attr(CONFIG_ATTR, recorded)
    # This invocation adds n_trials, shared among its local workers; another machine running
    # the same command adds its own.
    shares: list[int | None] = [None] * args.workers
    if args.n_trials is not None:
        base, extra = divmod(args.n_trials, args.workers)
        shares = [base + (i < extra) for i in range(args.workers)]
    print(
        f"study {study_name!r} in {mask_password(args.storage)}: {existing} trials so far; "
        f"running {'until the timeout' if args.n_trials is None else args.n_trials} more with "
        f"{args.workers} worker(s)",
        flush=True,
    )

    context = multiprocessing.get_context("spawn")
    children = [
        context.Process(target=_child, args=(json.dumps(asdict(config)), share))
        for share in shares[1:]
    ]
    for child in children:
        child.start()
    interrupted = False
    try:
        _work(config, shares[0], report=True)
    except KeyboardInterrupt:
        interrupted = True
        for child in children:
            if child.is_alive() and child.pid is not None:
                os.kill(child.pid, signal.SIGINT)
    finally:
        for child in children:
            child.join()
    print()
    study = optuna.load_study(study_name=study_name, storage=storage)
    if interrupted:
        print(
            f"interrupted: {len(study.trials)} trials are stored; running trials were marked "
            "failed. Run the same command again to continue.",
            file=sys.stderr,
        )
    _print_best(study, sys.stdout)
    return 130 if interrupted else 0


def _best_or_none(study: optuna.Study) -> FrozenTrial | None:
    try:
        return study.best_trial
    except ValueError:
        return None


def lineage(study: optuna.Study, trial: FrozenTrial) -> list[dict[str, Any]]:
    """The trial and its ancestors (breadth first), as recorded in ``ga_parents``."""
    trials = study.get_trials(deepcopy=False)
    seen: set[int] = set()
    queue = [trial.number]
    rows = []
    while queue:
        number = queue.pop(0)
        if number in seen or number >= len(trials):
            continue
        seen.add(number)
        t = trials[number]
        parents = list(t.user_attrs.get("ga_parents", []))
        rows.append(
            {
                "number": number,
                "generation": t.user_attrs.get("ga_generation"),
                "operator": t.user_attrs.get("ga_operator"),
                "parents": parents,
                "value": t.value,
            }
        )
        queue.extend(parents)
    return rows


def _best_record(study: optuna.Study) -> dict[str, Any]:
    best = _best_or_none(study)
    if best is None:
        raise CLIError(f"study {study.study_name!r} has no completed trial yet")
    return {
        "study": study.study_name,
        "direction": study.direction.name.lower(),
        "n_trials": len(study.trials),
        "number": best.number,
        "value": best.value,
        "generation": best.user_attrs.get("ga_generation"),
        "operator": best.user_attrs.get("ga_operator"),
        "params": best.params,
        "user_attrs": {k: v for k, v in best.user_attrs.items() if not k.startswith("ga_")},
        "lineage": lineage(study, best),
    }


def _print_best(study: optuna.Study, out: TextIO) -> None:
    if _best_or_none(study) is None:
        out.write(f"study {study.study_name!r}: no completed trial yet\n")
        return
    record = _best_record(study)
    out.write(
        f"best trial #{record['number']} of {record['n_trials']} "
        f"(generation {record['generation']}, {record['operator']}): "
        f"value {record['value']:.6g}\n"
    )
    width = max((len(name) for name in record["params"]), default=0)
    for name, value in record["params"].items():
        out.write(f"  {name:<{width}}  {value}\n")


def cmd_best(args: argparse.Namespace) -> int:
    study = _load_study(args.storage, args.study_name)
    if args.json:
        print(json.dumps(_best_record(study), indent=2, default=str))
        return 0
    record = _best_record(study)
    _print_best(study, sys.stdout)
    print("lineage (trial: generation, operator, parents, value):")
    for row in record["lineage"]:
        value = "-" if row["value"] is None else f"{row['value']:.6g}"
        print(
            f"  #{row['number']}: {row['generation']}, {row['operator']}, "
            f"{row['parents']}, {value}"
        )
    return 0


def cmd_train_best(args: argparse.Namespace) -> int:
    from optuna_ga.torch import train_best

    study = _load_study(args.storage, args.study_name)
    recorded = study.user_attrs.get(CONFIG_ATTR, {})
    dataset = args.dataset or recorded.get("dataset", "digits")
    result = train_best(
        study,
        dataset=dataset,
        data_dir=args.data_dir or recorded.get("data_dir"),
        download=args.download,
        epochs=args.epochs,
        device=args.device,
        num_threads=args.threads,
        save_to=args.out,
    )
    print(
        f"retrained trial #{study.best_trial.number} for {args.epochs} epochs on {dataset}: "
        f"test accuracy {result.test_accuracy:.4f}; saved to {args.out}"
    )
    return 0


def cmd_plot(args: argparse.Namespace) -> int:
    try:
        from optuna_ga.visualization import write_figures
    except ImportError as error:
        raise CLIError(f"{error} (pip install 'optuna-ga[dashboard]')") from error
    study = _load_study(args.storage, args.study_name)
    recorded = study.user_attrs.get(CONFIG_ATTR, {})
    paths = write_figures(
        study,
        args.out,
        formats=args.format,
        params=args.params.split(",") if args.params else None,
        top_k=args.top_k,
        population_size=args.population_size or recorded.get("population_size"),
        n_elites=args.n_elites if args.n_elites is not None else recorded.get("n_elites"),
    )
    for path in paths:
        print(path)
    return 0


def cmd_dashboard(args: argparse.Namespace) -> int:
    try:
        import optuna_dashboard
    except ImportError as error:
        raise CLIError(
            "optuna-dashboard is not installed: pip install 'optuna-ga[dashboard]'"
        ) from error
    storage = _open_storage(args.storage, heartbeat_interval=None)
    print(f"optuna-dashboard on http://{args.host}:{args.port}/ for {mask_password(args.storage)}")
    optuna_dashboard.run_server(storage, host=args.host, port=args.port)
    return 0


# -- parsing ---------------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="optuna-ga",
        description="Run GA studies of the PyTorch objectives, inspect and reuse them.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def storage_args(p: argparse.ArgumentParser) -> None:
        p.add_argument("--storage", default=DEFAULT_STORAGE, help="storage URL (%(default)s)")
        p.add_argument("--study-name", help="study name (default: the only study there)")

    run = sub.add_parser("run", help="run (or resume) a GA study of an MLP or CNN")
    run.add_argument("--storage", default=DEFAULT_STORAGE, help="storage URL (%(default)s)")
    run.add_argument("--study-name", help="study name (default: MODEL-DATASET)")
    run.add_argument("--model", choices=MODELS, default="mlp")
    run.add_argument("--dataset", default="digits", help="digits, mnist, fashion-mnist, cifar10")
    run.add_argument("--data-dir", help="folder of torchvision datasets")
    run.add_argument("--download", action="store_true", help="download a missing dataset")
    run.add_argument("--n-trials", type=int, help="trials to add in this run (default 60)")
    run.add_argument("--timeout", type=float, help="stop starting trials after this many seconds")
    run.add_argument("--workers", type=int, default=1, help="local worker processes")
    ga = run.add_argument_group("genetic algorithm")
    ga.add_argument("--population-size", type=int, default=10)
    ga.add_argument("--n-elites", type=int, default=2)
    ga.add_argument("--selection", default="roulette", help="roulette, tournament or rank")
    ga.add_argument("--crossover", default="single_point", help="single_point or uniform")
    ga.add_argument("--crossover-prob", type=float, default=0.9)
    ga.add_argument("--mutation-prob", type=float, help="per gene (default 1/number of genes)")
    ga.add_argument("--n-immigrants", type=int, default=0)
    ga.add_argument(
        "--hall-of-fame",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="breed from the best of all time (default) or, with --no-hall-of-fame, from the "
        "elites and the last generation",
    )
    ga.add_argument("--seed", type=int, default=0)
    training = run.add_argument_group("training")
    training.add_argument("--epochs", type=int, default=20)
    training.add_argument("--patience", type=int, default=5, help="early stopping")
    training.add_argument("--max-training-time", type=float, help="seconds per trial")
    training.add_argument("--pruner", choices=PRUNERS, default="median")
    training.add_argument("--device", help="cpu, cuda, cuda:1 (default: cuda if available)")
    training.add_argument("--threads", type=int, default=1, help="torch threads per worker")
    training.add_argument(
        "--inherit-weights", action="store_true", help="children start from parents' weights"
    )
    training.add_argument(
        "--artifacts", default="optuna_ga_artifacts", help="folder of the weights (%(default)s)"
    )
    training.add_argument("--inherit-epochs", type=int, help="epochs of a child that inherited")
    run.add_argument(
        "--heartbeat-interval",
        type=int,
        default=30,
        help="seconds between heartbeats on RDB storages; 0 disables crash recovery",
    )
    run.set_defaults(func=cmd_run)

    best = sub.add_parser("best", help="print the best trial, its params and lineage")
    storage_args(best)
    best.add_argument("--json", action="store_true", help="machine-readable output")
    best.set_defaults(func=cmd_best)

    train = sub.add_parser("train-best", help="retrain the best trial longer and save it")
    storage_args(train)
    train.add_argument("--dataset", help="default: the one the study ran on")
    train.add_argument("--data-dir")
    train.add_argument("--download", action="store_true")
    train.add_argument("--epochs", type=int, default=50)
    train.add_argument("--device")
    train.add_argument("--threads", type=int, default=1)
    train.add_argument("--out", default="best_model", help="folder for weights and config")
    train.set_defaults(func=cmd_train_best)

    plot = sub.add_parser("plot", help="write the GA figures as HTML and PNG")
    storage_args(plot)
    plot.add_argument("--out", default="optuna_ga_plots", help="output folder")
    plot.add_argument("--format", nargs="+", choices=("html", "png"), default=["html", "png"])
    plot.add_argument("--params", help="genes for the allele plot, comma-separated")
    plot.add_argument("--top-k", type=int, help="genealogy of the k best trials only")
    plot.add_argument("--population-size", type=int, help="for trials without GA records")
    plot.add_argument("--n-elites", type=int)
    plot.set_defaults(func=cmd_plot)

    dash = sub.add_parser("dashboard", help="start optuna-dashboard for the storage")
    dash.add_argument("--storage", default=DEFAULT_STORAGE, help="storage URL (%(default)s)")
    dash.add_argument("--host", default="127.0.0.1", help="address to bind (%(default)s)")
    dash.add_argument("--port", type=int, default=8080)
    dash.set_defaults(func=cmd_dashboard)
    return parser


def _first_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return mask_password(text.splitlines()[0])


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``optuna-ga`` and ``python -m optuna_ga``; returns the exit status."""
    args = build_parser().parse_args(argv)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        return int(args.func(args))
    except (CLIError, ValueError, FileNotFoundError, ImportError) as error:
        print(f"optuna-ga: error: {_first_line(error)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("optuna-ga: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
