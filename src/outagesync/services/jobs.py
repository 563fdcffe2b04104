"""Use cases of the job queue: defer sites in batches, run one batch (a worker's job), defer the sites a
schedule makes due, list, show, cancel and retry jobs, wait for jobs. Never prints or reads settings.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from outagesync.domain.ids import check_site_id
from outagesync.domain.jobs import (
    DEFAULT_FLAGS,
    FINISHED_STATES,
    Batch,
    JobFilter,
    JobInfo,
    JobPage,
    JobSiteOutcome,
    JobState,
    RunFlags,
    batches,
    is_transient,
    job_run_id,
    retry_delay_s,
)
from outagesync.domain.models import RunReport, SiteStatus, Trigger
from outagesync.domain.reports import ReportFilter, check_limit
from outagesync.domain.schedules import latest_due
from outagesync.domain.timestamps import parse_cutoff
from outagesync.errors import ConfigError, InvalidInput, JobNotFound
from outagesync.services.ports import Deferred, JobQueue, ReportHistory, ReportStore, SiteStore, Upstream
from outagesync.services.site_runs import Clock
from outagesync.services.sync import Locking, SyncOptions, sync_sites

NOTHING_TO_ENQUEUE = (
    "nothing to enqueue: --all found no enabled managed site; add one with `outagesync sites add SITE_ID`"
)


class NoQueue:
    """The JobQueue of a deployment without one (SQLite): no job exists; deferring is a ConfigError."""

    async def defer_batches(self, batches: Sequence[Batch], *, delay_s: float = 0) -> list[Deferred]:
        raise ConfigError("the job queue needs PostgreSQL (OUTAGESYNC_DATABASE_URL)")

    async def defer_due(self, due: Mapping[str, datetime], *, batch_size: int) -> list[Deferred]:
        raise ConfigError("the job queue needs PostgreSQL (OUTAGESYNC_DATABASE_URL)")

    async def list_jobs(self, where: JobFilter, *, limit: int, before: int | None = None) -> JobPage:
        return JobPage([], None)

    async def get_job(self, job_id: int) -> JobInfo:
        raise JobNotFound(f"no job with id {job_id} (no job queue: the database is not PostgreSQL)")

    async def cancel_job(self, job_id: int) -> bool:
        raise JobNotFound(f"no job with id {job_id} (no job queue: the database is not PostgreSQL)")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Jobs for a batch's transiently failed sites: up to `retries` of them, `backoff_s` doubled each."""

    retries: int
    backoff_s: float


async def enqueue_sites(
    site_ids: Sequence[str],
    *,
    queue: JobQueue,
    batch_size: int,
    trigger: str,
    flags: RunFlags = DEFAULT_FLAGS,
) -> list[Deferred]:
    """Defer the sites in batches of at most `batch_size` (a site already waiting is left out).

    Raises InvalidSiteId for a bad id, InvalidInput for none, StorageError when the queue is down."""
    if not site_ids:
        raise InvalidInput("give site ids to enqueue, or --all")
    for site_id in site_ids:
        check_site_id(site_id)
    if flags.since is not None:
        try:
            parse_cutoff(flags.since)
        except ValueError:
            raise InvalidInput(f"invalid cutoff {flags.since!r}: use ISO 8601") from None
    todo = [Batch(ids, trigger, flags=flags) for ids in batches(site_ids, batch_size)]
    return await queue.defer_batches(todo)


async def enqueue_managed_sites(
    *, sites: SiteStore, queue: JobQueue, batch_size: int, trigger: str, flags: RunFlags = DEFAULT_FLAGS
) -> list[Deferred]:
    """Defer every enabled managed site (`enqueue --all`, `POST /sync` on the queue); ConfigError if none."""
    managed = await asyncio.to_thread(sites.list_sites, enabled_only=True)
    if not managed:
        raise ConfigError(NOTHING_TO_ENQUEUE)
    return await enqueue_sites(
        [site.site_id for site in managed], queue=queue, batch_size=batch_size, trigger=trigger, flags=flags
    )


async def run_batch(
    job_id: int,
    batch: Batch,
    *,
    options: SyncOptions,
    retry: RetryPolicy,
    upstream: Upstream,
    reports: ReportStore,
    sites: SiteStore,
    locking: Locking,
    queue: JobQueue,
    clock: Clock,
) -> RunReport:
    """Sync a job's batch as the CLI would (one GET /outages, per-site locks, the report stored as run
    `job-<id>`: a job run again after a crash replaces its unfinished record), with the managed sites'
    own cutoffs. The sites that failed transiently (is_transient) go to a new job, after a backoff,
    while the batch's attempt is within `retry.retries`; the others are not retried.
    """
    managed = await asyncio.to_thread(sites.list_sites)
    wanted = set(batch.site_ids)
    overrides = {s.site_id: s.since for s in managed if s.site_id in wanted and s.since is not None}
    flags = batch.flags
    if flags.since is not None:  # asked for this job: it beats the sites' own cutoffs
        overrides = dict.fromkeys(batch.site_ids, parse_cutoff(flags.since))
    allowing = frozenset(s.site_id for s in managed if s.site_id in wanted and s.allow_empty)
    trigger = Trigger.SCHEDULE if batch.trigger == "schedule" else Trigger.QUEUE
    run_options = replace(
        options,
        run_id=job_run_id(job_id),
        trigger=trigger,
        since_by_site={**options.since_by_site, **overrides},
        allow_empty_sites=options.allow_empty_sites | allowing,
        dry_run=options.dry_run or flags.dry_run,
        skip_invalid=options.skip_invalid or flags.skip_invalid,
        allow_empty=options.allow_empty or flags.allow_empty,
    )
    report = await sync_sites(
        batch.site_ids, options=run_options, upstream=upstream, reports=reports, clock=clock, locking=locking
    )
    again = tuple(
        site.site_id
        for site in report.sites
        if site.status is not SiteStatus.SUCCEEDED and is_transient(site.error.code if site.error else None)
    )
    if again and batch.attempt <= retry.retries:
        delay = retry_delay_s(batch.attempt, initial_s=retry.backoff_s)
        next_try = Batch(again, batch.trigger, batch.attempt + 1, retry_of=job_id, flags=flags)
        await queue.defer_batches([next_try], delay_s=delay)
    return report


