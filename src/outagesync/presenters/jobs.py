"""Queue jobs -> the one JSON shape (`jobs ... --json`, `enqueue --json`, GET /jobs, GET /jobs/{id})."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from outagesync.domain.jobs import JobInfo
from outagesync.domain.timestamps import isoformat
from outagesync.services.ports import Deferred


def job_to_dict(job: JobInfo, *, with_reports: bool = False) -> dict[str, Any]:
    """A job; `reports` (the site reports its run produced) when asked for (`show`, GET /jobs/{id})."""
    data: dict[str, Any] = {
        "id": job.job_id,
        "state": job.state.value,
        "site_ids": list(job.batch.site_ids),
        "trigger": job.batch.trigger,
        "attempt": job.batch.attempt,
        "retry_of": job.batch.retry_of,
        "flags": job.batch.flags.to_args(),
        "attempts": job.attempts,
        "queued_at": _when(job.queued_at),
        "scheduled_at": _when(job.scheduled_at),
        "started_at": _when(job.started_at),
        "finished_at": _when(job.finished_at),
        "run_id": job.run_id,
        "reports_url": f"/reports?run={quote(job.run_id)}",
    }
    if with_reports:
        data["reports"] = [
            {
                "id": outcome.report_id,
                "site_id": outcome.site_id,
                "status": outcome.status,
                "error_code": outcome.error_code,
                "url": f"/reports/{quote(outcome.report_id)}",
            }
            for outcome in job.reports
        ]
    return data


def deferred_to_dict(deferred: list[Deferred]) -> dict[str, Any]:
    """What `enqueue --json` prints: each job deferred, and the sites left out (already waiting)."""
    jobs = [{"id": d.job_id, "site_ids": list(d.site_ids)} for d in deferred if d.job_id is not None]
    return {"jobs": jobs}


def _when(moment: Any) -> str | None:
    return isoformat(moment) if moment is not None else None
