"""The main use case: sync the outage lists of one or more sites, with one `GET /outages` per run."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from outagesync.defaults import CONCURRENCY
from outagesync.domain.ids import check_site_id
from outagesync.domain.models import (
    OUTAGES_ENDPOINT,
    POST_ENDPOINT,
    SITE_INFO_ENDPOINT,
    CallStats,
    DecodedOutages,
    ErrorInfo,
    RunReport,
    SiteResult,
    SiteStatus,
    Trigger,
)
from outagesync.domain.select import DeviceIndex, index_by_device, select_decoded_site_outages
from outagesync.errors import (
    InvalidUpstreamData,
    OutageSyncError,
    PayloadRejected,
    RunInterrupted,
    StorageError,
    UpstreamError,
)
from outagesync.services.ports import ReportStore, SiteStore, Upstream

Clock = Callable[[], datetime]
INTERRUPTED_MESSAGE = "the run was interrupted before this site finished"


@dataclass(frozen=True, slots=True)
class SyncOptions:
    """How to run: the cutoff, whether to post, what to do with bad records, how many sites at once."""

    since: datetime
    since_by_site: Mapping[str, datetime] = field(default_factory=dict)  # per-site cutoff overrides
    dry_run: bool = False
    skip_invalid: bool = False
    concurrency: int = CONCURRENCY
    trigger: Trigger = Trigger.CLI
    settings_digest: str = ""


async def sync_sites(
    site_ids: Sequence[str],
    *,
    options: SyncOptions,
    upstream: Upstream,
    reports: ReportStore | None,
    clock: Clock,
    on_site_done: Callable[[SiteResult], None] | None = None,
) -> RunReport:
    """Sync every site and return (and store) the run's report.

    `GET /outages` is fetched once whatever the number of sites; site infos and POSTs run at most
    `options.concurrency` at a time. One site's failure never stops the others: it is recorded in its
    SiteResult. Nothing is posted for a site whose data failed validation. The report is saved even when
    the run is cancelled (sites not finished are `interrupted`); if saving fails, the report comes back
    with `storage_error` set instead of raising, so the caller can still show what happened.
    """
    for site_id in site_ids:
        check_site_id(site_id)
    run = _Run(options, upstream, clock, on_site_done, many_sites=len(set(site_ids)) > 1)
    started_at = clock()
    tasks = {site_id: asyncio.ensure_future(run.sync_site(site_id)) for site_id in dict.fromkeys(site_ids)}
    try:
        await asyncio.gather(*tasks.values())
    except asyncio.CancelledError:
        for task in tasks.values():
            task.cancel()
        report = run.report(started_at, tasks, interrupted=True)
        _save(report, reports)  # synchronously: the loop is being torn down
        raise
    report = run.report(started_at, tasks, interrupted=False)
    if reports is None:
        return report
    try:
        await asyncio.to_thread(reports.save_run, report)
    except StorageError as exc:
        return replace(report, storage_error=str(exc))
    return report


def _save(report: RunReport, reports: ReportStore | None) -> None:
    if reports is not None:
        # the run is being interrupted; the caller reports the interruption itself
        with contextlib.suppress(StorageError):
            reports.save_run(report)


class _Run:
    """State shared by the sites of one run: the single `GET /outages` and the concurrency bound."""

    def __init__(
        self,
        options: SyncOptions,
        upstream: Upstream,
        clock: Clock,
        on_site_done: Callable[[SiteResult], None] | None,
        *,
        many_sites: bool = False,
    ) -> None:
        self.options = options
        self.many_sites = many_sites
        self.upstream = upstream
        self.clock = clock
        self.on_site_done = on_site_done
        self.run_id = uuid.uuid4().hex
        self.limit = asyncio.Semaphore(options.concurrency)
        self.outages_attempts = 0
        self.started: dict[str, datetime] = {}
        self._outages: asyncio.Future[DecodedOutages] | None = None
        self._index: DeviceIndex | None = None

    def since(self, site_id: str) -> datetime:
        return self.options.since_by_site.get(site_id, self.options.since)

    def earliest_since(self) -> datetime:
        """No site of the run keeps an outage that began before this, so decoding may release those."""
        return min([self.options.since, *self.options.since_by_site.values()])

    def index(self, decoded: DecodedOutages) -> DeviceIndex | None:
        """With several sites, each looks only at its own devices' outages: they are indexed once."""
        if self.many_sites and self._index is None:
            self._index = index_by_device(decoded.outages)
        return self._index

    def outages(self) -> asyncio.Future[DecodedOutages]:
        if self._outages is None:
            self._outages = asyncio.ensure_future(self._fetch_outages())
        return self._outages

    async def _fetch_outages(self) -> DecodedOutages:
        try:
            fetched = await self.upstream.fetch_outages(
                skip_invalid=self.options.skip_invalid, release_before=self.earliest_since()
            )
        except (UpstreamError, InvalidUpstreamData) as exc:
            self.outages_attempts = exc.attempts
            raise
        self.outages_attempts = fetched.attempts
        return fetched.value

    async def sync_site(self, site_id: str) -> SiteResult:
        self.started[site_id] = self.clock()
        calls: dict[str, CallStats] = {}
        started = self.started[site_id]
        partial = SiteResult(
            uuid.uuid4().hex, site_id, SiteStatus.FAILED, started, started, self.since(site_id)
        )
        try:
            result = await self._sync_site(site_id, calls, partial)
        except OutageSyncError as exc:  # before the POST: nothing was sent for this site
            result = self._failed(partial, calls, exc)
        if self.on_site_done is not None:
            self.on_site_done(result)
        return result

    async def _sync_site(self, site_id: str, calls: dict[str, CallStats], partial: SiteResult) -> SiteResult:
        outages = self.outages()
        async with self.limit:
            try:
                fetched = await self.upstream.fetch_site_info(site_id)
            except (UpstreamError, InvalidUpstreamData) as exc:
                calls[SITE_INFO_ENDPOINT] = CallStats(exc.attempts)
                raise
            calls[SITE_INFO_ENDPOINT] = CallStats(fetched.attempts)
            site = fetched.value
        try:
            decoded = await asyncio.shield(outages)
        finally:
            calls[OUTAGES_ENDPOINT] = CallStats(self.outages_attempts)
        selection = select_decoded_site_outages(decoded, site, partial.since, self.index(decoded))
        partial = replace(
            partial,
            fetched=decoded.fetched,
            site_devices=len(site.devices),
            kept=len(selection.items),
            dropped_before_cutoff=selection.dropped_before_cutoff,
            dropped_unknown_device=selection.dropped_unknown_device,
            invalid_records=tuple(decoded.invalid),
            items=tuple(selection.items),
        )
        if self.options.dry_run:
            return replace(partial, status=SiteStatus.DRY_RUN, finished_at=self.clock(), calls=dict(calls))
        async with self.limit:
            try:
                posted = await self.upstream.post_site_outages(site_id, selection.items)
            except UpstreamError as exc:
                calls[POST_ENDPOINT] = CallStats(exc.attempts)
                # the report keeps what was selected: it says what we tried to send
                return self._failed(partial, calls, exc, post_status=exc.status)
        calls[POST_ENDPOINT] = CallStats(posted.attempts)
        return replace(
            partial,
            status=SiteStatus.SUCCEEDED,
            finished_at=self.clock(),
            calls=dict(calls),
            post_status=posted.status,
            upstream_message=posted.message,
        )

    def _failed(
        self,
        partial: SiteResult,
        calls: dict[str, CallStats],
        exc: OutageSyncError,
        *,
        post_status: int | None = None,
    ) -> SiteResult:
        return replace(
            partial,
            status=SiteStatus.FAILED,
            finished_at=self.clock(),
            calls=dict(calls),
            post_status=post_status,
            upstream_message=exc.upstream_message if isinstance(exc, PayloadRejected) else None,
            error=ErrorInfo(exc.code, str(exc)),
        )

    def report(
        self, started_at: datetime, tasks: Mapping[str, asyncio.Future[SiteResult]], *, interrupted: bool
    ) -> RunReport:
        now = self.clock()
        sites = []
        for site_id, task in tasks.items():
            if task.done() and not task.cancelled():
                sites.append(task.result())
                continue
            begun = self.started.get(site_id, started_at)
            sites.append(
                SiteResult(
                    uuid.uuid4().hex,
                    site_id,
                    SiteStatus.INTERRUPTED,
                    begun,
                    now,
                    self.since(site_id),
                    error=ErrorInfo(RunInterrupted.code, INTERRUPTED_MESSAGE),
                )
            )
        if self._outages is not None:
            if not self._outages.done():
                self._outages.cancel()
            elif not self._outages.cancelled():
                self._outages.exception()  # retrieved: every site may have failed before awaiting it
        return RunReport(
            run_id=self.run_id,
            trigger=self.options.trigger,
            started_at=started_at,
            finished_at=now,
            settings_digest=self.options.settings_digest,
            dry_run=self.options.dry_run,
            sites=tuple(sites),
        )


async def sync_managed_sites(
    *,
    sites: SiteStore,
    options: SyncOptions,
    upstream: Upstream,
    reports: ReportStore | None,
    clock: Clock,
    on_site_done: Callable[[SiteResult], None] | None = None,
) -> RunReport:
    """Sync every enabled managed site, each with its own cutoff if any (`sync --all`, `POST /sync`)."""
    managed = await asyncio.to_thread(sites.list_sites, enabled_only=True)
    overrides = {site.site_id: site.since for site in managed if site.since is not None}
    return await sync_sites(
        [site.site_id for site in managed],
        options=replace(options, since_by_site={**options.since_by_site, **overrides}),
        upstream=upstream,
        reports=reports,
        clock=clock,
        on_site_done=on_site_done,
    )
