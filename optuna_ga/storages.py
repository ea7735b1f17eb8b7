"""Storage URLs for studies shared by many workers: RDB (SQLite, PostgreSQL) and Optuna journals.

``make_storage`` turns one URL into a ready storage with crash recovery:

* ``sqlite:///path.db``: one machine; a 60 s busy timeout so that a few local workers wait for
  the file lock instead of failing. SQLite serialises writers: past ~4 busy workers use
  PostgreSQL;
* ``postgresql://user:password@host:5432/db`` (or ``mysql://...``): many machines;
* ``journal:///path/to/file.log``: Optuna's JournalStorage on a file (one machine or a shared
  file system that supports file locks);
* ``redis://host:6379/0``: Optuna's JournalStorage on Redis (needs the ``redis`` package).

On RDB storages a heartbeat is recorded every ``heartbeat_interval`` seconds. A trial whose
worker died (``kill -9``, a lost machine) misses its heartbeats; after ``grace_period`` seconds the
next worker marks it FAIL and, through Optuna's ``RetryHeartbeatStaleTrialCallback``, enqueues it
again with the same parameters (at most ``max_retry`` times). Journal storages have no heartbeat
in Optuna: a dead worker's trial stays RUNNING there (it holds its parameter set; the evolution
goes on without it).
"""

from __future__ import annotations

import re
import warnings
from typing import Any
from urllib.parse import unquote

import optuna
from optuna.storages import BaseStorage

__all__ = ["make_storage", "mask_password", "mask_url"]

# user:password@ of a URL in a text: the password runs to the URL's last "@" (greedy), so a
# password with "@" or quotes in it is masked whole. In a text a URL ends at a space; a URL
# known as such (``mask_password(text, url=...)``, ``mask_url``) may hold spaces too.
_PASSWORD = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^:/@\s'\"]*:)\S*(?=@)", re.IGNORECASE)
# password=... in a URL's query (libpq: postgresql://host/db?password=...).
_QUERY_PASSWORD = re.compile(r"(?P<head>[?&](?:password|passwd|pwd)=)[^&#\s'\"]*", re.IGNORECASE)
#: URL schemes (before any "+driver") of SQLAlchemy databases, for Optuna's RDBStorage.
RDB_SCHEMES = ("sqlite", "postgresql", "postgres", "mysql", "mariadb")
_SCHEME = re.compile(r"[a-z][a-z0-9+.-]*://", re.IGNORECASE)
#: Shorter passwords are masked in URLs only, not wherever they occur in a message.
_MIN_SCRUBBED = 4


def _userinfo(url: str) -> tuple[str, str, str, str] | None:
    """``(scheme://, user, password, @rest)`` of a URL with a password, else None.

    The password runs from the first ":" after the user to the URL's last "@", so that it may
    hold any character, "@", ":", "/", quotes and spaces included.
    """
    match = _SCHEME.match(url)
    if match is None:
        return None
    rest = url[match.end() :]
    at = rest.rfind("@")
    user, colon, password = rest[: max(at, 0)].partition(":")
    if at < 0 or not colon or "/" in user:
        return None
    return match.group(), user, password, rest[at:]


def mask_url(url: str) -> str:
    """The storage URL ``url`` with its password replaced by ``***``, whatever it holds.

    Example:
        >>> mask_url("postgresql://ga:s3c'r@t /x@db:5432/studies")
        'postgresql://ga:***@db:5432/studies'
        >>> mask_url("POSTGRESQL://ga@db/studies?password=s3cret")
        'POSTGRESQL://ga@db/studies?password=***'
        >>> mask_url("sqlite:///optuna_ga.db")
        'sqlite:///optuna_ga.db'
    """
    parts = _userinfo(url)
    if parts is not None:
        head, user, _, rest = parts
        url = f"{head}{user}:***{rest}"
    return _QUERY_PASSWORD.sub(lambda m: m.group("head") + "***", url)


def mask_password(text: str, *, url: str | None = None) -> str:
    """Replace the password of every URL in ``text`` by ``***``.

    Args:
        text: A message.
        url: The storage URL the message may be about: it is masked wherever it occurs, and
            so is its password on its own (one of at least 4 characters), whatever it holds.

    Example:
        >>> mask_password("postgresql://ga:s3cret@db:5432/studies")
        'postgresql://ga:***@db:5432/studies'
        >>> mask_password("PostgreSQL://ga:s3cret@pw@db/studies")  # "@" in the password
        'PostgreSQL://ga:***@db/studies'
        >>> mask_password("postgresql://ga@db/studies?sslmode=require&password=s3cret")
        'postgresql://ga@db/studies?sslmode=require&password=***'
        >>> mask_password("sqlite:///optuna_ga.db")
        'sqlite:///optuna_ga.db'
        >>> url = "postgresql://ga:s3c ret@db/studies"
        >>> mask_password(f"cannot open {url}: wrong password 's3c ret'", url=url)
        "cannot open postgresql://ga:***@db/studies: wrong password '***'"
        >>> url = "postgresql://ga:studies@db/studies"  # the URL itself keeps its database
        >>> mask_password(f"no {url}", url=url)
        'no postgresql://ga:***@db/studies'
    """
    if url is not None:
        masked = mask_url(url)
        pieces = text.split(url)  # the URL is shown masked; its password goes elsewhere
        parts = _userinfo(url)
        if parts is not None:
            password = parts[2]
            for secret in sorted({password, unquote(password)}, key=len, reverse=True):
                if len(secret) >= _MIN_SCRUBBED:
                    pieces = [piece.replace(secret, "***") for piece in pieces]
        return masked.join(mask_password(piece) for piece in pieces)
    text = _PASSWORD.sub(lambda m: m.group("head") + "***", text)
    return _QUERY_PASSWORD.sub(lambda m: m.group("head") + "***", text)


