"""Use cases on the database itself: its schema (upgrade, downgrade, status) and its health.

For `outagesync db ...`, `/check` and `/readyz`; over the StoreAdmin port, never printing anything.
"""

from __future__ import annotations

from dataclasses import dataclass

from outagesync.services.ports import StoreAdmin, StoreHealth


@dataclass(frozen=True, slots=True)
class SchemaStatus:
    """Which database, at which schema revision, and the newest this version knows."""

    database: str
    current: str | None  # None: never migrated (an empty database)
    head: str

    @property
    def up_to_date(self) -> bool:
        return self.current == self.head


def schema_status(*, store: StoreAdmin) -> SchemaStatus:
    return SchemaStatus(store.database, store.current_revision(), store.head_revision())


def upgrade_schema(*, store: StoreAdmin, revision: str = "head") -> SchemaStatus:
    """Migrate up to `revision` (every use of the store does it anyway for "head"); the status after."""
    store.upgrade(revision)
    return schema_status(store=store)


def downgrade_schema(*, store: StoreAdmin, revision: str) -> SchemaStatus:
    """Migrate down to `revision` ("base" drops every table, and the reports in them); the status after."""
    store.downgrade(revision)
    return schema_status(store=store)


def check_health(*, store: StoreAdmin) -> StoreHealth:
    """A real round trip to the database and how long it took; never raises."""
    return store.check()


def readiness_problem(*, store: StoreAdmin) -> str | None:
    """Why the service is not ready to serve (database unreachable or not migrated), None when it is."""
    health = store.check()
    if not health.ok:
        return health.error
    if not health.migrated:
        return f"the database schema is at revision {health.revision}, not {store.head_revision()}"
    return None
