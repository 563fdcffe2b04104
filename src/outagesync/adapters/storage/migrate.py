"""Alembic, driven from code: the migration scripts ship inside the package, no alembic.ini is needed.

Migrating is safe when several processes start at once: PostgreSQL takes an advisory lock, SQLite
the write lock (BEGIN IMMEDIATE), and each then finds the schema already current.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from outagesync.adapters.storage.tables import VERSION_TABLE
from outagesync.errors import StorageError

SCRIPT_LOCATION = Path(__file__).parent / "migrations"
_ADVISORY_LOCK_KEY = 0x6F7574_61676573  # "outages": one lock for every outagesync process


def alembic_config(connection: sa.Connection | None = None) -> Config:
    """An Alembic configuration for our scripts; env.py migrates over `connection`."""
    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    config.attributes["connection"] = connection
    return config


@cache
def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def head_revision() -> str:
    """The newest revision this version of outagesync knows."""
    head = _scripts().get_current_head()
    assert head is not None, "the package ships at least one migration"
    return head


def current_revision(connection: sa.Connection) -> str | None:
    """The database's revision, None if outagesync never migrated it."""
    context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
    return context.get_current_revision()


def check_known(revision: str | None) -> None:
    """StorageError if the database was migrated by a newer outagesync than this one."""
    known = {script.revision for script in _scripts().walk_revisions()}
    if revision is not None and revision not in known:
        raise StorageError(
            f"the report database is at schema revision {revision}, which this version of outagesync "
            f"does not know (newest known: {head_revision()}): upgrade outagesync"
        )


def migrate(writer: sa.Engine, revision: str = "head", *, downgrade: bool = False) -> None:
    """Upgrade (or downgrade) the schema to `revision`, in one transaction, one process at a time.

    `writer` must begin write transactions (on SQLite, with BEGIN IMMEDIATE: see engine.py).
    """
    with writer.connect() as connection, connection.begin():
        if connection.dialect.name == "postgresql":
            connection.execute(sa.select(sa.func.pg_advisory_xact_lock(_ADVISORY_LOCK_KEY)))
        check_known(current_revision(connection))
        config = alembic_config(connection)
        if downgrade:
            command.downgrade(config, revision)
        else:
            command.upgrade(config, revision)
