"""Use cases of the dashboard: the fleet overview, and a site's outage timeline (stored or live).

Plain functions over ports; they never print, read settings or know about HTTP.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta

from outagesync.domain.fleet import FLEET_TREND_RUNS, SiteSummary, order_fleet
from outagesync.domain.ids import check_site_id
from outagesync.domain.models import ManagedSite
from outagesync.domain.reports import StoredReport
from outagesync.domain.timeline import TIMELINE_BARS_MAX, Timeline, timeline_of_items, timeline_of_site
from outagesync.errors import SiteNotManaged
from outagesync.services.ports import FleetHistory, SiteStore, Upstream

FAILURES_WINDOW = timedelta(hours=24)


def fleet_overview(
    *,
    sites: SiteStore,
    history: FleetHistory,
    now: datetime,
    sort: str = "status",
    text: str = "",
    status: str = "",
) -> list[SiteSummary]:
    """Every managed site and every site with reports, failing first (or by `sort`), filtered by `text`
    (in the id or name) and `status` (see domain.fleet.order_fleet). Two store calls for any fleet."""
    managed = {site.site_id: site for site in sites.list_sites()}
    activity = {
        found.site_id: found
        for found in history.site_activity(failures_from=now - FAILURES_WINDOW, trend=FLEET_TREND_RUNS)
    }
    summaries = [
        SiteSummary(
            site_id=site_id,
            name=managed[site_id].name if site_id in managed else None,
            managed=site_id in managed,
            enabled=managed[site_id].enabled if site_id in managed else False,
            activity=activity.get(site_id),
        )
        for site_id in managed.keys() | activity.keys()
    ]
    return order_fleet(summaries, sort=sort, text=text, status=status)


@dataclass(frozen=True, slots=True)
class LiveTimeline:
    """The site's outages as the upstream has them now, kept or dropped by the site's cutoff; `requests`
    is how many upstream requests it took (GET /site-info, GET /outages, retries included)."""

    timeline: Timeline
    site_name: str
    requests: int


def stored_timeline(report: StoredReport, *, max_bars: int = TIMELINE_BARS_MAX) -> Timeline:
    """The timeline of a stored report's list: its kept items (up to the store's items limit)."""
    return timeline_of_items(report.site.items, report.site.since, max_bars=max_bars)


async def live_timeline(
    site_id: str,
    *,
    upstream: Upstream,
    sites: SiteStore,
    default_since: datetime,
    max_bars: int = TIMELINE_BARS_MAX,
) -> LiveTimeline:
    """Every outage of the site's devices from the upstream, now: the ones before the cutoff (the managed
    site's own, else `default_since`) marked dropped. Read-only: GET /site-info and GET /outages, never a
    POST. Upstream failures raise (UpstreamError, InvalidUpstreamData)."""
    site_id = check_site_id(site_id)
    since = await _cutoff(site_id, sites, default_since)
    info = await upstream.fetch_site_info(site_id)
    outages = await upstream.fetch_outages()
    timeline = timeline_of_site(outages.value.outages, info.value, since, max_bars=max_bars)
    return LiveTimeline(timeline, info.value.name, info.attempts + outages.attempts)


async def _cutoff(site_id: str, sites: SiteStore, default_since: datetime) -> datetime:
    try:
        managed: ManagedSite = await asyncio.to_thread(sites.get_site, site_id)
    except SiteNotManaged:
        return default_since
    return managed.since or default_since
