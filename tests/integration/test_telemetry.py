"""Telemetry adapters against real things: the upstream client's per-request metrics and retry reasons
against the sandbox's faults, the store wrapper against a refused SQLite write, JSON log lines, labels.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from outagesync import bootstrap
from outagesync.adapters.telemetry.logs import JsonFormatter, bind, bound
from outagesync.adapters.telemetry.metrics import Metrics, retry_reason
from outagesync.adapters.telemetry.process import ProcessTelemetry, endpoint_of
from outagesync.adapters.telemetry.trackers import REDACTED, scrub
from outagesync.config import Settings
from outagesync.domain.models import RunReport, Trigger
from outagesync.errors import StorageError, UpstreamUnavailable
from outagesync.sandbox import DropConnection, FailFirst, Latency, RateLimit, Sandbox
from outagesync.sandbox.faults import TruncatedBody
from outagesync.services.ports import RequestRecord


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    """A sandbox of each test's own: a timed-out request answered late must not land in the request log
    of another test sharing the session's sandbox."""
    with Sandbox() as own:
        yield own


def _settings(sandbox: Sandbox, tmp_path: Path, **values: object) -> Settings:
    return Settings.model_validate(
        {
            "api_url": sandbox.url,
            "api_key": SecretStr(sandbox.api_key),
            "database_url": f"sqlite:///{tmp_path / 't.db'}",
            "max_attempts": 2,
            "backoff_initial": 0.001,
            "backoff_max": 0.001,
            "timeout": 0.5,
            **values,
        }
    )


def _metrics(telemetry: object) -> Metrics:
    assert isinstance(telemetry, ProcessTelemetry)
    assert telemetry.metrics is not None
    return telemetry.metrics


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        (FailFirst(1, target="GET /site-info"), "server_error"),
        (RateLimit(1, per_s=600, retry_after_s=0, target="GET /site-info"), "rate_limited"),
        (Latency(2000, target="GET /site-info"), "timeout"),
        (DropConnection(target="GET /site-info"), "connection"),
        (TruncatedBody(target="GET /site-info"), "cut_off"),
    ],
)
async def test_each_retry_is_counted_by_its_reason(
    sandbox: Sandbox, tmp_path: Path, fault: object, reason: str
) -> None:
    sandbox.set_faults(fault)  # type: ignore[arg-type]
    if isinstance(fault, RateLimit):  # its one request of the window, spent before the client's
        async with httpx.AsyncClient() as spend:
            await spend.get(f"{sandbox.url}/site-info/kingfisher", headers={"x-api-key": sandbox.api_key})
    settings = _settings(sandbox, tmp_path, pushgateway_url="http://127.0.0.1:9")
    telemetry = bootstrap.build_telemetry(settings)
    async with bootstrap.open_upstream(settings, telemetry) as upstream:
        # the fault may outlast the attempts: what matters is what was counted
        with contextlib.suppress(UpstreamUnavailable):
            await upstream.fetch_site_info("kingfisher")
    metrics = _metrics(telemetry)
    counted = metrics.registry.get_sample_value(
        "outagesync_upstream_retries_total", {"endpoint": "GET /site-info", "reason": reason}
    )
    assert counted == 1


async def test_store_errors_are_counted(tmp_path: Path, sandbox: Sandbox) -> None:
    # a directory where the database file should be: SQLite cannot open it
    settings = _settings(sandbox, tmp_path, database_url=f"sqlite:///{tmp_path}")
    telemetry = bootstrap.build_telemetry(settings, server=True)
    store = bootstrap.build_store(settings)
    try:
        reports = bootstrap.observed_reports(store, telemetry)
        now = datetime.now(UTC)
        with pytest.raises(StorageError):
            reports.save_run(RunReport("0" * 32, Trigger.CLI, now, now, "", False, ()))
    finally:
        store.dispose()
    errors = _metrics(telemetry).registry.get_sample_value(
        "outagesync_report_store_errors_total", {"operation": "save_run"}
    )
    assert errors == 1


def test_telemetry_off_builds_nothing(sandbox: Sandbox, tmp_path: Path) -> None:
    telemetry = bootstrap.build_telemetry(_settings(sandbox, tmp_path))
    assert isinstance(telemetry, ProcessTelemetry)
    assert (telemetry.metrics, telemetry.tracing, telemetry.trackers) == (None, None, [])
    assert telemetry.upstream_hooks() is None
    assert telemetry.metrics_text() == (b"", "text/plain; version=0.0.4; charset=utf-8")
    telemetry.push()  # nothing to push: no error
    with telemetry.request(RequestRecord("GET"), {}) as record:
        record.status = 200
    telemetry.close()


