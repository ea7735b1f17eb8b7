"""The options of ``optuna-ga run`` (optuna_ga.cli._config): each declared once, as a field of
RunConfig, from which the parser, the sampler's arguments, the record and the messages come."""

from __future__ import annotations

import argparse
import ast
import inspect
from dataclasses import fields
from pathlib import Path

import pytest

from optuna_ga import GeneticSampler
from optuna_ga.cli import _config
from optuna_ga.cli import _run
from optuna_ga.cli import _workers
from optuna_ga.cli._config import RunConfig
from optuna_ga.cli._config import user_message
from optuna_ga.cli._parser import build_parser


def parse(*argv: str) -> RunConfig:
    return RunConfig.from_args(build_parser().parse_args(["run", *argv]))


def test_every_field_is_an_option_of_the_parser_with_its_default() -> None:
    run = argparse.ArgumentParser()
    _config.add_arguments(run)
    dests = {a.dest: a for a in run._actions if a.dest != "help"}
    assert list(dests) == [f.name for f in fields(RunConfig)]
    for spec in fields(RunConfig):
        assert dests[spec.name].default == spec.default
        assert dests[spec.name].option_strings[0] == _config.flag(spec.name)


def test_parsed_options_reach_the_config_and_the_sampler() -> None:
    config = parse("--population-size", "6", "--n-elites", "1", "--seed", "3", "--devices", "cpu")
    assert (config.population_size, config.n_elites, config.devices) == (6, 1, ("cpu",))
    assert config.study_name == "mlp-digits" and config.n_trials == 60
    sampler = config.sampler()
    assert isinstance(sampler, GeneticSampler)
    assert (sampler.population_size, sampler.n_elites) == (6, 1)
    assert parse("--timeout", "5", "--heartbeat-interval", "0").n_trials is None
    assert parse("--heartbeat-interval", "0").heartbeat_interval is None


def test_the_study_records_what_workers_use_but_the_storage() -> None:
    recorded = parse("--workers", "2").recorded()
    assert "storage" not in recorded
    assert not {"n_trials", "workers", "publish", "progress_interval"} & set(recorded)
    assert recorded["population_size"] == 10 and recorded["timeout"] is None


def test_the_objective_gets_every_objective_option_by_its_own_name() -> None:
    arguments = parse("--model", "cnn", "--threads", "2")._arguments("objective")
    assert arguments["architecture"] == "cnn" and arguments["num_threads"] == 2
    assert {"model", "threads", "population_size"}.isdisjoint(arguments)


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("n_elites must be < population_size", "--n-elites must be < --population-size"),
        ("num_threads must be in [1, 256]", "--threads must be in [1, 256]"),
        ("device must be a name such as 'cpu'", "--device must be a name such as 'cpu'"),
        ("devices must name at least one device", "--devices must name at least one device"),
        ("Pass download=True to fetch them", "Pass --download to fetch them"),
        ("a seed of 3; seed must be >= 0", "a seed of 3; --seed must be >= 0"),
    ],
)  # fmt: skip
def test_library_messages_name_the_flags(message: str, expected: str) -> None:
    assert user_message(message) == expected


def test_run_and_its_workers_share_the_config_without_importing_each_other() -> None:
    for module, other in ((_workers, "_run"), (_config, "_run"), (_config, "_workers")):
        tree = ast.parse(Path(inspect.getfile(module)).read_text())
        imported = {
            node.module if isinstance(node, ast.ImportFrom) else alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.Import | ast.ImportFrom)
            for alias in node.names
        }
        assert f"optuna_ga.cli.{other}" not in imported, (module.__name__, other)
    assert _run.RunConfig is _workers.RunConfig is RunConfig
