"""The small interfaces the use cases need; adapters implement them, tests use the real adapters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from outagesync.domain.models import ManagedSite, RunReport


@dataclass(frozen=True, slots=True)
class Fetched:
    """A successful upstream response body and the number of requests it took."""

    body: bytes
    attempts: int


@dataclass(frozen=True, slots=True)
class Posted:
    """The upstream accepted a POST: its status, its message if it gave one, the requests it took."""

    status: int
    message: str | None
    attempts: int


class Upstream(Protocol):
    """The KrakenFlex API. Failures raise `UpstreamError` subclasses carrying `attempts`."""

    async def fetch_outages(self) -> Fetched: ...

    async def fetch_site_info(self, site_id: str) -> Fetched: ...

    async def post_site_outages(self, site_id: str, body: bytes) -> Posted: ...


class ReportStore(Protocol):
    """Where run reports go. Failures raise `StorageError`."""

    def save_run(self, report: RunReport) -> None: ...


class SiteStore(Protocol):
    """The managed sites. Failures raise `StorageError`."""

    def list_sites(self, *, enabled_only: bool = False) -> list[ManagedSite]: ...
