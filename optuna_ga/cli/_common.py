"""What every ``optuna-ga`` command shares: the parser style, storage access, output, messages."""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import re
import sqlite3
import sys
from collections.abc import Callable
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from typing import NoReturn
from typing import TextIO
from urllib.parse import unquote
from urllib.parse import urlparse

import optuna

from optuna_ga.storages import RDB_SCHEMES
from optuna_ga.storages import make_storage
from optuna_ga.storages import mask_password
from optuna_ga.storages import mask_url
from optuna_ga.storages import rdb_url

DEFAULT_STORAGE = "sqlite:///optuna_ga.db"
CONFIG_ATTR = "optuna_ga_config"  # study user attr: how `run` was configured


class CLIError(Exception):
    """An error worth one line to the user."""


# -- output ----------------------------------------------------------------------------------


def say(text: str = "", *, err: bool = False, end: str = "\n") -> None:
    """Write and flush a line; a closed pipe (``optuna-ga best | head``) silences the stream.

    After a ``BrokenPipeError`` the stream's file descriptor points to ``/dev/null``, so later
    writes and the flush at exit pass quietly and the command finishes as it would have.
    """
    stream = sys.stderr if err else sys.stdout
    try:
        stream.write(text + end)
        stream.flush()
    except BrokenPipeError:
        _silence(stream)


def _silence(stream: TextIO) -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # no file descriptor (a test's capture): nothing to do
        pass


def one_line(error: BaseException | str, *, url: str | None = None) -> str:
    """An error message on one line, whitespace collapsed, passwords masked.

    SQLAlchemy and psycopg put the SQL statement and a link after the first line: those go.
    ``url``: the storage URL the error may be about (see :func:`mask_password`).

    Example:
        >>> one_line(ValueError("bad value\\n  more about it"))
        'bad value more about it'
        >>> one_line(RuntimeError("(psycopg.OperationalError) no route\\n[SQL: select 1]"))
        '(psycopg.OperationalError) no route'
    """
    if isinstance(error, optuna.exceptions.StorageInternalError) and error.__cause__:
        error = error.__cause__  # "An exception is raised during the commit ...": the why
    text = str(error).strip() if not isinstance(error, str) else error.strip()
    if not text and isinstance(error, BaseException):
        text = type(error).__name__
    lines = [line for line in text.splitlines() if line.strip()]
    kept = []
    for line in lines:
        if line.lstrip().startswith(("[SQL:", "[parameters:", "(Background on this error")):
            break
        kept.append(line.strip())
    return mask_password(" ".join(" ".join(kept).split()), url=url)


def flag_names(
    message: str, flags: Mapping[str, str], words: Mapping[str, str] | None = None
) -> str:
    """Name command-line flags where a library message names Python arguments.

    ``flags`` maps identifiers such as ``population_size`` (replaced wherever they stand as a
    word, not inside a path); ``words`` maps plain words such as ``device``, replaced only as
    the subject of a message (followed by " must", " (" or " '").

    Example:
        >>> flag_names("n_elites must be in [0, population_size - 1], got 5",
        ...            {"n_elites": "--n-elites", "population_size": "--population-size"})
        '--n-elites must be in [0, --population-size - 1], got 5'
        >>> flag_names("device must be usable, not /data/device", {}, {"device": "--device"})
        '--device must be usable, not /data/device'
    """
    for name, flag in flags.items():
        message = re.sub(rf"(?<![\w/.-]){re.escape(name)}(?![\w/-])", flag, message)
    for name, flag in (words or {}).items():
        message = re.sub(rf"(?<![\w/.-]){re.escape(name)}(?= must| \(| ')", flag, message)
    return message


def count(n: int, word: str) -> str:
    """``n`` and the word, plural unless ``n`` is 1.

    Example:
        >>> count(1, "trial"), count(3, "trial")
        ('1 trial', '3 trials')
    """
    return f"{n} {word}{'' if n == 1 else 's'}"


# -- parsing ---------------------------------------------------------------------------------


