"""ProcessTelemetry: the Telemetry port of one process (CLI run or API server), from plain values.

Each part is built only when its configuration is given, and imports its library then: metrics
(prometheus-client), traces (the OpenTelemetry SDK), error trackers (sentry-sdk, rollbar). A part
asked for whose extra is not installed is a ConfigError naming the `pip install` command.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from outagesync.adapters.telemetry import logs
from outagesync.adapters.telemetry.trackers import FailedSite, RollbarConfig, SentryConfig
from outagesync.domain.models import (
    OUTAGES_ENDPOINT,
    POST_ENDPOINT,
    SITE_INFO_ENDPOINT,
    RunReport,
    SiteResult,
    SiteStatus,
    Trigger,
)
from outagesync.errors import ConfigError, OutageSyncError, StorageError
from outagesync.services.ports import ReportStore, RequestRecord, Upstream

if TYPE_CHECKING:
    import httpx

    from outagesync.adapters.telemetry.metrics import Metrics
    from outagesync.adapters.telemetry.tracing import Tracing

log = logging.getLogger("outagesync.telemetry")

PUSH_TIMEOUT_S = 10.0


@dataclass(frozen=True, slots=True)
class TelemetryConfig:
    """What to switch on, as plain values (bootstrap reads them from Settings)."""

    metrics: bool = False
    process_metrics: bool = False  # process_* metrics (CPU, memory, fds) of a long-running server
    pushgateway_url: str | None = None
    push_job: str = "outagesync"
    push_instance: str = ""
    traces_endpoint: str | None = None  # OTLP/HTTP, the full URL of .../v1/traces
    traces_setting: str = "OTEL_EXPORTER_OTLP_ENDPOINT"  # the variable that set it, for messages
    resource: Mapping[str, str] = field(default_factory=dict)
    sentry: SentryConfig | None = None
    rollbar: RollbarConfig | None = None
    secrets: tuple[str, ...] = ()  # never sent anywhere: replaced in every error report


class _Tracker(Protocol):
    def site_failed(self, failed: FailedSite) -> None: ...

    def exception(self, exc: BaseException) -> None: ...

    def close(self) -> None: ...


def _extra(name: str, setting: str) -> ConfigError:
    return ConfigError(
        f"{setting} is set but the {name} extra is not installed: "
        f"pip install 'outagesync[{name}]' (or unset {setting})"
    )


class ProcessTelemetry:
    """Metrics, traces and error trackers of one process; what is off does nothing."""

    def __init__(self, config: TelemetryConfig) -> None:
        self.config = config
        self.metrics: Metrics | None = None
        self.tracing: Tracing | None = None
        self.trackers: list[_Tracker] = []
        if config.metrics:  # prometheus-client is a dependency, not an extra
            from outagesync.adapters.telemetry.metrics import Metrics

            self.metrics = Metrics(process_metrics=config.process_metrics)
        if config.traces_endpoint:
            try:
                from outagesync.adapters.telemetry.tracing import Tracing
            except ImportError:
                raise _extra("otel", config.traces_setting) from None
            self.tracing = Tracing(config.traces_endpoint, config.resource)
        if config.sentry is not None:
            from outagesync.adapters.telemetry.trackers import SentryTracker

            try:
                self.trackers.append(SentryTracker(config.sentry, config.secrets))
            except ImportError:
                raise _extra("sentry", "SENTRY_DSN") from None
        if config.rollbar is not None:
            from outagesync.adapters.telemetry.trackers import RollbarTracker

            try:
                self.trackers.append(RollbarTracker(config.rollbar, config.secrets))
            except ImportError:
                raise _extra("rollbar", "ROLLBAR_ACCESS_TOKEN") from None

    # RunObserver -------------------------------------------------------------------------------------
    def site_started(self, run_id: str, site_id: str) -> None:
        logs.bind(run_id=run_id, site_id=site_id)
        if self.tracing is not None:
            self.tracing.site_started(run_id, site_id)

    def site_done(self, run_id: str, result: SiteResult) -> None:
        if self.tracing is not None:
            self.tracing.site_done(run_id, result)

    # runs --------------------------------------------------------------------------------------------
    def run_span(self, trigger: Trigger) -> AbstractContextManager[None]:
        return self.tracing.run_span(trigger) if self.tracing is not None else nullcontext()

    def run_done(self, report: RunReport) -> None:
        if self.metrics is not None:
            self.metrics.run_done(report)
        if self.tracing is not None:
            self.tracing.run_done(report)
        for site in report.sites:
            if site.status is SiteStatus.FAILED:
                failed = FailedSite(report.run_id, report.trigger.value, site)
                for tracker in self.trackers:
                    tracker.site_failed(failed)

    @contextmanager
    def capturing(self) -> Iterator[None]:
        try:
            yield
        except OutageSyncError:
            raise  # an outcome we know how to tell, not a bug
        except Exception as exc:
            self.report_exception(exc)
            raise

    def report_exception(self, exc: BaseException) -> None:
        for tracker in self.trackers:
            tracker.exception(exc)

    # REST requests -----------------------------------------------------------------------------------
    @contextmanager
    def request(self, record: RequestRecord, headers: Mapping[str, str]) -> Iterator[RequestRecord]:
        started = time.perf_counter()
        span = self.tracing.server_span(record, headers) if self.tracing is not None else nullcontext()
        try:
            with span, self.capturing():
                yield record
        finally:
            if self.metrics is not None:
                self.metrics.api_request(
                    record.method, record.route, record.status, time.perf_counter() - started
                )

    def metrics_text(self) -> tuple[bytes, str]:
        if self.metrics is None:
            return b"", "text/plain; version=0.0.4; charset=utf-8"
        return self.metrics.exposition()

    # upstream ----------------------------------------------------------------------------------------
    def upstream_hooks(self) -> dict[str, list[Callable[..., Any]]] | None:
        """httpx event hooks: per-attempt metrics, and `traceparent` on every upstream request."""
        if self.metrics is None and self.tracing is None:
            return None
        return {"request": [self._on_request], "response": [self._on_response]}

    async def _on_request(self, request: httpx.Request) -> None:
        request.extensions["outagesync_started"] = time.perf_counter()
        if self.tracing is not None:
            self.tracing.inject(request)

    async def _on_response(self, response: httpx.Response) -> None:
        if self.metrics is None:
            return
        request = response.request
        started = request.extensions.get("outagesync_started", time.perf_counter())
        endpoint = endpoint_of(request.method, request.url.raw_path.decode("ascii", "replace"))
        self.metrics.upstream_response(endpoint, response.status_code, time.perf_counter() - started)

    def on_retry(self, endpoint: str, attempt: int, reason: str, status: int | None, wait_s: float) -> None:
        if self.metrics is not None:
            self.metrics.retry(endpoint, reason, status)
        if self.tracing is not None:
            self.tracing.retry(endpoint, attempt, reason, status, wait_s)

    def traced(self, upstream: Upstream) -> Upstream:
        return self.tracing.traced(upstream) if self.tracing is not None else upstream

    def observed(self, reports: ReportStore) -> ReportStore:
        """`reports` whose writes are spans, and counted when they fail."""
        if self.metrics is None and self.tracing is None:
            return reports
        return _ObservedReports(reports, self)

    # the end -----------------------------------------------------------------------------------------
    def push(self) -> None:
        if self.metrics is None or not self.config.pushgateway_url:
            return
        try:
            self.metrics.push(
                self.config.pushgateway_url,
                job=self.config.push_job,
                instance=self.config.push_instance,
                timeout_s=PUSH_TIMEOUT_S,
            )
        except OSError as exc:  # urllib's errors: the run's outcome stands, the push is lost
            log.warning("could not push the run's metrics to the Pushgateway: %s", exc)

    def close(self) -> None:
        if self.tracing is not None:
            self.tracing.close()
        for tracker in self.trackers:
            tracker.close()


class _ObservedReports:
    def __init__(self, inner: ReportStore, telemetry: ProcessTelemetry) -> None:
        self._inner = inner
        self._telemetry = telemetry

    def last_accepted_total(self, site_id: str) -> int | None:
        return self._inner.last_accepted_total(site_id)

    def save_run(self, report: RunReport) -> None:
        tracing = self._telemetry.tracing
        with tracing.store_span("save_run") if tracing is not None else nullcontext():
            try:
                self._inner.save_run(report)
            except StorageError:
                if self._telemetry.metrics is not None:
                    self._telemetry.metrics.store_error("save_run")
                raise


_ENDPOINTS = {"outages": OUTAGES_ENDPOINT, "site-info": SITE_INFO_ENDPOINT, "site-outages": POST_ENDPOINT}


def endpoint_of(method: str, path: str) -> str:
    """The endpoint label of an upstream URL path (its base path may have any prefix)."""
    parts = path.split("?")[0].rstrip("/").split("/")
    if len(parts) > 1 and parts[-2] in ("site-info", "site-outages"):
        endpoint = _ENDPOINTS[parts[-2]]
    elif parts[-1] == "outages":
        endpoint = OUTAGES_ENDPOINT
    else:
        return "other"
    return endpoint if endpoint.startswith(method + " ") else "other"
