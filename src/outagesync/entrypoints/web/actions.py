"""The dashboard's actions: log in and out, sync a site now (confirmed first), preview its list (a dry run),
add, edit, enable or disable a managed site. Every POST is CSRF-checked (session.py). Parse, call, render.

A sync started here runs in the server as the REST API's do (BackgroundSyncs): the browser goes to its
report at once, which shows it running and reloads when it ends.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from fastapi import APIRouter, Request
from starlette.responses import Response

from outagesync import bootstrap
from outagesync.domain.ids import check_site_id
from outagesync.domain.models import ManagedSite, RunReport, Trigger
from outagesync.domain.timestamps import parse_cutoff
from outagesync.entrypoints.api.background import Accepted, Recorded
from outagesync.entrypoints.api.deps import now, require_api_key
from outagesync.entrypoints.web.jobs import enqueue_site
from outagesync.entrypoints.web.render import PageRoute, page, see_other
from outagesync.entrypoints.web.session import (
    AnySessionDep,
    FormDep,
    LoginFormDep,
    SessionsDep,
    StateDep,
    UserSessionDep,
    is_right_token,
)
from outagesync.errors import InvalidInput
from outagesync.services import sites
from outagesync.services.one_site import preview_site_outages, sync_site
from outagesync.services.sync import Locking

router = APIRouter(prefix="/ui", route_class=PageRoute, include_in_schema=False)
PREVIEW_SHOWN = 200


@router.get("/login", name="login")
def login_page(
    request: Request, session: AnySessionDep, sessions: SessionsDep, next: str = "/ui/"
) -> Response:
    if not sessions.needs_login or session.logged_in:
        return see_other(_safe_next(next))
    return page(request, "login.html", session, {"next": _safe_next(next), "failed": False})


@router.post("/login")
def log_in(
    request: Request, form: LoginFormDep, session: AnySessionDep, sessions: SessionsDep, state: StateDep
) -> Response:
    target = _safe_next(form.get("next", "/ui/"))
    if not is_right_token(form.get("token", ""), state):
        context = {"next": target, "failed": True}
        return page(request, "login.html", session, context, status_code=401)
    response = see_other(target)
    sessions.store(response, sessions.new(logged_in=True), request)  # a new CSRF token with the login
    return response


@router.post("/logout")
def log_out(request: Request, form: FormDep, sessions: SessionsDep) -> Response:
    response = see_other("/ui/login" if sessions.needs_login else "/ui/")
    sessions.clear(response, request)
    return response


@router.get("/sites/{site_id}/sync", name="confirm_sync")
def confirm_sync(request: Request, site_id: str, session: UserSessionDep, state: StateDep) -> Response:
    return page(request, "confirm_sync.html", session, {"site_id": _site_id(site_id)})


@router.post("/sites/{site_id}/sync")
async def start_sync(site_id: str, form: FormDep, state: StateDep) -> Response:
    site_id = _site_id(site_id)
    if state.queued:  # a job for the workers: follow it
        job_id = await enqueue_site(state, site_id)
        return see_other(f"/ui/jobs/{job_id}" if job_id is not None else f"/ui/sites/{site_id}")
    require_api_key(state)
    options = state.sync_options()
    telemetry = state.telemetry

    async def start(on_recorded: Recorded) -> RunReport:
        with telemetry.capturing(), telemetry.run_span(Trigger.API):
            async with bootstrap.open_upstream(state.settings, telemetry) as upstream:
                report = await sync_site(
                    site_id,
                    options=options,
                    upstream=upstream,
                    sites=state.store,
                    reports=bootstrap.observed_reports(state.store, telemetry),
                    clock=now,
                    locking=Locking(state.store.open_locks()),
                    on_recorded=on_recorded,
                )
            telemetry.run_done(report)
            return report

    outcome = await state.syncs.run_or_accept(start, wait_s=0.0)
    run = outcome.running if isinstance(outcome, Accepted) else outcome
    return see_other(f"/ui/reports/{run.sites[0].report_id}")


@router.post("/sites/{site_id}/preview")
async def preview(
    request: Request, site_id: str, form: FormDep, session: UserSessionDep, state: StateDep
) -> Response:
    site_id = _site_id(site_id)
    require_api_key(state)
    async with bootstrap.open_upstream(state.settings, state.telemetry) as upstream:
        result = await preview_site_outages(
            site_id, options=state.sync_options(), upstream=upstream, sites=state.store, clock=now
        )
    context = {"site_id": site_id, "result": result, "shown": list(result.items[:PREVIEW_SHOWN])}
    return page(request, "preview.html", session, context)


@router.get("/managed/new", name="new_site")
def new_site(request: Request, session: UserSessionDep) -> Response:
    return page(request, "site_form.html", session, {"site": None, "error": None, "values": {}})


@router.post("/managed/new")
def add_site(request: Request, form: FormDep, session: UserSessionDep, state: StateDep) -> Response:
    try:
        added = sites.add_site(
            form.get("site_id", "").strip(),
            sites=state.store,
            name=form.get("name", "").strip() or None,
            since=_cutoff(form.get("since", "")),
            enabled="enabled" in form,
        )
    except InvalidInput as exc:
        context = {"site": None, "error": str(exc), "values": form}
        return page(request, "site_form.html", session, context, status_code=422)
    return see_other(f"/ui/sites/{added.site_id}")


@router.get("/managed/{site_id}/edit", name="edit_site")
def edit_site(request: Request, site_id: str, session: UserSessionDep, state: StateDep) -> Response:
    site = sites.get_site(site_id, sites=state.store)
    return page(request, "site_form.html", session, {"site": site, "error": None, "values": _values(site)})


@router.post("/managed/{site_id}/edit")
def update_site(
    request: Request, site_id: str, form: FormDep, session: UserSessionDep, state: StateDep
) -> Response:
    site = sites.get_site(site_id, sites=state.store)
    try:
        sites.update_site(
            site.site_id,
            sites=state.store,
            name=form.get("name", "").strip() or None,
            since=_cutoff(form.get("since", "")),
            enabled="enabled" in form,
        )
    except InvalidInput as exc:
        context = {"site": site, "error": str(exc), "values": form}
        return page(request, "site_form.html", session, context, status_code=422)
    return see_other(f"/ui/sites/{site.site_id}")


@router.post("/managed/{site_id}/enabled")
async def set_enabled(site_id: str, form: FormDep, state: StateDep) -> Response:
    enabled = form.get("enabled") == "true"
    site = await asyncio.to_thread(sites.update_site, site_id, sites=state.store, enabled=enabled)
    return see_other(f"/ui/sites/{site.site_id}")


def _site_id(site_id: str) -> str:
    return check_site_id(site_id)


def _cutoff(text: str) -> datetime | None:
    """A cutoff typed in a form ("" for none); InvalidInput when it is not ISO 8601."""
    if not text.strip():
        return None
    try:
        return parse_cutoff(text)
    except ValueError:
        raise InvalidInput(
            f"invalid cutoff {text!r}: give an ISO 8601 time, e.g. 2022-01-01T00:00:00Z"
        ) from None


def _values(site: ManagedSite) -> dict[str, str]:
    since = site.since.isoformat().replace("+00:00", "Z") if site.since else ""
    return {
        "site_id": site.site_id,
        "name": site.name or "",
        "since": since,
        **({"enabled": "on"} if site.enabled else {}),
    }


def _safe_next(target: str) -> str:
    """Only a dashboard path: never another site (an open redirect)."""
    return (
        target
        if target.startswith("/ui/") and not target.startswith("/ui//") and "\\" not in target
        else "/ui/"
    )
