"""SqlStore: run reports and managed sites in SQLite or PostgreSQL, behind the services' ports.

The schema is migrated on first use. Every method raises StorageError (never a SQLAlchemy error) when
the database fails, with the database named and its password hidden.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from types import TracebackType

import sqlalchemy as sa
from sqlalchemy.engine import URL

from outagesync.adapters.storage import migrate, reports, sites
from outagesync.adapters.storage.engine import (
    WRITE_OPTION,
    make_engine,
    mask,
    parse_database_url,
    sqlite_path,
    storage_errors,
)
from outagesync.defaults import REPORT_ITEMS_MAX
from outagesync.domain.models import ManagedSite, RunReport
from outagesync.domain.reports import ReportCursor, ReportFilter, ReportPage, StoredReport
from outagesync.domain.sites import SiteChanges
from outagesync.errors import StorageError
from outagesync.services.ports import StoreHealth


class SqlStore:
    """Reports and managed sites in one database (the services' Store port). Thread-safe; one instance
    per process is enough."""

    def __init__(self, url: URL, *, items_max: int = REPORT_ITEMS_MAX) -> None:
        self.url = url
        self.items_max = items_max
        self._engine = make_engine(url)
        self._writer = self._engine.execution_options(**{WRITE_OPTION: True})
        self._migrated = False
        self._migrate_lock = threading.Lock()

    @classmethod
    def from_url(cls, url: str | None, *, items_max: int = REPORT_ITEMS_MAX) -> SqlStore:
        """A store for `url` (None: the SQLite file in the user's data directory). Does not connect yet.

        `items_max` is how many posted items a report keeps (beyond it: only their digest and count).
        """
        return cls(parse_database_url(url), items_max=items_max)

    @property
    def database(self) -> str:
        """The database URL for people to read: password hidden."""
        return mask(self.url)

    # -- reports -----------------------------------------------------------------------------------

    def save_run(self, report: RunReport) -> None:
        with self._write() as connection:
            reports.save_run(connection, report, items_max=self.items_max)

    def list_reports(
        self, where: ReportFilter, *, limit: int, after: ReportCursor | None = None
    ) -> ReportPage:
        with self._read() as connection:
            return reports.list_reports(connection, where, limit=limit, after=after)

    def get_report(self, report_id: str) -> StoredReport:
        with self._read() as connection:
            return reports.get_report(connection, report_id)

    def delete_reports(self, where: ReportFilter) -> int:
        with self._write() as connection:
            return reports.delete_reports(connection, where)

    def delete_report(self, report_id: str) -> None:
        with self._write() as connection:
            reports.delete_report(connection, report_id)

    # -- managed sites -----------------------------------------------------------------------------

    def list_sites(
        self, *, enabled_only: bool = False, limit: int | None = None, after: str | None = None
    ) -> list[ManagedSite]:
        with self._read() as connection:
            return sites.list_sites(connection, enabled_only=enabled_only, limit=limit, after=after)

    def get_site(self, site_id: str) -> ManagedSite:
        with self._read() as connection:
            return sites.get_site(connection, site_id)

    def add_site(
        self, site_id: str, *, name: str | None = None, since: datetime | None = None, enabled: bool = True
    ) -> ManagedSite:
        now = datetime.now(UTC)
        site = ManagedSite(site_id, name, since, enabled, created_at=now, updated_at=now)
        with self._write() as connection:
            sites.add_site(connection, site)
        return site

    def update_site(self, site_id: str, changes: SiteChanges) -> ManagedSite:
        with self._write() as connection:
            return sites.update_site(connection, site_id, changes, now=datetime.now(UTC))

    def remove_site(self, site_id: str) -> None:
        with self._write() as connection:
            sites.remove_site(connection, site_id)

    # -- schema and health -------------------------------------------------------------------------

    def upgrade(self, revision: str = "head") -> None:
        """Migrate the schema up to `revision` (done automatically on first use for "head")."""
        with storage_errors(self.url):
            self._prepare_file()
            migrate.migrate(self._writer, revision)

    def downgrade(self, revision: str) -> None:
        """Migrate the schema down to `revision` ("base": drop every table, and every report with them)."""
        with storage_errors(self.url):
            migrate.migrate(self._writer, revision, downgrade=True)
            self._migrated = False

    def current_revision(self) -> str | None:
        """The schema revision of the database, None if it was never migrated."""
        with storage_errors(self.url):
            self._prepare_file()
            with self._engine.connect() as connection:
                return migrate.current_revision(connection)

    def head_revision(self) -> str:
        return migrate.head_revision()

    def check(self) -> StoreHealth:
        """A real round trip to the database (for health checks); never raises, never migrates."""
        started = time.perf_counter()
        try:
            with storage_errors(self.url):
                self._prepare_file()
                with self._engine.connect() as connection:
                    connection.execute(sa.select(1))
                    revision = migrate.current_revision(connection)
        except StorageError as error:
            return StoreHealth(False, False, None, str(error), time.perf_counter() - started)
        migrated = revision == migrate.head_revision()
        return StoreHealth(True, migrated, revision, None, time.perf_counter() - started)

    def dispose(self) -> None:
        """Close every pooled connection."""
        self._engine.dispose()

    def __enter__(self) -> SqlStore:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.dispose()

    # -- plumbing ----------------------------------------------------------------------------------

    @contextmanager
    def _read(self) -> Iterator[sa.Connection]:
        with storage_errors(self.url):
            self._ensure_migrated()
            with self._engine.connect() as connection:
                yield connection

    @contextmanager
    def _write(self) -> Iterator[sa.Connection]:
        with storage_errors(self.url):
            self._ensure_migrated()
            with self._writer.begin() as connection:
                yield connection

    def _ensure_migrated(self) -> None:
        with self._migrate_lock:
            if self._migrated:
                return
            self._prepare_file()
            with self._engine.connect() as connection:
                current = migrate.current_revision(connection)
            if current != migrate.head_revision():
                migrate.migrate(self._writer)
            self._migrated = True

    def _prepare_file(self) -> None:
        path = sqlite_path(self.url)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
