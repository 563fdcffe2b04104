"""Alembic's entry point: migrates over the connection that outagesync's migrate.py hands over.

Run migrations with `outagesync db upgrade` (or automatically on first use), not with the alembic CLI.
"""

from __future__ import annotations

from alembic import context

from outagesync.adapters.storage.tables import VERSION_TABLE, metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run the migrations with `outagesync db upgrade`, which provides the connection")

context.configure(
    connection=connection,
    target_metadata=metadata,
    version_table=VERSION_TABLE,
    render_as_batch=True,  # SQLite cannot ALTER most things: later migrations copy tables instead
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
