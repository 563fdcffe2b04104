"""The interfaces the use cases and entry points need; adapters implement them, bootstrap builds them.

They speak domain values only: no bytes, no HTTP, no SQL. Unit tests of the use cases use small fakes.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, Protocol, TypeVar

from outagesync.domain.fleet import SiteActivity
from outagesync.domain.jobs import Batch, JobFilter, JobInfo, JobPage
from outagesync.domain.models import (
    DecodedOutages,
    ManagedSite,
    RunReport,
    SiteInfo,
    SiteOutage,
    SiteResult,
    Trigger,
)
from outagesync.domain.reports import ReportCursor, ReportFilter, ReportPage, StoredReport
from outagesync.domain.sites import SiteChanges

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Fetched(Generic[T]):
    """A successful, decoded upstream response and the number of requests it took."""

    value: T
    attempts: int


@dataclass(frozen=True, slots=True)
class Posted:
    """The upstream accepted a POST: its status, its message if it gave one, the requests it took."""

    status: int
    message: str | None
    attempts: int


class Upstream(Protocol):
    """The KrakenFlex API, its responses validated and decoded.

    Failures raise `UpstreamError` subclasses, and `InvalidUpstreamData` for a response that breaks
    the contract; both carry `attempts`.
    """

    async def fetch_outages(
        self,
        *,
        skip_invalid: bool = False,
        release_before: datetime | None = None,
        devices: Callable[[], Container[str] | None] | None = None,
    ) -> Fetched[DecodedOutages]:
        """Every outage; with `release_before`, those that began before it are only counted (see
        DecodedOutages); once `devices` returns the run's device ids, the outages of other devices
        are only counted (`foreign_count`); with `skip_invalid`, invalid records are listed instead
        of raising."""
        ...

    async def fetch_site_info(self, site_id: str) -> Fetched[SiteInfo]:
        """The site and its devices (its id checked against `site_id`)."""
        ...

    async def post_site_outages(self, site_id: str, items: Sequence[SiteOutage]) -> Posted:
        """Replace the site's outage list with `items`."""
        ...


class SiteLocks(Protocol):
    """Named locks held by one holder (one run), exclusive across tasks, threads, processes and, for
    PostgreSQL, machines. A holder that dies holds nothing. Failures raise `StorageError`."""

    async def try_acquire(self, key: str) -> bool:
        """Take the lock if it is free (never waits); True if this holder now holds it."""
        ...

    async def release(self, key: str) -> None:
        """Let the lock go (a lock not held is ignored)."""
        ...

    async def close(self) -> None:
        """Release every lock this holder holds."""
        ...


class ReportStore(Protocol):
    """Where run reports go, and what a sync reads back of them. Failures raise `StorageError`."""

    def save_run(self, report: RunReport) -> None: ...

    def last_accepted_total(self, site_id: str) -> int | None:
        """How many items the site's newest accepted (succeeded) report posted; None if it has none."""
        ...


class ReportHistory(Protocol):
    """The stored reports, to read and prune. Failures raise `StorageError`."""

    def list_reports(
        self, where: ReportFilter, *, limit: int, after: ReportCursor | None = None
    ) -> ReportPage: ...

    def get_report(self, report_id: str) -> StoredReport: ...  # ReportNotFound

    def count_reports(self, where: ReportFilter) -> int: ...

    def delete_reports(self, where: ReportFilter) -> int: ...

    def delete_report(self, report_id: str) -> None: ...  # ReportNotFound


class FleetHistory(Protocol):
    """The reports summed up per site, for the fleet overview: a few queries whatever the number of sites.
    Failures raise `StorageError`."""

    def site_activity(self, *, failures_from: datetime, trend: int) -> list[SiteActivity]:
        """Every site with reports: its newest report, its newest success, its failed reports started
        at or after `failures_from`, the statuses of its `trend` newest reports."""
        ...


class SiteStore(Protocol):
    """The managed sites, listed by site id. Failures raise `StorageError`."""

    def list_sites(
        self, *, enabled_only: bool = False, limit: int | None = None, after: str | None = None
    ) -> list[ManagedSite]: ...

    def get_site(self, site_id: str) -> ManagedSite: ...  # SiteNotManaged

    def add_site(
        self,
        site_id: str,
        *,
        name: str | None = None,
        since: datetime | None = None,
        enabled: bool = True,
        schedule: str | None = None,
        allow_empty: bool = False,
    ) -> ManagedSite: ...  # SiteAlreadyManaged

    def update_site(self, site_id: str, changes: SiteChanges) -> ManagedSite: ...  # SiteNotManaged

    def remove_site(self, site_id: str) -> None: ...  # SiteNotManaged


