"""The worker's procrastinate app (adapters/queue/worker.py) on procrastinate's InMemoryConnector: the
batch task hands its job to the use case and times it; the schedule scan gets its tick as an instant; a
job stopped by a shutdown runs again, a site's failure never fails a job. PostgreSQL: tests/e2e.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import procrastinate.testing  # InMemoryConnector: imported explicitly, as procrastinate asks
from procrastinate import exceptions as procrastinate_errors
from procrastinate.jobs import Job

from outagesync.adapters.queue.jobs import QUEUE_NAME, SCAN_TASK, SYNC_TASK
from outagesync.adapters.queue.metrics import QueueMetrics
from outagesync.adapters.queue.worker import _RunAgain, build_app
from outagesync.domain.jobs import Batch
from outagesync.domain.models import RunReport, Trigger
from outagesync.errors import StorageError, UpstreamUnavailable


async def test_the_batch_task_runs_the_use_case_with_the_jobs_id_and_batch_and_times_it() -> None:
    ran: list[tuple[int, Batch]] = []
    scanned: list[datetime] = []

    async def run_batch(job_id: int, batch: Batch) -> RunReport:
        ran.append((job_id, batch))
        now = datetime(2030, 1, 1, tzinfo=UTC)
        return RunReport("job-1", Trigger.QUEUE, now, now, "", False, ())

    async def scan(at: datetime) -> None:
        scanned.append(at)

    metrics = QueueMetrics()
    app = build_app("", run_batch=run_batch, scan=scan, metrics=metrics, max_attempts=3)
    connector = procrastinate.testing.InMemoryConnector()
    with app.replace_connector(connector):
        async with app.open_async():
            job_id = await app.configure_task(SYNC_TASK, queue=QUEUE_NAME).defer_async(
                site_ids=["a", "b"], trigger="cli", attempt=2, retry_of=7
            )
            await app.configure_task(SCAN_TASK, queue=QUEUE_NAME).defer_async(timestamp=1893456000)
            await asyncio.wait_for(app.run_worker_async(wait=False, install_signal_handlers=False), 10)
    assert ran == [(job_id, Batch(("a", "b"), "cli", 2, 7))]
    assert scanned[0] == datetime(2030, 1, 1, tzinfo=UTC)  # then the worker's own scan of this minute
    text = metrics.exposition().decode()
    assert 'outagesync_batch_duration_seconds_count{outcome="succeeded"} 1.0' in text


def test_a_job_stopped_by_a_shutdown_or_a_store_failure_runs_again_a_bug_does_not() -> None:
    strategy = _RunAgain(max_attempts=3)
    job = Job(id=1, queue=QUEUE_NAME, lock=None, queueing_lock=None, task_name=SYNC_TASK, attempts=0)
    for stopped in (asyncio.CancelledError(), procrastinate_errors.JobAborted(), StorageError("down")):
        decision = strategy.get_retry_decision(exception=stopped, job=job)
        assert decision is not None
    assert strategy.get_retry_decision(exception=UpstreamUnavailable("x", attempts=1), job=job) is None
    assert strategy.get_retry_decision(exception=KeyError("bug"), job=job) is None
    worn = Job(id=1, queue=QUEUE_NAME, lock=None, queueing_lock=None, task_name=SYNC_TASK, attempts=3)
    assert strategy.get_retry_decision(exception=asyncio.CancelledError(), job=worn) is None
