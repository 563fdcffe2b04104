"""The main use case: sync the outage lists of one or more sites, with one `GET /outages` per run."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from outagesync.defaults import CONCURRENCY, LOCK_WAIT_S
from outagesync.domain.ids import check_site_id
from outagesync.domain.models import RunReport, SiteResult, Trigger
from outagesync.errors import StorageError
from outagesync.services.locking import Sleep, acquire_waiting, run_key, site_key
from outagesync.services.ports import NO_OBSERVER, ReportStore, RunObserver, SiteLocks, SiteStore, Upstream
from outagesync.services.site_runs import (
    INTERRUPTED_MESSAGE,
    INTERRUPTED_POSTING_MESSAGE,
    Clock,
    SitesRun,
)

__all__ = [
    "INTERRUPTED_MESSAGE",
    "INTERRUPTED_POSTING_MESSAGE",
    "Clock",
    "Locking",
    "SyncOptions",
    "sync_managed_sites",
    "sync_sites",
]


@dataclass(frozen=True, slots=True)
class SyncOptions:
    """How to run: the cutoff, whether to post, what to do with bad records, how many sites at once."""

    since: datetime
    since_by_site: Mapping[str, datetime] = field(default_factory=dict)  # per-site cutoff overrides
    dry_run: bool = False
    skip_invalid: bool = False
    allow_empty: bool = False  # post [] even when the site's last accepted list was not empty
    allow_empty_sites: frozenset[str] = frozenset()  # managed sites that allow it themselves
    concurrency: int = CONCURRENCY
    trigger: Trigger = Trigger.CLI
    settings_digest: str = ""
    lock_wait_s: float = LOCK_WAIT_S  # how long to wait for a site another sync holds
    run_id: str | None = None  # the run's id (a queue job's: `job-<id>`); None: a fresh one
    upstream_url: str | None = None  # recorded in the report: the API's base URL, no credentials
    sandbox: bool = False  # recorded in the report: the run is against the built-in sandbox
    observer: RunObserver = field(default=NO_OBSERVER, compare=False)  # telemetry: spans, log fields


@dataclass(frozen=True, slots=True)
class Locking:
    """The run's lock holder (sync_sites closes it when the run ends), and how to wait for a held site
    (the CLI says it is waiting)."""

    locks: SiteLocks
    on_wait: Callable[[str], None] | None = None
    sleep: Sleep = asyncio.sleep


async def sync_sites(
    site_ids: Sequence[str],
    *,
    options: SyncOptions,
    upstream: Upstream,
    reports: ReportStore | None,
    clock: Clock,
    on_site_done: Callable[[SiteResult], None] | None = None,
    locking: Locking | None = None,
    on_recorded: Callable[[RunReport], None] | None = None,
) -> RunReport:
    """Sync every site and return (and store) the run's report.

    `GET /outages` is fetched once whatever the number of sites; site infos and POSTs run at most
    `options.concurrency` at a time. One site's failure never stops the others: it is recorded in its
    SiteResult. Nothing is posted for a site whose data failed validation. With `reports`, an empty
    list is not posted for a site whose last accepted list was not empty (it would clear it): the site
    fails `empty-list-refused`, unless `options.allow_empty`.

    With `locking` (and not on a dry run), each site's lock is taken before the `GET /outages` and
    released when its POST has settled; a site still held by another sync after `options.lock_wait_s`
    fails `site-busy`. With `reports` (and not on a dry run), the run is recorded `running` before
    anything is posted (then `on_recorded` hears it): if that fails, StorageError is raised and nothing
    is posted. The report is saved
    even when the run is cancelled (sites not finished are `interrupted`); if the final save fails, the
    report comes back with `storage_error` set instead of raising, so the caller can still show it.
    """
    for site_id in site_ids:
        check_site_id(site_id)
    unique = list(dict.fromkeys(site_ids))
    run = SitesRun(options, upstream, clock, on_site_done, many_sites=len(unique) > 1)
    run.reports = reports
    started_at = clock()
    posting = not options.dry_run
    locks = locking.locks if locking is not None and posting else None
    if locks is not None:
        await locks.try_acquire(run_key(run.run_id))  # a fresh key: always free
    try:
        if reports is not None and posting:
            running = run.running(started_at, unique)
            await asyncio.to_thread(reports.save_run, running)
            if on_recorded is not None:
                on_recorded(running)
        if locks is not None and locking is not None:
            run.busy = await _lock_sites(unique, locks, locking, options.lock_wait_s, clock)
            run.locks = locks
        report = await _run_sites(run, unique, started_at, reports)
        if reports is not None:
            # saved before the run lock goes: a reader never sees the `running` record with its lock free
            # (which means `abandoned`) while the outcome is on its way
            try:
                await asyncio.to_thread(reports.save_run, report)
            except StorageError as exc:
                report = replace(report, storage_error=str(exc))
            else:
                report = replace(report, stored=True)
    finally:
        if locking is not None:
            await locking.locks.close()  # every lock this run took, whatever happened
    return report


async def _lock_sites(
    site_ids: list[str], locks: SiteLocks, locking: Locking, wait_s: float, clock: Clock
) -> set[str]:
    """Take every site's lock (waiting for held ones at once); the sites that stayed busy."""

    tell = locking.on_wait

    async def take(site_id: str) -> bool:
        on_wait = None if tell is None else lambda: tell(site_id)
        return await acquire_waiting(
            locks, site_key(site_id), wait_s=wait_s, clock=clock, sleep=locking.sleep, on_wait=on_wait
        )

    taken = await asyncio.gather(*(take(site_id) for site_id in site_ids))
    return {site_id for site_id, ok in zip(site_ids, taken, strict=True) if not ok}


