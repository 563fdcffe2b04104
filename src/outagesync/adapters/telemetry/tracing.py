"""OpenTelemetry traces over OTLP/HTTP: a span per run, per site, per upstream call (retries as events),
per store write, per REST request. Imported only when tracing is on (the SDK costs start-up time).

Span attributes hold ids, endpoints, counts and error codes: never a header, a key or a URL's query.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import httpx
from opentelemetry import context, trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import Span, SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from outagesync.adapters.telemetry import logs
from outagesync.adapters.telemetry.trackers import package_version
from outagesync.domain.models import (
    OUTAGES_ENDPOINT,
    POST_ENDPOINT,
    SITE_INFO_ENDPOINT,
    DecodedOutages,
    RunReport,
    SiteInfo,
    SiteOutage,
    SiteResult,
    Trigger,
)
from outagesync.errors import OutageSyncError, UpstreamError
from outagesync.services.ports import Fetched, Posted, RequestRecord, Upstream

_PROPAGATOR = TraceContextTextMapPropagator()


class Tracing:
    """One tracer provider for the process, exporting in batches to `endpoint` (OTLP/HTTP, protobuf)."""

    def __init__(self, endpoint: str, resource: Mapping[str, str]) -> None:
        attributes = {"service.version": package_version(), **resource}
        self.provider = TracerProvider(resource=Resource.create(attributes))
        self.provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
        self.tracer = self.provider.get_tracer("outagesync", package_version())
        self._sites: dict[tuple[str, str], tuple[Span, object]] = {}

    @contextmanager
    def run_span(self, trigger: Trigger) -> Iterator[None]:
        with self.tracer.start_as_current_span(
            "outagesync.run", attributes={"outagesync.trigger": trigger.value}
        ) as span:
            logs.bind(trace_id=_trace_id(span))
            yield

    def run_done(self, report: RunReport) -> None:
        span = trace.get_current_span()
        span.set_attributes(
            {
                "outagesync.run_id": report.run_id,
                "outagesync.status": report.status.value,
                "outagesync.sites": len(report.sites),
                "outagesync.dry_run": report.dry_run,
            }
        )

    def site_started(self, run_id: str, site_id: str) -> None:
        span = self.tracer.start_span(
            "outagesync.site", attributes={"outagesync.run_id": run_id, "outagesync.site_id": site_id}
        )
        token = context.attach(trace.set_span_in_context(span))  # in the site's own task
        self._sites[(run_id, site_id)] = (span, token)
        logs.bind(trace_id=_trace_id(span))

    def site_done(self, run_id: str, result: SiteResult) -> None:
        span, token = self._sites.pop((run_id, result.site_id))  # site_started was called in this task
        span.set_attributes(
            {
                "outagesync.status": result.status.value,
                "outagesync.fetched": result.fetched,
                "outagesync.kept": result.kept,
                "outagesync.posted": result.posted,
            }
        )
        if result.error is not None:
            span.set_attribute("error.type", result.error.code)
            span.set_status(Status(StatusCode.ERROR, result.error.code))
        span.end()
        context.detach(token)  # type: ignore[arg-type]

    def retry(self, endpoint: str, attempt: int, reason: str, status: int | None, wait_s: float) -> None:
        attributes: dict[str, Any] = {"attempt": attempt, "reason": reason, "wait_s": round(wait_s, 3)}
        if status is not None:
            attributes["http.response.status_code"] = status
        trace.get_current_span().add_event("retry", attributes)

    @contextmanager
    def store_span(self, operation: str) -> Iterator[None]:
        with self.tracer.start_as_current_span(f"store {operation}", attributes={"db.operation": operation}):
            yield

    @contextmanager
    def server_span(self, record: RequestRecord, headers: Mapping[str, str]) -> Iterator[None]:
        parent = _PROPAGATOR.extract(dict(headers))
        with self.tracer.start_as_current_span(
            record.method, context=parent, kind=SpanKind.SERVER, record_exception=False
        ) as span:
            logs.bind(trace_id=_trace_id(span))
            try:
                yield
            finally:
                span.update_name(f"{record.method} {record.route}")
                span.set_attributes(
                    {
                        "http.request.method": record.method,
                        "http.route": record.route,
                        "http.response.status_code": record.status,
                    }
                )
                if record.status >= 500:
                    span.set_status(Status(StatusCode.ERROR))

    def inject(self, request: httpx.Request) -> None:
        """The current span as `traceparent` on an upstream request (an httpx request hook)."""
        _PROPAGATOR.inject(request.headers)

    def traced(self, upstream: Upstream) -> Upstream:
        return _TracedUpstream(upstream, self.tracer)

    def close(self) -> None:
        self.provider.shutdown()  # exports what is still buffered


class _TracedUpstream:
    """The Upstream port with a client span per call (retries become events of it)."""

    def __init__(self, inner: Upstream, tracer: trace.Tracer) -> None:
        self._inner = inner
        self._tracer = tracer

    async def fetch_outages(self, **options: Any) -> Fetched[DecodedOutages]:
        """Options as the port has them (passed through untouched)."""
        with self._span(OUTAGES_ENDPOINT, "") as span:
            fetched = await self._inner.fetch_outages(**options)
            span.set_attributes(
                {"outagesync.attempts": fetched.attempts, "outagesync.records": fetched.value.fetched}
            )
            return fetched

    async def fetch_site_info(self, site_id: str) -> Fetched[SiteInfo]:
        with self._span(SITE_INFO_ENDPOINT, site_id) as span:
            fetched = await self._inner.fetch_site_info(site_id)
            span.set_attributes(
                {"outagesync.attempts": fetched.attempts, "outagesync.devices": len(fetched.value.devices)}
            )
            return fetched

    async def post_site_outages(self, site_id: str, items: Sequence[SiteOutage]) -> Posted:
        with self._span(POST_ENDPOINT, site_id) as span:
            span.set_attribute("outagesync.items", len(items))
            posted = await self._inner.post_site_outages(site_id, items)
            span.set_attributes(
                {"outagesync.attempts": posted.attempts, "http.response.status_code": posted.status}
            )
            return posted

    @contextmanager
    def _span(self, endpoint: str, site_id: str) -> Iterator[Span]:
        attributes: dict[str, Any] = {
            "outagesync.endpoint": endpoint,
            "http.request.method": endpoint.split()[0],
        }
        if site_id:
            attributes["outagesync.site_id"] = site_id
        with self._tracer.start_as_current_span(
            endpoint,
            kind=SpanKind.CLIENT,
            attributes=attributes,
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            try:
                yield span
            except OutageSyncError as exc:
                span.set_attributes(
                    {"error.type": exc.code, "outagesync.attempts": getattr(exc, "attempts", 0)}
                )
                if isinstance(exc, UpstreamError) and exc.status is not None:
                    span.set_attribute("http.response.status_code", exc.status)
                span.set_status(Status(StatusCode.ERROR, exc.code))
                raise


def _trace_id(span: Span) -> str:
    return format(span.get_span_context().trace_id, "032x")