def test_otel_settings_make_the_resource_and_endpoint(sandbox: Sandbox, tmp_path: Path) -> None:
    settings = _settings(
        sandbox,
        tmp_path,
        otel_exporter_otlp_endpoint="http://127.0.0.1:4318/",
        otel_resource_attributes="deployment.environment=prod%20eu, team=grid,broken",
        otel_service_name="outagesync-eu",
    )
    telemetry = bootstrap.build_telemetry(settings)
    assert isinstance(telemetry, ProcessTelemetry)
    assert telemetry.config.traces_endpoint == "http://127.0.0.1:4318/v1/traces"
    assert dict(telemetry.config.resource) == {
        "deployment.environment": "prod eu",
        "team": "grid",
        "service.name": "outagesync-eu",
    }
    assert telemetry.tracing is not None
    assert telemetry.tracing.provider.resource.attributes["service.name"] == "outagesync-eu"
    telemetry.close()
    disabled = bootstrap.build_telemetry(settings.model_copy(update={"otel_sdk_disabled": True}))
    assert isinstance(disabled, ProcessTelemetry)
    assert disabled.tracing is None
    traces_only = bootstrap.build_telemetry(
        settings.model_copy(update={"otel_exporter_otlp_traces_endpoint": "http://127.0.0.1:4318/custom"})
    )
    assert isinstance(traces_only, ProcessTelemetry)
    assert traces_only.config.traces_endpoint == "http://127.0.0.1:4318/custom"
    traces_only.close()


def test_the_digest_ignores_telemetry(sandbox: Sandbox, tmp_path: Path) -> None:
    plain = _settings(sandbox, tmp_path)
    observed = _settings(sandbox, tmp_path, pushgateway_url="http://127.0.0.1:9", log_format="json")
    assert plain.digest() == observed.digest()


@pytest.mark.parametrize(
    ("method", "path", "endpoint"),
    [
        ("GET", "/outages", "GET /outages"),
        ("GET", "/interview-tests-mock-api/v1/outages", "GET /outages"),
        ("GET", "/v1/site-info/norwich-pear-tree", "GET /site-info"),
        ("GET", "/site-info/outages", "GET /site-info"),  # a site named "outages"
        ("POST", "/site-outages/kingfisher?x=1", "POST /site-outages"),
        ("POST", "/outages", "other"),
        ("GET", "/", "other"),
    ],
)
def test_upstream_paths_become_bounded_endpoint_labels(method: str, path: str, endpoint: str) -> None:
    assert endpoint_of(method, path) == endpoint


@pytest.mark.parametrize(
    ("reason", "status", "label"),
    [
        ("server error 503", 503, "server_error"),
        ("rate limited (429)", 429, "rate_limited"),
        ("timed out", None, "timeout"),
        ("connection failed (ConnectError)", None, "connection"),
        ("the response body was cut off (not a complete JSON document)", None, "cut_off"),
        ("something new", None, "other"),
    ],
)
def test_retry_reasons_are_bounded(reason: str, status: int | None, label: str) -> None:
    assert retry_reason(reason, status) == label


def test_scrub_replaces_secrets_everywhere() -> None:
    payload = {"a": ["x s3cret y", ("s3cret",)], "s3cret-key": {"n": 1, "t": "tok"}}
    assert scrub(payload, ["s3cret", "tok"]) == {
        "a": [f"x {REDACTED} y", (REDACTED,)],
        f"{REDACTED}-key": {"n": 1, "t": REDACTED},
    }


def test_json_lines_hold_the_bound_fields_and_the_traceback() -> None:
    bind(run_id="r1", site_id="s1")
    assert bound() == {"run_id": "r1", "site_id": "s1"}
    try:
        raise ValueError("bad")
    except ValueError:
        record = logging.getLogger("outagesync.test").makeRecord(
            "outagesync.test", logging.ERROR, __file__, 1, "failed %s", ("x",), exc_info=sys.exc_info()
        )
    record.endpoint = "GET /outages"
    line = json.loads(JsonFormatter().format(record))
    assert {k: line[k] for k in ("level", "logger", "event", "run_id", "site_id", "endpoint")} == {
        "level": "error",
        "logger": "outagesync.test",
        "event": "failed x",
        "run_id": "r1",
        "site_id": "s1",
        "endpoint": "GET /outages",
    }
    assert line["exception"].startswith("Traceback")
    assert line["time"].endswith("+00:00")
