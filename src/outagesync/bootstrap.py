"""Builds adapters from Settings: the one module that imports them. Entry points get ports back.

Adapters are imported inside the functions, so that a command loads only what it uses.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import TYPE_CHECKING

from outagesync.config import Settings
from outagesync.errors import ConfigError

if TYPE_CHECKING:
    from outagesync.domain.models import Trigger
    from outagesync.services.ports import SiteLocks, Store, Upstream
    from outagesync.services.sync import SyncOptions

NO_API_KEY = (
    "no API key: set KRAKENFLEX_API_KEY (or KRAKEN_API_KEY) in the environment or in a .env file, "
    "or add --sandbox to run against the built-in sandbox"
)


def sync_options(
    settings: Settings, *, trigger: Trigger, dry_run: bool = False, skip_invalid: bool = False
) -> SyncOptions:
    """The run options the settings ask for, for the CLI and the REST API; ConfigError on a bad cutoff."""
    from outagesync.domain.timestamps import parse_cutoff
    from outagesync.services.sync import SyncOptions

    try:
        cutoff = parse_cutoff(settings.since)
    except ValueError:
        raise ConfigError(
            f"invalid cutoff (--since or OUTAGESYNC_SINCE) {settings.since!r}: "
            "use ISO 8601, e.g. 2022-01-01T00:00:00.000Z"
        ) from None
    return SyncOptions(
        since=cutoff,
        dry_run=dry_run,
        skip_invalid=skip_invalid,
        concurrency=settings.concurrency,
        trigger=trigger,
        settings_digest=settings.digest(),
        lock_wait_s=settings.lock_wait,
    )


@asynccontextmanager
async def open_upstream(settings: Settings) -> AsyncIterator[Upstream]:
    """A KrakenFlex client for one run (its deadline starts now)."""
    from outagesync.adapters.krakenflex.client import KrakenFlexClient, RetryPolicy

    if settings.api_key is None or not settings.api_key.get_secret_value():
        raise ConfigError(NO_API_KEY)
    policy = RetryPolicy(
        max_attempts=settings.max_attempts,
        backoff_initial_s=settings.backoff_initial,
        backoff_max_s=settings.backoff_max,
        retry_after_max_s=settings.retry_after_max,
        rate_limit_max_attempts=settings.rate_limit_max_attempts,
        deadline_s=settings.deadline,
    )
    client = KrakenFlexClient(
        settings.api_url,
        settings.api_key.get_secret_value(),
        timeout_s=settings.timeout,
        policy=policy,
        max_connections=settings.concurrency + 1,
    )
    async with client:
        yield client


def build_store(settings: Settings) -> Store:
    """The report and site store: SQLite in the user data directory unless OUTAGESYNC_DATABASE_URL is set."""
    from outagesync.adapters.storage import SqlStore

    return SqlStore.from_url(settings.database_url, items_max=settings.report_items_max)


def local_locks() -> SiteLocks:
    """Site locks for a run with no report store (`--no-store`): files in the user's data directory,
    shared by the processes of this machine only."""
    from platformdirs import user_data_path

    from outagesync.adapters.storage.locks import FileLocks

    return FileLocks(user_data_path("outagesync", appauthor=False) / "locks" / "no-store")


@contextmanager
def embedded_sandbox(settings: Settings) -> Iterator[Settings]:
    """Start the built-in sandbox in this process and return settings that point at it."""
    from pydantic import SecretStr

    from outagesync.sandbox.server import Sandbox

    with Sandbox() as sandbox:
        yield settings.model_copy(update={"api_url": sandbox.url, "api_key": SecretStr(sandbox.api_key)})
