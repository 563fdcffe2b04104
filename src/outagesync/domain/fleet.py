"""The fleet at a glance: one summary per site (managed, or with reports), and how the overview orders and
filters them. Pure: the store computes the activity, the use case joins the managed sites.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from outagesync.domain.models import SiteStatus
from outagesync.errors import InvalidInput

FLEET_TREND_RUNS = 10  # the overview's trend shows this many recent reports per site
FAILING = frozenset({SiteStatus.FAILED, SiteStatus.ABANDONED, SiteStatus.INTERRUPTED})


@dataclass(frozen=True, slots=True)
class SiteActivity:
    """What the reports tell of one site: its newest report, its newest success, its failures since a
    moment, and the statuses of its newest reports (newest first)."""

    site_id: str
    last_status: SiteStatus
    last_run_at: datetime
    last_report_id: str
    last_error_code: str | None
    last_success_at: datetime | None
    posted_last: int | None  # items of the newest success (what the upstream holds since)
    failures: int
    recent: tuple[SiteStatus, ...]


@dataclass(frozen=True, slots=True)
class SiteSummary:
    """One row of the fleet overview: a managed site, a site with reports, or both."""

    site_id: str
    name: str | None
    managed: bool
    enabled: bool
    activity: SiteActivity | None

    @property
    def status(self) -> SiteStatus | None:
        return self.activity.last_status if self.activity else None

    @property
    def is_failing(self) -> bool:
        return self.status in FAILING


def _by_status(summary: SiteSummary) -> tuple[int, str]:
    """Failing first, then never run, running, dry runs only, succeeded; by site id within."""
    status = summary.status
    if summary.is_failing:
        rank = 0
    elif status is None:
        rank = 1
    else:
        rank = {SiteStatus.RUNNING: 2, SiteStatus.DRY_RUN: 3}.get(status, 4)
    return (rank, summary.site_id)


def _by_last_success(summary: SiteSummary) -> tuple[bool, float, str]:
    """Oldest success first, sites that never succeeded before all: the sites to look at."""
    at = summary.activity.last_success_at if summary.activity else None
    return (at is not None, at.timestamp() if at else 0.0, summary.site_id)


def _by_last_run(summary: SiteSummary) -> tuple[float, str]:
    """Newest run first, never run last."""
    return (-summary.activity.last_run_at.timestamp() if summary.activity else 0.0, summary.site_id)


def _by_failures(summary: SiteSummary) -> tuple[int, str]:
    return (-(summary.activity.failures if summary.activity else 0), summary.site_id)


def _by_posted(summary: SiteSummary) -> tuple[int, str]:
    posted = summary.activity.posted_last if summary.activity else None
    return (-(posted or 0), summary.site_id)


def _by_site(summary: SiteSummary) -> tuple[str]:
    return (summary.site_id,)


SORTS: dict[str, Callable[[SiteSummary], tuple[Any, ...]]] = {
    "status": _by_status,
    "site": _by_site,
    "last_success": _by_last_success,
    "last_run": _by_last_run,
    "failures": _by_failures,
    "posted": _by_posted,
}


def order_fleet(
    summaries: Iterable[SiteSummary], *, sort: str = "status", text: str = "", status: str = ""
) -> list[SiteSummary]:
    """The summaries whose id or name contains `text` (any case) and whose status is `status` ("failing"
    for any failure, "never" for no report; "" for any), ordered by `sort` (a key of SORTS)."""
    key = SORTS.get(sort)
    if key is None:
        raise InvalidInput(f"invalid sort {sort!r}: use one of {', '.join(SORTS)}")
    needle = text.strip().casefold()
    chosen = [s for s in summaries if _matches(s, needle) and _has_status(s, status)]
    return sorted(chosen, key=key)


def _matches(summary: SiteSummary, needle: str) -> bool:
    return not needle or needle in summary.site_id.casefold() or needle in (summary.name or "").casefold()


def _has_status(summary: SiteSummary, status: str) -> bool:
    if not status:
        return True
    if status == "failing":
        return summary.is_failing
    if status == "never":
        return summary.activity is None
    try:
        return summary.status is SiteStatus(status)
    except ValueError:
        raise InvalidInput(f"invalid status {status!r}: use failing, never or a report status") from None