async def enqueue_due_sites(
    at: datetime, *, sites: SiteStore, queue: JobQueue, default_schedule: str | None, batch_size: int
) -> list[Deferred]:
    """Defer each enabled managed site whose schedule (its own, else `default_schedule`) fell due at or
    before `at` (a schedule tick), once per due time however many workers ask: ticks missed while no
    worker ran are caught up once, by the latest. A schedule counts from the site's creation on."""
    managed = await asyncio.to_thread(sites.list_sites, enabled_only=True)
    due = {}
    for site in managed:
        schedule = site.schedule or default_schedule
        if schedule is None:
            continue
        when = latest_due(schedule, at)
        if when >= site.created_at.replace(second=0, microsecond=0):
            due[site.site_id] = when
    return await queue.defer_due(due, batch_size=batch_size) if due else []


async def list_jobs(*, queue: JobQueue, where: JobFilter, limit: int, before: int | None = None) -> JobPage:
    """Jobs newest first, `limit` (1..500) of them with ids below `before`."""
    if where.site_id is not None:
        check_site_id(where.site_id)
    return await queue.list_jobs(where, limit=check_limit(limit), before=before)


async def show_job(job_id: int, *, queue: JobQueue, reports: ReportHistory) -> JobInfo:
    """The job with the site reports its run produced (none while it waits); JobNotFound."""
    job = await queue.get_job(job_id)
    page = await asyncio.to_thread(reports.list_reports, ReportFilter(run_id=job_run_id(job_id)), limit=500)
    outcomes = tuple(
        JobSiteOutcome(
            stored.site.report_id,
            stored.site.site_id,
            stored.site.status.value,
            stored.site.error.code if stored.site.error else None,
        )
        for stored in sorted(page.reports, key=lambda stored: stored.site.site_id)
    )
    return replace(job, reports=outcomes)


async def cancel_job(job_id: int, *, queue: JobQueue) -> JobInfo:
    """Cancel a waiting job (a running one is asked to stop: its unfinished sites end `interrupted`).

    Raises JobNotFound, InvalidInput when the job had already finished."""
    job = await queue.get_job(job_id)
    if job.state in FINISHED_STATES or not await queue.cancel_job(job_id):
        raise InvalidInput(f"job {job_id} has already finished ({job.state.value}): nothing to cancel")
    return await queue.get_job(job_id)


async def retry_job(job_id: int, *, queue: JobQueue) -> list[Deferred]:
    """A new job for the sites of a finished job (its retry); InvalidInput while the job waits or runs."""
    job = await queue.get_job(job_id)
    if job.state not in FINISHED_STATES:
        raise InvalidInput(f"job {job_id} is {job.state.value}: retry it once it has finished")
    again = Batch(
        job.batch.site_ids, job.batch.trigger, job.batch.attempt + 1, retry_of=job_id, flags=job.batch.flags
    )
    return await queue.defer_batches([again])


async def wait_for_jobs(
    job_ids: Sequence[int],
    *,
    queue: JobQueue,
    reports: ReportHistory,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    poll_s: float = 0.5,
) -> dict[str, str]:
    """Wait until the jobs and the retries they lead to have finished; {site id: its last status}
    (a site a failed job left without a report: "failed")."""
    pending = list(job_ids)
    last: dict[str, str] = {}
    while pending:
        job = await queue.get_job(pending[0])
        if job.state not in FINISHED_STATES:
            await sleep(poll_s)
            continue
        pending.pop(0)
        shown = await show_job(job.job_id, queue=queue, reports=reports)
        for site_id in job.batch.site_ids:
            last[site_id] = SiteStatus.FAILED.value
        for outcome in shown.reports:
            last[outcome.site_id] = outcome.status
        retries = await queue.list_jobs(JobFilter(retry_of=job.job_id), limit=500)
        pending.extend(retry.job_id for retry in retries.items)
    return last


__all__ = [
    "JobState",
    "RetryPolicy",
    "cancel_job",
    "enqueue_due_sites",
    "enqueue_managed_sites",
    "enqueue_sites",
    "list_jobs",
    "retry_job",
    "run_batch",
    "show_job",
    "wait_for_jobs",
]