class Parser(argparse.ArgumentParser):
    """Errors end with a hint to ``--help``; every option's help shows its default."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


class HelpFormatter(argparse.HelpFormatter):
    """Appends ``(default: X)`` to an option's help unless the help already says it."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        takes_value = action.nargs != 0 and not isinstance(action, argparse.BooleanOptionalAction)
        if (
            "default" not in text
            and action.option_strings
            and action.default not in (None, argparse.SUPPRESS)
            and (takes_value or isinstance(action, argparse.BooleanOptionalAction))
        ):
            text += " (default: %(default)s)"
        return text


def number(
    *,
    integer: bool = False,
    minimum: float | None = None,
    above: float | None = None,
    maximum: float | None = None,
) -> Callable[[str], Any]:
    """An argparse ``type``: a finite int or float, at least ``minimum`` or above ``above``,
    at most ``maximum``.

    Example:
        >>> number(above=0)("2.5"), number(integer=True, minimum=1)("3")
        (2.5, 3)
        >>> number(integer=True, minimum=1, maximum=4096)("5000")
        Traceback (most recent call last):
        ...
        argparse.ArgumentTypeError: must be an integer in [1, 4096], got '5000'
    """
    kind = "an integer" if integer else "a number"
    if minimum is not None and maximum is not None:
        bound = f" in [{minimum:g}, {maximum:g}]"
    else:
        bound = "" if minimum is None else f" >= {minimum:g}"
        bound += "" if above is None else f" > {above:g}"
        bound += "" if maximum is None else f" <= {maximum:g}"

    def parse(text: str) -> Any:
        try:
            value = int(text) if integer else float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {kind}{bound}, got {text!r}") from None
        if (
            not math.isfinite(value)
            or (minimum is not None and value < minimum)
            or (above is not None and value <= above)
            or (maximum is not None and value > maximum)
        ):
            raise argparse.ArgumentTypeError(f"must be {kind}{bound}, got {text!r}")
        return value

    return parse


def storage_arguments(parser: argparse.ArgumentParser, *, study: bool = True) -> None:
    """``--storage`` and (unless ``study=False``) ``--study-name`` of the reading commands."""
    parser.add_argument("--storage", metavar="URL", default=DEFAULT_STORAGE, help="storage URL")
    if study:
        parser.add_argument(
            "--study-name", metavar="NAME", help="study to read (default: the only one there)"
        )


# -- storage ---------------------------------------------------------------------------------


def local_file(url: str) -> Path | None:
    """The file behind a ``sqlite:///`` or ``journal:///`` URL, else None.

    Example:
        >>> str(local_file("sqlite:///runs/a.db")), str(local_file("journal:///tmp/a.log"))
        ('runs/a.db', '/tmp/a.log')
        >>> str(local_file("sqlite:///file:/tmp/a.db?mode=ro&uri=true"))
        '/tmp/a.db'
        >>> local_file("postgresql://h/db") is None
        True
    """
    scheme, _, rest = url.partition(":")
    scheme = scheme.lower()
    if scheme.split("+")[0] == "sqlite":  # SQLAlchemy: sqlite:///relative, sqlite:////absolute
        path, _, query = rest.removeprefix("///").partition("?")
        if path.startswith("file:") and "uri=true" in query.lower().split("&"):
            path = unquote(urlparse(path).path)  # sqlite:///file:runs/a.db?mode=ro&uri=true
    elif scheme == "journal":  # as make_storage reads it
        path = rest.removeprefix("//")
    else:
        return None
    return Path(path) if path and path != ":memory:" else None


def check_writable(url: str) -> None:
    """For ``run``: the database file behind ``url`` (if any) is one this user may write.

    (SQLite also writes a journal beside the file, so its folder must be writable too.) A
    storage that refuses writes for another reason is caught by :func:`cannot_write`.
    """
    path = local_file(url)
    if path is None:
        return
    folder = path.parent if str(path.parent) else Path(".")
    why = None
    if path.exists() and not os.access(path, os.W_OK):
        why = "the file is read-only for this user"
    elif folder.is_dir() and not os.access(folder, os.W_OK | os.X_OK):
        why = f"its folder {folder} is read-only for this user"
    if why is not None:
        raise CLIError(f"cannot write to {path} (from --storage {mask_url(url)}): {why}")


