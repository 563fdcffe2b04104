"""Builds adapters from Settings: the one module that imports them. Entry points get ports back.

Adapters are imported inside the functions, so that a command loads only what it uses.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import TYPE_CHECKING

from outagesync.errors import ConfigError

if TYPE_CHECKING:
    from datetime import datetime

    from outagesync.adapters.telemetry.process import ProcessTelemetry
    from outagesync.config import Settings  # imported by the caller already; here, `--help` stays fast
    from outagesync.domain.jobs import Batch
    from outagesync.domain.models import RunReport, Trigger
    from outagesync.services.ports import (
        JobQueue,
        ReportStore,
        RunObserver,
        SiteLocks,
        Store,
        Telemetry,
        Upstream,
    )
    from outagesync.services.sync import SyncOptions

NO_API_KEY = (
    "no API key: set KRAKENFLEX_API_KEY (or KRAKEN_API_KEY) in the environment or in a .env file, "
    "or add --sandbox to run against the built-in sandbox"
)


def sync_options(
    settings: Settings,
    *,
    trigger: Trigger,
    dry_run: bool = False,
    skip_invalid: bool = False,
    allow_empty: bool = False,
    observer: RunObserver | None = None,
    sandbox: bool = False,
) -> SyncOptions:
    """The run options the settings ask for, for the CLI and the REST API; ConfigError on a bad cutoff."""
    from outagesync.domain.timestamps import parse_cutoff
    from outagesync.services.ports import NO_OBSERVER
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
        allow_empty=allow_empty,
        concurrency=settings.concurrency,
        trigger=trigger,
        settings_digest=settings.digest(),
        upstream_url=public_url(settings.api_url),
        sandbox=sandbox,
        lock_wait_s=settings.lock_wait,
        observer=observer or NO_OBSERVER,
    )


@asynccontextmanager
async def open_upstream(settings: Settings, telemetry: Telemetry | None = None) -> AsyncIterator[Upstream]:
    """A KrakenFlex client for one run (its deadline starts now), instrumented by `telemetry`."""
    from outagesync.adapters.krakenflex.client import KrakenFlexClient, RetryPolicy

    if settings.api_key is None or not settings.api_key.get_secret_value():
        raise ConfigError(NO_API_KEY)
    redact_in_logs(settings.api_key.get_secret_value())
    process = _process(telemetry)
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
        on_retry=process.on_retry if process is not None else None,
        event_hooks=process.upstream_hooks() if process is not None else None,
        ca_bundle=settings.ca_bundle,
    )
    async with client:
        yield process.traced(client) if process is not None else client


def public_url(url: str) -> str:
    """The URL as reports may keep it: scheme, host, port and path; no user, password, query or fragment."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"  # IPv6
    try:
        netloc = f"{host}:{parts.port}" if parts.port is not None else host
    except ValueError:  # not a port: keep the host only
        netloc = host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def sandbox_database_url() -> str:
    """The report database `sync --sandbox` uses when OUTAGESYNC_DATABASE_URL is not set: its own SQLite
    file beside the default one, so demo runs never mix with a real history."""
    from outagesync.adapters.storage.engine import default_database_path

    return f"sqlite:///{default_database_path().with_name('sandbox.db')}"


def for_sandbox(settings: Settings) -> Settings:
    """The settings with the sandbox's own report database unless one is set explicitly."""
    if settings.database_url is not None:
        return settings
    return settings.model_copy(update={"database_url": sandbox_database_url()})


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


def build_telemetry(settings: Settings, *, server: bool = False) -> Telemetry:
    """The process's metrics, traces and error trackers (docs/observability.md); ConfigError when one is
    asked for and its extra is not installed. A CLI run keeps metrics only to push them; `server`
    (`serve`) keeps them for GET /metrics."""
    import socket
    from urllib.parse import unquote, urlsplit

    from outagesync.adapters.telemetry.process import ProcessTelemetry, TelemetryConfig
    from outagesync.adapters.telemetry.trackers import RollbarConfig, SentryConfig

    endpoint = None
    if not settings.otel_sdk_disabled:
        endpoint = settings.otel_exporter_otlp_traces_endpoint or (
            settings.otel_exporter_otlp_endpoint
            and settings.otel_exporter_otlp_endpoint.rstrip("/") + "/v1/traces"
        )
    resource: dict[str, str] = {}
    for pair in (settings.otel_resource_attributes or "").split(","):
        key, equals, value = pair.partition("=")
        if equals and key.strip():
            resource[key.strip()] = unquote(value.strip())
    resource["service.name"] = settings.otel_service_name  # OTEL_SERVICE_NAME wins (the spec says so)
    sentry = rollbar = None
    if settings.sentry_dsn is not None and settings.sentry_dsn.get_secret_value():
        sentry = SentryConfig(
            settings.sentry_dsn.get_secret_value(),
            settings.sentry_environment,
            settings.sentry_traces_sample_rate,
        )
    if settings.rollbar_access_token is not None and settings.rollbar_access_token.get_secret_value():
        rollbar = RollbarConfig(
            settings.rollbar_access_token.get_secret_value(),
            settings.rollbar_environment,
            settings.rollbar_endpoint,
        )
    secrets = (
        settings.api_key.get_secret_value() if settings.api_key is not None else "",
        settings.api_token.get_secret_value() if settings.api_token is not None else "",
        urlsplit(settings.database_url or "").password or "",
    )
    return ProcessTelemetry(
        TelemetryConfig(
            metrics=server or settings.pushgateway_url is not None,
            process_metrics=server,
            pushgateway_url=settings.pushgateway_url,
            push_instance=socket.gethostname(),
            traces_endpoint=endpoint or None,
            traces_setting="OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
            if settings.otel_exporter_otlp_traces_endpoint
            else "OTEL_EXPORTER_OTLP_ENDPOINT",
            resource=resource,
            sentry=sentry,
            rollbar=rollbar,
            secrets=tuple(secret for secret in secrets if secret),
        )
    )


