"""Traces into Datadog's own test agent (PyPI `ddapm-test-agent`), through its OTLP/HTTP intake: what a
Datadog Agent receives when outagesync runs with `OTEL_EXPORTER_OTLP_ENDPOINT` pointed at it.

The test agent pins an older opentelemetry-proto than our exporter needs, so `make test` installs it in a
virtual environment of its own (`.venv/ddagent`). Skipped when missing, FAILED when CI=true.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from outagesync.sandbox import Sandbox

ROOT = Path(__file__).parent.parent.parent
AGENT = ROOT / ".venv" / "ddagent" / "bin" / "ddapm-test-agent"


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


@pytest.fixture
def agent(tmp_path: Path) -> Iterator[tuple[str, str, Path]]:
    """The test agent on 127.0.0.1: (its API URL, its OTLP/HTTP URL, its log file)."""
    binary = str(AGENT) if AGENT.exists() else shutil.which("ddapm-test-agent")
    if binary is None:
        reason = "ddapm-test-agent is not installed (`make test` installs it in .venv/ddagent)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason} (CI=true: it must be there)")
        pytest.skip(reason)
    port, otlp_http, otlp_grpc = _free_ports(3)
    log = tmp_path / "agent.log"
    with log.open("w") as out:
        process = subprocess.Popen(  # noqa: S603 (the test agent, our arguments)
            [
                binary,
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                f"--otlp-http-port={otlp_http}",
                f"--otlp-grpc-port={otlp_grpc}",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    api = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{api}/test/session/requests", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "the test agent did not start"
            time.sleep(0.1)
        yield api, f"http://127.0.0.1:{otlp_http}", log
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_the_datadog_test_agent_receives_one_trace_per_run(
    agent: tuple[str, str, Path], sandbox: Sandbox, tmp_path: Path
) -> None:
    api, otlp, log = agent
    unknown = f"no-such-site-{uuid.uuid4().hex[:8]}"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("OUTAGESYNC_", "KRAKENFLEX_", "OTEL_"))},
        "KRAKENFLEX_API_URL": sandbox.url,
        "KRAKENFLEX_API_KEY": sandbox.api_key,
        "OUTAGESYNC_DATABASE_URL": f"sqlite:///{tmp_path / 'dd.db'}",
        "OTEL_EXPORTER_OTLP_ENDPOINT": otlp,
        "OTEL_SERVICE_NAME": "outagesync",
        "OTEL_RESOURCE_ATTRIBUTES": "deployment.environment=e2e",
    }
    done = subprocess.run(  # noqa: S603 (this interpreter, our own module)
        [sys.executable, "-m", "outagesync", "sync", "norwich-pear-tree", unknown],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    requests: list[dict[str, Any]] = httpx.get(f"{api}/test/session/requests", timeout=10).json()

    exports = [r for r in requests if r["method"] == "POST" and r["url"].endswith("/v1/traces")]
    assert exports, requests
    names: Counter[str] = Counter()
    traces, services = set(), set()
    for export in exports:
        assert export["headers"]["Content-Type"] == "application/x-protobuf"
        decoded = ExportTraceServiceRequest()
        decoded.ParseFromString(base64.b64decode(export["body"]))
        for resource_spans in decoded.resource_spans:
            attributes = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
            services.add((attributes["service.name"], attributes["deployment.environment"]))
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    names[span.name] += 1
                    traces.add(span.trace_id)
    assert len(traces) == 1
    assert services == {("outagesync", "e2e")}
    assert names == {
        "outagesync.run": 1,
        "outagesync.site": 2,
        "GET /outages": 1,
        "GET /site-info": 2,
        "POST /site-outages": 1,
        "store save_run": 2,
    }
    received = re.findall(
        r"received /v1/traces payload with \d+ resource span\(s\) containing (\d+) span", log.read_text()
    )
    assert sum(int(count) for count in received) == 9  # the agent decoded every span
