"""The job queue's use cases (services/jobs.py) and rules (domain/jobs.py, domain/schedules.py) against
an in-memory fake of the JobQueue port and the sync fakes; procrastinate's worker itself runs the app's
tasks on its InMemoryConnector. Real queues, workers and PostgreSQL: tests/e2e/test_queue_workers.py.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from outagesync.domain.jobs import (
    FINISHED_STATES,
    Batch,
    JobFilter,
    JobInfo,
    JobPage,
    JobState,
    RunFlags,
    batches,
    is_transient,
    job_run_id,
    retry_delay_s,
)
from outagesync.domain.models import SiteStatus, Trigger
from outagesync.domain.schedules import check_schedule, latest_due
from outagesync.errors import (
    ConfigError,
    InvalidInput,
    InvalidSiteId,
    JobNotFound,
    PayloadRejected,
    UpstreamUnavailable,
)
from outagesync.services import jobs
from outagesync.services.ports import Deferred, JobQueue
from outagesync.services.sync import Locking, SyncOptions

from .fakes import FakeClock, FakeLocks, FakeReportStore, FakeSiteStore, FakeUpstream, managed_site
from .test_sync_use_case import CUTOFF, OUTAGES, SITE_INFOS


class FakeQueue:
    """The JobQueue port in memory: jobs by id, a site waiting in at most one `todo` job, due times
    claimed once (as the adapter's SQL does)."""

    def __init__(self) -> None:
        self.jobs: dict[int, JobInfo] = {}
        self.delays: dict[int, float] = {}
        self.claimed: dict[str, datetime] = {}

    async def defer_batches(self, batches: Sequence[Batch], *, delay_s: float = 0) -> list[Deferred]:
        waiting = {s for job in self.jobs.values() if job.state is JobState.TODO for s in job.batch.site_ids}
        deferred = []
        for batch in batches:
            sites = tuple(s for s in batch.site_ids if s not in waiting)
            if not sites:
                deferred.append(Deferred(None, ()))
                continue
            waiting.update(sites)
            job_id = len(self.jobs) + 1
            job_batch = Batch(sites, batch.trigger, batch.attempt, batch.retry_of, batch.flags)
            self.jobs[job_id] = JobInfo(job_id, JobState.TODO, job_batch, 0, None, None, None, None)
            self.delays[job_id] = delay_s
            deferred.append(Deferred(job_id, sites))
        return deferred

    async def defer_due(self, due: Mapping[str, datetime], *, batch_size: int) -> list[Deferred]:
        claimed = [s for s, at in due.items() if s not in self.claimed or self.claimed[s] < at]
        self.claimed.update({s: due[s] for s in claimed})
        return await self.defer_batches([Batch(ids, "schedule") for ids in batches(claimed, batch_size)])

    async def list_jobs(self, where: JobFilter, *, limit: int, before: int | None = None) -> JobPage:
        found = [
            job
            for job_id, job in sorted(self.jobs.items(), reverse=True)
            if (before is None or job_id < before)
            and (where.state is None or job.state is where.state)
            and (where.retry_of is None or job.batch.retry_of == where.retry_of)
            and (where.site_id is None or where.site_id in job.batch.site_ids)
        ]
        return JobPage(found[:limit], found[limit - 1].job_id if len(found) > limit else None)

    async def get_job(self, job_id: int) -> JobInfo:
        if job_id not in self.jobs:
            raise JobNotFound(f"no job with id {job_id}")
        return self.jobs[job_id]

    async def cancel_job(self, job_id: int) -> bool:
        job = await self.get_job(job_id)
        if job.state in FINISHED_STATES:
            return False
        self.jobs[job_id] = JobInfo(job_id, JobState.CANCELLED, job.batch, 0, None, None, None, None)
        return True

    def finish(self, job_id: int, state: JobState = JobState.SUCCEEDED) -> None:
        job = self.jobs[job_id]
        self.jobs[job_id] = JobInfo(job_id, state, job.batch, 1, None, None, None, None)


def _conforms(queue: FakeQueue) -> JobQueue:
    return queue  # type-checked: the fake implements the port


# --- rules -------------------------------------------------------------------------------------------


def test_batches_split_in_order_without_duplicates() -> None:
    assert list(batches(["a", "b", "a", "c", "d", "e"], 2)) == [("a", "b"), ("c", "d"), ("e",)]


def test_only_transient_failures_are_retried() -> None:
    assert [is_transient(code) for code in ("upstream-unavailable", "site-busy", "storage-unavailable")] == [
        True,
        True,
        True,
    ]
    assert [is_transient(code) for code in ("upstream-rejected-payload", "unknown-site", None)] == [
        False,
        False,
        False,
    ]


def test_the_backoff_doubles_from_the_initial_delay_up_to_its_cap() -> None:
    assert [retry_delay_s(n, initial_s=30) for n in (1, 2, 3)] == [30.0, 60.0, 120.0]
    assert retry_delay_s(20, initial_s=30, max_s=3600) == 3600.0


def test_a_job_run_id_has_a_fixed_width() -> None:
    assert job_run_id(123) == "job-000000000123"


def test_schedules_are_five_field_cron_expressions() -> None:
    assert check_schedule("  */15   * * * *") == "*/15 * * * *"
    assert check_schedule("") is None
    for bad in ("* * * *", "* * * * * *", "61 * * * *", "every minute"):
        with pytest.raises(InvalidInput, match=r"^invalid schedule '.*': use a 5-field cron expression"):
            check_schedule(bad)


def test_the_due_time_of_a_tick_is_the_latest_firing_at_or_before_it() -> None:
    at = datetime(2030, 1, 1, 10, 15, 0, tzinfo=UTC)
    assert latest_due("*/15 * * * *", at) == at
    assert latest_due("*/15 * * * *", at + timedelta(seconds=59)) == at
    assert latest_due("*/15 * * * *", at - timedelta(seconds=1)) == datetime(2030, 1, 1, 10, 0, tzinfo=UTC)


# --- enqueue -----------------------------------------------------------------------------------------


async def test_sites_are_deferred_in_batches_and_a_waiting_site_is_not_queued_twice() -> None:
    queue = FakeQueue()
    first = await jobs.enqueue_sites(["a", "b", "c"], queue=queue, batch_size=2, trigger="cli")
    assert first == [Deferred(1, ("a", "b")), Deferred(2, ("c",))]
    again = await jobs.enqueue_sites(["c", "d"], queue=queue, batch_size=2, trigger="cli")
    assert again == [Deferred(3, ("d",))]
    queue.finish(1)  # a and b ran: no longer waiting
    assert await jobs.enqueue_sites(["a"], queue=queue, batch_size=2, trigger="cli") == [Deferred(4, ("a",))]


async def test_enqueue_checks_site_ids_and_needs_some() -> None:
    with pytest.raises(InvalidSiteId):
        await jobs.enqueue_sites(["../x"], queue=FakeQueue(), batch_size=2, trigger="cli")
    with pytest.raises(InvalidInput, match="give site ids to enqueue, or --all"):
        await jobs.enqueue_sites([], queue=FakeQueue(), batch_size=2, trigger="cli")
    with pytest.raises(ConfigError, match="nothing to enqueue"):
        await jobs.enqueue_managed_sites(
            sites=FakeSiteStore(), queue=FakeQueue(), batch_size=2, trigger="cli"
        )


async def test_enqueue_all_defers_the_enabled_managed_sites() -> None:
    sites = FakeSiteStore([managed_site("a"), managed_site("b", enabled=False), managed_site("c")])
    queue = FakeQueue()
    deferred = await jobs.enqueue_managed_sites(sites=sites, queue=queue, batch_size=200, trigger="api")
    assert deferred == [Deferred(1, ("a", "c"))]
    assert queue.jobs[1].batch == Batch(("a", "c"), "api")


# --- one batch -----------------------------------------------------------------------------------------


async def _run(batch: Batch, upstream: FakeUpstream, queue: FakeQueue, retries: int = 3) -> list[SiteStatus]:
    reports = FakeReportStore()
    report = await jobs.run_batch(
        7,
        batch,
        options=SyncOptions(since=CUTOFF),
        retry=jobs.RetryPolicy(retries, backoff_s=30),
        upstream=upstream,
        reports=reports,
        sites=FakeSiteStore(),
        locking=Locking(FakeLocks()),
        queue=queue,
        clock=FakeClock(),
    )
    assert report.run_id == "job-000000000007"
    assert [run.run_id for run in reports.saved] == ["job-000000000007"]
    assert report.trigger is (Trigger.SCHEDULE if batch.trigger == "schedule" else Trigger.QUEUE)
    return [site.status for site in report.sites]


async def test_a_batch_syncs_with_one_get_outages_and_only_transient_failures_get_a_new_job() -> None:
    upstream = FakeUpstream(OUTAGES, SITE_INFOS)
    upstream.reply_post("alpha", UpstreamUnavailable("POST /site-outages: 503 after 5 attempts", attempts=5))
    upstream.reply_post("beta", PayloadRejected("the upstream rejected the payload: bad", attempts=1))
    queue = FakeQueue()
    statuses = await _run(Batch(("alpha", "beta", "gamma"), "cli"), upstream, queue)
    assert statuses == [SiteStatus.FAILED, SiteStatus.FAILED, SiteStatus.SUCCEEDED]
    assert len(upstream.fetch_outages_calls) == 1
    assert queue.jobs[1].batch == Batch(("alpha",), "cli", attempt=2, retry_of=7)
    assert queue.delays == {1: 30.0}


async def test_a_jobs_flags_shape_its_run_and_go_with_its_retry() -> None:
    upstream = FakeUpstream(OUTAGES, SITE_INFOS)
    upstream.reply_post("alpha", UpstreamUnavailable("POST /site-outages: 503", attempts=5))
    queue = FakeQueue()
    skipping = RunFlags(skip_invalid=True, since="2022-01-01T00:00:00Z")
    await _run(Batch(("alpha", "gamma"), "api", flags=skipping), upstream, queue)
    assert upstream.fetch_outages_calls[0].skip_invalid is True
    assert queue.jobs[1].batch == Batch(("alpha",), "api", attempt=2, retry_of=7, flags=skipping)

    dry = FakeUpstream(OUTAGES, SITE_INFOS)
    statuses = await _run(Batch(("alpha",), "api", flags=RunFlags(dry_run=True)), dry, FakeQueue())
    assert (statuses, dry.post_calls) == ([SiteStatus.DRY_RUN], [])


def test_flags_round_trip_through_job_arguments() -> None:
    flags = RunFlags(dry_run=True, allow_empty=True, since="2023-01-01T00:00:00.000Z")
    assert flags.to_args() == {"dry_run": True, "allow_empty": True, "since": "2023-01-01T00:00:00.000Z"}
    assert RunFlags.from_args(flags.to_args()) == flags
    assert RunFlags().to_args() == {}
    assert RunFlags.from_args(None) == RunFlags()


async def test_a_bad_cutoff_is_refused_before_anything_is_queued() -> None:
    queue = FakeQueue()
    with pytest.raises(InvalidInput, match="invalid cutoff 'soon'"):
        await jobs.enqueue_sites(
            ["a"], queue=queue, batch_size=2, trigger="api", flags=RunFlags(since="soon")
        )
    assert queue.jobs == {}


async def test_the_last_allowed_retry_leads_to_no_other() -> None:
    upstream = FakeUpstream(OUTAGES, SITE_INFOS)
    upstream.reply_post("alpha", UpstreamUnavailable("POST /site-outages: 503", attempts=5))
    queue = FakeQueue()
    await _run(Batch(("alpha",), "schedule", attempt=3), upstream, queue, retries=3)
    assert queue.jobs[1].batch == Batch(("alpha",), "schedule", attempt=4, retry_of=7)
    assert queue.delays == {1: 120.0}
    again = FakeQueue()
    upstream.reply_post("alpha", UpstreamUnavailable("POST /site-outages: 503", attempts=5))
    await _run(Batch(("alpha",), "schedule", attempt=4), upstream, again, retries=3)
    assert again.jobs == {}


# --- schedules ---------------------------------------------------------------------------------------


async def test_each_due_time_enqueues_a_site_once_and_missed_ticks_are_caught_up_once() -> None:
    created = datetime(2023, 6, 1, tzinfo=UTC)
    sites = FakeSiteStore([managed_site("a"), managed_site("b"), managed_site("off", enabled=False)])
    sites.sites["a"] = replace(sites.sites["a"], schedule="*/15 * * * *")
    queue = FakeQueue()
    tick = datetime(2030, 1, 1, 10, 15, tzinfo=UTC)

    async def scan(at: datetime, default: str | None = None) -> list[Deferred]:
        return await jobs.enqueue_due_sites(
            at, sites=sites, queue=queue, default_schedule=default, batch_size=200
        )

    assert await scan(tick) == [Deferred(1, ("a",))]
    assert await scan(tick) == []  # the same tick again (another worker): nothing
    assert await scan(tick + timedelta(minutes=1)) == []  # a later tick, the same due time
    queue.finish(1)
    assert await scan(tick + timedelta(hours=2, minutes=7)) == [Deferred(2, ("a",))]  # 8 ticks missed: once
    # a site still waiting is not queued again; the default schedule applies to the sites without one
    assert await scan(tick + timedelta(hours=3), default="0 * * * *") == [Deferred(3, ("b",))]
    queue.finish(2)
    queue.finish(3)
    assert await scan(tick + timedelta(hours=4), default="0 * * * *") == [Deferred(4, ("a", "b"))]
    # none before the site existed
    assert created < tick
    assert (
        await jobs.enqueue_due_sites(
            created - timedelta(days=1),
            sites=sites,
            queue=FakeQueue(),
            default_schedule="* * * * *",
            batch_size=9,
        )
        == []
    )


# --- list, show, cancel, retry, wait -----------------------------------------------------------------


async def test_cancel_and_retry_need_the_right_states() -> None:
    queue = FakeQueue()
    await jobs.enqueue_sites(["a"], queue=queue, batch_size=2, trigger="cli")
    with pytest.raises(InvalidInput, match=r"^job 1 is todo: retry it once it has finished$"):
        await jobs.retry_job(1, queue=queue)
    assert (await jobs.cancel_job(1, queue=queue)).state is JobState.CANCELLED
    with pytest.raises(InvalidInput, match=r"^job 1 has already finished \(cancelled\): nothing to cancel$"):
        await jobs.cancel_job(1, queue=queue)
    assert await jobs.retry_job(1, queue=queue) == [Deferred(2, ("a",))]
    assert queue.jobs[2].batch == Batch(("a",), "cli", attempt=2, retry_of=1)
    with pytest.raises(JobNotFound, match=r"^no job with id 9$"):
        await jobs.cancel_job(9, queue=queue)


async def test_wait_follows_retries_to_each_sites_last_outcome() -> None:
    queue = FakeQueue()
    await jobs.enqueue_sites(["a", "b"], queue=queue, batch_size=2, trigger="cli")
    sleeps: list[float] = []

    class Reports:
        def list_reports(self, where: object, *, limit: int, after: object = None) -> object:
            from outagesync.domain.reports import ReportPage

            return ReportPage((), None)

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        if len(sleeps) == 1:
            queue.finish(1)
            await queue.defer_batches([Batch(("b",), "cli", 2, retry_of=1)])
        else:
            queue.finish(2)

    outcome = await jobs.wait_for_jobs([1], queue=queue, reports=Reports(), sleep=sleep)  # type: ignore[arg-type]
    assert outcome == {"a": "failed", "b": "failed"}  # no report stored for either: failed
    assert sleeps == [0.5, 0.5]


async def test_without_a_queue_no_job_exists_and_none_can_be_deferred() -> None:
    none = jobs.NoQueue()
    assert await jobs.list_jobs(queue=none, where=JobFilter(), limit=50) == JobPage([], None)
    with pytest.raises(
        JobNotFound, match=r"^no job with id 3 \(no job queue: the database is not PostgreSQL\)$"
    ):
        await jobs.show_job(3, queue=none, reports=None)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="needs PostgreSQL"):
        await jobs.enqueue_sites(["a"], queue=none, batch_size=2, trigger="api")
