"""procrastinate's own tables in the report database: created, or migrated with the SQL files it ships.

procrastinate keeps no record of its schema version; the version applied is written as a comment on its
jobs table (`outagesync-queue-schema <migration>`), so an upgrade applies only the newer files.
"""

from __future__ import annotations

import re
from pathlib import Path

import psycopg
from procrastinate.schema import SchemaManager

from outagesync.adapters.queue.connection import connect

_MARK = re.compile(r"outagesync-queue-schema (\S+)")


def _migrations() -> list[Path]:
    return sorted(Path(SchemaManager.get_migrations_path()).glob("*.sql"))


def _newest() -> str:
    files = _migrations()
    return files[-1].stem if files else "none"


async def upgrade_queue_schema(conninfo: str) -> str:
    """Create procrastinate's schema, or apply the migrations newer than the one recorded; the migration
    the schema is now at. Serialized across processes (an advisory lock)."""
    newest = _newest()
    if await queue_schema_version(conninfo) == newest:
        return newest  # the usual case: a read, no lock, no write
    async with connect(conninfo) as connection:
        await connection.execute("SELECT pg_advisory_xact_lock(hashtext('outagesync-queue-schema'))")
        exists = await (await connection.execute("SELECT to_regclass('procrastinate_jobs')")).fetchone()
        if exists is None or exists[0] is None:
            await connection.execute(SchemaManager.get_schema())
        else:
            current = await _recorded(connection)  # None: made by hand, assumed current
            for path in _migrations():
                if current is not None and path.stem > current:
                    await connection.execute(path.read_text())
        await connection.execute(f"COMMENT ON TABLE procrastinate_jobs IS 'outagesync-queue-schema {newest}'")
        return newest


async def queue_schema_version(conninfo: str) -> str | None:
    """The migration procrastinate's schema was last brought to; None when it is not there."""
    async with connect(conninfo) as connection:
        exists = await (await connection.execute("SELECT to_regclass('procrastinate_jobs')")).fetchone()
        if exists is None or exists[0] is None:
            return None
        return await _recorded(connection) or "unknown"


async def _recorded(connection: psycopg.AsyncConnection[tuple[object, ...]]) -> str | None:
    row = await (
        await connection.execute("SELECT obj_description('procrastinate_jobs'::regclass, 'pg_class')")
    ).fetchone()
    found = _MARK.fullmatch(str(row[0])) if row is not None and row[0] is not None else None
    return found.group(1) if found else None
