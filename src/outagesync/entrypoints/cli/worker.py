"""`outagesync worker`: run queue jobs and due schedules until SIGTERM/SIGINT (docs/scale-out.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer

from outagesync.defaults import GRACEFUL_TIMEOUT_S, WORKER_CONCURRENCY
from outagesync.entrypoints.cli import helptext
from outagesync.entrypoints.cli.console import fail, stderr
from outagesync.errors import OutageSyncError

if TYPE_CHECKING:
    from outagesync.config import Settings
    from outagesync.domain.jobs import Batch
    from outagesync.domain.models import RunReport


def worker_command(
    concurrency: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=64,
            metavar="N",
            help=helptext.setting_help(
                "Jobs (batches of sites) this worker runs at once; each has OUTAGESYNC_CONCURRENCY sites in "
                "flight.",
                "OUTAGESYNC_WORKER_CONCURRENCY",
                default=WORKER_CONCURRENCY,
            ),
        ),
    ] = None,
    metrics_port: Annotated[
        int | None,
        typer.Option(
            min=1, max=65535, metavar="PORT", help="Serve Prometheus metrics at http://HOST:PORT/metrics."
        ),
    ] = None,
    metrics_host: Annotated[
        str, typer.Option(metavar="HOST", help="Address of the metrics server (0.0.0.0 in a container).")
    ] = "127.0.0.1",
    graceful_timeout: Annotated[
        int,
        typer.Option(
            min=0,
            metavar="SECONDS",
            help="On SIGTERM/SIGINT, seconds to let running jobs finish; jobs still running then are "
            "stopped (unfinished sites recorded as interrupted) and put back in the queue.",
        ),
    ] = GRACEFUL_TIMEOUT_S,
) -> None:
    """Run sync jobs from the queue and queue the sites whose schedule falls due, until stopped.

    On SIGTERM or SIGINT no new job starts, and running ones get 30 s (--graceful-timeout) to finish
    before they are stopped (their unfinished sites stored interrupted) and put back in the queue.
    Needs PostgreSQL (OUTAGESYNC_DATABASE_URL); start as many workers, on as many machines, as you like.

    Exit codes: 0 stopped by a signal, 1 the database failed, 2 configuration error (e.g. no PostgreSQL).

    Environment: OUTAGESYNC_DATABASE_URL, OUTAGESYNC_WORKER_CONCURRENCY, KRAKENFLEX_API_KEY,
    KRAKENFLEX_API_URL

    Examples:
        outagesync worker
        outagesync worker --concurrency 4 --metrics-port 9100 --metrics-host 0.0.0.0
    """
    from outagesync import bootstrap
    from outagesync.config import load_settings
    from outagesync.entrypoints.run import run_to_value

    try:
        settings = load_settings(worker_concurrency=concurrency)
        bootstrap.open_queue(settings)  # ConfigError (exit 2) without PostgreSQL, before anything starts
        stderr().print(
            f"worker: up to {settings.worker_concurrency} jobs at once"
            + (f"; metrics on http://{metrics_host}:{metrics_port}/metrics" if metrics_port else ""),
            highlight=False,
        )
        run_to_value(_work(settings, metrics_host, metrics_port, graceful_timeout))
    except OutageSyncError as exc:
        fail(exc)
    except KeyboardInterrupt:
        pass
    stderr().print("worker: stopped", highlight=False)


async def _work(
    settings: Settings, metrics_host: str, metrics_port: int | None, graceful_timeout_s: float
) -> None:
    from outagesync import bootstrap
    from outagesync.services import jobs
    from outagesync.services.sync import Locking

    telemetry = bootstrap.build_telemetry(settings, server=True)
    store = bootstrap.build_store(settings)
    queue = bootstrap.open_queue(settings)
    reports = bootstrap.observed_reports(store, telemetry)
    retry = jobs.RetryPolicy(settings.job_retries, settings.job_backoff)

    async def run_batch(job_id: int, batch: Batch) -> RunReport:
        from outagesync.domain.models import Trigger

        trigger = Trigger.SCHEDULE if batch.trigger == "schedule" else Trigger.QUEUE
        options = bootstrap.sync_options(settings, trigger=trigger, observer=telemetry)
        with telemetry.capturing(), telemetry.run_span(trigger):
            async with bootstrap.open_upstream(settings, telemetry) as upstream:
                report = await jobs.run_batch(
                    job_id,
                    batch,
                    options=options,
                    retry=retry,
                    upstream=upstream,
                    reports=reports,
                    sites=store,
                    locking=Locking(store.open_locks()),
                    queue=queue,
                    clock=_now,
                )
            telemetry.run_done(report)
        return report

    async def scan(at: datetime) -> None:
        await jobs.enqueue_due_sites(
            at,
            sites=store,
            queue=queue,
            default_schedule=settings.schedule,
            batch_size=settings.batch_size,
        )

    try:
        await bootstrap.run_queue_worker(
            settings,
            concurrency=settings.worker_concurrency,
            metrics_host=metrics_host,
            metrics_port=metrics_port,
            graceful_timeout_s=graceful_timeout_s,
            run_batch=run_batch,
            scan=scan,
            telemetry=telemetry,
        )
    finally:
        store.dispose()
        telemetry.close()


def _now() -> datetime:
    return datetime.now(UTC)