def cannot_write(url: str, error: BaseException) -> CLIError:
    """The one-line error for a storage that refused to store the study."""
    path = local_file(url)
    where = f"{path} (from --storage {mask_url(url)})" if path else f"storage {mask_url(url)}"
    return CLIError(f"cannot write to {where}: {one_line(error, url=url)}")


def open_storage(url: str, *, existing: bool = False, **kwargs: Any) -> Any:
    """The storage behind ``url``, touched once so a wrong host or password fails here.

    Args:
        url: Storage URL.
        existing: For reading commands: a missing database file is an error, not created.
        kwargs: Passed to :func:`optuna_ga.storages.make_storage`.
    """
    path = local_file(url)
    if existing and path is not None and not path.exists():
        raise CLIError(
            f"no database file {path} (from --storage {mask_url(url)}): "
            f"`optuna-ga run --storage {mask_url(url)}` creates it"
        )
    if existing:
        _check_optuna_tables(url)
    try:
        storage = make_storage(url, **kwargs)
        optuna.get_all_study_names(storage)  # a first read: the connection works
        return storage
    except ValueError:
        raise
    except Exception as error:
        raise CLIError(
            f"cannot open storage {mask_url(url)}: {one_line(error, url=url)}"
        ) from error


def _scheme(url: str) -> str:
    """A storage URL's scheme without its driver: ``sqlite`` of ``sqlite+pysqlite:///a.db``."""
    return url.partition(":")[0].lower().split("+")[0]


def connect_existing(path: Path) -> sqlite3.Connection:
    """A connection to an existing SQLite file; never creates one (``sqlite3.OperationalError``
    if it is missing).

    Read-write where the file allows it, not read-only: a process that died in the middle of a
    write (``kill -9``, out of memory) leaves a journal that the next connection must roll back
    before it reads, and a read-only connection cannot ("attempt to write a readonly
    database"), although Optuna itself opens the study and recovers it. Nothing else is written.
    """
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=rw", uri=True)


def table_names(url: str) -> list[str] | None:
    """The tables of an RDB storage, read without writing; None for other storages."""
    scheme = _scheme(url)
    if scheme not in RDB_SCHEMES:
        return None
    path = local_file(url)
    if path is not None:  # sqlite3 itself: SQLAlchemy would create a missing file
        try:
            with contextlib.closing(connect_existing(path)) as connection:
                rows = connection.execute("select name from sqlite_master where type = 'table'")
                return [row[0] for row in rows]
        except sqlite3.DatabaseError as error:  # "file is not a database"
            raise CLIError(
                f"storage {mask_url(url)} is not an Optuna database: {one_line(error)}"
            ) from error
    if scheme == "sqlite":  # in memory: nothing to spoil
        return None
    import sqlalchemy

    try:
        engine = sqlalchemy.create_engine(rdb_url(url))
        try:
            return list(sqlalchemy.inspect(engine).get_table_names())
        finally:
            engine.dispose()
    except Exception as error:
        raise CLIError(
            f"cannot open storage {mask_url(url)}: {one_line(error, url=url)}"
        ) from error


def check_intact(url: str) -> None:
    """For ``run``: refuse a SQLite file that fails SQLite's quick check, before anything is
    written to it (a write to a corrupt file may spoil what is still readable)."""
    path = local_file(url)
    if _scheme(url) != "sqlite" or path is None:
        return
    try:
        with contextlib.closing(connect_existing(path)) as connection:
            found = str(connection.execute("pragma quick_check(1)").fetchone()[0])
    except sqlite3.DatabaseError as error:
        found = one_line(error)
    if found != "ok":
        found = one_line(found.removeprefix("*** in database main ***"))
        raise CLIError(
            f"storage {mask_url(url)} is unreadable: database disk image is malformed "
            f"({found}); nothing was written to it"
        )


