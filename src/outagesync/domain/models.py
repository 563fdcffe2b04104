"""Value objects of the core. Upstream records are msgspec Structs: decoded straight from the bytes.

msgspec Structs stand in for frozen dataclasses here because a million of them are decoded per run:
they are several times faster to build and smaller than dataclasses. Nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

import msgspec

# The upstream endpoints, as reports name them (keys of SiteResult.calls, prefixes of error messages).
OUTAGES_ENDPOINT = "GET /outages"
SITE_INFO_ENDPOINT = "GET /site-info"
POST_ENDPOINT = "POST /site-outages"


class Outage(msgspec.Struct, frozen=True, gc=False):
    """One `GET /outages` record; `begin` and `end` are kept exactly as received."""

    id: str
    begin: str
    end: str

    def named(self, name: str) -> SiteOutage:
        return SiteOutage(id=self.id, name=name, begin=self.begin, end=self.end)


class Device(msgspec.Struct, frozen=True, gc=False):
    id: str
    name: str


class SiteInfo(msgspec.Struct, frozen=True):
    """`GET /site-info/{siteId}`."""

    id: str
    name: str
    devices: list[Device]


class SiteOutage(msgspec.Struct, frozen=True, gc=False):
    """One posted item: exactly these four fields, in this order, nothing else."""

    id: str
    name: str
    begin: str
    end: str


@dataclass(frozen=True, slots=True)
class InvalidRecord:
    """A record dropped by --skip-invalid: where it was and what was wrong."""

    endpoint: str
    index: int | None
    field: str | None
    problem: str

    def __str__(self) -> str:
        where = self.endpoint + (f" record {self.index}" if self.index is not None else "")
        return f"{where}: {self.field}: {self.problem}" if self.field else f"{where}: {self.problem}"


@dataclass(frozen=True, slots=True)
class DecodedOutages:
    """The valid outages in upstream order, the invalid records, and the outages released by decoding.

    `released` counts, per device id, the valid outages that began before the decoder's `release_before`
    and were not kept in `outages` (no site of the run can post them); `released_count` is their total.
    `foreign_count` counts the valid outages of devices that no site of the run has (dropped as they
    arrived, once the run's site infos were known): every site counts them as for an unknown device.
    """

    outages: Sequence[Outage]  # a list, or packed by the decoder (domain/packed.py)
    invalid: list[InvalidRecord]
    released: dict[str, int] = field(default_factory=dict)
    released_count: int = 0
    foreign_count: int = 0
    kept_from: datetime | None = (
        None  # the decoder's `release_before`: every kept outage began at or after it
    )

    @property
    def fetched(self) -> int:
        """How many records the body held: kept, released, foreign and invalid."""
        return len(self.outages) + self.released_count + self.foreign_count + len(self.invalid)


@dataclass(frozen=True, slots=True)
class Selection:
    """What the rules made of one site's data: the items to post and why the others were dropped."""

    items: Sequence[SiteOutage]  # a list, or packed (domain/packed.py)
    dropped_before_cutoff: int
    dropped_unknown_device: int


class SiteStatus(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    DRY_RUN = "dry_run"
    INTERRUPTED = "interrupted"
    RUNNING = "running"  # recorded before the first POST; replaced by the outcome
    ABANDONED = "abandoned"  # running, but the process that ran it is gone (its run lock is free)


class RunStatus(StrEnum):
    SUCCEEDED = "succeeded"
    PARTIAL = "partial"
    FAILED = "failed"
    DRY_RUN = "dry_run"
    INTERRUPTED = "interrupted"
    RUNNING = "running"
    ABANDONED = "abandoned"


class Trigger(StrEnum):
    CLI = "cli"
    API = "api"
    PYTHON = "python"  # the Python API (`import outagesync`)
    QUEUE = "queue"  # a queue job (`enqueue`, POST /sync with OUTAGESYNC_EXECUTION=queue, a retry)
    SCHEDULE = "schedule"  # a queue job a site's cron schedule enqueued


@dataclass(frozen=True, slots=True)
class CallStats:
    """Requests made to one endpoint for one site: attempts = 1 + retries."""

    attempts: int = 0

    @property
    def retries(self) -> int:
        return max(self.attempts - 1, 0)


@dataclass(frozen=True, slots=True)
class ErrorInfo:
    """Why a site failed: the error's stable `code` (see outagesync.errors) and its message;
    `retry_after_s`: when the upstream said to try again (not stored: for the answer of the moment)."""

    code: str
    message: str
    retry_after_s: float | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class SiteResult:
    """The outcome of one site's sync, as reported and stored."""

    report_id: str
    site_id: str
    status: SiteStatus
    started_at: datetime
    finished_at: datetime
    since: datetime
    fetched: int = 0
    site_devices: int = 0
    kept: int = 0
    dropped_before_cutoff: int = 0
    dropped_unknown_device: int = 0
    invalid_records: tuple[InvalidRecord, ...] = ()
    calls: dict[str, CallStats] = field(default_factory=dict)  # endpoint ("GET /outages") -> stats
    post_status: int | None = None
    upstream_message: str | None = None
    upstream_detail: Any = None  # JSON: what a 4xx answer said beyond its message (its `detail`)
    error: ErrorInfo | None = None
    items: Sequence[SiteOutage] = ()  # posted, or what would be posted on a dry run (a tuple, or packed)

    @property
    def posted(self) -> int:
        return len(self.items) if self.status is SiteStatus.SUCCEEDED else 0

    @property
    def ok(self) -> bool:
        return self.status in (SiteStatus.SUCCEEDED, SiteStatus.DRY_RUN)


@dataclass(frozen=True, slots=True)
class RunReport:
    """One run over one or more sites. `stored`: the report was saved; `storage_error`: why it could not
    be (a run made without a report store has neither)."""

    run_id: str
    trigger: Trigger
    started_at: datetime
    finished_at: datetime
    settings_digest: str
    dry_run: bool
    sites: tuple[SiteResult, ...]
    storage_error: str | None = None
    stored: bool = field(default=False, compare=False)  # what the store holds is the same run
    upstream_url: str | None = None  # the API's base URL, credentials removed
    sandbox: bool = False  # against the built-in sandbox (demo runs), not a real upstream

    @property
    def status(self) -> RunStatus:
        return run_status([site.status for site in self.sites], dry_run=self.dry_run)

    @property
    def ok(self) -> bool:
        return all(site.ok for site in self.sites) and self.storage_error is None


def run_status(statuses: list[SiteStatus], *, dry_run: bool) -> RunStatus:
    """Overall status: running (or abandoned) wins, then interrupted, then all-good, all-failed, partial."""
    if SiteStatus.RUNNING in statuses:
        return RunStatus.RUNNING
    if SiteStatus.ABANDONED in statuses:
        return RunStatus.ABANDONED
    if SiteStatus.INTERRUPTED in statuses:
        return RunStatus.INTERRUPTED
    good = [s for s in statuses if s in (SiteStatus.SUCCEEDED, SiteStatus.DRY_RUN)]
    if len(good) == len(statuses):
        return RunStatus.DRY_RUN if dry_run else RunStatus.SUCCEEDED
    if not good:
        return RunStatus.FAILED
    return RunStatus.PARTIAL


@dataclass(frozen=True, slots=True)
class ManagedSite:
    """A site the service keeps in sync; `since` overrides the run's cutoff for this site."""

    site_id: str
    name: str | None
    since: datetime | None
    enabled: bool
    created_at: datetime
    updated_at: datetime
    schedule: str | None = None  # cron (UTC) of the queue's periodic syncs; None: OUTAGESYNC_SCHEDULE's
    allow_empty: bool = False  # an empty list may be posted even if the last accepted one was not empty
