"""REST routes that run the sync: preview a site's list, sync a site, sync every enabled managed site.

Parse, await the use case (services.one_site, services.sync), render the report or its problem.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from outagesync.domain.models import RunReport, SiteResult
from outagesync.domain.payload import payload_digest
from outagesync.domain.serialize import isoformat, run_report_to_dict, site_result_to_dict
from outagesync.entrypoints.api_deps import StateDep, UpstreamDep, now, require_token
from outagesync.entrypoints.api_errors import (
    PROBLEMS,
    failed_site_response,
    problem_response,
    problem_responses,
)
from outagesync.entrypoints.api_models import InstantIn, OutageItem, OutagePreview, Report, Run
from outagesync.entrypoints.api_sites import SiteIdPath
from outagesync.errors import StorageError
from outagesync.services.one_site import preview_site_outages, sync_site
from outagesync.services.sync import sync_managed_sites

PREVIEW_ITEMS_MAX = 10_000

Since = Annotated[
    InstantIn | None,
    Query(
        description="Cutoff (ISO 8601 with an offset); default: the managed site's own, else the service's.",
        examples=["2022-01-01T00:00:00Z"],
    ),
]
DryRun = Annotated[bool, Query(description="Post nothing; the report says what would have been posted.")]
SkipInvalid = Annotated[
    bool,
    Query(description="Drop invalid upstream records (listed in the report) instead of failing the site."),
]
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
    limit: Annotated[int, Query(ge=1, le=PREVIEW_ITEMS_MAX, description="At most this many items.")] = 1000,
    skip_invalid: SkipInvalid = False,
) -> Response | OutagePreview:
    options = state.sync_options(skip_invalid=skip_invalid)
    result = await preview_site_outages(
        site_id, options=options, upstream=upstream, sites=state.store, clock=now, since=since
    )
    if result.error is not None:
        return failed_site_response(result, request.url.path)
    return _preview(result, limit)


@router.post(
    "/sites/{site_id}/sync",
    status_code=201,
    response_model=Report,
    summary="Sync the site now; its stored report",
    responses={201: {"headers": _LOCATION}, **problem_responses(404, 502, 504)},
)
async def sync_one(
    request: Request,
    response: Response,
    site_id: SiteIdPath,
    state: StateDep,
    upstream: UpstreamDep,
    since: Since = None,
    dry_run: DryRun = False,
    skip_invalid: SkipInvalid = False,
) -> Response | Report:
    report = await sync_site(
        site_id,
        options=state.sync_options(dry_run=dry_run, skip_invalid=skip_invalid),
        upstream=upstream,
        sites=state.store,
        reports=state.store,
        clock=now,
        since=since,
    )
    site = report.sites[0]
    if report.storage_error is not None:
        return _not_stored(report, request.url.path)
    if not site.ok:
        return failed_site_response(site, request.url.path, run_id=report.run_id)
    response.headers["Location"] = f"/reports/{site.report_id}"
    return _site_report(report, site)


@router.post(
    "/sync",
    response_model=Run,
    summary="Sync every enabled managed site now; the run's report",
    description="200 whatever the sites' outcomes: `status` and each site's `status` and `error` tell.",
)
async def sync_all(
    request: Request,
    state: StateDep,
    upstream: UpstreamDep,
    dry_run: DryRun = False,
    skip_invalid: SkipInvalid = False,
) -> Response | Run:
    report = await sync_managed_sites(
        sites=state.store,
        options=state.sync_options(dry_run=dry_run, skip_invalid=skip_invalid),
        upstream=upstream,
        reports=state.store,
        clock=now,
    )
    if report.storage_error is not None:
        return _not_stored(report, request.url.path)
    return Run.model_validate(run_report_to_dict(report, with_items=False))


def _preview(result: SiteResult, limit: int) -> OutagePreview:
    return OutagePreview(
        site_id=result.site_id,
        since=isoformat(result.since),
        fetched=result.fetched,
        site_devices=result.site_devices,
        kept=result.kept,
        dropped_before_cutoff=result.dropped_before_cutoff,
        dropped_unknown_device=result.dropped_unknown_device,
        invalid=len(result.invalid_records),
        invalid_records=[str(record) for record in result.invalid_records],
        items=[OutageItem(id=i.id, name=i.name, begin=i.begin, end=i.end) for i in result.items[:limit]],
        items_truncated=len(result.items) > limit,
    )


def _site_report(report: RunReport, site: SiteResult) -> Report:
    """The site's report in the shape GET /reports/{id} gives (this response holds every item)."""
    data: dict[str, Any] = site_result_to_dict(site, run_id=report.run_id)
    data.update(
        trigger=report.trigger,
        run_status=report.status,
        dry_run=report.dry_run,
        items_total=len(site.items),
        items_digest=payload_digest(site.items),
        items_truncated=False,
    )
    return Report.model_validate(data)


def _not_stored(report: RunReport, instance: str) -> Response:
    """The run happened but its report could not be stored: 503, with the run's outcome in the body."""
    problem = PROBLEMS[StorageError]
    return problem_response(
        problem.status,
        f"the sync ran (status: {report.status.value}) but its report could not be stored: "
        f"{report.storage_error}",
        title=problem.title,
        type_uri=problem.uri,
        instance=instance,
        extensions={"run": run_report_to_dict(report, with_items=False)},
    )
