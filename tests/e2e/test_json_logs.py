"""`--log-format json`: every line a real process writes on stderr is one JSON object, with the run's
fields where known: a failing multi-site sync, and a `serve` session (uvicorn's own lines included).
"""

from __future__ import annotations

import json
import logging
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

from outagesync.entrypoints.cli.console import LogLines
from outagesync.sandbox import FailFirst, Sandbox

REQUIRED = {"time", "level", "logger", "event"}


def _env(sandbox: Sandbox, tmp_path: Path, **extra: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OUTAGESYNC_", "KRAKENFLEX_"))}
    return {
        **clean,
        "KRAKENFLEX_API_URL": sandbox.url,
        "KRAKENFLEX_API_KEY": sandbox.api_key,
        "OUTAGESYNC_DATABASE_URL": f"sqlite:///{tmp_path / 'logs.db'}",
        "OUTAGESYNC_BACKOFF_INITIAL": "0.01",
        "OUTAGESYNC_BACKOFF_MAX": "0.02",
        **extra,
    }


def _json_lines(stderr: str) -> list[dict[str, Any]]:
    lines = stderr.splitlines()
    assert lines, "nothing on stderr"
    parsed = [json.loads(line) for line in lines]  # every line, or the test fails here
    for record in parsed:
        assert record.keys() >= REQUIRED, record
    return parsed


def test_a_failing_multi_site_sync_logs_json_lines_only(sandbox: Sandbox, tmp_path: Path) -> None:
    unknown = f"no-such-site-{uuid.uuid4().hex[:8]}"
    sandbox.set_faults(FailFirst(1, target="GET /site-info/kingfisher"))
    done = subprocess.run(  # noqa: S603 (this interpreter, our own module)
        [sys.executable, "-m", "outagesync", "-v", "sync", "norwich-pear-tree", "kingfisher", unknown],
        env=_env(sandbox, tmp_path, OUTAGESYNC_LOG_FORMAT="json"),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    records = _json_lines(done.stderr)
    assert done.stdout.splitlines()[0].startswith("site\tstatus\t")  # piped: the table, tab-separated
    titles = [r["event"] for r in records if r["logger"] == "outagesync.cli"]
    run_id = re.fullmatch(r"run ([0-9a-f]{12}): partial", titles[0])  # its title: 12 digits, on stderr
    assert run_id is not None, titles

    upstream = [r for r in records if r["logger"] == "outagesync.upstream"]
    retries = [r for r in upstream if r["level"] == "warning"]
    assert len(retries) == 1
    steps = sorted(r["event"].split(" in ")[0] for r in upstream if r["level"] == "info")  # -v: each answer
    assert steps == sorted(
        [
            "GET /outages: 200",
            "GET /site-info/norwich-pear-tree: 200",
            "GET /site-info/kingfisher: 500",
            "GET /site-info/kingfisher: 200",
            f"GET /site-info/{unknown}: 404",
            "POST /site-outages/norwich-pear-tree: 200",
            "POST /site-outages/kingfisher: 200",
        ]
    )
    retry = retries[0]
    assert retry["level"] == "warning"
    assert retry["event"].startswith("GET /site-info: server error 500; retry 1 in ")
    assert (retry["endpoint"], retry["attempt"], retry["site_id"], retry["run_id"][:12]) == (
        "GET /site-info",
        1,
        "kingfisher",
        run_id.group(1),
    )
    assert len(retry["run_id"]) == 32
    assert "trace_id" not in retry  # tracing is off
    hints = [r for r in records if r["logger"] == "outagesync.cli"]
    assert [(r["level"], r["event"]) for r in hints] == [
        ("info", f"run {run_id.group(1)}: partial"),
        ("info", f"{unknown}: unknown site: {unknown} (GET /site-info: 404 Site not found)"),
        ("info", "3 sites: 2 succeeded, 1 failed · posted 13 items"),
        ("info", "report stored; see it with: outagesync reports list"),
    ]
    assert all(r["level"] in ("debug", "info", "warning", "error") for r in records)


def test_an_error_is_a_json_line_with_the_flag(tmp_path: Path, sandbox: Sandbox) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "outagesync", "--log-format", "json", "sync", "--since", "yesterday"],
        env=_env(sandbox, tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    [record] = _json_lines(done.stderr)
    assert (record["level"], record["logger"]) == ("error", "outagesync.cli")
    assert record["event"].startswith("error: invalid cutoff (--since or OUTAGESYNC_SINCE) 'yesterday'")


def test_a_serve_session_logs_json_lines_only(sandbox: Sandbox, tmp_path: Path) -> None:
    token = f"token-{uuid.uuid4().hex}"
    env = _env(sandbox, tmp_path, OUTAGESYNC_LOG_FORMAT="json", OUTAGESYNC_API_TOKEN=token)
    server = subprocess.Popen(
        [sys.executable, "-m", "outagesync", "serve", "--port", "0"],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert server.stderr is not None
    first = json.loads(server.stderr.readline())
    found = re.search(r"http://127\.0\.0\.1:(\d+)", first["event"])
    assert found is not None, first
    url = f"http://127.0.0.1:{found.group(1)}"
    try:
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as api:
            for _ in range(200):  # the socket is bound before the line: the app may still be starting
                try:
                    if api.get("/livez").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
            assert api.get("/sites/no-such-site").status_code == 404
            assert api.post("/sites/norwich-pear-tree/sync").status_code == 201
            assert api.get("/metrics?token=secret-looking").status_code == 200
    finally:
        server.send_signal(signal.SIGTERM)
        _, rest = server.communicate(timeout=60)
    assert server.returncode == 0
    records = [first, *_json_lines(rest)]
    access = [r["event"] for r in records if r["logger"] == "uvicorn.access"]
    assert any('"GET /sites/no-such-site HTTP/1.1" 404' in event for event in access), access
    assert any('"POST /sites/norwich-pear-tree/sync HTTP/1.1" 201' in event for event in access), access
    assert any('"GET /metrics?token=*** HTTP/1.1" 200' in event for event in access), access
    errors = [r["event"] for r in records if r["logger"] == "uvicorn.error"]
    assert "Application startup complete." in errors
    assert "Application shutdown complete." in errors
    assert token not in "\n".join(json.dumps(r) for r in records)


def test_console_lines_become_records_at_their_level(caplog: pytest.LogCaptureFixture) -> None:
    lines = LogLines()
    with caplog.at_level(logging.INFO, logger="outagesync.cli"):
        assert lines.writable()
        lines.write("error: it failed\n\nwaiting for kingfisher: another sync of it is running\nreport ")
        lines.write("stored")
        lines.flush()
        lines.flush()  # nothing pending: nothing logged
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        ("ERROR", "error: it failed"),
        ("WARNING", "waiting for kingfisher: another sync of it is running"),
        ("INFO", "report stored"),
    ]
