"""Prometheus metrics of one process, in a registry of its own (served at /metrics, or pushed).

Label values are bounded: endpoints and route templates (never raw paths), status classes, error codes,
and site ids only in `outagesync_last_success_timestamp_seconds` (the sites a deployment syncs).
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST, push_to_gateway
from prometheus_client.process_collector import ProcessCollector

from outagesync.domain.models import RunReport, SiteStatus

# seconds: upstream calls range from milliseconds to a retried minute
_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
RETRY_REASONS = ("server_error", "rate_limited", "timeout", "connection", "cut_off", "other")


def retry_reason(reason: str, status: int | None) -> str:
    """A bounded label for why an attempt is retried (the client's reason is free text)."""
    if status == 429:
        return "rate_limited"
    if status is not None and status >= 500:
        return "server_error"
    if reason.startswith("timed out"):
        return "timeout"
    if reason.startswith("connection"):
        return "connection"
    if "cut off" in reason:
        return "cut_off"
    return "other"


def status_class(status: int) -> str:
    return f"{status // 100}xx"


class Metrics:
    """Every metric of outagesync (docs/observability.md lists them)."""

    def __init__(self, *, process_metrics: bool = False) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        if process_metrics:
            ProcessCollector(registry=self.registry)
        r = self.registry
        self.site_syncs = Counter(
            "outagesync_site_syncs_total", "Site syncs, by outcome.", ["trigger", "status"], registry=r
        )
        self.runs = Counter("outagesync_runs_total", "Runs, by outcome.", ["trigger", "status"], registry=r)
        self.run_duration = Histogram(
            "outagesync_run_duration_seconds", "Run durations.", ["trigger"], buckets=_BUCKETS, registry=r
        )
        self.upstream_requests = Counter(
            "outagesync_upstream_requests_total",
            "HTTP requests to the KrakenFlex API (each attempt), by endpoint and status class.",
            ["endpoint", "status_class"],
            registry=r,
        )
        self.upstream_duration = Histogram(
            "outagesync_upstream_request_duration_seconds",
            "Time to the response headers of each upstream attempt.",
            ["endpoint"],
            buckets=_BUCKETS,
            registry=r,
        )
        self.retries = Counter(
            "outagesync_upstream_retries_total",
            "Upstream attempts retried, by endpoint and reason.",
            ["endpoint", "reason"],
            registry=r,
        )
        self.items_posted = Counter(
            "outagesync_items_posted_total", "Outages posted in accepted site lists.", registry=r
        )
        self.outages_fetched = Counter(
            "outagesync_outages_fetched_total",
            "Records received from GET /outages (once per run).",
            registry=r,
        )
        self.outages_dropped = Counter(
            "outagesync_outages_dropped_total",
            "Outages a site did not post, by reason (summed over sites).",
            ["reason"],
            registry=r,
        )
        self.last_success = Gauge(
            "outagesync_last_success_timestamp_seconds",
            "Unix time of the last accepted POST of each site.",
            ["site_id"],
            registry=r,
        )
        self.store_errors = Counter(
            "outagesync_report_store_errors_total",
            "Report store writes that failed.",
            ["operation"],
            registry=r,
        )
        self.api_requests = Counter(
            "outagesync_api_requests_total",
            "REST API requests, by method, route template and status.",
            ["method", "route", "status"],
            registry=r,
        )
        self.api_duration = Histogram(
            "outagesync_api_request_duration_seconds",
            "REST API request durations.",
            ["method", "route"],
            buckets=_BUCKETS,
            registry=r,
        )

    def run_done(self, report: RunReport) -> None:
        trigger = report.trigger.value
        self.runs.labels(trigger, report.status.value).inc()
        self.run_duration.labels(trigger).observe((report.finished_at - report.started_at).total_seconds())
        fetched = max((site.fetched for site in report.sites), default=0)  # one GET /outages per run
        self.outages_fetched.inc(fetched)
        for site in report.sites:
            self.site_syncs.labels(trigger, site.status.value).inc()
            self.outages_dropped.labels("before_cutoff").inc(site.dropped_before_cutoff)
            self.outages_dropped.labels("unknown_device").inc(site.dropped_unknown_device)
            self.outages_dropped.labels("invalid").inc(len(site.invalid_records))
            if site.status is SiteStatus.SUCCEEDED:
                self.items_posted.inc(site.posted)
                self.last_success.labels(site.site_id).set(site.finished_at.timestamp())

    def upstream_response(self, endpoint: str, status: int, elapsed_s: float) -> None:
        self.upstream_requests.labels(endpoint, status_class(status)).inc()
        self.upstream_duration.labels(endpoint).observe(elapsed_s)

    def retry(self, endpoint: str, reason: str, status: int | None) -> None:
        self.retries.labels(endpoint, retry_reason(reason, status)).inc()

    def store_error(self, operation: str) -> None:
        self.store_errors.labels(operation).inc()

    def api_request(self, method: str, route: str, status: int, elapsed_s: float) -> None:
        self.api_requests.labels(method, route, str(status)).inc()
        self.api_duration.labels(method, route).observe(elapsed_s)

    def exposition(self) -> tuple[bytes, str]:
        return generate_latest(self.registry), CONTENT_TYPE_LATEST

    def push(self, gateway_url: str, *, job: str, instance: str, timeout_s: float) -> None:
        """PUT this registry to the Pushgateway's group {job, instance} (replacing the last run's)."""
        push_to_gateway(
            gateway_url,
            job=job,
            registry=self.registry,
            grouping_key={"instance": instance},
            timeout=timeout_s,
        )
