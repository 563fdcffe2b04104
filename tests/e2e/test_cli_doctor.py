"""`outagesync doctor` through the real CLI against the sandbox and SQLite: a checklist, a fix for each
failure, exit 0/1, nothing posted."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from outagesync.entrypoints.cli import app
from outagesync.sandbox import Sandbox

KEY = "doctor-key-never-shown"
URL_FIX = (
    "     fix: check KRAKENFLEX_API_URL (scheme, host, port and path), the network, and OUTAGESYNC_CA_BUNDLE"
)
KEY_FIX = "     fix: set KRAKENFLEX_API_KEY to the key you were given (alone: no quotes, spaces or newline)"


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, sandbox: Sandbox) -> pytest.MonkeyPatch:
    for name in list(os.environ):
        if name.startswith(("OUTAGESYNC_", "KRAKENFLEX_", "KRAKEN_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    sandbox.api_key = KEY
    monkeypatch.setenv("KRAKENFLEX_API_URL", sandbox.url)
    monkeypatch.setenv("KRAKENFLEX_API_KEY", KEY)
    monkeypatch.setenv("OUTAGESYNC_DATABASE_URL", f"sqlite:///{tmp_path}/reports.db")
    return monkeypatch


def _doctor(*args: str) -> Result:
    result = CliRunner().invoke(app, ["doctor", *args], catch_exceptions=False)
    assert KEY not in result.stdout + result.stderr
    return result


def _migrated() -> None:
    assert CliRunner().invoke(app, ["db", "upgrade"], catch_exceptions=False).exit_code == 0


def test_everything_passes_and_nothing_is_posted(
    env: pytest.MonkeyPatch, sandbox: Sandbox, tmp_path: Path
) -> None:
    _migrated()
    result = _doctor()
    assert result.exit_code == 0, result.stdout
    assert result.stdout.splitlines() == [
        "ok   configuration: valid",
        f"ok   KrakenFlex API: {sandbox.url} answers like the KrakenFlex API",
        "ok   API key: accepted",
        f"ok   report database: sqlite:///{tmp_path}/reports.db: reachable, writable, schema at 0004",
    ]
    assert [(r.method, r.path) for r in sandbox.requests] == [("GET", "/site-info/norwich-pear-tree")]


def test_a_wrong_key_and_an_empty_database_fail_with_their_fixes(
    env: pytest.MonkeyPatch, sandbox: Sandbox, tmp_path: Path
) -> None:
    env.setenv("KRAKENFLEX_API_KEY", "not-the-key")
    result = _doctor()
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "ok   configuration: valid",
        f"ok   KrakenFlex API: {sandbox.url} answers like the KrakenFlex API",
        "FAIL API key: GET /site-info: the API key was rejected (403); check KRAKENFLEX_API_KEY",
        KEY_FIX,
        f"FAIL report database: sqlite:///{tmp_path}/reports.db: schema empty (never migrated), not at 0004",
        "     fix: run `outagesync db upgrade`",
    ]


def test_a_wrong_path_fails_the_api_check_once_as_json(env: pytest.MonkeyPatch, sandbox: Sandbox) -> None:
    _migrated()
    env.setenv("KRAKENFLEX_API_URL", f"{sandbox.url}/v9")
    result = _doctor("--json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["ok"] is False
    assert [(c["name"], c["ok"]) for c in report["checks"]] == [
        ("configuration", True),
        ("KrakenFlex API", False),
        ("API key", False),
        ("report database", True),
    ]
    assert report["checks"][1]["detail"].startswith("GET /site-info: 403 Missing Authentication Token from ")
    assert len(sandbox.requests) == 1  # no retry


def test_no_key_and_a_bad_setting_are_reported(env: pytest.MonkeyPatch, sandbox: Sandbox) -> None:
    _migrated()
    env.delenv("KRAKENFLEX_API_KEY")
    lines = _doctor().stdout.splitlines()
    assert lines[1:4] == ["FAIL KrakenFlex API: not checked: no API key", URL_FIX, lines[3]]
    assert lines[3].startswith("FAIL API key: no API key: set KRAKENFLEX_API_KEY")
    env.setenv("OUTAGESYNC_CA_BUNDLE", "/no/such.pem")
    env.setenv("KRAKENFLEX_API_KEY", KEY)
    env.setenv("KRAKENFLEX_API_URL", "https://127.0.0.1:1")
    lines = _doctor().stdout.splitlines()
    assert lines[1:3] == [
        "FAIL KrakenFlex API: OUTAGESYNC_CA_BUNDLE: cannot load '/no/such.pem': No such file or directory",
        URL_FIX,
    ]
    env.setenv("OUTAGESYNC_TIMEOUT", "-1")
    result = _doctor()
    assert (result.exit_code, result.stdout.splitlines()) == (
        1,
        [
            "FAIL configuration: invalid configuration: OUTAGESYNC_TIMEOUT: Input should be greater than 0",
            "     fix: fix the variable named above; `outagesync config show` lists every setting and its source",
        ],
    )


def test_an_unreachable_database_fails_its_check(env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a directory")
    env.setenv("OUTAGESYNC_DATABASE_URL", f"sqlite:///{tmp_path}/a-file/reports.db")
    lines = _doctor().stdout.splitlines()
    assert lines[3].startswith("FAIL report database: ")
    assert lines[4] == (
        "     fix: check OUTAGESYNC_DATABASE_URL, that the database is up and writable, then "
        "`outagesync db upgrade`"
    )


def test_a_read_only_database_fails_the_writable_check_and_still_lists_reports(
    env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """SQLite's read-only mode (the URI `mode=ro`) refuses writes as a read-only file does; as root (CI),
    file permissions would not stop a write, so the test asks SQLite itself."""
    runner = CliRunner()
    assert runner.invoke(app, ["sync", "--json"], catch_exceptions=False).exit_code == 0
    env.setenv("OUTAGESYNC_DATABASE_URL", f"sqlite:///file:{tmp_path}/reports.db?mode=ro&uri=true")
    result = _doctor()
    assert result.exit_code == 1
    line = next(line for line in result.stdout.splitlines() if "report database" in line)
    assert line.startswith("FAIL report database: ")
    assert line.endswith(
        "reachable, schema at 0004, but not writable: cannot use the report database "
        f"sqlite:///file%3A{tmp_path}/reports.db?mode=ro&uri=true: attempt to write a "
        "readonly database (check that it is running and that OUTAGESYNC_DATABASE_URL is right)"
    )
    listed = runner.invoke(app, ["reports", "list", "--json"], catch_exceptions=False)
    assert listed.exit_code == 0, listed.stderr
    (report,) = json.loads(listed.stdout)["items"]
    for args in (
        ["reports", "show", report["id"]],
        ["reports", "last"],
        ["sites", "list"],
        ["db", "current"],
    ):
        assert runner.invoke(app, args, catch_exceptions=False).exit_code == 0, args
