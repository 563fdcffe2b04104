"""Run reports and managed sites in SQLite (default) or PostgreSQL, with Alembic migrations shipped inside.

Imported lazily (by bootstrap) so that `outagesync --help` never loads SQLAlchemy.
"""

from outagesync.adapters.storage.store import SqlStore

__all__ = ["SqlStore"]
