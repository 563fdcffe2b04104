"""Use cases on stored run reports: list (paged, filtered), show, delete. Inputs are checked here.

Plain functions over a ReportHistory port; they never print, read settings or know about HTTP or exit codes.
"""

from __future__ import annotations

import re
from datetime import datetime

from outagesync.domain.models import SiteStatus
from outagesync.domain.payload import check_site_id
from outagesync.domain.reports import (
    ReportFilter,
    ReportPage,
    StoredReport,
    check_aware,
    check_limit,
    decode_cursor,
    parse_site_status,
)
from outagesync.errors import ConfigError, ReportNotFound
from outagesync.services.ports import ReportHistory

DEFAULT_PAGE_SIZE = 50
_REPORT_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def list_reports(
    *,
    reports: ReportHistory,
    site_id: str | None = None,
    status: SiteStatus | str | None = None,
    run_id: str | None = None,
    started_from: datetime | None = None,
    started_before: datetime | None = None,
    limit: int = DEFAULT_PAGE_SIZE,
    cursor: str | None = None,
) -> ReportPage:
    """One page of site reports (without items), newest first, matching every filter given.

    `started_from` is inclusive, `started_before` exclusive; both must be aware. `cursor` is the
    `next_cursor` of the previous page. Bad input: ConfigError (InvalidSiteId for a bad site id).
    """
    where = _filter(site_id, status, run_id, started_from, started_before)
    after = decode_cursor(cursor) if cursor is not None else None
    return reports.list_reports(where, limit=check_limit(limit), after=after)


def get_report(report_id: str, *, reports: ReportHistory) -> StoredReport:
    """The site report with its stored items; ReportNotFound if there is none with that id."""
    return reports.get_report(_check_report_id(report_id))


def clear_reports(
    *,
    reports: ReportHistory,
    site_id: str | None = None,
    status: SiteStatus | str | None = None,
    started_from: datetime | None = None,
    started_before: datetime | None = None,
) -> int:
    """Delete every site report matching the filters (all of them if none is given); how many went."""
    return reports.delete_reports(_filter(site_id, status, None, started_from, started_before))


def delete_report(report_id: str, *, reports: ReportHistory) -> None:
    """Delete one site report; ReportNotFound if there is none with that id."""
    reports.delete_report(_check_report_id(report_id))


def _filter(
    site_id: str | None,
    status: SiteStatus | str | None,
    run_id: str | None,
    started_from: datetime | None,
    started_before: datetime | None,
) -> ReportFilter:
    started_from = check_aware("start time", started_from)
    started_before = check_aware("end time", started_before)
    if started_from is not None and started_before is not None and started_from >= started_before:
        raise ConfigError("invalid time range: the start must come before the end")
    return ReportFilter(
        site_id=check_site_id(site_id) if site_id is not None else None,
        status=parse_site_status(status) if status is not None else None,
        run_id=_check_report_id(run_id) if run_id is not None else None,
        started_from=started_from,
        started_before=started_before,
    )


def _check_report_id(report_id: str) -> str:
    if not _REPORT_ID.fullmatch(report_id):
        raise ReportNotFound(f"no report with id {report_id!r}")
    return report_id