def observed_reports(reports: ReportStore, telemetry: Telemetry) -> ReportStore:
    """`reports` whose writes are traced and counted when they fail (as is, without telemetry)."""
    process = _process(telemetry)
    return process.observed(reports) if process is not None else reports


def _process(telemetry: Telemetry | None) -> ProcessTelemetry | None:
    """The adapter behind a Telemetry built here (anything else, e.g. a test fake, instruments nothing)."""
    from outagesync.adapters.telemetry.process import ProcessTelemetry

    return telemetry if isinstance(telemetry, ProcessTelemetry) else None


def configure_json_logging(level: int) -> None:
    """Logs on stderr at `level` as one JSON object per line (`--log-format json`)."""
    from outagesync.adapters.telemetry.logs import configure_json_logging as configure

    configure(level)


def configure_logging(verbosity: int, *, json_lines: bool) -> Callable[[], None]:
    """The CLI's logs on stderr: -1 (-q) errors only, 0 warnings, 1 (-v) our steps, 2 (-vv) library
    debug logs too; secrets masked in every line. Returns how to undo it (when the command ends)."""
    from outagesync.adapters.telemetry.logs import configure_logging as configure

    return configure(verbosity, json_lines=json_lines)


def redact_in_logs(secret: str) -> None:
    """Mask `secret` in every log line from now on."""
    from outagesync.adapters.telemetry.logs import redact

    redact(secret)


def json_logs() -> bool:
    """Whether logs are JSON lines (then every message on stderr should be one)."""
    from outagesync.adapters.telemetry.logs import is_json_configured

    return is_json_configured()


def managed_site_ids(settings: Settings, prefix: str) -> list[str]:
    """Managed site ids starting with `prefix` in the report database, for shell completion: looks only
    (creates and migrates nothing); StorageError when the database cannot be read."""
    from outagesync.adapters.storage import SqlStore

    with SqlStore.from_url(settings.database_url) as store:
        return store.managed_site_ids(prefix)


# -- the job queue (docs/scale-out.md): PostgreSQL only --------------------------------------------------


def open_queue(settings: Settings) -> JobQueue:
    """The job queue in the report database; ConfigError (exit 2) unless that is PostgreSQL."""
    from outagesync.adapters.queue.connection import queue_conninfo
    from outagesync.adapters.queue.jobs import ProcrastinateQueue

    return ProcrastinateQueue(queue_conninfo(settings.database_url))


def has_queue(settings: Settings) -> bool:
    """Whether the report database can hold the job queue (PostgreSQL)."""
    return (settings.database_url or "").startswith("postgres")  # postgresql+psycopg://, postgres://


async def upgrade_queue_schema(settings: Settings) -> str:
    """Create or migrate the queue's tables (procrastinate's); the migration they are now at."""
    from outagesync.adapters.queue.connection import queue_conninfo
    from outagesync.adapters.queue.schema import upgrade_queue_schema as upgrade

    return await upgrade(queue_conninfo(settings.database_url))


async def run_queue_worker(
    settings: Settings,
    *,
    concurrency: int,
    metrics_host: str,
    metrics_port: int | None,
    graceful_timeout_s: float,
    run_batch: Callable[[int, Batch], Awaitable[RunReport]],
    scan: Callable[[datetime], Awaitable[None]],
    telemetry: Telemetry,
) -> None:
    """Run a worker until SIGTERM/SIGINT (adapters/queue/worker.py says how it stops and recovers)."""
    from outagesync.adapters.queue.connection import queue_conninfo
    from outagesync.adapters.queue.worker import WorkerConfig, run_worker

    config = WorkerConfig(
        conninfo=queue_conninfo(settings.database_url),
        concurrency=concurrency,
        stall_timeout_s=settings.stall_timeout,
        graceful_timeout_s=graceful_timeout_s,
        metrics_host=metrics_host,
        metrics_port=metrics_port,
    )
    await upgrade_queue_schema(settings)
    await run_worker(
        config,
        run_batch=run_batch,
        scan=scan,
        process_metrics=lambda: telemetry.metrics_text()[0],
        max_attempts=settings.job_retries + 2,
    )
