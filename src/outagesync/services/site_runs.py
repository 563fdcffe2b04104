"""One run's shared state and each site's steps: the single `GET /outages`, the concurrency bound, the
site locks to release, the results. Used by `services.sync` only.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from outagesync.domain.models import (
    OUTAGES_ENDPOINT,
    POST_ENDPOINT,
    SITE_INFO_ENDPOINT,
    CallStats,
    DecodedOutages,
    ErrorInfo,
    RunReport,
    SiteInfo,
    SiteResult,
    SiteStatus,
)
from outagesync.domain.packed import as_sequence
from outagesync.domain.select import DeviceIndex, index_by_device, select_decoded_site_outages
from outagesync.errors import (
    EmptyListRefused,
    InvalidUpstreamData,
    OutageSyncError,
    PayloadRejected,
    RunInterrupted,
    SiteBusy,
    UpstreamError,
)
from outagesync.services.locking import site_key
from outagesync.services.ports import ReportStore, SiteLocks, Upstream

if TYPE_CHECKING:
    from outagesync.services.sync import SyncOptions

Clock = Callable[[], datetime]
INTERRUPTED_MESSAGE = "the run was interrupted before this site's POST was sent"
INTERRUPTED_POSTING_MESSAGE = (
    "the run was interrupted while this site's POST was in flight: the upstream may have applied it"
)


class SitesRun:
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
        self.run_id = options.run_id or uuid.uuid4().hex
        self.limit = asyncio.Semaphore(options.concurrency)
        self.outages_attempts = 0
        self.started: dict[str, datetime] = {}
        self._progress: dict[str, SiteResult] = {}  # what a site fetched, for its report if it fails
        self.report_ids: dict[str, str] = {}  # one id per site, from the `running` record to the outcome
        self.busy: set[str] = set()  # sites another sync held for the whole wait
        self.locks: SiteLocks | None = None
        self.reports: ReportStore | None = None  # where the empty-list guard reads the last accepted list
        self.posting: set[str] = set()  # sites whose POST is in flight
        self._outages: asyncio.Future[DecodedOutages] | None = None
        self._index: DeviceIndex | None = None
        self._infos_pending: set[str] = set()  # sites whose info has not arrived (or failed) yet
        self._device_ids: set[str] = set()
        self._devices_known: frozenset[str] | None = None

    def expect_site_infos(self, site_ids: list[str]) -> None:
        """The sites whose infos the run waits for before it knows every device it can post for."""
        self._infos_pending = set(site_ids)

    def _info_settled(self, site_id: str, site: SiteInfo | None) -> None:
        if site is not None:
            self._device_ids.update(device.id for device in site.devices)
        self._infos_pending.discard(site_id)
        if not self._infos_pending and self._devices_known is None:
            self._devices_known = frozenset(self._device_ids)

    def run_devices(self) -> frozenset[str] | None:
        """Every device of the run's sites once each site's info has settled (None before): decoding
        drops the outages of other devices as they arrive, since no site of the run can post them."""
        return self._devices_known

    def report_id(self, site_id: str) -> str:
        return self.report_ids.setdefault(site_id, uuid.uuid4().hex)

    def running(self, started_at: datetime, site_ids: list[str]) -> RunReport:
        """The run as recorded before anything is posted: every site `running`."""
        sites = tuple(
            SiteResult(self.report_id(s), s, SiteStatus.RUNNING, started_at, started_at, self.since(s))
            for s in site_ids
        )
        return self._run_report(started_at, started_at, sites)

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
                skip_invalid=self.options.skip_invalid,
                release_before=self.earliest_since(),
                devices=self.run_devices,
            )
        except (UpstreamError, InvalidUpstreamData) as exc:
            self.outages_attempts = exc.attempts
            raise
        self.outages_attempts = fetched.attempts
        return fetched.value

    async def sync_site(self, site_id: str) -> SiteResult:
        self.started[site_id] = self.clock()
        self.options.observer.site_started(self.run_id, site_id)
        calls: dict[str, CallStats] = {}
        started = self.started[site_id]
        partial = SiteResult(
            self.report_id(site_id), site_id, SiteStatus.FAILED, started, started, self.since(site_id)
        )
        try:
            if site_id in self.busy:
                self._info_settled(site_id, None)
                wait = self.options.lock_wait_s
                raise SiteBusy(
                    f"{site_id}: another sync of this site held it for {wait:g} s; try again later"
                )
            result = await self._sync_site(site_id, calls, partial)
        except OutageSyncError as exc:  # before the POST: nothing was sent for this site
            result = self._failed(self._progress.pop(site_id, partial), calls, exc)
        finally:
            await self._release(site_id)
        self.options.observer.site_done(self.run_id, result)
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
                self._info_settled(site_id, None)
                raise
            calls[SITE_INFO_ENDPOINT] = CallStats(fetched.attempts)
            site = fetched.value
            self._info_settled(site_id, site)
        # a failure from here on reports what was fetched (site devices; records, bad ones listed)
        self._progress[site_id] = partial = replace(partial, site_devices=len(site.devices))
        try:
            decoded = await asyncio.shield(outages)
        except InvalidUpstreamData as exc:
            if exc.records_seen is not None:
                self._progress[site_id] = replace(
                    partial, fetched=exc.records_seen, invalid_records=exc.invalid_records
                )
            raise
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
            items=as_sequence(selection.items),
        )
        if self.options.dry_run:
            return replace(partial, status=SiteStatus.DRY_RUN, finished_at=self.clock(), calls=dict(calls))
        allowed = self.options.allow_empty or site_id in self.options.allow_empty_sites
        if not selection.items and not allowed:
            try:
                await self._check_empty_allowed(site_id)
            except OutageSyncError as exc:
                return self._failed(partial, calls, exc)
        async with self.limit:
            self.posting.add(site_id)  # left in if the run is cancelled meanwhile: the report says so
            try:
                posted = await self.upstream.post_site_outages(site_id, selection.items)
            except UpstreamError as exc:
                self.posting.discard(site_id)
                calls[POST_ENDPOINT] = CallStats(exc.attempts)
                # the report keeps what was selected: it says what we tried to send
                return self._failed(partial, calls, exc, post_status=exc.status)
            self.posting.discard(site_id)
        await self._release(site_id)  # the POST has settled: the next sync of the site may fetch
        calls[POST_ENDPOINT] = CallStats(posted.attempts)
        return replace(
            partial,
            status=SiteStatus.SUCCEEDED,
            finished_at=self.clock(),
            calls=dict(calls),
            post_status=posted.status,
            upstream_message=posted.message,
        )

    async def _check_empty_allowed(self, site_id: str) -> None:
        """EmptyListRefused if the site's last accepted list had items (posting [] would clear them)."""
        if self.reports is None:
            return  # no history to compare with
        previous = await asyncio.to_thread(self.reports.last_accepted_total, site_id)
        if previous:
            raise EmptyListRefused(
                f"not posting an empty list: it would clear the {previous} "
                f"outage{'' if previous == 1 else 's'} of the site's last accepted list; to clear it, "
                "sync with --allow-empty (REST API: allow_empty=true), or let the site allow it: "
                f"outagesync sites update {site_id} --allow-empty"
            )

    async def _release(self, site_id: str) -> None:
        if self.locks is not None and site_id not in self.busy:
            await self.locks.release(site_key(site_id))

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
            upstream_detail=exc.detail if isinstance(exc, UpstreamError) else None,
            error=ErrorInfo(exc.code, _message(exc), retry_after_s=getattr(exc, "retry_after_s", None)),
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
            message = INTERRUPTED_POSTING_MESSAGE if site_id in self.posting else INTERRUPTED_MESSAGE
            sites.append(
                SiteResult(
                    self.report_id(site_id),
                    site_id,
                    SiteStatus.INTERRUPTED,
                    begun,
                    now,
                    self.since(site_id),
                    error=ErrorInfo(RunInterrupted.code, message),
                )
            )
        if self._outages is not None:
            if not self._outages.done():
                self._outages.cancel()
            elif not self._outages.cancelled():
                self._outages.exception()  # retrieved: every site may have failed before awaiting it
        return self._run_report(started_at, now, tuple(sites))

    def _run_report(
        self, started_at: datetime, finished_at: datetime, sites: tuple[SiteResult, ...]
    ) -> RunReport:
        return RunReport(
            run_id=self.run_id,
            trigger=self.options.trigger,
            started_at=started_at,
            finished_at=finished_at,
            settings_digest=self.options.settings_digest,
            dry_run=self.options.dry_run,
            sites=sites,
            upstream_url=self.options.upstream_url,
            sandbox=self.options.sandbox,
        )


def _message(exc: OutageSyncError) -> str:
    """The error's message; for a body with several bad records, how many more there are."""
    more = exc.invalid_total - 1 if isinstance(exc, InvalidUpstreamData) else 0
    if more > 0:
        return f"{exc} (and {more:,} more invalid record{'' if more == 1 else 's'}: see the report)"
    return str(exc)
