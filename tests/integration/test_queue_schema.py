"""The queue's schema (adapters/queue/schema.py) on a fresh PostgreSQL database: made once, recorded, left
alone when current; a schema made by hand (no record) is taken as current and recorded."""

from __future__ import annotations

import psycopg
import pytest
from procrastinate.schema import SchemaManager
from sqlalchemy.engine import make_url

from outagesync.adapters.queue.schema import queue_schema_version, upgrade_queue_schema

pytestmark = pytest.mark.postgres


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def test_the_schema_is_made_once_and_recorded(postgres_url: str) -> None:
    conninfo = _libpq(postgres_url)
    assert await queue_schema_version(conninfo) is None
    newest = await upgrade_queue_schema(conninfo)
    assert newest.startswith("03.")
    assert await queue_schema_version(conninfo) == newest
    assert await upgrade_queue_schema(conninfo) == newest  # again: nothing to do
    with psycopg.connect(conninfo) as connection:
        tables = connection.execute("SELECT to_regclass('procrastinate_periodic_defers')").fetchone()
    assert tables == ("procrastinate_periodic_defers",)


async def test_a_schema_made_by_hand_is_taken_as_current(postgres_url: str) -> None:
    conninfo = _libpq(postgres_url)
    with psycopg.connect(conninfo) as connection:
        connection.execute(SchemaManager.get_schema())
    assert await queue_schema_version(conninfo) == "unknown"
    newest = await upgrade_queue_schema(conninfo)
    assert await queue_schema_version(conninfo) == newest
