"""REST routes that run the sync: preview a site's list, sync a site, sync every enabled managed site.

Parse, await the use case (services.one_site, services.sync), render the report or its problem.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi.responses import JSONResponse

from outagesync import bootstrap
from outagesync.defaults import PREVIEW_ITEMS, PREVIEW_ITEMS_MAX
from outagesync.domain.jobs import JobFilter, JobState, RunFlags
from outagesync.domain.models import RunReport, Trigger
from outagesync.domain.reports import StoredReport
from outagesync.domain.timestamps import isoformat
from outagesync.entrypoints.api.background import Accepted, Recorded
from outagesync.entrypoints.api.deps import (
    ApiState,
    StateDep,
    UpstreamDep,
    now,
    require_api_key,
    require_token,
)
from outagesync.entrypoints.api.params import AllowEmpty, DryRun, Since, SiteIdPath, SkipInvalid
from outagesync.entrypoints.api.problems import (
    PROBLEMS,
    failed_site_response,
    problem_response,
    problem_responses,
)
from outagesync.entrypoints.api.schemas import JobsQueued, OutagePreview, Report, Run
from outagesync.errors import StorageError
from outagesync.presenters.jobs import job_to_dict
from outagesync.presenters.json import preview_to_dict, run_report_to_dict, stored_report_to_dict
from outagesync.services import jobs as job_cases
from outagesync.services.one_site import preview_site_outages, sync_site
from outagesync.services.ports import Upstream
from outagesync.services.sync import Locking, sync_managed_sites

PreferHeader = Annotated[
    str | None,
    Header(
        description="`respond-async` (RFC 7240): answer 202 at once while the sync runs on in the server.",
        examples=["respond-async"],
    ),
]
_ACCEPTED = (
    "The sync still runs after OUTAGESYNC_SYNC_WAIT seconds (at once with `Prefer: respond-async`): it "
    "goes on in the server; the body is its run as recorded (status `running`), `Location` its report."
)
_QUEUED = (
    " With OUTAGESYNC_EXECUTION=queue (PostgreSQL), the sync is queued instead (its dry_run, skip_invalid, "
    "allow_empty and since go with the job): the body lists the jobs holding the sites, `Location` is the "
    "first's (`/jobs/{id}`)."
)
_LOCATION = {
    "Location": {"description": "The stored report.", "schema": {"type": "string"}, "required": True}
}

router = APIRouter(
    tags=["sync"],
    dependencies=[Depends(require_token)],
    responses=problem_responses(401, 422, 503),
)


@router.get(
    "/sites/{site_id}/outages",
    response_model=OutagePreview,
    summary="The list a sync of the site would post now (posts and stores nothing)",
    responses=problem_responses(404, 502, 504),
)
async def preview_outages(
    request: Request,
    site_id: SiteIdPath,
    state: StateDep,
    upstream: UpstreamDep,
    since: Since = None,
    limit: Annotated[
        int, Query(ge=1, le=PREVIEW_ITEMS_MAX, description="At most this many items.")
    ] = PREVIEW_ITEMS,
    skip_invalid: SkipInvalid = False,
) -> Response | OutagePreview:
    options = state.sync_options(skip_invalid=skip_invalid)
    result = await preview_site_outages(
        site_id, options=options, upstream=upstream, sites=state.store, clock=now, since=since
    )
    if result.error is not None:
        return failed_site_response(result, request.url.path)
    return OutagePreview.model_validate(preview_to_dict(result, limit=limit))


@router.post(
    "/sites/{site_id}/sync",
    status_code=201,
    response_model=Report,
    summary="Sync the site now; its stored report",
    dependencies=[Depends(require_api_key)],
    responses={
        201: {"headers": _LOCATION},
        202: {"model": Run | JobsQueued, "headers": _LOCATION, "description": _ACCEPTED + _QUEUED},
        **problem_responses(404, 409, 502, 504),
    },
)
async def sync_one(
    request: Request,
    response: Response,
    site_id: SiteIdPath,
    state: StateDep,
    since: Since = None,
    dry_run: DryRun = False,
    skip_invalid: SkipInvalid = False,
    allow_empty: AllowEmpty = False,
    prefer: PreferHeader = None,
) -> Response | Report:
    if state.queued:
        cutoff = isoformat(since) if since is not None else None
        return await _enqueue(state, [site_id], RunFlags(dry_run, skip_invalid, allow_empty, cutoff))
    options = state.sync_options(dry_run=dry_run, skip_invalid=skip_invalid, allow_empty=allow_empty)

    async def use_case(upstream: Upstream, locking: Locking, on_recorded: Recorded) -> RunReport:
        return await sync_site(
            site_id,
            options=options,
            upstream=upstream,
            sites=state.store,
            reports=bootstrap.observed_reports(state.store, state.telemetry),
            clock=now,
            since=since,
            locking=locking,
            on_recorded=on_recorded,
        )

    report = await _run(state, prefer, use_case)
    if isinstance(report, Accepted):
        return _accepted(f"/reports/{report.running.sites[0].report_id}", report.running, prefer)
    site = report.sites[0]
    if report.storage_error is not None:
        return _not_stored(report, request.url.path)
    if not site.ok:
        return failed_site_response(site, request.url.path, run_id=report.run_id)
    response.headers["Location"] = f"/reports/{site.report_id}"
    # the shape GET /reports/{id} gives (this response holds every item)
    return Report.model_validate(stored_report_to_dict(StoredReport.of(report, site)))


@router.post(
    "/sync",
    response_model=Run,
    summary="Sync every enabled managed site now; the run's report",
    description="200 whatever the sites' outcomes: `status` and each site's `status` and `error` tell.",
    dependencies=[Depends(require_api_key)],
    responses={202: {"model": Run | JobsQueued, "headers": _LOCATION, "description": _ACCEPTED + _QUEUED}},
)
async def sync_all(
    request: Request,
    state: StateDep,
    dry_run: DryRun = False,
    skip_invalid: SkipInvalid = False,
    allow_empty: AllowEmpty = False,
    prefer: PreferHeader = None,
) -> Response | Run:
    if state.queued:
        return await _enqueue(state, None, RunFlags(dry_run, skip_invalid, allow_empty))
    options = state.sync_options(dry_run=dry_run, skip_invalid=skip_invalid, allow_empty=allow_empty)

    async def use_case(upstream: Upstream, locking: Locking, on_recorded: Recorded) -> RunReport:
        return await sync_managed_sites(
            sites=state.store,
            options=options,
            upstream=upstream,
            reports=bootstrap.observed_reports(state.store, state.telemetry),
            clock=now,
            locking=locking,
            on_recorded=on_recorded,
        )

    report = await _run(state, prefer, use_case)
    if isinstance(report, Accepted):
        return _accepted(f"/reports?run={report.running.run_id}", report.running, prefer)
    if report.storage_error is not None:
        return _not_stored(report, request.url.path)
    return Run.model_validate(run_report_to_dict(report, with_items=False))


async def _enqueue(state: ApiState, site_ids: list[str] | None, flags: RunFlags) -> Response:
    """OUTAGESYNC_EXECUTION=queue: the sites go to the queue (every enabled managed one when `site_ids` is
    None); 202 with the jobs holding them, Location the first (a site already waiting: its job)."""
    assert state.queue is not None
    size = state.settings.batch_size
    if site_ids is None:
        deferred = await job_cases.enqueue_managed_sites(
            sites=state.store, queue=state.queue, batch_size=size, trigger="api", flags=flags
        )
    else:
        deferred = await job_cases.enqueue_sites(
            site_ids, queue=state.queue, batch_size=size, trigger="api", flags=flags
        )
    ids = [d.job_id for d in deferred if d.job_id is not None]
    if not ids:  # every site was already waiting: answer with a job that holds the first
        first = site_ids[0] if site_ids else None
        waiting = JobFilter(state=JobState.TODO, site_id=first)
        page = await job_cases.list_jobs(queue=state.queue, where=waiting, limit=1)
        ids = [job.job_id for job in page.items]
    found = [await state.queue.get_job(job_id) for job_id in ids]
    body = {"jobs": [job_to_dict(job) for job in found]}
    headers = {"Location": f"/jobs/{ids[0]}"} if ids else {}
    return JSONResponse(body, status_code=202, headers=headers)


async def _run(
    state: ApiState,
    prefer: str | None,
    use_case: Callable[[Upstream, Locking, Recorded], Awaitable[RunReport]],
) -> RunReport | Accepted:
    """Run a sync use case in the background with its own upstream client and site locks; its report
    within this request's wait, else Accepted."""

    telemetry = state.telemetry

    async def start(on_recorded: Recorded) -> RunReport:
        with telemetry.capturing(), telemetry.run_span(Trigger.API):
            async with bootstrap.open_upstream(state.settings, telemetry) as upstream:
                report = await use_case(upstream, Locking(state.store.open_locks()), on_recorded)
            telemetry.run_done(report)
            return report

    return await state.syncs.run_or_accept(start, wait_s=_wait_s(state, prefer))


def _wait_s(state: ApiState, prefer: str | None) -> float:
    """How long this request waits for its sync: none when it prefers an asynchronous answer."""
    return 0.0 if _wants_async(prefer) else state.settings.sync_wait


def _accepted(location: str, running: RunReport, prefer: str | None) -> Response:
    """202: the sync goes on in the server; its report (status `running` until it ends) is at `location`."""
    headers = {"Location": location}
    if _wants_async(prefer):
        headers["Preference-Applied"] = "respond-async"
    return JSONResponse(run_report_to_dict(running, with_items=False), status_code=202, headers=headers)


def _wants_async(prefer: str | None) -> bool:
    return "respond-async" in {part.strip().lower() for part in (prefer or "").split(",")}


def _not_stored(report: RunReport, instance: str) -> Response:
    """The run happened but its report could not be stored: 503, with the run's outcome in the body."""
    problem = PROBLEMS[StorageError.code]
    return problem_response(
        problem.status,
        f"the sync ran (status: {report.status.value}) but its report could not be stored: "
        f"{report.storage_error}",
        title=problem.title,
        type_uri=problem.uri,
        instance=instance,
        extensions={"run": run_report_to_dict(report, with_items=False)},
    )
