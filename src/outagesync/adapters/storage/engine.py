"""Database URLs and engines (SQLite tuned for concurrent writers, PostgreSQL), and error translation.

Every third-party database error leaves this package as StorageError; no message shows a password.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import sqlalchemy as sa
from sqlalchemy import event, exc
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.pool import StaticPool

from outagesync.errors import ConfigError, OutageSyncError, StorageError

BUSY_TIMEOUT_S = 30  # how long a SQLite writer waits for another one before "database is locked"
CONNECT_TIMEOUT_S = 10  # PostgreSQL: give up on an unreachable server after this long
WRITE_OPTION = "outagesync_write"  # execution option: this transaction will write (SQLite: BEGIN IMMEDIATE)
_EXAMPLES = "sqlite:////path/to/outagesync.db or postgresql+psycopg://user:password@host:5432/dbname"
# query parameters of a database URL that hold credentials (compared lower-case): never shown
SECRET_QUERY_PARAMETERS = frozenset({"password", "pass", "passwd", "pwd", "sslpassword", "token", "key"})
# where a driver's message goes on with the statement: psycopg's "LINE 1: ...", SQLAlchemy's "[SQL: ...]"
_SQL_TAIL = re.compile(r"\n\s*LINE \d+:|\s*\[SQL: ")
_UNDEFINED_TABLE = "42P01"  # PostgreSQL's SQLSTATE for "relation ... does not exist"


def default_database_path() -> Path:
    """The SQLite file used when OUTAGESYNC_DATABASE_URL is not set: in the user's data directory."""
    from platformdirs import user_data_path

    return user_data_path("outagesync", appauthor=False) / "outagesync.db"


def parse_database_url(url: str | None) -> URL:
    """The URL to use (None: the default SQLite file); ConfigError if it is not a SQLite or PostgreSQL URL."""
    if url is None or not url.strip():
        return URL.create("sqlite+pysqlite", database=str(default_database_path()))
    try:
        parsed = make_url(url.strip())
    except exc.ArgumentError:
        raise ConfigError(
            f"OUTAGESYNC_DATABASE_URL is not a database URL; use for example {_EXAMPLES}"
        ) from None
    if parsed.drivername in ("postgresql", "postgres"):  # psycopg 3 is the driver we ship
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.drivername not in ("sqlite", "sqlite+pysqlite", "postgresql+psycopg"):
        raise ConfigError(
            f"unsupported database {mask(parsed)}: outagesync supports SQLite and PostgreSQL (psycopg 3); "
            f"use for example {_EXAMPLES}"
        )
    return parsed


def mask(url: URL) -> str:
    """The URL as text, with every credential hidden: the password and secret query parameters."""
    shown = url.set(query={}).render_as_string(hide_password=True)
    pairs = [
        f"{quote_plus(name)}={'***' if _is_secret(name) else quote_plus(value)}"
        for name in sorted(url.query)
        for value in _values(url.query[name])
    ]
    return f"{shown}?{'&'.join(pairs)}" if pairs else shown


def _is_secret(name: str) -> bool:
    """Whether a URL query parameter holds a credential (libpq's `password`, and the usual aliases)."""
    return name.lower() in SECRET_QUERY_PARAMETERS


def _values(value: str | Sequence[str]) -> Sequence[str]:
    return (value,) if isinstance(value, str) else value


def _secrets(url: URL) -> list[str]:
    """Every credential the URL holds, longest first (so that no part of one is left behind)."""
    found = [str(url.password)] if url.password else []
    for name, value in url.query.items():
        if _is_secret(name):
            found.extend(secret for secret in _values(value) if secret)
    return sorted(found, key=len, reverse=True)


def is_sqlite(url: URL) -> bool:
    return url.get_backend_name() == "sqlite"


def sqlite_path(url: URL) -> Path | None:
    """The database file of a SQLite URL, None for an in-memory database."""
    if url.database in (None, "", ":memory:") or str(url.database).startswith("file:"):
        return None
    return Path(str(url.database))


def make_engine(url: URL, *, pooled: bool = True) -> Engine:
    """An engine for `url`; connects lazily, so this never fails for an unreachable database.

    `pooled=False` (PostgreSQL): every connection is opened for its user and closed after it.
    """
    if is_sqlite(url):
        return _sqlite_engine(url)
    pool: dict[str, Any] = {"pool_pre_ping": True} if pooled else {"poolclass": sa.pool.NullPool}
    return sa.create_engine(
        url,
        **pool,
        connect_args={"connect_timeout": CONNECT_TIMEOUT_S, "application_name": "outagesync"},
    )


def _sqlite_engine(url: URL) -> Engine:
    kwargs: dict[str, Any] = {"connect_args": {"timeout": BUSY_TIMEOUT_S, "check_same_thread": False}}
    if sqlite_path(url) is None:
        kwargs["poolclass"] = StaticPool  # one in-memory database shared by every use of the engine
    engine = sa.create_engine(url, **kwargs)

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: object) -> None:
        # Let SQLAlchemy (not the sqlite3 module) emit BEGIN, so writers can take the lock up front.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_S * 1000}")
        cursor.execute("PRAGMA journal_mode = WAL")  # readers never block the writer, nor it them
        cursor.execute("PRAGMA synchronous = NORMAL")  # safe with WAL, and much faster
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: sa.Connection) -> None:
        # A write transaction takes the write lock at BEGIN (waiting up to the busy timeout): a deferred
        # transaction that reads first could fail at once with "database is locked" when it writes.
        immediate = connection.get_execution_options().get(WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


@contextmanager
def storage_errors(url: URL) -> Iterator[None]:
    """Translate database, migration and file errors raised inside into StorageError naming the database."""
    try:
        yield
    except OutageSyncError:
        raise
    except (exc.OperationalError, exc.InterfaceError, exc.TimeoutError, exc.DisconnectionError) as error:
        raise StorageError(
            f"cannot use the report database {mask(url)}: {describe(error, url)} "
            "(check that it is running and that OUTAGESYNC_DATABASE_URL is right)"
        ) from error
    except (exc.SQLAlchemyError, OSError) as error:
        raise StorageError(f"the report database {mask(url)} failed: {describe(error, url)}") from error
    except Exception as error:
        if not _is_migration_error(error):
            raise
        raise StorageError(f"the report database {mask(url)} failed: {describe(error, url)}") from error


def _is_migration_error(error: Exception) -> bool:
    """An Alembic error (Alembic is imported only to migrate, so it is looked up, not imported)."""
    util = sys.modules.get("alembic.util")
    return util is not None and isinstance(error, util.CommandError)


def describe(error: BaseException, url: URL) -> str:
    """The driver's own message on one line, without the SQL, the parameters or any credential."""
    cause = getattr(error, "orig", None) or error
    # psycopg: the server's primary message; its full text goes on with "LINE 1: <the statement>"
    primary = getattr(getattr(cause, "diag", None), "message_primary", None)
    text = primary or _SQL_TAIL.split(str(cause), maxsplit=1)[0]
    text = " ".join(text.split()) or type(cause).__name__
    for secret in _secrets(url):
        text = text.replace(secret, "***")
    return text[:500]


def is_missing_schema(error: BaseException) -> bool:
    """Whether a database error says a table is missing (the schema was dropped under us)."""
    cause = getattr(error, "orig", None) or error
    if getattr(cause, "sqlstate", None) == _UNDEFINED_TABLE:  # PostgreSQL
        return True
    return isinstance(error, exc.OperationalError) and str(cause).startswith("no such table")  # SQLite
