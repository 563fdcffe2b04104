"""The dashboard's pages (GET): the fleet overview, a site, a report. Parse, call the use cases, render.

htmx requests (header HX-Request) for a part of a page get that part only: the fleet table, the items
table, a running report's status.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from outagesync import bootstrap
from outagesync.domain.fleet import SORTS
from outagesync.domain.ids import check_site_id
from outagesync.domain.items_page import page_of_items
from outagesync.domain.models import ManagedSite, SiteStatus
from outagesync.entrypoints.api.deps import ApiState, require_api_key
from outagesync.entrypoints.web.render import PageRoute, page
from outagesync.entrypoints.web.session import StateDep, UserSessionDep
from outagesync.errors import SiteNotManaged
from outagesync.presenters.timeline import timeline_to_dict
from outagesync.services import reports, sites
from outagesync.services.fleet import fleet_overview, live_timeline, stored_timeline

router = APIRouter(prefix="/ui", route_class=PageRoute, include_in_schema=False)
HISTORY_SHOWN = 20
TimelineSource = Annotated[str, Query(pattern="^(stored|live)$")]


def _part(request: Request) -> str | None:
    """Which part of the page an htmx request asks for (its target's id), None for the whole page."""
    return request.headers.get("hx-target") if request.headers.get("hx-request") else None


@router.get("/", name="overview")
def overview(
    request: Request,
    session: UserSessionDep,
    state: StateDep,
    sort: str = "status",
    q: str = "",
    status: str = "",
) -> Response:
    now = datetime.now(UTC)
    summaries = fleet_overview(
        sites=state.store, history=state.store, now=now, sort=sort, text=q, status=status
    )
    context = {
        "summaries": summaries,
        "now": now,
        "sort": sort,
        "sorts": list(SORTS),
        "q": q,
        "status": status,
        "statuses": ["failing", "never", *(s.value for s in SiteStatus)],
    }
    name = "_fleet_table.html" if _part(request) == "fleet" else "overview.html"
    return page(request, name, session, context)


@router.get("/sites/{site_id}", name="site")
async def site_page(
    request: Request,
    site_id: str,
    session: UserSessionDep,
    state: StateDep,
    timeline: TimelineSource = "stored",
) -> Response:
    site_id = check_site_id(site_id)
    store = state.store
    managed = await asyncio.to_thread(_managed, site_id, state)
    history = await asyncio.to_thread(
        reports.list_reports, reports=store, site_id=site_id, limit=HISTORY_SHOWN
    )
    last = await asyncio.to_thread(reports.last_accepted, site_id, reports=store)
    diff = await asyncio.to_thread(reports.diff_reports, last.report_id, reports=store) if last else None
    chart, live_requests, site_name = None, None, None
    if timeline == "live":
        require_api_key(state)
        async with bootstrap.open_upstream(state.settings, state.telemetry) as upstream:
            live = await live_timeline(
                site_id, upstream=upstream, sites=store, default_since=state.options.since
            )
        chart, live_requests, site_name = live.timeline, live.requests, live.site_name
    elif last is not None:
        chart = stored_timeline(last)
    context = {
        "site_id": site_id,
        "site_name": site_name or (managed.name if managed else None),
        "managed": managed,
        "history": history.reports,
        "last": last,
        "diff": diff,
        "timeline": chart,
        "timeline_json": json.dumps(timeline_to_dict(chart)) if chart else None,
        "timeline_source": timeline,
        "live_requests": live_requests,
        "now": datetime.now(UTC),
    }
    return page(request, "site.html", session, context)


def _managed(site_id: str, state: ApiState) -> ManagedSite | None:
    try:
        return sites.get_site(site_id, sites=state.store)
    except SiteNotManaged:
        return None


@router.get("/reports/{report_id}", name="report")
def report_page(
    request: Request,
    report_id: str,
    session: UserSessionDep,
    state: StateDep,
    q: str = "",
    page_number: Annotated[int, Query(alias="page", ge=1)] = 1,
) -> Response:
    report = reports.get_report(report_id, reports=state.store)
    part = _part(request)
    if part == "run-status":
        status_context: dict[str, Any] = {"report": report}
        response = page(request, "_run_status.html", session, status_context)
        if report.site.status is not SiteStatus.RUNNING:
            response.headers["HX-Refresh"] = "true"  # the run ended: show its whole report
        return response
    items = page_of_items(report.site.items, text=q, page=page_number)
    context: dict[str, Any] = {"report": report, "items": items, "q": q}
    if part == "items":
        return page(request, "_items.html", session, context)
    run = reports.list_reports(reports=state.store, run_id=report.run.run_id, limit=500)
    return page(request, "report.html", session, {**context, "run_sites": run.reports})
