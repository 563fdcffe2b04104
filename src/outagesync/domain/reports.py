"""Stored run reports as values: a stored site report, filters, pages, and the checks of their inputs.

Pure: no I/O, no clock, no serialisation. The store (an adapter) builds these; services and entrypoints
read them; `presenters` turns them into JSON.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from outagesync.defaults import MAX_PAGE_SIZE
from outagesync.domain.models import RunReport, RunStatus, SiteResult, SiteStatus, Trigger
from outagesync.domain.payload import payload_digest
from outagesync.errors import InvalidInput


@dataclass(frozen=True, slots=True)
class RunInfo:
    """What a site report tells of its run."""

    run_id: str
    trigger: Trigger
    status: RunStatus
    dry_run: bool
    upstream_url: str | None = None
    sandbox: bool = False


@dataclass(frozen=True, slots=True)
class StoredReport:
    """One site's report as stored: its SiteResult, its run, and what was kept of its lists.

    `site.items` holds at most the store's items limit (`items_truncated` says when some were left out),
    and nothing when the report was loaded without items (`items_loaded`: report listings);
    `items_total` and `items_digest` (sha256 of the canonical JSON of *all* items) are always exact.
    `site.invalid_records` is kept to the same limit; `invalid_total` is the exact count.
    """

    site: SiteResult
    run: RunInfo
    invalid_total: int
    items_total: int
    items_digest: str
    items_truncated: bool
    items_loaded: bool = True

    @classmethod
    def of(cls, report: RunReport, site: SiteResult) -> StoredReport:
        """A site of a run that was just made, as it is stored (every item kept)."""
        run = RunInfo(
            report.run_id, report.trigger, report.status, report.dry_run, report.upstream_url, report.sandbox
        )
        return cls(
            site=site,
            run=run,
            invalid_total=len(site.invalid_records),
            items_total=len(site.items),
            items_digest=payload_digest(site.items),
            items_truncated=False,
        )

    @property
    def report_id(self) -> str:
        return self.site.report_id

    @property
    def posted(self) -> int:
        """How many items the upstream accepted (all of them, or none)."""
        return self.items_total if self.site.status is SiteStatus.SUCCEEDED else 0


@dataclass(frozen=True, slots=True)
class ReportFilter:
    """Which site reports to list or delete; every criterion given must hold. Times bound `started_at`."""

    report_id: str | None = None
    site_id: str | None = None
    status: SiteStatus | None = None
    run_id: str | None = None
    started_from: datetime | None = None  # inclusive
    started_before: datetime | None = None  # exclusive


@dataclass(frozen=True, slots=True)
class ReportCursor:
    """Where a page ended: the last report's (started_at, id). Reports are listed newest first."""

    started_at: datetime
    report_id: str


@dataclass(frozen=True, slots=True)
class ReportPage:
    """One page of reports (without their items), newest first; `more_after` is None on the last page."""

    reports: tuple[StoredReport, ...]
    more_after: ReportCursor | None


def check_limit(limit: int) -> int:
    """The page size if it is 1..MAX_PAGE_SIZE, else InvalidInput."""
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise InvalidInput(f"invalid limit {limit}: give a number from 1 to {MAX_PAGE_SIZE}")
    return limit


def check_aware(name: str, moment: datetime | None) -> datetime | None:
    """`moment` in UTC if it carries a time zone (None passes), else InvalidInput naming `name`."""
    if moment is None:
        return None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidInput(f"invalid {name} {moment.isoformat()}: give a time zone (e.g. Z or +01:00)")
    return moment.astimezone(UTC)


def parse_site_status(value: SiteStatus | str) -> SiteStatus:
    """A site report status from its name, else InvalidInput listing the valid ones."""
    try:
        return SiteStatus(value)
    except ValueError:
        valid = ", ".join(status.value for status in SiteStatus)
        raise InvalidInput(f"invalid status {value!r}: use one of {valid}") from None