async def _run_sites(
    run: SitesRun, site_ids: list[str], started_at: datetime, reports: ReportStore | None
) -> RunReport:
    run.expect_site_infos(site_ids)
    tasks = {site_id: asyncio.ensure_future(run.sync_site(site_id)) for site_id in site_ids}
    try:
        await asyncio.gather(*tasks.values())
    except asyncio.CancelledError:
        for task in tasks.values():
            task.cancel()
        report = run.report(started_at, tasks, interrupted=True)
        _save(report, reports)  # synchronously: the loop is being torn down
        raise
    return run.report(started_at, tasks, interrupted=False)


def _save(report: RunReport, reports: ReportStore | None) -> None:
    if reports is not None:
        # the run is being interrupted; the caller reports the interruption itself
        with contextlib.suppress(StorageError):
            reports.save_run(report)


async def with_managed_permissions(
    options: SyncOptions, site_ids: Sequence[str], sites: SiteStore
) -> SyncOptions:
    """`options` with the managed sites among `site_ids` that allow an empty list added: a site's
    allow_empty holds whether it is synced by id or with every managed site."""
    wanted = set(site_ids)
    managed = await asyncio.to_thread(sites.list_sites)
    allowing = frozenset(site.site_id for site in managed if site.allow_empty and site.site_id in wanted)
    return replace(options, allow_empty_sites=options.allow_empty_sites | allowing) if allowing else options


async def sync_managed_sites(
    *,
    sites: SiteStore,
    options: SyncOptions,
    upstream: Upstream,
    reports: ReportStore | None,
    clock: Clock,
    on_site_done: Callable[[SiteResult], None] | None = None,
    locking: Locking | None = None,
    on_recorded: Callable[[RunReport], None] | None = None,
) -> RunReport:
    """Sync every enabled managed site, each with its own cutoff if any (`sync --all`, `POST /sync`)."""
    managed = await asyncio.to_thread(sites.list_sites, enabled_only=True)
    overrides = {site.site_id: site.since for site in managed if site.since is not None}
    allowing = frozenset(site.site_id for site in managed if site.allow_empty)
    return await sync_sites(
        [site.site_id for site in managed],
        options=replace(
            options,
            since_by_site={**options.since_by_site, **overrides},
            allow_empty_sites=options.allow_empty_sites | allowing,
        ),
        upstream=upstream,
        reports=reports,
        clock=clock,
        on_site_done=on_site_done,
        locking=locking,
        on_recorded=on_recorded,
    )
