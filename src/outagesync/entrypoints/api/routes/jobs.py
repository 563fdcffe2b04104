"""REST routes for queue jobs: list (filtered, cursor-paged by job id), show (with its reports).

Parse, call services.jobs, render. Without PostgreSQL there is no queue: no job is listed or found.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request

from outagesync.defaults import JOBS_PAGE_SIZE, MAX_PAGE_SIZE
from outagesync.domain.ids import SITE_ID_PATTERN
from outagesync.domain.jobs import JobFilter, JobState
from outagesync.entrypoints.api.deps import QueueDep, StoreDep, require_token
from outagesync.entrypoints.api.problems import problem_responses
from outagesync.entrypoints.api.schemas import Job, JobPage
from outagesync.presenters.jobs import job_to_dict
from outagesync.services import jobs as job_cases

router = APIRouter(
    tags=["jobs"], dependencies=[Depends(require_token)], responses=problem_responses(401, 422, 503)
)


@router.get("/jobs", response_model=JobPage, summary="List queue jobs, newest first")
async def list_jobs(
    request: Request,
    queue: QueueDep,
    state: Annotated[JobState | None, Query(description="Only jobs in this state.")] = None,
    site: Annotated[
        str | None, Query(pattern=SITE_ID_PATTERN, description="Only jobs holding this site.")
    ] = None,
    trigger: Annotated[
        str | None,
        Query(pattern=r"^[a-z]{1,16}$", description="Only jobs queued so: cli, api, schedule."),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="Page size.")] = JOBS_PAGE_SIZE,
    cursor: Annotated[
        int | None, Query(ge=1, description="`next_cursor` of the previous page (a job id).")
    ] = None,
) -> JobPage:
    where = JobFilter(state=state, site_id=site, trigger=trigger)
    page = await job_cases.list_jobs(queue=queue, where=where, limit=limit, before=cursor)
    data: dict[str, Any] = {"items": [job_to_dict(job) for job in page.items], "next_cursor": None}
    data["next"] = None
    if page.next_after is not None:
        data["next_cursor"] = page.next_after
        url = request.url.include_query_params(cursor=page.next_after)
        data["next"] = f"{url.path}?{url.query}"
    return JobPage.model_validate(data)


@router.get(
    "/jobs/{job_id}",
    response_model=Job,
    summary="Show a queue job: state, attempts, sites, the reports it produced",
    responses=problem_responses(404),
)
async def get_job(
    job_id: Annotated[int, Path(ge=1, le=2**63 - 1, description="The job's id.")],
    queue: QueueDep,
    store: StoreDep,
) -> Job:
    job = await job_cases.show_job(job_id, queue=queue, reports=store)
    return Job.model_validate(job_to_dict(job, with_reports=True))
