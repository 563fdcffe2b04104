"""The REST API's dependencies as `Annotated` aliases: the app's state, the store, the upstream, the token.

What a route needs is declared in its signature; nothing here decides anything about outages.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Annotated, cast

from fastapi import Depends, HTTPException, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from outagesync import bootstrap
from outagesync.config import Settings
from outagesync.entrypoints.api.background import BackgroundSyncs
from outagesync.errors import ConfigError
from outagesync.services.ports import JobQueue, Store, Telemetry, Upstream
from outagesync.services.sync import SyncOptions

NO_API_KEY = "no KrakenFlex API key is configured: set KRAKENFLEX_API_KEY for the service and restart it"


@dataclass(frozen=True, slots=True)
class ApiState:
    """What every request shares: settings, the store, the run options, the token (None: no auth), the
    process's telemetry."""

    settings: Settings
    store: Store
    options: SyncOptions
    token: bytes | None
    telemetry: Telemetry
    syncs: BackgroundSyncs = field(default_factory=BackgroundSyncs)
    queue: JobQueue | None = None  # with PostgreSQL; syncs go through it when OUTAGESYNC_EXECUTION=queue

    @property
    def queued(self) -> bool:
        """Whether syncs are jobs for the workers (OUTAGESYNC_EXECUTION=queue) rather than run here."""
        return self.queue is not None and self.settings.execution == "queue"

    def sync_options(
        self, *, dry_run: bool = False, skip_invalid: bool = False, allow_empty: bool = False
    ) -> SyncOptions:
        return replace(self.options, dry_run=dry_run, skip_invalid=skip_invalid, allow_empty=allow_empty)


def configured_token(settings: Settings) -> bytes | None:
    """The API token to require, None when none is configured (an empty one counts as none)."""
    token = settings.api_token.get_secret_value() if settings.api_token is not None else ""
    return token.encode() or None


def is_loopback(host: str) -> bool:
    """Whether `host` (an address or "localhost") is only reachable from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def get_state(request: Request) -> ApiState:
    return cast(ApiState, request.app.state.api)


StateDep = Annotated[ApiState, Depends(get_state)]


def get_store(state: StateDep) -> Store:
    return state.store


StoreDep = Annotated[Store, Depends(get_store)]


def get_queue(state: StateDep) -> JobQueue:
    """The job queue; without PostgreSQL, one that holds no job (GET /jobs lists none, /jobs/{id} 404)."""
    from outagesync.services.jobs import NoQueue

    return state.queue if state.queue is not None else NoQueue()


QueueDep = Annotated[JobQueue, Depends(get_queue)]


def require_api_key(state: StateDep) -> None:
    """ConfigError (503) when the service has no KrakenFlex API key: checked before any sync starts."""
    if state.settings.api_key is None or not state.settings.api_key.get_secret_value():
        raise ConfigError(NO_API_KEY)


async def open_upstream(state: StateDep) -> AsyncIterator[Upstream]:
    """A KrakenFlex client for this request's run; ConfigError (503) when the service has no API key."""
    require_api_key(state)
    async with bootstrap.open_upstream(state.settings, state.telemetry) as client:
        yield client


UpstreamDep = Annotated[Upstream, Depends(open_upstream)]

bearer = HTTPBearer(
    auto_error=False,
    description="OUTAGESYNC_API_TOKEN. A server without one listens on, and answers, loopback only.",
)


def require_token(
    request: Request,
    state: StateDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)],
) -> None:
    """401 unless the request carries the configured token (compared in constant time).

    With no token configured, requests from loopback clients pass and any other is refused.
    """
    if state.token is None:
        client = request.client.host if request.client else ""
        if is_loopback(client):
            return
        raise _unauthorized("this server has no API token configured and answers loopback clients only")
    given = credentials.credentials.encode() if credentials else b""
    if not hmac.compare_digest(given, state.token):
        raise _unauthorized(
            "missing or wrong bearer token: send `Authorization: Bearer <OUTAGESYNC_API_TOKEN>`"
        )


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(401, detail, headers={"WWW-Authenticate": 'Bearer realm="outagesync"'})


def now() -> datetime:
    return datetime.now(UTC)
