"""The small interfaces the use cases need; adapters implement them, tests use the real adapters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from outagesync.domain.models import ManagedSite, RunReport
from outagesync.domain.reports import ReportCursor, ReportFilter, ReportPage, StoredReport
from outagesync.domain.sites import SiteChanges


@dataclass(frozen=True, slots=True)
class Fetched:
    """A successful upstream response body and the number of requests it took."""

    body: bytes
    attempts: int


@dataclass(frozen=True, slots=True)
class Posted:
    """The upstream accepted a POST: its status, its message if it gave one, the requests it took."""

    status: int
    message: str | None
    attempts: int


class Upstream(Protocol):
    """The KrakenFlex API. Failures raise `UpstreamError` subclasses carrying `attempts`."""

    async def fetch_outages(self) -> Fetched: ...

    async def fetch_site_info(self, site_id: str) -> Fetched: ...

    async def post_site_outages(self, site_id: str, body: bytes) -> Posted: ...


class ReportStore(Protocol):
    """Where run reports go. Failures raise `StorageError`."""

    def save_run(self, report: RunReport) -> None: ...


class ReportHistory(Protocol):
    """The stored reports, to read and prune. Failures raise `StorageError`."""

    def list_reports(
        self, where: ReportFilter, *, limit: int, after: ReportCursor | None = None
    ) -> ReportPage: ...

    def get_report(self, report_id: str) -> StoredReport: ...  # ReportNotFound

    def delete_reports(self, where: ReportFilter) -> int: ...

    def delete_report(self, report_id: str) -> None: ...  # ReportNotFound


class SiteStore(Protocol):
    """The managed sites, listed by site id. Failures raise `StorageError`."""

    def list_sites(
        self, *, enabled_only: bool = False, limit: int | None = None, after: str | None = None
    ) -> list[ManagedSite]: ...

    def get_site(self, site_id: str) -> ManagedSite: ...  # SiteNotManaged

    def add_site(
        self, site_id: str, *, name: str | None = None, since: datetime | None = None, enabled: bool = True
    ) -> ManagedSite: ...  # SiteAlreadyManaged

    def update_site(self, site_id: str, changes: SiteChanges) -> ManagedSite: ...  # SiteNotManaged

    def remove_site(self, site_id: str) -> None: ...  # SiteNotManaged