def _check_optuna_tables(url: str) -> None:
    """A reading command on a database without Optuna's tables stops before Optuna creates
    them there."""
    present = table_names(url)
    if present is None:
        return
    where = mask_url(url)
    if not present:
        raise CLIError(
            f"storage {where} holds no study yet: `optuna-ga run --storage {where}` makes one"
        )
    from optuna_ga._store import rdb_tables

    expected = rdb_tables()
    missing = sorted(expected - set(present))
    if len(missing) == len(expected):
        raise CLIError(
            f"storage {where} is not an Optuna database: none of Optuna's tables are there "
            f"(it has {', '.join(sorted(present)[:5])}{', ...' if len(present) > 5 else ''})"
        )
    if missing:
        raise CLIError(
            f"storage {where} lacks Optuna {optuna.__version__}'s tables {', '.join(missing)}: "
            "a study of an older Optuna? `optuna storage upgrade --storage URL` upgrades it"
        )


def load_study(url: str, study_name: str | None) -> optuna.Study:
    """The named study, or the only one in the storage; the file must exist."""
    storage = open_storage(url, existing=True, heartbeat_interval=None)
    names = optuna.get_all_study_names(storage)
    where = mask_url(url)
    if not names:
        raise CLIError(
            f"storage {where} holds no study yet: `optuna-ga run --storage {where}` makes one"
        )
    if study_name is None:
        if len(names) > 1:
            raise CLIError(
                f"storage {where} holds {len(names)} studies ({', '.join(names)}): "
                "name one with --study-name"
            )
        study_name = names[0]
    if study_name not in names:
        raise CLIError(
            f"no study named {study_name!r} in {where} (studies there: {', '.join(names)})"
        )
    return optuna.load_study(study_name=study_name, storage=storage)


# Where Optuna's RDB storage keeps JSON: table, column, owner ("trial" or "study") and what.
_JSON_COLUMNS = (
    ("trial_user_attributes", "key", "value_json", "trial", "user attr"),
    ("trial_system_attributes", "key", "value_json", "trial", "system attr"),
    ("trial_params", "param_name", "distribution_json", "trial", "distribution of parameter"),
    ("study_user_attributes", "key", "value_json", "study", "user attr"),
    ("study_system_attributes", "key", "value_json", "study", "system attr"),
)


def corrupt_json(url: str) -> str | None:
    """Which stored value of the RDB storage ``url`` is not JSON, in words; None if none is
    found (or the storage is not an RDB)."""
    if _scheme(url) not in RDB_SCHEMES:
        return None
    import sqlalchemy

    engine = sqlalchemy.create_engine(rdb_url(url))
    try:
        with engine.connect() as connection:
            rows = connection.execute(sqlalchemy.text("select study_id, study_name from studies"))
            names: dict[Any, Any] = {row[0]: row[1] for row in rows}
            for table, name, column, owner, what in _JSON_COLUMNS:
                if owner == "trial":
                    query = (
                        f"select t.number, t.study_id, a.{name}, a.{column} from {table} a "
                        "join trials t on t.trial_id = a.trial_id order by t.study_id, t.number"
                    )
                else:
                    query = f"select null, study_id, {name}, {column} from {table} order by 2"
                for number, study_id, key, text in connection.execute(sqlalchemy.text(query)):
                    try:
                        json.loads(text)
                    except (TypeError, ValueError) as error:
                        study = f"study {names.get(study_id, study_id)!r}"
                        where = study if number is None else f"trial #{number} of {study}"
                        shown = text if len(text or "") <= 40 else text[:37] + "..."
                        return (
                            f"{where} has a corrupt {what} {key!r}: {shown!r} is not JSON "
                            f"({one_line(error)})"
                        )
    except sqlalchemy.exc.SQLAlchemyError:
        return None
    finally:
        engine.dispose()
    return None


