"""SqlStore: run reports and managed sites in SQLite or PostgreSQL, behind the services' ports.

The schema is migrated on first use. Every method raises StorageError (never a SQLAlchemy error) when
the database fails, with the database named and its password hidden.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

import sqlalchemy as sa
from sqlalchemy.engine import URL

from outagesync.adapters.storage import fleet, reports, sites
from outagesync.adapters.storage.engine import (
    WRITE_OPTION,
    is_missing_schema,
    make_engine,
    mask,
    parse_database_url,
    sqlite_path,
    storage_errors,
)
from outagesync.adapters.storage.locks import FileLocks, PostgresLocks, ProcessLocks, lock_directory
from outagesync.adapters.storage.revision import HEAD_REVISION, read_revision
from outagesync.adapters.storage.spool import Spool, default_spool_directory
from outagesync.adapters.storage.tables import VERSION_TABLE
from outagesync.defaults import REPORT_ITEMS_MAX
from outagesync.domain.fleet import SiteActivity
from outagesync.domain.models import ManagedSite, RunReport, RunStatus, SiteStatus
from outagesync.domain.reports import ReportCursor, ReportFilter, ReportPage, StoredReport
from outagesync.domain.sites import SiteChanges
from outagesync.errors import StorageError
from outagesync.services.locking import run_key
from outagesync.services.ports import StoreHealth

log = logging.getLogger("outagesync.storage")
Locks = FileLocks | PostgresLocks | ProcessLocks


class SqlStore:
    """Reports and managed sites in one database (the services' Store port). Thread-safe; one instance
    per process is enough."""

    def __init__(self, url: URL, *, items_max: int = REPORT_ITEMS_MAX, spool_dir: Path | None = None) -> None:
        self.url = url
        self.items_max = items_max
        self._engine = make_engine(url)
        self._writer = self._engine.execution_options(**{WRITE_OPTION: True})
        self._migrated = False
        self._migrate_lock = threading.Lock()
        self._keeps_head = False  # asked for the newest schema: check() migrates again when it is gone
        self.spool = Spool(spool_dir or default_spool_directory(), mask(url))
        self._lock_engine: sa.Engine | None = None

    @classmethod
    def from_url(
        cls, url: str | None, *, items_max: int = REPORT_ITEMS_MAX, spool_dir: Path | None = None
    ) -> SqlStore:
        """A store for `url` (None: the SQLite file in the user's data directory). Does not connect yet.

        `items_max` is how many posted items a report keeps (beyond it: only their digest and count);
        `spool_dir` where reports the database refused wait for it (default: the user's data directory).
        """
        return cls(parse_database_url(url), items_max=items_max, spool_dir=spool_dir)

    @property
    def database(self) -> str:
        """The database URL for people to read: password hidden."""
        return mask(self.url)

    # -- reports -----------------------------------------------------------------------------------

    def save_run(self, report: RunReport) -> None:
        """Store the run (replacing an earlier copy). If the database refuses a run that is over, the
        report goes to the spool and StorageError says where; the next store to open the database
        stores it."""
        try:
            self._save_now(report)
        except StorageError as exc:
            if report.status is RunStatus.RUNNING:
                raise  # nothing was posted yet: the caller stops the run
            self._spool(report, exc)

    def last_accepted_total(self, site_id: str) -> int | None:
        with self._read() as connection:
            return reports.last_accepted_total(connection, site_id)

    def list_reports(
        self, where: ReportFilter, *, limit: int, after: ReportCursor | None = None
    ) -> ReportPage:
        with self._read() as connection:
            page = reports.list_reports(connection, where, limit=limit, after=after)
        return replace(page, reports=tuple(self._live(report) for report in page.reports))

    def get_report(self, report_id: str) -> StoredReport:
        with self._read() as connection:
            return self._live(reports.get_report(connection, report_id))

    def site_activity(self, *, failures_from: datetime, trend: int) -> list[SiteActivity]:
        with self._read() as connection:
            return fleet.site_activity(connection, failures_from=failures_from, trend=trend)

    def open_locks(self) -> Locks:
        """A lock holder for one run (see locks.py): advisory locks on PostgreSQL, files beside SQLite."""
        if self.url.get_backend_name() == "postgresql":
            if self._lock_engine is None:  # a connection per holder, closed with it: no pool to exhaust
                self._lock_engine = make_engine(self.url, pooled=False)
            return PostgresLocks(self._lock_engine, self.url)
        path = sqlite_path(self.url)
        return ProcessLocks() if path is None else FileLocks(lock_directory(path))

    def _live(self, report: StoredReport) -> StoredReport:
        """A `running` report whose run lock is free: its process died before the outcome (`abandoned`)."""
        if report.site.status is not SiteStatus.RUNNING or not self._run_lock_free(report.run.run_id):
            return report
        site = replace(report.site, status=SiteStatus.ABANDONED)
        return replace(report, site=site, run=replace(report.run, status=RunStatus.ABANDONED))

    def _run_lock_free(self, run_id: str) -> bool:
        locks = self.open_locks()
        return locks.is_free(run_key(run_id))

    def _spool(self, report: RunReport, cause: StorageError) -> None:
        try:
            self.spool.append(report)
        except OSError as error:
            log.error(
                "run %s: report lost: %s; and the spool %s failed: %s",
                report.run_id,
                cause,
                self.spool.path,
                error,
            )
            raise StorageError(f"{cause}; keeping it in {self.spool.path} failed too: {error}") from cause
        log.error("run %s: %s; the report is kept in %s", report.run_id, cause, self.spool.path)
        raise StorageError(
            f"{cause}; the report is kept in {self.spool.path} and will be stored by the next command "
            "that opens the database"
        ) from cause

    def count_reports(self, where: ReportFilter) -> int:
        with self._read() as connection:
            return reports.count_reports(connection, where)

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
        self,
        site_id: str,
        *,
        name: str | None = None,
        since: datetime | None = None,
        enabled: bool = True,
        schedule: str | None = None,
        allow_empty: bool = False,
    ) -> ManagedSite:
        now = datetime.now(UTC)
        site = ManagedSite(
            site_id,
            name,
            since,
            enabled,
            created_at=now,
            updated_at=now,
            schedule=schedule,
            allow_empty=allow_empty,
        )
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
        self._keeps_head = revision == "head"
        with storage_errors(self.url):
            self._prepare_file()
            from outagesync.adapters.storage import migrate

            migrate.migrate(self._writer, revision)

    def downgrade(self, revision: str) -> None:
        """Migrate the schema down to `revision` ("base": drop every table, and every report with them)."""
        with storage_errors(self.url):
            from outagesync.adapters.storage import migrate

            migrate.migrate(self._writer, revision, downgrade=True)
            self._migrated = self._keeps_head = False

    def managed_site_ids(self, prefix: str = "", *, limit: int = 500) -> list[str]:
        """Managed site ids starting with `prefix` (shell completion). Only looks: a SQLite file that does
        not exist is not created, a database never migrated has none."""
        path = sqlite_path(self.url) if self.url.get_backend_name() == "sqlite" else None
        if path is not None and not path.exists():
            return []
        with storage_errors(self.url), self._engine.connect() as connection:
            return sites.site_ids_starting(connection, prefix, limit=limit)

    def current_revision(self) -> str | None:
        """The schema revision of the database, None if it was never migrated. A SQLite file that does
        not exist is not created (`db current` only looks)."""
        path = sqlite_path(self.url) if self.url.get_backend_name() == "sqlite" else None
        if path is not None and not path.exists():
            return None
        with storage_errors(self.url), self._engine.connect() as connection:
            return read_revision(connection)

    def head_revision(self) -> str:
        return HEAD_REVISION

    def check(self) -> StoreHealth:
        """A real round trip to the database (for health checks); never raises.

        It migrates only a store that was asked for the newest schema already (by `upgrade()` or a first
        use) and finds it missing: a database that was down then, or recreated empty since, recovers.
        """
        started = time.perf_counter()
        try:
            with storage_errors(self.url):
                self._prepare_file()
                with self._engine.connect() as connection:
                    connection.execute(sa.select(1))
                    revision = read_revision(connection)
        except StorageError as error:
            return StoreHealth(False, False, None, str(error), time.perf_counter() - started)
        problem = None
        if revision != HEAD_REVISION and self._keeps_head:
            try:
                self._migrate_again()
                revision = HEAD_REVISION
            except StorageError as error:
                problem = str(error)
        migrated = revision == HEAD_REVISION
        return StoreHealth(True, migrated, revision, problem, time.perf_counter() - started)

    def check_writable(self) -> str | None:
        """Why the database refuses writes (a read-only file or user, a locked database), None if it takes
        them: a write to the schema's version row, rolled back. Changes nothing; never raises."""
        try:
            with (
                storage_errors(self.url),
                self._writer.connect() as connection,
                connection.begin() as writing,
            ):
                version = sa.table(VERSION_TABLE, sa.column("version_num"))
                connection.execute(sa.update(version).values(version_num=version.c.version_num))
                writing.rollback()
        except StorageError as error:
            return str(error)
        return None

    def dispose(self) -> None:
        """Close every pooled connection."""
        self._engine.dispose()
        if self._lock_engine is not None:
            self._lock_engine.dispose()

    def __enter__(self) -> SqlStore:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.dispose()

    # -- plumbing ----------------------------------------------------------------------------------

    @contextmanager
    def _read(self) -> Iterator[sa.Connection]:
        with storage_errors(self.url), self._noticing_a_lost_schema():
            self._ensure_migrated()
            with self._engine.connect() as connection:
                yield connection

    @contextmanager
    def _write(self) -> Iterator[sa.Connection]:
        with storage_errors(self.url), self._noticing_a_lost_schema():
            self._ensure_migrated()
            with self._writer.begin() as connection:
                yield connection

    @contextmanager
    def _noticing_a_lost_schema(self) -> Iterator[None]:
        """A missing table means the schema was dropped under us: the next use migrates again."""
        try:
            yield
        except sa.exc.DBAPIError as error:
            if not is_missing_schema(error):
                raise
            self._migrated = False
            raise StorageError(
                f"the report database {mask(self.url)} has lost its tables (were they dropped?): they are "
                "created again on the next request; retry"
            ) from error

    def _migrate_again(self) -> None:
        with storage_errors(self.url):
            self._migrated = False
            self._ensure_migrated()

    def _ensure_migrated(self) -> None:
        self._keeps_head = True
        with self._migrate_lock:
            if self._migrated:
                return
            self._prepare_file()
            with self._engine.connect() as connection:
                current = read_revision(connection)  # one query when the schema is current
            if current != HEAD_REVISION:
                from outagesync.adapters.storage import migrate  # Alembic: only to migrate

                migrate.migrate(self._writer)
            self._migrated = True
        self._replay_spool()

    def _replay_spool(self) -> None:
        """Store what the spool holds for this database (once per store, on first use)."""
        try:
            self.spool.replay(self._save_now)
        except StorageError as exc:
            log.error("the spooled reports in %s stay there: %s", self.spool.path, exc)

    def _save_now(self, report: RunReport) -> None:
        with self._write() as connection:
            reports.save_run(connection, report, items_max=self.items_max)

    def _prepare_file(self) -> None:
        path = sqlite_path(self.url)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
