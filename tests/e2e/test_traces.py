"""OpenTelemetry traces end to end: a real OTLP/HTTP receiver decodes what a CLI run and an API server
export (protobuf, as the Datadog Agent's and the Collector's OTLP intakes receive it), and a recording
proxy in front of the sandbox shows the `traceparent` each upstream request carried.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from pydantic import SecretStr

from outagesync.config import Settings
from outagesync.sandbox import FailFirst, Sandbox
from tests.e2e.api_server import client, serving
from tests.receivers import Answer, Captured, Receiver, forwarding


def _otlp_ok(_request: Captured) -> Answer:
    return 200, {"content-type": "application/x-protobuf"}, b""  # an empty ExportTraceServiceResponse


def _value(value: AnyValue) -> Any:
    return getattr(value, value.WhichOneof("value") or "string_value")


def _attributes(pairs: Any) -> dict[str, Any]:
    return {pair.key: _value(pair.value) for pair in pairs if isinstance(pair, KeyValue)}


@dataclass(frozen=True)
class Span:
    name: str
    trace_id: str
    span_id: str
    parent: str
    kind: int
    attributes: dict[str, Any]
    events: list[tuple[str, dict[str, Any]]]
    status_code: int
    resource: dict[str, Any]


def _spans(receiver: Receiver) -> list[Span]:
    spans = []
    for request in receiver.received():
        assert (request.method, request.path) == ("POST", "/v1/traces")
        assert request.headers["content-type"] == "application/x-protobuf"
        export = ExportTraceServiceRequest()
        export.ParseFromString(request.body)
        for resource_spans in export.resource_spans:
            resource = _attributes(resource_spans.resource.attributes)
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    spans.append(
                        Span(
                            span.name,
                            span.trace_id.hex(),
                            span.span_id.hex(),
                            span.parent_span_id.hex(),
                            span.kind,
                            _attributes(span.attributes),
                            [(event.name, _attributes(event.attributes)) for event in span.events],
                            span.status.code,
                            resource,
                        )
                    )
    return spans


SERVER, CLIENT = 2, 3  # SpanKind in OTLP
STATUS_ERROR = 2


def test_a_cli_run_is_one_trace_with_its_sites_requests_and_store_writes(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    unknown = f"no-such-site-{uuid.uuid4().hex[:8]}"
    sandbox.set_faults(FailFirst(1, target="GET /site-info/kingfisher"))
    with Receiver(_otlp_ok) as otlp, Receiver(forwarding(sandbox.url)) as upstream:
        env = {
            **{
                k: v
                for k, v in os.environ.items()
                if not k.startswith(("OUTAGESYNC_", "KRAKENFLEX_", "OTEL_"))
            },
            "KRAKENFLEX_API_URL": upstream.url,
            "KRAKENFLEX_API_KEY": sandbox.api_key,
            "OUTAGESYNC_DATABASE_URL": f"sqlite:///{tmp_path / 'traces.db'}",
            "OUTAGESYNC_BACKOFF_INITIAL": "0.01",
            "OTEL_EXPORTER_OTLP_ENDPOINT": otlp.url,
            "OTEL_SERVICE_NAME": "outagesync-e2e",
            "OTEL_RESOURCE_ATTRIBUTES": "deployment.environment=e2e,service.name=ignored",
        }
        done = subprocess.run(  # noqa: S603 (this interpreter, our own module)
            [
                *(sys.executable, "-m", "outagesync", "--log-format", "json"),
                *("sync", "norwich-pear-tree", "kingfisher", unknown),
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 1, done.stderr
        spans = _spans(otlp)
        sent = upstream.received()
        raw = b"".join(request.raw for request in otlp.received())

    assert {span.trace_id for span in spans} == {spans[0].trace_id}  # one trace
    assert Counter(span.name for span in spans) == {
        "outagesync.run": 1,
        "outagesync.site": 3,
        "GET /outages": 1,
        "GET /site-info": 3,
        "POST /site-outages": 2,
        "store save_run": 2,  # the `running` record, then the outcome
    }
    assert spans[0].resource["service.name"] == "outagesync-e2e"
    assert spans[0].resource["deployment.environment"] == "e2e"
    [run] = [span for span in spans if span.name == "outagesync.run"]
    assert run.parent == ""
    assert (run.attributes["outagesync.trigger"], run.attributes["outagesync.status"]) == ("cli", "partial")
    sites = {span.attributes["outagesync.site_id"]: span for span in spans if span.name == "outagesync.site"}
    assert set(sites) == {"norwich-pear-tree", "kingfisher", unknown}
    assert all(site.parent == run.span_id for site in sites.values())
    assert all(
        site.attributes["outagesync.run_id"] == run.attributes["outagesync.run_id"] for site in sites.values()
    )
    assert (sites[unknown].attributes["error.type"], sites[unknown].status_code) == (
        "unknown-site",
        STATUS_ERROR,
    )
    assert sites["kingfisher"].attributes["outagesync.status"] == "succeeded"
    for span in spans:
        if span.name in ("GET /site-info", "POST /site-outages"):
            assert span.kind == CLIENT
            assert span.parent == sites[span.attributes["outagesync.site_id"]].span_id
        if span.name == "store save_run":
            assert span.parent == run.span_id
    [outages] = [span for span in spans if span.name == "GET /outages"]
    assert outages.parent in {site.span_id for site in sites.values()}  # the site that asked first
    [kingfisher_info] = [
        s for s in spans if s.name == "GET /site-info" and s.attributes["outagesync.site_id"] == "kingfisher"
    ]
    assert kingfisher_info.attributes["outagesync.attempts"] == 2
    [(event, attributes)] = kingfisher_info.events
    assert event == "retry"
    assert (attributes["attempt"], attributes["reason"], attributes["http.response.status_code"]) == (
        1,
        "server error 500",
        500,
    )
    [unknown_info] = [
        s for s in spans if s.name == "GET /site-info" and s.attributes["outagesync.site_id"] == unknown
    ]
    assert (unknown_info.attributes["http.response.status_code"], unknown_info.status_code) == (
        404,
        STATUS_ERROR,
    )

    # every upstream request carried the traceparent of its span
    by_id = {span.span_id: span for span in spans}
    assert len(sent) == 7  # 1 GET /outages, 4 GET /site-info (one retried), 2 POSTs
    for request in sent:
        version, trace_id, parent_id, flags = request.headers["traceparent"].split("-")
        assert (version, trace_id) == ("00", run.trace_id)
        assert int(flags, 16) & 1 == 1  # sampled (0x02, W3C level 2's random trace id, may be set too)
        assert by_id[parent_id].name == f"{request.method} /{request.path.split('/')[1]}"
    assert sandbox.api_key.encode() not in raw

    # the retry's log line names the trace and the run
    [retry] = [
        line for line in map(json.loads, done.stderr.splitlines()) if line["logger"] == "outagesync.upstream"
    ]
    assert (retry["trace_id"], retry["run_id"], retry["site_id"]) == (
        run.trace_id,
        run.attributes["outagesync.run_id"],
        "kingfisher",
    )


def test_an_api_request_continues_the_callers_trace(
    sandbox: Sandbox, private_settings: Settings, api_token: str
) -> None:
    caller_trace, caller_span = uuid.uuid4().hex, uuid.uuid4().hex[:16]
    with Receiver(_otlp_ok) as otlp:
        settings = private_settings.model_copy(
            update={"otel_exporter_otlp_endpoint": otlp.url, "api_key": SecretStr(sandbox.api_key)}
        )
        with serving(settings) as server, client(server, api_token) as api:
            synced = api.post(
                "/sites/norwich-pear-tree/sync",
                headers={"traceparent": f"00-{caller_trace}-{caller_span}-01"},
            )
            assert synced.status_code == 201, synced.text
            assert api.get("/sites/no-such-site").status_code == 404
            assert httpx.get(f"{server.url}/which").status_code == 200
        spans = _spans(otlp)  # the server's shutdown flushed them

    servers = {span.name: span for span in spans if span.kind == SERVER}
    assert set(servers) == {"POST /sites/{site_id}/sync", "GET /sites/{site_id}", "GET /which"}
    sync = servers["POST /sites/{site_id}/sync"]
    assert (sync.trace_id, sync.parent) == (caller_trace, caller_span)
    assert sync.attributes["http.route"] == "/sites/{site_id}/sync"
    assert sync.attributes["http.response.status_code"] == 201
    assert servers["GET /sites/{site_id}"].attributes["http.response.status_code"] == 404
    [run] = [span for span in spans if span.name == "outagesync.run"]
    assert (run.trace_id, run.parent) == (caller_trace, sync.span_id)
    assert run.attributes["outagesync.trigger"] == "api"
    in_trace = Counter(span.name for span in spans if span.trace_id == caller_trace)
    assert in_trace == {
        "POST /sites/{site_id}/sync": 1,
        "outagesync.run": 1,
        "outagesync.site": 1,
        "GET /outages": 1,
        "GET /site-info": 1,
        "POST /site-outages": 1,
        "store save_run": 2,
    }
