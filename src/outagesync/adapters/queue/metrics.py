"""Prometheus metrics of the queue, for a worker's /metrics: jobs by state, queue depth, the age of the
oldest waiting job (read from the database at each scrape), and batch durations (this worker's)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from prometheus_client import CollectorRegistry, Gauge, Histogram, generate_latest

from outagesync.adapters.queue.connection import connect
from outagesync.adapters.queue.jobs import SYNC_TASK
from outagesync.domain.jobs import JobState

log = logging.getLogger("outagesync.queue")
# seconds: a batch of 200 sites takes from seconds to many minutes
_BUCKETS = (1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0)
_COUNTS = """
SELECT status::text, count(*) FROM procrastinate_jobs WHERE task_name = %(task)s GROUP BY status
"""
_OLDEST = """
SELECT count(*), EXTRACT(EPOCH FROM now() - min(COALESCE(j.scheduled_at, e.at)))
FROM procrastinate_jobs j JOIN procrastinate_events e ON e.job_id = j.id AND e.type = 'deferred'
WHERE j.task_name = %(task)s AND j.status = 'todo' AND (j.scheduled_at IS NULL OR j.scheduled_at <= now())
"""


class QueueMetrics:
    """The queue's gauges (refreshed by `refresh`) and this worker's batch durations."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.jobs = Gauge("outagesync_queue_jobs", "Sync jobs in the queue, by state.", ["state"], registry=r)
        self.depth = Gauge(
            "outagesync_queue_depth", "Sync jobs waiting to run now (not a retry's backoff).", registry=r
        )
        self.oldest = Gauge(
            "outagesync_queue_oldest_waiting_seconds",
            "How long the oldest job waiting to run has waited (0: none waits).",
            registry=r,
        )
        self.batch_duration = Histogram(
            "outagesync_batch_duration_seconds",
            "Durations of the batches this worker ran, by outcome.",
            ["outcome"],
            buckets=_BUCKETS,
            registry=r,
        )

    async def refresh(self, conninfo: str) -> None:
        """Read the queue's state; on failure the gauges keep their last values (logged)."""
        try:
            async with connect(conninfo) as connection:
                rows = await (await connection.execute(_COUNTS, {"task": SYNC_TASK})).fetchall()
                row = await (await connection.execute(_OLDEST, {"task": SYNC_TASK})).fetchone()
        except Exception as exc:  # a scrape must answer whatever the database does
            log.warning("queue metrics not refreshed: %s", exc)
            return
        counts = {str(row[0]): row[1] for row in rows}
        for state in JobState:
            self.jobs.labels(state.value).set(float(str(counts.get(state.value, 0))))
        waiting, age = row if row is not None else (0, None)
        self.depth.set(float(str(waiting)))
        self.oldest.set(float(str(age)) if age is not None else 0.0)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


async def serve_metrics(host: str, port: int, render: Callable[[], Awaitable[bytes]]) -> asyncio.Server:
    """A minimal HTTP server answering GET /metrics with what `render` gives (and 404 elsewhere)."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(Exception):
            request = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
            path = request.split(b" ", 2)[1] if request.count(b" ") >= 2 else b""
            if path.split(b"?")[0] in (b"/metrics", b"/metrics/"):
                body = await render()
                head = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
            else:
                body = b"not found: GET /metrics\n"
                head = b"HTTP/1.1 404 Not Found\r\nContent-Type: text/plain; charset=utf-8\r\n"
            writer.write(head + b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body)
            await writer.drain()
        writer.close()

    return await asyncio.start_server(answer, host, port)