def rdb_url(url: str) -> str:
    """The URL as SQLAlchemy reads it: scheme in lower case, "@" of the password escaped.

    SQLAlchemy takes a password to the first "@", where :func:`mask_url` (and a user) takes
    it to the last one (unless a "?" comes first: then the last "@" is in the query).
    ``postgres://`` is SQLAlchemy's ``postgresql://``.

    Example:
        >>> rdb_url("PostgreSQL://ga:p@ss@db/studies")
        'postgresql://ga:p%40ss@db/studies'
        >>> rdb_url("postgres://ga@db/studies?application_name=a@b")
        'postgresql://ga@db/studies?application_name=a@b'
    """
    scheme, sep, rest = url.partition("://")
    scheme = scheme.lower()
    if scheme.split("+")[0] == "postgres":
        scheme = "postgresql" + scheme[len("postgres") :]
    url = scheme + sep + rest
    parts = _userinfo(url)
    if parts is not None and "@" in parts[2] and "?" not in parts[2]:
        head, user, password, rest = parts
        url = f"{head}{user}:{password.replace('@', '%40')}{rest}"
    return url


#: Upper ends of :func:`make_storage`'s ranges: a day between heartbeats, ten days of grace.
MAX_HEARTBEAT_INTERVAL = 86_400
MAX_GRACE_PERIOD = 864_000
MAX_RETRY = 100


def _check_int(name: str, value: object, low: int, high: int, *, shown: str | None = None) -> None:
    """``value`` is None or an int (not a bool) in ``[low, high]``, else a ValueError.

    ``shown``: the range as the message shows it (default ``[low, high]``).

    Example:
        >>> _check_int("max_retry", True, 0, 100)
        Traceback (most recent call last):
        ...
        ValueError: max_retry must be None or an int in [0, 100], got True.
    """
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        shown = shown or f"[{low}, {high}]"
        raise ValueError(f"{name} must be None or an int in {shown}, got {value!r}.")


def make_storage(
    url: str,
    *,
    heartbeat_interval: int | None = 60,
    grace_period: int | None = None,
    max_retry: int | None = 3,
) -> BaseStorage:
    """Build the storage behind ``url`` (see the module docstring for the schemes).

    Args:
        url: Storage URL.
        heartbeat_interval: Seconds between heartbeats of a running trial on RDB storages,
            an int in [1, 86400]; ``None`` disables crash detection.
        grace_period: Seconds without a heartbeat after which a trial counts as dead, an int
            in [heartbeat_interval + 1, 864000]; default ``2 * heartbeat_interval``. Must be
            ``None`` without a heartbeat.
        max_retry: How often a dead worker's trial is retried, an int in [0, 100]
            (``None``: no limit).

    Returns:
        A storage for ``optuna.create_study`` / ``optuna.load_study``.

    Raises:
        ValueError: If the URL is not a str or has an unknown scheme, or another argument is
            out of its range (the message names it and the range).

    Example:
        >>> storage = make_storage("sqlite:///:memory:", heartbeat_interval=None)
        >>> type(storage).__name__
        'RDBStorage'
    """
    if not isinstance(url, str):
        raise ValueError(f"url must be a storage URL (a str), got {url!r}.")
    _check_int("heartbeat_interval", heartbeat_interval, 1, MAX_HEARTBEAT_INTERVAL)
    if heartbeat_interval is None:
        if grace_period is not None:
            raise ValueError(
                f"grace_period must be None when heartbeat_interval is None (no heartbeat, "
                f"nothing to wait for), got {grace_period!r}."
            )
    else:
        _check_int(
            "grace_period",
            grace_period,
            heartbeat_interval + 1,
            MAX_GRACE_PERIOD,
            shown=(
                f"[heartbeat_interval + 1, {MAX_GRACE_PERIOD}] = "
                f"[{heartbeat_interval + 1}, {MAX_GRACE_PERIOD}]"
            ),
        )
    _check_int("max_retry", max_retry, 0, MAX_RETRY)
    scheme = url.split(":", 1)[0].lower() if ":" in url else ""
    if scheme == "journal":
        from optuna.storages.journal import JournalFileBackend

        path = url.split(":", 1)[1].removeprefix("//")
        return optuna.storages.JournalStorage(JournalFileBackend(path))
    if scheme in ("redis", "rediss"):
        from optuna.storages.journal import JournalRedisBackend

        with warnings.catch_warnings():  # "JournalRedisBackend is experimental" since 3.1
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return optuna.storages.JournalStorage(JournalRedisBackend(url))
    if scheme.split("+")[0] not in RDB_SCHEMES:
        raise ValueError(
            f"Unknown storage URL {mask_url(url)!r}: use sqlite:///FILE.db, "
            "postgresql://HOST:PORT/DB (with USER:PASSWORD@ before HOST if needed), "
            "mysql://..., journal:///FILE.log or redis://HOST:PORT/DB."
        )
    url = rdb_url(url)
    engine_kwargs: dict[str, Any] = {}
    if scheme.startswith("sqlite"):
        engine_kwargs["connect_args"] = {"timeout": 60}
    else:
        engine_kwargs["pool_pre_ping"] = True
    heartbeat: dict[str, Any] = {}
    with warnings.catch_warnings():  # heartbeats are "experimental" in Optuna since 2.8
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        if heartbeat_interval is not None:
            heartbeat = {
                "heartbeat_interval": heartbeat_interval,
                "grace_period": grace_period or 2 * heartbeat_interval,
                "heartbeat_stale_trial_callback": (
                    optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=max_retry)
                ),
            }
        return optuna.storages.RDBStorage(url, engine_kwargs=engine_kwargs, **heartbeat)
