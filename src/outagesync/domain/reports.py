"""Stored run reports as values: the stored site report, filters, pages and their opaque cursors.

Pure: no I/O, no clock. The store (an adapter) builds these; services and entrypoints read them.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from outagesync.domain.models import (
    CallStats,
    ErrorInfo,
    InvalidRecord,
    RunStatus,
    SiteOutage,
    SiteResult,
    SiteStatus,
    Trigger,
)
from outagesync.domain.serialize import site_result_to_dict
from outagesync.errors import ConfigError


@dataclass(frozen=True, slots=True)
class StoredReport:
    """One site's report as stored: every SiteResult field, plus its run and what was kept of the items.

    `items` holds at most the store's items limit (`items_truncated` says when some were left out);
    `items_total` and `items_digest` (sha256 of the canonical JSON of *all* items) are always exact.
    `items` is None when the report was loaded without them (report listings).
    `invalid_records` is kept to the same limit; `invalid_total` is the exact count.
    """

    report_id: str
    run_id: str
    trigger: Trigger
    run_status: RunStatus
    dry_run: bool
    site_id: str
    status: SiteStatus
    started_at: datetime
    finished_at: datetime
    since: datetime
    fetched: int
    site_devices: int
    kept: int
    dropped_before_cutoff: int
    dropped_unknown_device: int
    invalid_total: int
    invalid_records: tuple[InvalidRecord, ...]
    calls: dict[str, CallStats]
    post_status: int | None
    upstream_message: str | None
    error: ErrorInfo | None
    items_total: int
    items_digest: str
    items_truncated: bool
    items: tuple[SiteOutage, ...] | None

    @property
    def posted(self) -> int:
        """How many items the upstream accepted (all of them, or none)."""
        return self.items_total if self.status is SiteStatus.SUCCEEDED else 0

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of `site_result_to_dict`, plus run and items metadata; "items" only when loaded."""
        result = SiteResult(
            report_id=self.report_id,
            site_id=self.site_id,
            status=self.status,
            started_at=self.started_at,
            finished_at=self.finished_at,
            since=self.since,
            fetched=self.fetched,
            site_devices=self.site_devices,
            kept=self.kept,
            dropped_before_cutoff=self.dropped_before_cutoff,
            dropped_unknown_device=self.dropped_unknown_device,
            invalid_records=self.invalid_records,
            calls=self.calls,
            post_status=self.post_status,
            upstream_message=self.upstream_message,
            error=self.error,
            items=self.items or (),
        )
        data = site_result_to_dict(result, run_id=self.run_id, with_items=self.items is not None)
        data.update(
            invalid=self.invalid_total,
            posted=self.posted,
            trigger=self.trigger.value,
            run_status=self.run_status.value,
            dry_run=self.dry_run,
            items_total=self.items_total,
            items_digest=self.items_digest,
            items_truncated=self.items_truncated,
        )
        return data


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
    """One page of reports (without their items), newest first; `next_cursor` is None on the last page."""

    reports: tuple[StoredReport, ...]
    next_cursor: str | None

    def to_dict(self) -> dict[str, Any]:
        """The usual page shape: {"items": [report, ...], "next_cursor": token or None}."""
        return {"items": [report.to_dict() for report in self.reports], "next_cursor": self.next_cursor}


def encode_cursor(cursor: ReportCursor) -> str:
    """An opaque, URL-safe token for `cursor`."""
    raw = json.dumps([cursor.started_at.astimezone(UTC).isoformat(), cursor.report_id], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(token: str) -> ReportCursor:
    """The cursor behind a token from `encode_cursor`; ConfigError if it is not one."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        started_at, report_id = json.loads(raw)
        moment = datetime.fromisoformat(started_at)
        if moment.tzinfo is None or not isinstance(report_id, str):
            raise ValueError("not a report cursor")
    except (ValueError, TypeError, binascii.Error):
        raise ConfigError(f"invalid cursor {token!r}: pass the next_cursor of a previous page") from None
    return ReportCursor(moment.astimezone(UTC), report_id)


MAX_PAGE_SIZE = 500


def check_limit(limit: int) -> int:
    """The page size if it is 1..MAX_PAGE_SIZE, else ConfigError."""
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise ConfigError(f"invalid limit {limit}: give a number from 1 to {MAX_PAGE_SIZE}")
    return limit


def check_aware(name: str, moment: datetime | None) -> datetime | None:
    """`moment` in UTC if it carries a time zone (None passes), else ConfigError naming `name`."""
    if moment is None:
        return None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ConfigError(f"invalid {name} {moment.isoformat()}: give a time zone (e.g. Z or +01:00)")
    return moment.astimezone(UTC)


def parse_site_status(value: SiteStatus | str) -> SiteStatus:
    """A site report status from its name, else ConfigError listing the valid ones."""
    try:
        return SiteStatus(value)
    except ValueError:
        valid = ", ".join(status.value for status in SiteStatus)
        raise ConfigError(f"invalid status {value!r}: use one of {valid}") from None
