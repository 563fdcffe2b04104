"""A worker process: procrastinate's worker running outagesync's tasks (a batch sync, the schedule scan),
stalled-job recovery, and /metrics. The tasks call back into the use cases bootstrap hands over.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import procrastinate
from procrastinate import exceptions as procrastinate_errors
from procrastinate.jobs import Job
from procrastinate.retry import BaseRetryStrategy, RetryDecision

from outagesync.adapters.queue.jobs import QUEUE_NAME, SCAN_TASK, SYNC_TASK
from outagesync.adapters.queue.metrics import QueueMetrics, serve_metrics
from outagesync.domain.jobs import Batch, RunFlags
from outagesync.domain.models import RunReport
from outagesync.errors import StorageError

log = logging.getLogger("outagesync.queue")
SCAN_CRON = "* * * * *"  # the schedule scan runs each minute (once across every worker: procrastinate)
SHUTDOWN_RETRY_S = 1  # a job stopped by a worker's shutdown waits this long before another takes it


@dataclass(frozen=True, slots=True)
class WorkerConfig:
    conninfo: str
    concurrency: int  # sync jobs at once
    stall_timeout_s: float
    graceful_timeout_s: float
    metrics_host: str = "127.0.0.1"
    metrics_port: int | None = None


class _RunAgain(BaseRetryStrategy):
    """A job stopped by its worker's shutdown, or whose store failed, runs again (up to `max_attempts`);
    a site's own failure never raises out of a job (run_batch retries those sites as new jobs)."""

    def __init__(self, max_attempts: int) -> None:
        self.max_attempts = max_attempts

    def get_retry_decision(self, *, exception: BaseException, job: Job) -> RetryDecision | None:
        if job.attempts >= self.max_attempts:
            return None
        if isinstance(exception, asyncio.CancelledError | procrastinate_errors.JobAborted | StorageError):
            return RetryDecision(retry_in={"seconds": SHUTDOWN_RETRY_S})
        return None


def build_app(
    conninfo: str,
    *,
    run_batch: Callable[[int, Batch], Awaitable[RunReport]],
    scan: Callable[[datetime], Awaitable[None]],
    metrics: QueueMetrics,
    max_attempts: int,
) -> procrastinate.App:
    """The procrastinate app with outagesync's two tasks; each batch's duration goes to `metrics`."""
    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=conninfo))

    @app.task(name=SYNC_TASK, queue=QUEUE_NAME, pass_context=True, retry=_RunAgain(max_attempts))
    async def sync_batch(
        context: procrastinate.JobContext,
        site_ids: list[str],
        trigger: str,
        attempt: int = 1,
        retry_of: int | None = None,
        flags: dict[str, object] | None = None,
    ) -> None:
        assert context.job.id is not None
        started = time.monotonic()
        outcome = "raised"
        try:
            batch = Batch(tuple(site_ids), trigger, attempt, retry_of, RunFlags.from_args(flags))
            report = await run_batch(context.job.id, batch)
            outcome = report.status.value
        finally:
            metrics.batch_duration.labels(outcome).observe(time.monotonic() - started)

    @app.periodic(cron=SCAN_CRON, periodic_id="schedules")
    @app.task(name=SCAN_TASK, queue=QUEUE_NAME)
    async def scan_schedules(timestamp: int) -> None:
        await scan(datetime.fromtimestamp(timestamp, UTC))

    del sync_batch, scan_schedules  # registered on the app
    return app


async def run_worker(
    config: WorkerConfig,
    *,
    run_batch: Callable[[int, Batch], Awaitable[RunReport]],
    scan: Callable[[datetime], Awaitable[None]],
    process_metrics: Callable[[], bytes],
    max_attempts: int,
) -> None:
    """Run jobs until SIGTERM/SIGINT (procrastinate's handlers): then no new job starts, running ones get
    `graceful_timeout_s` to finish, and are then stopped (their unfinished sites stored `interrupted`)
    and put back in the queue. Meanwhile, jobs of workers silent for `stall_timeout_s` run again.
    /metrics (with a port) serves `process_metrics()` and the queue's."""
    metrics = QueueMetrics()
    app = build_app(
        config.conninfo, run_batch=run_batch, scan=scan, metrics=metrics, max_attempts=max_attempts
    )
    async with app.open_async():
        side = [asyncio.create_task(_recover_stalled(app, config.stall_timeout_s))]
        server = None
        if config.metrics_port is not None:

            async def render() -> bytes:
                await metrics.refresh(config.conninfo)
                return process_metrics() + metrics.exposition()

            server = await serve_metrics(config.metrics_host, config.metrics_port, render)
        try:
            await app.run_worker_async(
                queues=[QUEUE_NAME],
                concurrency=config.concurrency,  # the minute's schedule scan takes a slot briefly
                shutdown_graceful_timeout=config.graceful_timeout_s,
                update_heartbeat_interval=max(0.5, config.stall_timeout_s / 4),
                stalled_worker_timeout=config.stall_timeout_s,
                install_signal_handlers=True,
                fetch_job_polling_interval=min(5.0, config.stall_timeout_s),
            )
        finally:
            for task in side:
                task.cancel()
            for task in side:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            if server is not None:
                server.close()


async def _recover_stalled(app: procrastinate.App, stall_timeout_s: float) -> None:
    """Each half stall timeout: the jobs of workers without a heartbeat for `stall_timeout_s` go back to
    the queue (every worker does it; a job already put back is skipped)."""
    while True:
        await asyncio.sleep(stall_timeout_s / 2)
        try:
            stalled = await app.job_manager.get_stalled_jobs(
                queue=QUEUE_NAME, seconds_since_heartbeat=stall_timeout_s
            )
            for job in stalled:
                with contextlib.suppress(Exception):  # another worker put it back first
                    await app.job_manager.retry_job(job)
                    log.warning("job %s of a stalled worker was put back in the queue", job.id)
            await app.job_manager.prune_stalled_workers(seconds_since_heartbeat=stall_timeout_s)
        except Exception as exc:  # the database blinked: try again next time
            log.warning("stalled-job recovery failed: %s", exc)
