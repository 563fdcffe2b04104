"""Use cases on stored run reports: list (paged, filtered), show, diff, delete. Inputs are checked here.

Plain functions over a ReportHistory port; they never print, read settings or know about HTTP or exit codes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from outagesync.defaults import MAX_PAGE_SIZE, REPORTS_PAGE_SIZE
from outagesync.domain.diff import ItemsDiff, diff_items
from outagesync.domain.ids import check_report_id, check_site_id
from outagesync.domain.models import RunReport, SiteStatus
from outagesync.domain.reports import (
    ReportCursor,
    ReportFilter,
    ReportPage,
    StoredReport,
    check_aware,
    check_limit,
    parse_site_status,
)
from outagesync.errors import InvalidInput, ReportNotFound
from outagesync.services.ports import ReportHistory


def list_reports(
    *,
    reports: ReportHistory,
    site_id: str | None = None,
    status: SiteStatus | str | None = None,
    run_id: str | None = None,
    started_from: datetime | None = None,
    started_before: datetime | None = None,
    limit: int = REPORTS_PAGE_SIZE,
    after: ReportCursor | None = None,
) -> ReportPage:
    """One page of site reports (without items), newest first, matching every filter given.

    `started_from` is inclusive, `started_before` exclusive; both must be aware. `after` is the
    `more_after` of the previous page. Bad input: InvalidInput (InvalidSiteId for a bad site id).
    """
    where = _filter(site_id, status, run_id, started_from, started_before)
    return reports.list_reports(where, limit=check_limit(limit), after=after)


def get_report(report_id: str, *, reports: ReportHistory) -> StoredReport:
    """The site report with its stored items; ReportNotFound if there is none with that id."""
    return reports.get_report(check_report_id(report_id))


def run_reports(run_id: str, *, reports: ReportHistory) -> tuple[StoredReport, ...]:
    """Every site report of a run (by run id or a unique 8+ character prefix of one), without items, in
    site order; ReportNotFound if no report has that run id."""
    where = _filter(None, None, run_id, None, None)
    found: list[StoredReport] = []
    after: ReportCursor | None = None
    while True:
        page = reports.list_reports(where, limit=MAX_PAGE_SIZE, after=after)
        found.extend(page.reports)
        if page.more_after is None:
            break
        after = page.more_after
    if not found:
        raise ReportNotFound(f"no report or run with id {run_id!r}")
    return tuple(sorted(found, key=lambda report: report.site.site_id))


def find_reports(report_or_run_id: str, *, reports: ReportHistory) -> StoredReport | tuple[StoredReport, ...]:
    """A report (with its items) by report id, else every site report of the run with that id; report
    ids are looked up first. ReportNotFound if neither matches."""
    try:
        return get_report(report_or_run_id, reports=reports)
    except ReportNotFound:
        check_report_id(report_or_run_id)
        return run_reports(report_or_run_id, reports=reports)


def newest(*, reports: ReportHistory, site_id: str | None = None) -> StoredReport | tuple[StoredReport, ...]:
    """The site's newest report (with its items); without a site, every report of the newest run.
    ReportNotFound if there is none."""
    page = reports.list_reports(_filter(site_id, None, None, None, None), limit=1, after=None)
    if not page.reports:
        where = f" for site {site_id}" if site_id is not None else ""
        raise ReportNotFound(f"no report{where} yet")
    last = page.reports[0]
    if site_id is not None:
        return reports.get_report(last.report_id)
    return run_reports(last.run.run_id, reports=reports)


def last_accepted(
    site_id: str, *, reports: ReportHistory, before: datetime | None = None
) -> StoredReport | None:
    """The site's newest report whose list the upstream accepted (started before `before` if given), with
    its stored items; None if it has none."""
    where = _filter(site_id, SiteStatus.SUCCEEDED, None, None, before)
    page = reports.list_reports(where, limit=1, after=None)
    return reports.get_report(page.reports[0].report_id) if page.reports else None


@dataclass(frozen=True, slots=True)
class ReportsDiff:
    """What changed from `before`'s list to `after`'s. `before` None: the site had no accepted list
    before `after` (every item is added). `complete` is False when a report's stored items were cut
    to the store's items limit: the diff then covers the stored items only."""

    before: StoredReport | None
    after: StoredReport
    items: ItemsDiff

    @property
    def complete(self) -> bool:
        return not (self.after.items_truncated or (self.before is not None and self.before.items_truncated))


def diff_reports(report_id: str, other_id: str | None = None, *, reports: ReportHistory) -> ReportsDiff:
    """`report_id` → `other_id`: how the second report's list differs from the first's. With one id: how
    that report's list differs from the site's previous accepted list (ReportNotFound for an unknown id)."""
    first = get_report(report_id, reports=reports)
    if other_id is None:
        before = last_accepted(first.site.site_id, reports=reports, before=first.site.started_at)
        after = first
    else:
        before, after = first, get_report(other_id, reports=reports)
    previous = before.site.items if before is not None else ()
    return ReportsDiff(before, after, diff_items(previous, after.site.items))


def count_reports(
    *,
    reports: ReportHistory,
    site_id: str | None = None,
    status: SiteStatus | str | None = None,
    started_from: datetime | None = None,
    started_before: datetime | None = None,
) -> int:
    """How many site reports match the filters (what `clear_reports` would delete)."""
    return reports.count_reports(_filter(site_id, status, None, started_from, started_before))


@dataclass(frozen=True, slots=True)
class SiteDiff:
    """How a site's list in a run differs from the list the upstream last accepted before that run."""

    site_id: str
    before: StoredReport | None  # None: no accepted list before
    items: ItemsDiff
    complete: bool  # False: the earlier report's stored items were cut to the items limit


def diff_run(report: RunReport, *, reports: ReportHistory) -> tuple[SiteDiff, ...]:
    """For each site of the run that has a list (posted, or would be on a dry run): its diff against the
    site's last accepted list from before the run (`sync --diff`)."""
    diffs: list[SiteDiff] = []
    for site in report.sites:
        if not site.ok:
            continue
        before = last_accepted(site.site_id, reports=reports, before=site.started_at)
        previous = before.site.items if before is not None else ()
        complete = before is None or not before.items_truncated
        diffs.append(SiteDiff(site.site_id, before, diff_items(previous, site.items), complete))
    return tuple(diffs)


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
    reports.delete_report(check_report_id(report_id))


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
        raise InvalidInput("invalid time range: the start must come before the end")
    return ReportFilter(
        site_id=check_site_id(site_id) if site_id is not None else None,
        status=parse_site_status(status) if status is not None else None,
        run_id=check_report_id(run_id) if run_id is not None else None,
        started_from=started_from,
        started_before=started_before,
    )
