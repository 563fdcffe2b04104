"""In-memory fakes of our ports (services/ports.py), for unit tests of the use cases.

`FakeUpstream` serves outages and site infos from memory, fails when a test scripts it to, records every
call, and counts the site-info and POST calls in flight. Calls to the endpoints in `hold` wait at a gate
until the test releases them, so what is in flight at a given moment is decided by the test, not by the
wall clock: `wait_until` resumes the test once the fake's state satisfies a condition.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Container, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from outagesync.domain.models import (
    POST_ENDPOINT,
    SITE_INFO_ENDPOINT,
    DecodedOutages,
    InvalidRecord,
    ManagedSite,
    Outage,
    RunReport,
    RunStatus,
    SiteInfo,
    SiteOutage,
    SiteStatus,
)
from outagesync.domain.sites import KEEP, SiteChanges
from outagesync.domain.timestamps import is_before
from outagesync.errors import (
    InvalidUpstreamData,
    SiteAlreadyManaged,
    SiteNotManaged,
    StorageError,
    UnknownSite,
    UpstreamError,
)
from outagesync.services.ports import Fetched, Posted, ReportStore, SiteStore, Upstream

FUSE_S = 10.0  # only so that a broken use case fails a test instead of hanging it; nothing waits for it


class FakeClock:
    """A clock that moves one `step` forward each time it is read: the n-th reading (from 0) is `at(n)`."""

    def __init__(self, start: datetime = datetime(2024, 1, 1, tzinfo=UTC), step: timedelta | None = None):
        self.start = start
        self.step = step if step is not None else timedelta(seconds=1)
        self.readings = 0

    def __call__(self) -> datetime:
        now = self.at(self.readings)
        self.readings += 1
        return now

    def at(self, reading: int) -> datetime:
        return self.start + reading * self.step


@dataclass(frozen=True, slots=True)
class FetchOutagesCall:
    skip_invalid: bool
    release_before: datetime | None


@dataclass(frozen=True, slots=True)
class PostCall:
    site_id: str
    items: list[SiteOutage]


@dataclass(eq=False)
class HeldCall:
    """A site-info or POST call waiting at its gate until the test releases it."""

    endpoint: str
    site_id: str
    gate: asyncio.Event = field(default_factory=asyncio.Event)


class FakeUpstream:
    """The Upstream port from memory.

    `outages` are served in order; those that began before `release_before` are released (counted per
    device, not listed), as the real decoder does. `invalid` records make `fetch_outages` raise
    InvalidUpstreamData (the first of them), or, with `skip_invalid`, are listed. A site without a site
    info is unknown (UnknownSite, as a 404). Scripted failures and replies are used one per call, in order.
    """

    def __init__(
        self,
        outages: Iterable[Outage] = (),
        site_infos: Mapping[str, SiteInfo] | None = None,
        *,
        invalid: Iterable[InvalidRecord] = (),
        outages_attempts: int = 1,
        site_info_attempts: Mapping[str, int] | None = None,
        hold: Iterable[str] = (),
    ) -> None:
        self.outages = list(outages)
        self.invalid = list(invalid)
        self.site_infos = dict(site_infos or {})
        self.outages_attempts = outages_attempts
        self.site_info_attempts = dict(site_info_attempts or {})
        self.outages_after_site_infos = False  # fetch_outages returns once the run's devices are known
        self.devices_known_at_fetch: Container[str] | None = None
        self.hold = set(hold)  # endpoints whose calls wait at a gate: SITE_INFO_ENDPOINT, POST_ENDPOINT
        self._outages_failures: list[UpstreamError | InvalidUpstreamData] = []
        self._site_info_failures: dict[str, list[UpstreamError | InvalidUpstreamData]] = {}
        self._post_replies: dict[str, list[Posted | UpstreamError]] = {}
        # what happened
        self.fetch_outages_calls: list[FetchOutagesCall] = []
        self.site_info_calls: list[str] = []
        self.post_calls: list[PostCall] = []  # every POST sent, whatever became of it
        self.posted: dict[str, list[SiteOutage]] = {}  # site id -> the items of its accepted POST
        self.held: list[HeldCall] = []  # waiting at their gate now, oldest first
        self.released: list[HeldCall] = []
        self.cancelled: list[HeldCall] = []  # cancelled while held
        self.in_flight = 0  # site-info and POST calls begun and not returned
        self.max_in_flight = 0
        self.in_flight_by_endpoint = {SITE_INFO_ENDPOINT: 0, POST_ENDPOINT: 0}
        self.max_in_flight_by_endpoint = {SITE_INFO_ENDPOINT: 0, POST_ENDPOINT: 0}
        self._waiters: list[tuple[Callable[[], bool], asyncio.Future[None]]] = []

    # scripting -------------------------------------------------------------------------------------------

    def fail_outages(self, exc: UpstreamError | InvalidUpstreamData) -> None:
        """The next `fetch_outages` raises `exc`."""
        self._outages_failures.append(exc)

    def fail_site_info(self, site_id: str, exc: UpstreamError | InvalidUpstreamData) -> None:
        """The next `fetch_site_info(site_id)` raises `exc`."""
        self._site_info_failures.setdefault(site_id, []).append(exc)

    def reply_post(self, site_id: str, reply: Posted | UpstreamError) -> None:
        """The next POST for the site returns `reply`, or raises it (by default: Posted(200, None, 1))."""
        self._post_replies.setdefault(site_id, []).append(reply)

    # the port --------------------------------------------------------------------------------------------

    async def fetch_outages(
        self,
        *,
        skip_invalid: bool = False,
        release_before: datetime | None = None,
        devices: Callable[[], Container[str] | None] | None = None,
    ) -> Fetched[DecodedOutages]:
        self.fetch_outages_calls.append(FetchOutagesCall(skip_invalid, release_before))
        if self.outages_after_site_infos and devices is not None:
            while devices() is None:  # noqa: ASYNC110 (a long download: the site infos arrive meanwhile)
                await asyncio.sleep(0)
        known = devices() if devices is not None else None
        self.devices_known_at_fetch = known
        if self._outages_failures:
            raise self._outages_failures.pop(0)
        if self.invalid and not skip_invalid:
            first = self.invalid[0]
            error = InvalidUpstreamData(
                first.endpoint,
                first.problem,
                index=first.index,
                field=first.field,
                attempts=self.outages_attempts,
            )
            # as the decoder does: every bad record listed, the total, and how many records there were
            error.invalid_records = tuple(self.invalid)
            error.invalid_total = len(self.invalid)
            error.records_seen = len(self.outages) + len(self.invalid)
            raise error
        kept: list[Outage] = []
        released: dict[str, int] = {}
        foreign = 0
        for outage in self.outages:
            if known is not None and outage.id not in known:
                foreign += 1
            elif release_before is not None and is_before(outage.begin, release_before):
                released[outage.id] = released.get(outage.id, 0) + 1
            else:
                kept.append(outage)
        decoded = DecodedOutages(kept, list(self.invalid), released, sum(released.values()), foreign)
        return Fetched(decoded, self.outages_attempts)

    async def fetch_site_info(self, site_id: str) -> Fetched[SiteInfo]:
        self.site_info_calls.append(site_id)
        async with self._call(SITE_INFO_ENDPOINT, site_id):
            failures = self._site_info_failures.get(site_id)
            if failures:
                raise failures.pop(0)
            site = self.site_infos.get(site_id)
            if site is None:
                raise UnknownSite(
                    f"unknown site: {site_id} ({SITE_INFO_ENDPOINT}: 404 Site not found)",
                    endpoint=SITE_INFO_ENDPOINT,
                    status=404,
                )
            return Fetched(site, self.site_info_attempts.get(site_id, 1))

    async def post_site_outages(self, site_id: str, items: Sequence[SiteOutage]) -> Posted:
        self.post_calls.append(PostCall(site_id, list(items)))
        async with self._call(POST_ENDPOINT, site_id):
            replies = self._post_replies.get(site_id)
            reply = replies.pop(0) if replies else Posted(200, None, 1)
            if isinstance(reply, UpstreamError):
                raise reply
            self.posted[site_id] = list(items)
            return reply

    # gates and observation -------------------------------------------------------------------------------

    def held_calls(self, endpoint: str) -> list[HeldCall]:
        return [call for call in self.held if call.endpoint == endpoint]

    def released_count(self, endpoint: str) -> int:
        return sum(1 for call in self.released if call.endpoint == endpoint)

    def release(self, call: HeldCall) -> None:
        """Let one held call return."""
        self.held.remove(call)
        self.released.append(call)
        call.gate.set()
        self._changed()

    def release_all(self) -> None:
        for call in list(self.held):
            self.release(call)

    async def wait_until(self, condition: Callable[[], bool]) -> None:
        """Resume once `condition` holds; it is checked now and at each change of this fake's state."""
        if condition():
            return
        waiter = asyncio.get_running_loop().create_future()
        entry = (condition, waiter)
        self._waiters.append(entry)
        try:
            async with asyncio.timeout(FUSE_S):
                await waiter
        except TimeoutError:
            raise AssertionError(
                f"the condition never held: {len(self.held)} calls held "
                f"({[(call.endpoint, call.site_id) for call in self.held]}), {self.in_flight} in flight"
            ) from None
        finally:
            if entry in self._waiters:
                self._waiters.remove(entry)

    async def wait_held(self, count: int, endpoint: str | None = None) -> None:
        """Resume once `count` calls (to `endpoint`, if given) are held at their gates."""
        await self.wait_until(
            lambda: len(self.held if endpoint is None else self.held_calls(endpoint)) >= count
        )

    @asynccontextmanager
    async def _call(self, endpoint: str, site_id: str) -> AsyncIterator[None]:
        self.in_flight += 1
        self.in_flight_by_endpoint[endpoint] += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        self.max_in_flight_by_endpoint[endpoint] = max(
            self.max_in_flight_by_endpoint[endpoint], self.in_flight_by_endpoint[endpoint]
        )
        try:
            if endpoint in self.hold:
                call = HeldCall(endpoint, site_id)
                self.held.append(call)
                self._changed()
                try:
                    await call.gate.wait()
                except asyncio.CancelledError:
                    if call in self.held:
                        self.held.remove(call)
                    self.cancelled.append(call)
                    raise
            else:
                self._changed()
            yield
        finally:
            self.in_flight -= 1
            self.in_flight_by_endpoint[endpoint] -= 1
            self._changed()

    def _changed(self) -> None:
        for condition, waiter in list(self._waiters):
            if not waiter.done() and condition():
                waiter.set_result(None)


