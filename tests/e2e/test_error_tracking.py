"""Error tracking end to end: Sentry's and Rollbar's own SDKs deliver to real receivers on 127.0.0.1.

A failed site is reported once to each, with its run id, site id and error code; a dry run is not
reported; an unexpected exception is reported once. No captured byte (Sentry's envelopes gunzipped)
holds the API key, the API token or the database password, wherever the secret was.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from outagesync.adapters.telemetry.process import ProcessTelemetry, TelemetryConfig
from outagesync.adapters.telemetry.trackers import REDACTED, RollbarConfig, SentryConfig
from outagesync.errors import ConfigError
from outagesync.sandbox import Sandbox
from tests.receivers import Captured, Receiver


def _envelope_items(request: Captured) -> list[tuple[dict[str, Any], Any]]:
    """The (item header, payload) pairs of a Sentry envelope (its body already gunzipped)."""
    assert (request.method, request.path) == ("POST", "/api/1/envelope/")
    lines = request.body.split(b"\n")
    items = []
    index = 1  # lines[0]: the envelope header
    while index < len(lines) and lines[index]:
        header = json.loads(lines[index])
        payload = lines[index + 1]
        items.append((header, json.loads(payload) if payload.startswith(b"{") else payload))
        index += 2
    return items


def _sentry_events(receiver: Receiver) -> list[dict[str, Any]]:
    return [
        payload
        for request in receiver.received()
        for header, payload in _envelope_items(request)
        if header.get("type") == "event"
    ]


def _rollbar_items(receiver: Receiver) -> list[dict[str, Any]]:
    items = []
    for request in receiver.received():
        assert (request.method, request.path) == ("POST", "/api/1/item/")
        items.append(json.loads(request.body)["data"])
    return items


@pytest.fixture
def secrets(sandbox: Sandbox) -> dict[str, str]:
    """An API key the sandbox accepts, an API token and a database password, all unique to the test."""
    sandbox.api_key = f"api-key-{uuid.uuid4().hex}"
    return {
        "api_key": sandbox.api_key,
        "api_token": f"api-token-{uuid.uuid4().hex}",
        "db_password": f"db-password-{uuid.uuid4().hex}",
    }


def _sync(
    sandbox: Sandbox, secrets: dict[str, str], sentry: Receiver, rollbar: Receiver, *args: str
) -> subprocess.CompletedProcess[str]:
    env = {
        **{
            k: v for k, v in os.environ.items() if not k.startswith(("OUTAGESYNC_", "KRAKENFLEX_", "SENTRY_"))
        },
        "KRAKENFLEX_API_URL": sandbox.url,
        "KRAKENFLEX_API_KEY": secrets["api_key"],
        "OUTAGESYNC_API_TOKEN": secrets["api_token"],
        # a PostgreSQL URL with a password, never connected to: --no-store
        "OUTAGESYNC_DATABASE_URL": f"postgresql+psycopg://outagesync:{secrets['db_password']}@127.0.0.1:9/none",
        "SENTRY_DSN": f"http://public@127.0.0.1:{sentry.port}/1",
        "SENTRY_ENVIRONMENT": "e2e",
        "ROLLBAR_ACCESS_TOKEN": "rollbar-test-token",
        "ROLLBAR_ENVIRONMENT": "e2e",
        "ROLLBAR_ENDPOINT": f"{rollbar.url}/api/1/",
    }
    return subprocess.run(  # noqa: S603 (this interpreter, our own module)
        [sys.executable, "-m", "outagesync", "sync", "--no-store", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _assert_no_secret(secrets: dict[str, str], *receivers: Receiver) -> None:
    for receiver in receivers:
        for request in receiver.received():
            captured = (
                request.raw + request.body + json.dumps(request.headers).encode() + request.path.encode()
            )
            for name, secret in secrets.items():
                assert secret.encode() not in captured, f"the {name} reached {request.path}"


def test_a_failed_site_is_reported_once_to_sentry_and_rollbar(
    sandbox: Sandbox, secrets: dict[str, str]
) -> None:
    unknown = f"no-such-site-{uuid.uuid4().hex[:8]}"
    with Receiver() as sentry, Receiver() as rollbar:
        done = _sync(sandbox, secrets, sentry, rollbar, "norwich-pear-tree", unknown, "--json")
        assert done.returncode == 1, done.stderr
        events = _sentry_events(sentry)
        items = _rollbar_items(rollbar)
        _assert_no_secret(secrets, sentry, rollbar)
    run_id = json.loads(done.stdout)["run_id"]
    message = (
        f"site {unknown} failed: unknown-site: unknown site: {unknown} (GET /site-info: 404 Site not found)"
    )

    [event] = events
    assert event["level"] == "error"
    assert event["message"] == message or event["logentry"]["message"] == message
    assert event["environment"] == "e2e"
    assert {k: event["tags"][k] for k in ("run_id", "site_id", "error_code", "trigger")} == {
        "run_id": run_id,
        "site_id": unknown,
        "error_code": "unknown-site",
        "trigger": "cli",
    }
    assert event["fingerprint"] == ["site-failed", "unknown-site"]

    [item] = items
    assert item["level"] == "error"
    assert item["environment"] == "e2e"
    body = item["body"]["message"]
    assert body["body"] == message
    assert (body["run_id"], body["site_id"], body["error_code"], body["upstream_status"]) == (
        run_id,
        unknown,
        "unknown-site",
        None,
    )
    assert [request.headers["x-rollbar-access-token"] for request in rollbar.received()] == [
        "rollbar-test-token"
    ]


def test_a_dry_run_and_a_good_run_report_nothing(sandbox: Sandbox, secrets: dict[str, str]) -> None:
    with Receiver() as sentry, Receiver() as rollbar:
        assert _sync(sandbox, secrets, sentry, rollbar, "kingfisher", "--dry-run").returncode == 0
        assert _sync(sandbox, secrets, sentry, rollbar, "kingfisher").returncode == 0
        assert (_sentry_events(sentry), _rollbar_items(rollbar)) == ([], [])


def test_an_unexpected_exception_is_reported_once_with_every_secret_scrubbed(tmp_path: Path) -> None:
    secrets = {"api_key": f"key-{uuid.uuid4().hex}", "api_token": f"token-{uuid.uuid4().hex}"}
    with Receiver() as sentry, Receiver() as rollbar:
        telemetry = ProcessTelemetry(
            TelemetryConfig(
                sentry=SentryConfig(f"http://public@127.0.0.1:{sentry.port}/1", "test"),
                rollbar=RollbarConfig("rollbar-test-token", "test", f"{rollbar.url}/api/1/"),
                secrets=tuple(secrets.values()),
            )
        )
        with pytest.raises(ConfigError), telemetry.capturing():
            raise ConfigError("an outcome we know how to tell: not reported")
        api_key = secrets["api_key"]  # a local variable holding a secret, as a real frame might
        with pytest.raises(RuntimeError), telemetry.capturing():
            raise RuntimeError(f"a bug that quotes the key {api_key} and the token {secrets['api_token']}")
        telemetry.close()
        events = _sentry_events(sentry)
        items = _rollbar_items(rollbar)
        _assert_no_secret(secrets, sentry, rollbar)

    [event] = events
    [exception] = event["exception"]["values"]
    assert exception["type"] == "RuntimeError"
    assert exception["value"] == f"a bug that quotes the key {REDACTED} and the token {REDACTED}"
    frames = exception["stacktrace"]["frames"]
    assert frames
    assert all("vars" not in frame and "context_line" not in frame for frame in frames)
    [item] = items
    trace = item["body"]["trace"]
    assert trace["exception"]["message"] == f"a bug that quotes the key {REDACTED} and the token {REDACTED}"
    assert all("code" not in frame and "locals" not in frame for frame in trace["frames"])


def test_serve_reports_a_failed_site_once(sandbox: Sandbox, secrets: dict[str, str], tmp_path: Path) -> None:
    unknown = f"no-such-site-{uuid.uuid4().hex[:8]}"
    with Receiver() as sentry, Receiver() as rollbar:
        env = {
            **{
                k: v
                for k, v in os.environ.items()
                if not k.startswith(("OUTAGESYNC_", "KRAKENFLEX_", "SENTRY_"))
            },
            "KRAKENFLEX_API_URL": sandbox.url,
            "KRAKENFLEX_API_KEY": secrets["api_key"],
            "OUTAGESYNC_API_TOKEN": secrets["api_token"],
            "OUTAGESYNC_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}",
            "SENTRY_DSN": f"http://public@127.0.0.1:{sentry.port}/1",
            "ROLLBAR_ACCESS_TOKEN": "rollbar-test-token",
            "ROLLBAR_ENDPOINT": f"{rollbar.url}/api/1/",
        }
        server = subprocess.Popen(
            [sys.executable, "-m", "outagesync", "serve", "--port", "0"],
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert server.stderr is not None
        found = re.search(r"http://127\.0\.0\.1:(\d+)", server.stderr.readline())
        assert found is not None
        headers = {"Authorization": f"Bearer {secrets['api_token']}"}
        try:
            with httpx.Client(
                base_url=f"http://127.0.0.1:{found.group(1)}", headers=headers, timeout=30
            ) as api:
                for _ in range(200):  # the socket is bound before the line: the app may still be starting
                    try:
                        if api.get("/livez").status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                failed = api.post(f"/sites/{unknown}/sync")
                assert failed.status_code == 404, failed.text
                assert api.post("/sites/kingfisher/sync", params={"dry_run": "true"}).status_code == 201
        finally:
            server.send_signal(signal.SIGTERM)
            server.communicate(timeout=60)
        assert server.returncode == 0
        events = _sentry_events(sentry)
        items = _rollbar_items(rollbar)
        _assert_no_secret(secrets, sentry, rollbar)
    [event] = events
    assert (event["tags"]["site_id"], event["tags"]["error_code"], event["tags"]["trigger"]) == (
        unknown,
        "unknown-site",
        "api",
    )
    [item] = items
    assert (item["body"]["message"]["site_id"], item["body"]["message"]["trigger"]) == (unknown, "api")
