"""Prometheus metrics end to end: `GET /metrics` of a real API server after real syncs, parsed as Prometheus
parses it, and a CLI run's metrics pushed to a real Pushgateway. The counts must match the reports.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterable
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from outagesync.config import Settings
from outagesync.sandbox import FailFirst, Sandbox
from tests.e2e.api_server import client, serving
from tests.receivers import pushgateway


def _samples(text: str) -> list[Sample]:
    return [sample for family in text_string_to_metric_families(text) for sample in family.samples]


def _value(samples: Iterable[Sample], name: str, **labels: str) -> float:
    """The value of the one sample `name` whose labels include `labels` (0 when there is none)."""
    found = [s.value for s in samples if s.name == name and labels.items() <= s.labels.items()]
    assert len(found) <= 1, f"{name}{labels}: {len(found)} samples"
    return found[0] if found else 0.0


def test_metrics_after_syncs_match_the_reports(
    sandbox: Sandbox, private_settings: Settings, api_token: str
) -> None:
    unknown = f"no-such-site-{uuid.uuid4().hex[:8]}"
    sandbox.set_faults(FailFirst(1, target="GET /site-info/kingfisher"))  # one retry, a 500
    with serving(private_settings) as server, client(server, api_token) as api:
        for site_id in ("norwich-pear-tree", "kingfisher", unknown):
            assert api.post("/sites", json={"site_id": site_id}).status_code == 201
        run = api.post("/sync")
        assert run.status_code == 200, run.text
        one = api.post("/sites/zurich-lindenhof/sync", params={"dry_run": "true"})
        assert one.status_code == 201, one.text
        assert api.get(f"/reports/{uuid.uuid4().hex}").status_code == 404
        scraped = api.get("/metrics")
        refused = httpx.get(f"{server.url}/metrics")  # no token

    assert scraped.status_code == 200
    assert scraped.headers["content-type"] == "text/plain; version=1.0.0; charset=utf-8"
    assert refused.status_code == 401
    samples = _samples(scraped.text)
    sites = {site["site_id"]: site for site in run.json()["sites"]}
    assert {site_id: site["status"] for site_id, site in sites.items()} == {
        "norwich-pear-tree": "succeeded",
        "kingfisher": "succeeded",
        unknown: "failed",
    }

    assert _value(samples, "outagesync_runs_total", trigger="api", status="partial") == 1
    assert _value(samples, "outagesync_runs_total", trigger="api", status="dry_run") == 1
    assert _value(samples, "outagesync_site_syncs_total", trigger="api", status="succeeded") == 2
    assert _value(samples, "outagesync_site_syncs_total", trigger="api", status="failed") == 1
    assert _value(samples, "outagesync_site_syncs_total", trigger="api", status="dry_run") == 1
    posted = sites["norwich-pear-tree"]["kept"] + sites["kingfisher"]["kept"]
    assert posted > 0
    assert _value(samples, "outagesync_items_posted_total") == posted
    fetched = sites["kingfisher"]["fetched"]
    assert _value(samples, "outagesync_outages_fetched_total") == 2 * fetched  # one GET /outages per run
    dropped = (
        sum(site["dropped_before_cutoff"] for site in sites.values()) + one.json()["dropped_before_cutoff"]
    )
    assert _value(samples, "outagesync_outages_dropped_total", reason="before_cutoff") == dropped
    for site_id in ("norwich-pear-tree", "kingfisher"):
        assert _value(samples, "outagesync_last_success_timestamp_seconds", site_id=site_id) > 0
    assert _value(samples, "outagesync_last_success_timestamp_seconds", site_id=unknown) == 0

    # upstream: 3 site infos + 1 retry, 2 GET /outages, 2 POSTs
    assert (
        _value(samples, "outagesync_upstream_requests_total", endpoint="GET /site-info", status_class="2xx")
        == 3
    )
    assert (
        _value(samples, "outagesync_upstream_requests_total", endpoint="GET /site-info", status_class="4xx")
        == 1
    )
    assert (
        _value(samples, "outagesync_upstream_requests_total", endpoint="GET /site-info", status_class="5xx")
        == 1
    )
    assert (
        _value(samples, "outagesync_upstream_requests_total", endpoint="GET /outages", status_class="2xx")
        == 2
    )
    assert (
        _value(
            samples, "outagesync_upstream_requests_total", endpoint="POST /site-outages", status_class="2xx"
        )
        == 2
    )
    assert (
        _value(samples, "outagesync_upstream_retries_total", endpoint="GET /site-info", reason="server_error")
        == 1
    )
    assert (
        _value(samples, "outagesync_upstream_request_duration_seconds_count", endpoint="GET /site-info") == 5
    )
    assert _value(samples, "outagesync_report_store_errors_total", operation="save_run") == 0

    # the API: route templates, never raw paths
    assert _value(samples, "outagesync_api_requests_total", method="POST", route="/sites", status="201") == 3
    assert _value(samples, "outagesync_api_requests_total", method="POST", route="/sync", status="200") == 1
    assert (
        _value(
            samples,
            "outagesync_api_requests_total",
            method="POST",
            route="/sites/{site_id}/sync",
            status="201",
        )
        == 1
    )
    assert (
        _value(
            samples, "outagesync_api_requests_total", method="GET", route="/reports/{report_id}", status="404"
        )
        == 1
    )
    assert _value(samples, "outagesync_api_request_duration_seconds_count", method="POST", route="/sync") == 1
    assert not [
        s for s in samples if "zurich-lindenhof" in str(s.labels) or unknown in s.labels.get("route", "")
    ]


def test_a_cli_run_pushes_its_metrics_to_the_pushgateway(sandbox: Sandbox, tmp_path: Path) -> None:
    unknown = f"no-such-site-{uuid.uuid4().hex[:8]}"
    with pushgateway() as gateway:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("OUTAGESYNC_", "KRAKENFLEX_"))},
            "KRAKENFLEX_API_URL": sandbox.url,
            "KRAKENFLEX_API_KEY": sandbox.api_key,
            "OUTAGESYNC_DATABASE_URL": f"sqlite:///{tmp_path / 'push.db'}",
            "OUTAGESYNC_PUSHGATEWAY_URL": gateway,
        }
        done = subprocess.run(  # noqa: S603 (this interpreter, our own module)
            [sys.executable, "-m", "outagesync", "sync", "norwich-pear-tree", unknown, "--json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 1, done.stderr
        pushed = _samples(httpx.get(f"{gateway}/metrics", timeout=10).text)

    report = json.loads(done.stdout)
    norwich = next(site for site in report["sites"] if site["site_id"] == "norwich-pear-tree")
    group = {"job": "outagesync", "instance": socket.gethostname()}
    assert _value(pushed, "outagesync_runs_total", trigger="cli", status="partial", **group) == 1
    assert _value(pushed, "outagesync_site_syncs_total", trigger="cli", status="succeeded", **group) == 1
    assert _value(pushed, "outagesync_site_syncs_total", trigger="cli", status="failed", **group) == 1
    assert (
        _value(pushed, "outagesync_items_posted_total", **group) == len(norwich["items"]) == norwich["kept"]
    )
    assert (
        _value(pushed, "outagesync_last_success_timestamp_seconds", site_id="norwich-pear-tree", **group) > 0
    )
    assert _value(pushed, "push_time_seconds", **group) > 0  # the gateway's own record of the push
