"""With OUTAGESYNC_EXECUTION=queue (PostgreSQL), a sync started from the dashboard is a job for the
workers (services.jobs): the browser follows the job's page, which goes on to the site's report once the
job has run it. Parse, call, render.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from outagesync.domain.jobs import FINISHED_STATES, JobFilter, JobState
from outagesync.entrypoints.api.deps import ApiState, get_queue
from outagesync.entrypoints.web.render import PageRoute, page
from outagesync.entrypoints.web.session import StateDep, UserSessionDep
from outagesync.services import jobs as job_cases

router = APIRouter(prefix="/ui", route_class=PageRoute, include_in_schema=False)


async def enqueue_site(state: ApiState, site_id: str) -> int | None:
    """Queue a sync of the site; the id of the job holding it (a job already waiting with it: that one)."""
    queue = get_queue(state)
    deferred = await job_cases.enqueue_sites(
        [site_id], queue=queue, batch_size=state.settings.batch_size, trigger="api"
    )
    ids = [found.job_id for found in deferred if found.job_id is not None]
    if not ids:  # the site was already waiting in a job
        waiting = JobFilter(state=JobState.TODO, site_id=site_id)
        listed = await job_cases.list_jobs(queue=queue, where=waiting, limit=1)
        ids = [job.job_id for job in listed.items]
    return ids[0] if ids else None


@router.get("/jobs/{job_id}", name="job")
async def job_page(request: Request, job_id: int, session: UserSessionDep, state: StateDep) -> Response:
    job = await job_cases.show_job(job_id, queue=get_queue(state), reports=state.store)
    done = job.state in FINISHED_STATES
    name = "_job_status.html" if request.headers.get("hx-target") == "job-status" else "job.html"
    response = page(request, name, session, {"job": job, "done": done})
    if done and job.reports and name == "_job_status.html":
        response.headers["HX-Redirect"] = f"/ui/reports/{job.reports[0].report_id}"
    return response
