"""Which schema revision a database is at, in one query and without Alembic.

Every command that touches the database checks its revision first; importing Alembic (and reading its
scripts) for that cost more than the rest of a small sync. Alembic is loaded only when there is
something to migrate (migrate.py).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import exc

from outagesync.adapters.storage.engine import is_missing_schema
from outagesync.adapters.storage.tables import VERSION_TABLE

HEAD_REVISION = "0004"  # the newest migration shipped (a test checks it is Alembic's head)
_SELECT = sa.text(f"SELECT version_num FROM {VERSION_TABLE}")  # noqa: S608 (a constant name)


def read_revision(connection: sa.Connection) -> str | None:
    """The database's revision, None if outagesync never migrated it (no version table, or empty)."""
    try:
        revisions = connection.execute(_SELECT).scalars().all()
    except (exc.OperationalError, exc.ProgrammingError) as error:
        if not is_missing_schema(error):
            raise
        connection.rollback()  # PostgreSQL: the failed statement aborted the transaction
        return None
    return revisions[0] if len(revisions) == 1 else None
