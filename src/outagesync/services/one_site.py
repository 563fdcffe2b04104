"""Use cases on one site, now (the REST API's): preview what a sync would post, and sync it.

Both run `sync_sites`; a managed site's own cutoff applies unless the caller gives one. Never prints,
reads settings, or knows HTTP statuses.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from outagesync.domain.ids import check_site_id
from outagesync.domain.models import RunReport, SiteResult
from outagesync.errors import SiteNotManaged
from outagesync.services.ports import ReportStore, SiteStore, Upstream
from outagesync.services.sync import Clock, Locking, SyncOptions, sync_sites


async def preview_site_outages(
    site_id: str,
    *,
    options: SyncOptions,
    upstream: Upstream,
    sites: SiteStore | None,
    clock: Clock,
    since: datetime | None = None,
) -> SiteResult:
    """The site's result as a dry run: `items` is what a sync would post now. Posts and stores nothing.

    The cutoff is `since` if given, else the managed site's own (when `sites` is given), else
    `options.since`. Raises
    InvalidSiteId and StorageError; upstream failures are in the result's `error`, as in a sync.
    """
    options = await _site_options(check_site_id(site_id), options, sites, since)
    run = await sync_sites(
        [site_id], options=replace(options, dry_run=True), upstream=upstream, reports=None, clock=clock
    )
    return run.sites[0]


async def sync_site(
    site_id: str,
    *,
    options: SyncOptions,
    upstream: Upstream,
    sites: SiteStore,
    reports: ReportStore,
    clock: Clock,
    since: datetime | None = None,
    locking: Locking | None = None,
    on_recorded: Callable[[RunReport], None] | None = None,
) -> RunReport:
    """Sync one site now and store the run's report (see `sync_sites`); the cutoff as in the preview."""
    options = await _site_options(check_site_id(site_id), options, sites, since)
    return await sync_sites(
        [site_id],
        options=options,
        upstream=upstream,
        reports=reports,
        clock=clock,
        locking=locking,
        on_recorded=on_recorded,
    )


async def _site_options(
    site_id: str, options: SyncOptions, sites: SiteStore | None, since: datetime | None
) -> SyncOptions:
    """The options for one site: its cutoff (`since`, else the managed site's own), and the managed
    site's permission to post an empty list."""
    if sites is not None:
        try:
            managed = await asyncio.to_thread(sites.get_site, site_id)
        except SiteNotManaged:
            pass
        else:
            since = managed.since if since is None else since
            if managed.allow_empty:
                options = replace(options, allow_empty_sites=options.allow_empty_sites | {site_id})
    if since is None:
        return options
    return replace(options, since_by_site={**options.since_by_site, site_id: since})
