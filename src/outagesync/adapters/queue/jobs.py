"""ProcrastinateQueue: the services' JobQueue port on procrastinate's tables (PostgreSQL).

Jobs are deferred through procrastinate's own SQL function, in a transaction that first takes one
advisory lock and leaves out the sites already waiting in a job: the per-site queueing lock (procrastinate's
`queueing_lock` is one string per job, and a job holds a batch). Due times of schedules are claimed in
procrastinate's periodic-defers table, whose unique key makes each (site, due time) deferrable once.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from psycopg.rows import dict_row

from outagesync.adapters.queue.connection import connect
from outagesync.adapters.queue.schema import upgrade_queue_schema
from outagesync.domain.jobs import Batch, JobFilter, JobInfo, JobPage, JobState, RunFlags, batches
from outagesync.errors import JobNotFound
from outagesync.services.ports import Deferred

QUEUE_NAME = "outagesync"
SYNC_TASK = "outagesync.sync_batch"
SCAN_TASK = "outagesync.scan_schedules"
DUE_TASK = "outagesync.site_schedule"  # the periodic-defers rows of site due times (no job of their own)

_DEFER = """
SELECT unnest(procrastinate_defer_jobs_v1(ARRAY[
    ROW(%(queue)s, %(task)s, 0, NULL, NULL, %(args)s::jsonb, %(at)s::timestamptz)
]::procrastinate_job_to_defer_v1[]))
"""
_WAITING = """
SELECT DISTINCT site FROM procrastinate_jobs, jsonb_array_elements_text(args->'site_ids') AS site
WHERE status = 'todo' AND task_name = %(task)s AND args->'site_ids' ?| %(sites)s
"""
_CLAIM = """
INSERT INTO procrastinate_periodic_defers (task_name, periodic_id, defer_timestamp)
SELECT %(task)s::varchar, due.site, due.at
FROM unnest(%(sites)s::text[], %(ats)s::bigint[]) AS due(site, at)
WHERE NOT EXISTS (
    SELECT 1 FROM procrastinate_periodic_defers AS claimed
    WHERE claimed.task_name = %(task)s::varchar AND claimed.periodic_id = due.site
        AND claimed.defer_timestamp >= due.at
)
ON CONFLICT DO NOTHING
RETURNING periodic_id
"""
_FORGET_OLDER = """
DELETE FROM procrastinate_periodic_defers AS claimed
USING unnest(%(sites)s::text[], %(ats)s::bigint[]) AS due(site, at)
WHERE claimed.task_name = %(task)s::varchar AND claimed.periodic_id = due.site
    AND claimed.defer_timestamp < due.at
"""
_SELECT = """
SELECT j.id, j.status::text AS status, j.args, j.scheduled_at,
    (SELECT count(*) FROM procrastinate_events e WHERE e.job_id = j.id AND e.type = 'started') AS attempts,
    (SELECT min(e.at) FROM procrastinate_events e WHERE e.job_id = j.id AND e.type = 'deferred') AS queued_at,
    (SELECT max(e.at) FROM procrastinate_events e WHERE e.job_id = j.id AND e.type = 'started') AS started_at,
    (SELECT max(e.at) FROM procrastinate_events e WHERE e.job_id = j.id
        AND e.type IN ('succeeded', 'failed', 'cancelled', 'aborted')) AS finished_at
FROM procrastinate_jobs j
WHERE j.task_name = %(task)s
"""
_FILTERS = """
    AND (%(id)s::bigint IS NULL OR j.id = %(id)s)
    AND (%(state)s::text IS NULL OR j.status::text = %(state)s)
    AND (%(site)s::text IS NULL OR j.args->'site_ids' ? %(site)s)
    AND (%(trigger)s::text IS NULL OR j.args->>'trigger' = %(trigger)s)
    AND (%(retry_of)s::bigint IS NULL OR (j.args->>'retry_of')::bigint = %(retry_of)s)
    AND (%(before)s::bigint IS NULL OR j.id < %(before)s)