class FakeReportStore:
    """The ReportStore port as lists: `running` holds the runs recorded before their first POST, `saved`
    their outcomes. With `fail`, saving an outcome raises it; with `fail_running`, recording a run does."""

    def __init__(self, fail: StorageError | None = None, *, fail_running: StorageError | None = None) -> None:
        self.fail = fail
        self.fail_running = fail_running
        self.running: list[RunReport] = []
        self.saved: list[RunReport] = []
        self.save_attempts = 0  # of outcomes
        self._lock = threading.Lock()  # save_run is called from a worker thread

    def last_accepted_total(self, site_id: str) -> int | None:
        with self._lock:
            accepted = [
                site
                for run in self.saved
                for site in run.sites
                if site.site_id == site_id and site.status is SiteStatus.SUCCEEDED
            ]
        return len(accepted[-1].items) if accepted else None

    def save_run(self, report: RunReport) -> None:
        with self._lock:
            if report.status is RunStatus.RUNNING:
                if self.fail_running is not None:
                    raise self.fail_running
                self.running.append(report)
                return
            self.save_attempts += 1
            if self.fail is not None:
                raise self.fail
            self.saved.append(report)


class FakeSiteStore:
    """The SiteStore port as a dict, listed by site id."""

    def __init__(self, sites: Iterable[ManagedSite] = (), *, clock: Callable[[], datetime] | None = None):
        self.sites = {site.site_id: site for site in sites}
        self.clock = clock or FakeClock()
        self.list_calls: list[bool] = []  # enabled_only of each list_sites
        self._lock = threading.Lock()  # the use cases call it from a worker thread

    def list_sites(
        self, *, enabled_only: bool = False, limit: int | None = None, after: str | None = None
    ) -> list[ManagedSite]:
        with self._lock:
            self.list_calls.append(enabled_only)
            found = [
                site
                for site_id, site in sorted(self.sites.items())
                if (not enabled_only or site.enabled) and (after is None or site_id > after)
            ]
        return found if limit is None else found[:limit]

    def get_site(self, site_id: str) -> ManagedSite:
        with self._lock:
            site = self.sites.get(site_id)
        if site is None:
            raise SiteNotManaged(f"no managed site {site_id!r}")
        return site

    def add_site(
        self,
        site_id: str,
        *,
        name: str | None = None,
        since: datetime | None = None,
        enabled: bool = True,
        schedule: str | None = None,
        allow_empty: bool = False,
    ) -> ManagedSite:
        with self._lock:
            if site_id in self.sites:
                raise SiteAlreadyManaged(f"site {site_id!r} is already managed")
            now = self.clock()
            site = ManagedSite(site_id, name, since, enabled, now, now, schedule, allow_empty)
            self.sites[site_id] = site
        return site

    def update_site(self, site_id: str, changes: SiteChanges) -> ManagedSite:
        site = self.get_site(site_id)
        with self._lock:
            site = replace(
                site,
                name=site.name if changes.name is KEEP else changes.name,
                since=site.since if changes.since is KEEP else changes.since,
                enabled=site.enabled if changes.enabled is KEEP else changes.enabled,
                schedule=site.schedule if changes.schedule is KEEP else changes.schedule,
                allow_empty=site.allow_empty if changes.allow_empty is KEEP else changes.allow_empty,
                updated_at=self.clock(),
            )
            self.sites[site_id] = site
        return site

    def remove_site(self, site_id: str) -> None:
        with self._lock:
            if self.sites.pop(site_id, None) is None:
                raise SiteNotManaged(f"no managed site {site_id!r}")