def error_text(error: BaseException, url: str) -> str:
    """The one line for an error of a command on the storage ``url``.

    A value in the storage that is not JSON makes Optuna raise a bare ``JSONDecodeError``
    (``Expecting ',' delimiter``): the line names the storage, the trial or study and the
    attribute.
    """
    if isinstance(error, json.JSONDecodeError):
        found = corrupt_json(url)
        what = found or f"a stored value is not JSON ({one_line(error)})"
        return f"storage {mask_url(url)}: {what}"
    return one_line(error, url=url)


def value_name(study: optuna.Study) -> str:
    """What the study's values are: validation accuracy or loss for ``optuna-ga run`` studies."""
    if CONFIG_ATTR not in study.user_attrs:
        return "value"
    maximize = study.direction == optuna.study.StudyDirection.MAXIMIZE
    return "validation accuracy" if maximize else "validation loss"


def objective_names(study: optuna.Study) -> list[str]:
    """The names of a multi-objective study's values: its recorded ``--objectives``, if any,
    else ``values[i]``."""
    n = len(study.directions)
    recorded = study.user_attrs.get(CONFIG_ATTR)
    names = recorded.get("objectives") if isinstance(recorded, dict) else None
    if isinstance(names, list) and len(names) == n and all(isinstance(x, str) for x in names):
        return names
    return [f"values[{i}]" for i in range(n)]


def recorded_config(study: optuna.Study) -> dict[str, Any]:
    """How ``optuna-ga run`` configured the study (empty for other studies).

    Raises:
        CLIError: If the study's ``optuna_ga_config`` user attr is not a JSON object.
    """
    recorded = study.user_attrs.get(CONFIG_ATTR, {})
    if not isinstance(recorded, dict):
        raise CLIError(
            f"study {study.study_name!r} has a user attr {CONFIG_ATTR} that is not a JSON "
            f"object: {recorded!r}"
        )
    return dict(recorded)


def _is_int(value: Any, low: int, high: float = math.inf) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def recorded_setting(
    study: optuna.Study, name: str, *, flag: str | None = None, population_size: Any = None
) -> Any:
    """The setting ``name`` that ``optuna-ga run`` recorded for the study, checked (None when
    not recorded).

    Args:
        study: The study.
        name: ``population_size``, ``n_elites``, ``dataset`` or ``data_dir``.
        flag: The flag that overrides it, named in the error.
        population_size: For ``n_elites``: the population it is checked against.

    Raises:
        CLIError: If the recorded value is out of its range; the message says it comes from
            the study's ``optuna_ga_config`` user attr.
    """
    value = recorded_config(study).get(name)
    if value is None:
        return None
    if name == "population_size":
        ok, wanted = _is_int(value, 2), "an int >= 2"
    elif name == "n_elites":
        high = population_size - 1 if _is_int(population_size, 2) else math.inf
        ok = _is_int(value, 0, high)
        wanted = "an int >= 0" if high == math.inf else f"an int in [0, {high}]"
    elif name == "dataset":
        ok, wanted = isinstance(value, str) and bool(value), "a dataset name"
    else:
        ok, wanted = isinstance(value, str) and bool(value), "a folder"
    if not ok:
        fix = "" if flag is None else f": pass {flag} to override it"
        raise CLIError(
            f"study {study.study_name!r} records {name}={value!r} in its user attr "
            f"{CONFIG_ATTR}, not {wanted}{fix}"
        )
    return value


_TORCH_EXTRA = {"torch": "torch", "sklearn": "scikit-learn"}  # module: distribution


def torch_missing() -> CLIError | None:
    """A one-line error if the ``torch`` extra is not installed, else None."""
    import importlib.util

    def absent(module: str) -> bool:
        try:
            return importlib.util.find_spec(module) is None
        except (ImportError, ValueError):  # ValueError: import blocked (None in sys.modules)
            return True

    missing = [name for module, name in _TORCH_EXTRA.items() if absent(module)]
    if not missing:
        return None
    verb = "is" if len(missing) == 1 else "are"
    return CLIError(  # as `import optuna_ga.torch` says it
        f"optuna_ga.torch needs {' and '.join(missing)}, which {verb} not installed. "
        'Install the extra: pip install "optuna-ga[torch]"'
    )
