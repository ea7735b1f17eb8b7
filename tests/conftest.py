"""Shared fixtures: real SQLite files and the PostgreSQL server of this machine."""

from __future__ import annotations

import os
import signal
import uuid
from collections.abc import Iterator

import optuna
import pytest

POSTGRES_URL = os.environ.get(
    "OPTUNA_GA_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


def pytest_configure(config: pytest.Config) -> None:
    """Give the tests' subprocesses a default Ctrl-C, however pytest was started.

    A background job of a non-interactive shell (``pytest &`` in a script) starts with SIGINT
    ignored, and every process it starts inherits that: the CLI's Ctrl-C tests would then
    send SIGINT to processes that ignore it until the CLI installs its own handler, and a
    ``train-best`` that never does would train on. A handler installed here is reset to the
    default in each child (``exec`` keeps only ignored signals ignored).
    """
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(autouse=True)
def _quiet_optuna() -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)


@pytest.fixture
def sqlite_url(tmp_path: os.PathLike[str]) -> str:
    return f"sqlite:///{tmp_path}/study.db"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A PostgreSQL URL with a fresh study name space; fails in CI when unreachable."""
    try:
        import sqlalchemy

        engine = sqlalchemy.create_engine(POSTGRES_URL)
        with engine.connect() as connection:
            connection.execute(sqlalchemy.text("select 1"))
        engine.dispose()
    except Exception as error:  # any failure means "no server"
        message = f"PostgreSQL at {POSTGRES_URL} is unreachable: {error}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    yield POSTGRES_URL


REDIS_URL = os.environ.get("OPTUNA_GA_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
def redis_url() -> str:
    """A Redis URL for Optuna's journal storage; fails in CI when unreachable."""
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
    except Exception as error:  # any failure means "no server"
        message = f"Redis at {REDIS_URL} is unreachable: {error}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return REDIS_URL


@pytest.fixture
def study_name() -> str:
    return f"test-{uuid.uuid4().hex[:12]}"
