"""From the report database's URL to a libpq connection string, and psycopg errors to StorageError."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import psycopg
from sqlalchemy.engine import make_url

from outagesync.errors import ConfigError, StorageError

NEEDS_POSTGRESQL = (
    "the job queue needs PostgreSQL (OUTAGESYNC_DATABASE_URL is {what}): set "
    "OUTAGESYNC_DATABASE_URL=postgresql+psycopg://user:password@host:5432/db in the environment or .env, "
    "the database every worker, `enqueue` and the API share; without it, run `outagesync sync --all` "
    "from cron or a systemd timer (docs/scale-out.md)"
)


def queue_conninfo(database_url: str | None) -> str:
    """The libpq URL of the PostgreSQL database `database_url` names; ConfigError for anything else."""
    if database_url is None:
        raise ConfigError(NEEDS_POSTGRESQL.format(what="unset: a SQLite file"))
    try:
        url = make_url(database_url)
    except Exception:  # sqlalchemy raises ArgumentError, ValueError...: any way of not being a URL
        raise ConfigError(NEEDS_POSTGRESQL.format(what="not a database URL")) from None
    if url.get_backend_name() not in ("postgresql", "postgres"):  # postgres:// is taken too (storage.md)
        raise ConfigError(NEEDS_POSTGRESQL.format(what=f"a {url.get_backend_name()} database"))
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


@asynccontextmanager
async def connect(conninfo: str) -> AsyncIterator[psycopg.AsyncConnection[tuple[object, ...]]]:
    """One connection, in one transaction committed when the block ends; errors become StorageError."""
    try:
        async with await psycopg.AsyncConnection.connect(conninfo, connect_timeout=10) as connection:
            yield connection
    except psycopg.Error as exc:
        raise StorageError(f"the job queue's database failed: {_first_line(exc)}") from exc


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__