def managed_site(site_id: str, *, since: datetime | None = None, enabled: bool = True) -> ManagedSite:
    """A managed site as the store would hold it."""
    created = datetime(2023, 6, 1, tzinfo=UTC)
    return ManagedSite(site_id, None, since, enabled, created, created)


def _conforms(upstream: FakeUpstream, reports: FakeReportStore, sites: FakeSiteStore) -> None:
    """Type-checked only: each fake implements its port."""
    _: tuple[Upstream, ReportStore, SiteStore] = (upstream, reports, sites)


class FakeLocks:
    """The SiteLocks port over a shared dict (key -> holder), recording what this holder did, in order."""

    def __init__(self, table: dict[str, object] | None = None) -> None:
        self.table: dict[str, object] = {} if table is None else table
        self.events: list[tuple[str, str]] = []  # ("acquire" | "busy" | "release", key); ("close", "")

    async def try_acquire(self, key: str) -> bool:
        holder = self.table.setdefault(key, self)
        self.events.append(("acquire" if holder is self else "busy", key))
        return holder is self

    async def release(self, key: str) -> None:
        if self.table.get(key) is self:
            del self.table[key]
            self.events.append(("release", key))

    async def close(self) -> None:
        for key in [k for k, holder in self.table.items() if holder is self]:
            await self.release(key)
        self.events.append(("close", ""))


class FakeSleep:
    """An injected sleep that moves a FakeClock instead of waiting, and records each wait."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.clock.start += timedelta(seconds=seconds)
