"""Shared fixtures. The sandbox fixtures come from the opt-in plugin outagesync.sandbox.pytest_plugin."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest_plugins = ["outagesync.sandbox.pytest_plugin"]


@pytest.fixture(scope="session", autouse=True)
def _private_data_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The user data directory (default database, spool, lock files) of every test and of the processes
    they start: a private one, never the real user's."""
    home = tmp_path_factory.mktemp("xdg-data")
    before = os.environ.get("XDG_DATA_HOME")
    os.environ["XDG_DATA_HOME"] = str(home)
    yield home
    if before is None:
        del os.environ["XDG_DATA_HOME"]
    else:
        os.environ["XDG_DATA_HOME"] = before


# ---------------------------------------------------------------------------------------------------------
# Databases (storage). Every test gets its own: a SQLite file in tmp_path, or a PostgreSQL database created
# for it on the server below and dropped afterwards. PostgreSQL tests carry the `postgres` marker: when the
# server does not answer they are skipped with the reason, and fail instead when CI=true.
# ---------------------------------------------------------------------------------------------------------

POSTGRES_URL = os.environ.get(
    "OUTAGESYNC_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@pytest.fixture(scope="session")
def postgres_server_url() -> str:
    """The test server's URL (a database we only connect to) if it answers; skip, or fail under CI=true."""
    import sqlalchemy as sa

    engine = sa.create_engine(POSTGRES_URL, connect_args={"connect_timeout": 5}, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError as exc:
        where = sa.make_url(POSTGRES_URL).render_as_string(hide_password=True)
        cause = " ".join(str(getattr(exc, "orig", None) or exc).split())
        reason = (
            f"PostgreSQL at {where} is unreachable ({cause}): start it, "
            "or point OUTAGESYNC_TEST_POSTGRES_URL at one"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason} (CI=true: PostgreSQL tests must run)")
        pytest.skip(reason)
    finally:
        engine.dispose()
    return POSTGRES_URL


@contextlib.contextmanager
def fresh_postgres_database(server_url: str, prefix: str = "outagesync_test") -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database on the server, dropped on exit."""
    import sqlalchemy as sa

    name = f"{prefix}_{uuid.uuid4().hex[:16]}"
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield sa.make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture
def postgres_url(postgres_server_url: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for this test (dropped afterwards)."""
    with fresh_postgres_database(postgres_server_url) as url:
        yield url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A SQLite file (not created yet) in a directory that does not exist yet either."""
    return f"sqlite:///{tmp_path / 'data' / 'outagesync.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    """The same test on a fresh SQLite file and on a fresh PostgreSQL database."""
    url: str = request.getfixturevalue(f"{request.param}_url")
    return url