@dataclass(frozen=True, slots=True)
class StoreHealth:
    """A health check's outcome: reachable (`ok`), schema at the newest revision (`migrated`)."""

    ok: bool
    migrated: bool
    revision: str | None
    error: str | None
    elapsed_s: float


class StoreAdmin(Protocol):
    """The database behind the stores: which one, its schema, its health. Failures raise `StorageError`."""

    @property
    def database(self) -> str:
        """The database URL for people to read: password hidden."""
        ...

    def upgrade(self, revision: str = "head") -> None: ...

    def downgrade(self, revision: str) -> None: ...

    def current_revision(self) -> str | None: ...

    def check_writable(self) -> str | None: ...  # why writes are refused; None if they are taken

    def head_revision(self) -> str: ...

    def check(self) -> StoreHealth:
        """A real round trip to the database; never raises. A store that keeps its schema at the
        newest revision migrates a missing or old one again here (the database came back empty)."""
        ...


class Store(ReportStore, ReportHistory, FleetHistory, SiteStore, StoreAdmin, Protocol):
    """Everything one database holds, as bootstrap builds it; `dispose` closes its connections."""

    def open_locks(self) -> SiteLocks:
        """A new lock holder for one run, on this database (so every process sharing it agrees)."""
        ...

    def dispose(self) -> None: ...


class RunObserver(Protocol):
    """Hears each site of a run start and end, in the site's own task (its span and log fields are
    current in between). Never raises; telemetry that is off does nothing."""

    def site_started(self, run_id: str, site_id: str) -> None: ...

    def site_done(self, run_id: str, result: SiteResult) -> None: ...


class NoObserver:
    """The RunObserver of a run nobody watches."""

    def site_started(self, run_id: str, site_id: str) -> None:
        return None

    def site_done(self, run_id: str, result: SiteResult) -> None:
        return None


NO_OBSERVER = NoObserver()


@dataclass(slots=True)
class RequestRecord:
    """One REST request as the API's middleware learns it: the route template once routed (a bounded
    label, never the raw path), the status once answered."""

    method: str
    route: str = "unmatched"
    status: int = 500


class Telemetry(RunObserver, Protocol):
    """Metrics, traces and error reports of one process, built by bootstrap from Settings; each part
    that is off is a no-op (and imports nothing)."""

    def run_span(self, trigger: Trigger) -> AbstractContextManager[None]:
        """The span of one run: every site, upstream request and store write of it is inside."""
        ...

    def run_done(self, report: RunReport) -> None:
        """Count the run and its sites; report each failed site to the error trackers (once)."""
        ...

    def capturing(self) -> AbstractContextManager[None]:
        """Report an unexpected exception (outside our error tree) leaving the block, then let it go."""
        ...

    def request(
        self, record: RequestRecord, headers: Mapping[str, str]
    ) -> AbstractContextManager[RequestRecord]:
        """One REST request: its server span (continuing the caller's `traceparent`), its metrics when
        the block ends, with the route and status the block filled in."""
        ...

    def metrics_text(self) -> tuple[bytes, str]:
        """The Prometheus exposition of this process's metrics and its content type."""
        ...

    def push(self) -> None:
        """Push this process's metrics to the Pushgateway, if one is configured (never raises)."""
        ...

    def close(self) -> None:
        """Flush spans and error reports still buffered."""
        ...


@dataclass(frozen=True, slots=True)
class Deferred:
    """One batch put in the queue: its job id, and the sites it holds (those already waiting in the
    queue were left out; a batch left with none was not deferred, and has no job id)."""

    job_id: int | None
    site_ids: tuple[str, ...]


class JobQueue(Protocol):
    """The job queue (procrastinate on PostgreSQL), shared by every worker, CLI and API process.
    Failures raise `StorageError`; an unknown job `JobNotFound`."""

    async def defer_batches(self, batches: Sequence[Batch], *, delay_s: float = 0) -> list[Deferred]:
        """Put each batch in the queue (to run no sooner than `delay_s` from now), without the sites
        already waiting in it: a site is never waiting twice, whoever defers it."""
        ...

    async def defer_due(self, due: Mapping[str, datetime], *, batch_size: int) -> list[Deferred]:
        """For {site id: due time}, defer (in batches, trigger "schedule") the sites whose due time no one
        claimed before, nor a later one: each due time of a site is deferred once, across every process
        and however often it is asked."""
        ...

    async def list_jobs(self, where: JobFilter, *, limit: int, before: int | None = None) -> JobPage:
        """Jobs, newest (highest id) first, those with an id below `before` only."""
        ...

    async def get_job(self, job_id: int) -> JobInfo: ...

    async def cancel_job(self, job_id: int) -> bool:
        """Cancel a waiting job, or ask a running one to abort; False if it had already finished."""
        ...
