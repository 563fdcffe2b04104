"""-v, -vv and -q in real processes against the sandbox: before or after the command, our steps at -v
without library noise, library debug logs at -vv with the key masked, only errors at -q."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from outagesync.adapters.telemetry.logs import Redacting, redact, redacted
from outagesync.sandbox import FailFirst, Sandbox

KEY = "k3y-that-must-never-show"


def _outagesync(sandbox: Sandbox, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OUTAGESYNC_", "KRAKENFLEX_"))}
    env = {
        **clean,
        "KRAKENFLEX_API_URL": sandbox.url,
        "KRAKENFLEX_API_KEY": KEY,
        "OUTAGESYNC_DATABASE_URL": f"sqlite:///{tmp_path / 'reports.db'}",
        "OUTAGESYNC_MAX_ATTEMPTS": "3",
        "OUTAGESYNC_BACKOFF_INITIAL": "0.01",
        "OUTAGESYNC_BACKOFF_MAX": "0.02",
    }
    return subprocess.run(  # noqa: S603 (this interpreter, our own module)
        [sys.executable, "-m", "outagesync", *args],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _steps(stderr: str) -> list[str]:
    """The log lines without their time stamp and durations."""
    lines = [
        re.sub(r"^\S+ \S+ ", "", line)
        for line in stderr.splitlines()
        if " INFO " in line or " WARNING " in line
    ]
    return [re.sub(r"\d+(\.\d+)? (ms|s)\b", "N \\2", line) for line in lines]


@pytest.mark.parametrize("where", ["after", "before"])
def test_v_shows_our_steps_and_no_library_noise(sandbox: Sandbox, tmp_path: Path, where: str) -> None:
    sandbox.api_key = KEY
    sandbox.set_faults(FailFirst(1, target="POST /site-outages"))
    args = ("sync", "kingfisher", "-v") if where == "after" else ("-v", "sync", "kingfisher")
    done = _outagesync(sandbox, tmp_path, *args)
    assert done.returncode == 0, done.stderr
    steps = _steps(done.stderr)
    assert sorted(steps[:2]) == [
        "INFO outagesync.upstream: GET /outages: 200 in N ms (attempt 1/3)",
        "INFO outagesync.upstream: GET /site-info/kingfisher: 200 in N ms (attempt 1/3)",
    ]
    assert steps[2:] == [
        "INFO outagesync.upstream: POST /site-outages/kingfisher: 500 in N ms (attempt 1/3)",
        "WARNING outagesync.upstream: POST /site-outages: server error 500; retry 1 in N s",
        "INFO outagesync.upstream: POST /site-outages/kingfisher: 200 in N ms (attempt 2/3)",
    ]
    title, other = [line for line in done.stderr.splitlines() if "outagesync.upstream" not in line]
    assert re.fullmatch(r"run [0-9a-f]{12}: succeeded", title)  # piped: the table's title is on stderr
    assert other.startswith("report stored; see it with: outagesync reports show ")


def test_vv_adds_library_debug_logs_with_the_key_masked(sandbox: Sandbox, tmp_path: Path) -> None:
    sandbox.api_key = KEY
    done = _outagesync(sandbox, tmp_path, "sync", "kingfisher", "-vv")
    assert done.returncode == 0, done.stderr
    assert " DEBUG httpcore.http11: send_request_headers.started" in done.stderr
    assert KEY not in done.stderr + done.stdout


def test_q_prints_only_errors(sandbox: Sandbox, tmp_path: Path) -> None:
    sandbox.api_key = KEY
    ok = _outagesync(sandbox, tmp_path, "sync", "kingfisher", "-q")
    assert (ok.returncode, ok.stdout, ok.stderr) == (0, "", "")
    failed = _outagesync(sandbox, tmp_path, "sync", "kingfisher", "no-such-site", "--quiet")
    assert (failed.returncode, failed.stdout) == (1, "")
    assert failed.stderr.splitlines() == [
        "error: no-such-site: unknown site: no-such-site (GET /site-info: 404 Site not found)"
    ]


def test_v_and_q_together_are_a_usage_error(sandbox: Sandbox, tmp_path: Path) -> None:
    done = _outagesync(sandbox, tmp_path, "sync", "-q", "-v")
    assert done.returncode == 2
    assert "give -v or -q, not both" in done.stderr  # Typer's usage box around our message


def test_secrets_are_masked_in_log_text() -> None:
    redact("a-registered-secret")
    text = (
        "x-api-key: abc123 and Authorization: Bearer tok456 and (b'x-api-key', b'raw789') a-registered-secret"
    )
    assert redacted(text) == "x-api-key: *** and Authorization: Bearer *** and (b'x-api-key', b'***') ***"


def test_a_logged_traceback_is_masked_too() -> None:
    redact("key")  # too short to mask: it would mask ordinary words
    try:
        raise ValueError("Illegal header value b' another-registered-secret'")
    except ValueError:
        redact(" another-registered-secret")
        record = logging.LogRecord(
            "httpx", logging.DEBUG, __file__, 1, "failed: %s", ("key",), sys.exc_info()
        )
    assert Redacting().filter(record)
    assert (record.getMessage(), record.exc_info) == ("failed: key", None)
    assert record.exc_text is not None
    assert record.exc_text.endswith("ValueError: Illegal header value b'***'")