ORDER BY j.id DESC
LIMIT %(limit)s
"""


class ProcrastinateQueue:
    """The JobQueue port; one short connection per call (workers keep procrastinate's own pool)."""

    def __init__(self, conninfo: str) -> None:
        self.conninfo = conninfo
        self._ready = False

    @asynccontextmanager
    async def _connect(self) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        """A connection, the queue's schema made or migrated first (once per process, as the store does)."""
        if not self._ready:
            await upgrade_queue_schema(self.conninfo)
            self._ready = True
        async with connect(self.conninfo) as connection:
            yield connection

    async def defer_batches(self, batches: Sequence[Batch], *, delay_s: float = 0) -> list[Deferred]:
        async with self._connect() as connection:
            return await _defer(connection, batches, delay_s=delay_s)

    async def defer_due(self, due: Mapping[str, datetime], *, batch_size: int) -> list[Deferred]:
        """Claim each site's due time and defer the sites claimed, in one transaction."""
        if not due:
            return []
        sites = list(due)
        ats = [int(due[site].timestamp()) for site in sites]
        params = {"task": DUE_TASK, "sites": sites, "ats": ats}
        async with self._connect() as connection:
            cursor = await connection.execute(_CLAIM, params)
            claimed = {str(row[0]) for row in await cursor.fetchall()}
            await connection.execute(_FORGET_OLDER, params)
            todo = [Batch(ids, "schedule") for ids in batches([s for s in sites if s in claimed], batch_size)]
            return await _defer(connection, todo, delay_s=0)

    async def list_jobs(self, where: JobFilter, *, limit: int, before: int | None = None) -> JobPage:
        rows = await self._select(
            state=where.state.value if where.state else None,
            site=where.site_id,
            trigger=where.trigger,
            retry_of=where.retry_of,
            before=before,
            limit=limit,
        )
        items = [_job(row) for row in rows]
        return JobPage(items, items[-1].job_id if len(items) == limit else None)

    async def get_job(self, job_id: int) -> JobInfo:
        rows = await self._select(id=job_id, limit=1)
        if not rows:
            raise JobNotFound(f"no job with id {job_id}")
        return _job(rows[0])

    async def cancel_job(self, job_id: int) -> bool:
        job = await self.get_job(job_id)
        async with self._connect() as connection:
            cursor = await connection.execute(
                "SELECT procrastinate_cancel_job_v1(%(id)s, %(abort)s, false)",
                {"id": job.job_id, "abort": True},
            )
            row = await cursor.fetchone()
        return row is not None and row[0] is not None

    async def _select(self, **given: Any) -> list[dict[str, Any]]:
        params = {"id": None, "state": None, "site": None, "trigger": None, "retry_of": None, "before": None}
        params |= given | {"task": SYNC_TASK}
        async with self._connect() as connection:
            cursor = connection.cursor(row_factory=dict_row)
            await cursor.execute(_SELECT + _FILTERS, params)
            return list(await cursor.fetchall())


async def _defer(
    connection: psycopg.AsyncConnection[Any], todo: Sequence[Batch], *, delay_s: float
) -> list[Deferred]:
    await connection.execute("SELECT pg_advisory_xact_lock(hashtext('outagesync-queue-defer'))")
    every = sorted({site for batch in todo for site in batch.site_ids})
    cursor = await connection.execute(_WAITING, {"task": SYNC_TASK, "sites": every})
    waiting = {str(row[0]) for row in await cursor.fetchall()}
    at = datetime.now(UTC) + timedelta(seconds=delay_s) if delay_s > 0 else None
    deferred = []
    for batch in todo:
        sites = tuple(site for site in batch.site_ids if site not in waiting)
        if not sites:
            deferred.append(Deferred(None, ()))
            continue
        waiting.update(sites)
        args = {"site_ids": list(sites), "trigger": batch.trigger, "attempt": batch.attempt}
        if batch.retry_of is not None:
            args["retry_of"] = batch.retry_of
        if flags := batch.flags.to_args():
            args["flags"] = flags
        cursor = await connection.execute(
            _DEFER, {"queue": QUEUE_NAME, "task": SYNC_TASK, "args": json.dumps(args), "at": at}
        )
        row = await cursor.fetchone()
        assert row is not None
        deferred.append(Deferred(int(str(row[0])), sites))
    return deferred


def _job(row: Mapping[str, Any]) -> JobInfo:
    args = row["args"]
    batch = Batch(
        tuple(args.get("site_ids", ())),
        str(args.get("trigger", "")),
        int(args.get("attempt", 1)),
        args.get("retry_of"),
        RunFlags.from_args(args.get("flags")),
    )
    return JobInfo(
        job_id=int(row["id"]),
        state=_state(str(row["status"])),
        batch=batch,
        attempts=int(row["attempts"]),
        queued_at=_utc(row["queued_at"]),
        scheduled_at=_utc(row["scheduled_at"]),
        started_at=_utc(row["started_at"]),
        finished_at=_utc(row["finished_at"]),
    )


def _state(status: str) -> JobState:
    """procrastinate's status; its legacy `aborting` (no longer set) reads as `aborted`."""
    return JobState(status) if status in JobState.__members__.values() else JobState.ABORTED


def _utc(moment: datetime | None) -> datetime | None:
    return moment.astimezone(UTC) if moment is not None else None
