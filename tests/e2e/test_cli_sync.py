"""`outagesync sync` through the real CLI, against the sandbox, with a real SQLite database."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from outagesync.entrypoints.cli import app
from outagesync.sandbox import FailFirst, Sandbox, ServerError

SECRET_KEY = "s3cr3t-key-do-not-print"


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, sandbox: Sandbox) -> dict[str, str]:
    """A clean environment pointing at the sandbox and a fresh SQLite file; no .env in the way."""
    for name in list(os.environ):
        if name.startswith(("OUTAGESYNC_", "KRAKENFLEX_", "KRAKEN_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    sandbox.api_key = SECRET_KEY
    values = {
        "KRAKENFLEX_API_URL": sandbox.url,
        "KRAKENFLEX_API_KEY": SECRET_KEY,
        "OUTAGESYNC_DATABASE_URL": f"sqlite:///{tmp_path}/reports.db",
        "OUTAGESYNC_BACKOFF_INITIAL": "0.01",
        "OUTAGESYNC_BACKOFF_MAX": "0.05",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


def _run(*args: str) -> Result:
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def _json(result: Result) -> Any:
    return json.loads(result.stdout)


def test_sync_norwich_succeeds_and_is_reported(env: dict[str, str], sandbox: Sandbox) -> None:
    result = _run("sync", "--json")
    assert result.exit_code == 0, result.stderr
    report = _json(result)
    (site,) = report["sites"]
    assert (report["status"], site["site_id"], site["posted"], site["post_status"]) == (
        "succeeded",
        "norwich-pear-tree",
        10,
        200,
    )
    assert report["report_stored"] is True
    assert len(sandbox.accepted("norwich-pear-tree") or []) == 10
    listed = _json(_run("reports", "list", "--json"))
    assert [r["id"] for r in listed["items"] if r["site_id"] == "norwich-pear-tree"] == [site["id"]]


def _lines(text: str) -> list[str]:
    return [line.rstrip() for line in text.splitlines()]


def test_summary_table_by_default(env: dict[str, str]) -> None:
    result = _run("sync", "norwich-pear-tree", "kingfisher")
    assert result.exit_code == 0, result.stderr
    (run_id,) = {r["run_id"] for r in _json(_run("reports", "list", "--json"))["items"]}
    assert result.stdout.splitlines() == [  # piped: tab-separated, nothing padded (docs/cli.md)
        "site\tstatus\tfetched\tdevices\tkept\tbefore cutoff\tunknown device\tinvalid\tposted"
        "\trequests (retries)\tPOST\terror",
        "norwich-pear-tree\tsucceeded\t127\t8\t10\t8\t109\t0\t10\t3 (0)\t200\t-",
        "kingfisher\tsucceeded\t127\t2\t3\t1\t123\t0\t3\t3 (0)\t200\t-",
    ]
    assert result.stderr.splitlines() == [
        f"run {run_id[:12]}: succeeded",
        "2 sites: 2 succeeded · posted 13 items",
        "report stored; see it with: outagesync reports list",
    ]


def test_one_failed_site_exits_1_and_the_others_still_run(env: dict[str, str], sandbox: Sandbox) -> None:
    result = _run("sync", "nowhere", "kingfisher", "--json")
    assert result.exit_code == 1
    statuses = {s["site_id"]: s["status"] for s in _json(result)["sites"]}
    assert statuses == {"nowhere": "failed", "kingfisher": "succeeded"}
    assert sandbox.accepted("kingfisher") is not None


def test_500s_everywhere_are_retried(env: dict[str, str], sandbox: Sandbox) -> None:
    sandbox.set_faults(
        FailFirst(1, target="GET /outages"),
        FailFirst(1, target="GET /site-info"),
        FailFirst(1, target="POST"),
    )
    result = _run("sync", "--json")
    assert result.exit_code == 0, result.stderr
    calls = _json(result)["sites"][0]["calls"]
    assert {endpoint: c["retries"] for endpoint, c in calls.items()} == {
        "GET /outages": 1,
        "GET /site-info": 1,
        "POST /site-outages": 1,
    }


def test_persistent_failure_exits_1_without_posting(
    env: dict[str, str], sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OUTAGESYNC_MAX_ATTEMPTS", "3")
    sandbox.set_faults(ServerError(1.0, target="GET /site-info"))
    result = _run("sync", "--json")
    assert result.exit_code == 1
    assert [(r.method, r.path, r.status) for r in sandbox.requests if r.path != "/outages"] == [
        ("GET", "/site-info/norwich-pear-tree", 500)
    ] * 3
    assert _json(result)["sites"][0]["error"] == {
        "code": "upstream-unavailable",
        "message": "GET /site-info: server error 500; gave up after 3 attempts",
    }


def test_dry_run_posts_nothing_and_shows_the_items(env: dict[str, str], sandbox: Sandbox) -> None:
    result = _run("sync", "kingfisher", "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[:6] == [  # piped: the items, then the run table, tab-separated
        "id\tname\tbegin\tend",
        "002b28fc-283c-47ec-9af2-ea287336dc1b\tBattery 1\t2022-05-23T12:21:27.377Z\t2022-11-13T02:16:38.905Z",
        "002b28fc-283c-47ec-9af2-ea287336dc1b\tBattery 1\t2022-12-04T09:59:33.628Z\t2022-12-12T22:35:13.815Z",
        "086b0d53-b311-4441-aaf3-935646f03d4d\tBattery 2\t2022-07-12T16:31:47.254Z\t2022-10-13T04:05:10.044Z",
        "",
        "site\tstatus\tfetched\tdevices\tkept\tbefore cutoff\tunknown device\tinvalid\tposted"
        "\trequests (retries)\tPOST\terror",
    ]
    assert result.stderr.splitlines()[0] == "kingfisher: would post 3 outages"  # the title, on stderr
    assert not [r for r in sandbox.requests if r.method == "POST"]
    listed = _json(_run("reports", "list", "--json"))
    assert [r["status"] for r in listed["items"]] == ["dry_run"]


def test_since_flag_overrides_the_environment(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OUTAGESYNC_SINCE", "2030-01-01T00:00:00Z")
    assert _json(_run("sync", "--dry-run", "--json"))["sites"][0]["kept"] == 0
    kept = _json(_run("sync", "--dry-run", "--json", "--since", "2022-01-01T00:00:00.000Z"))["sites"][0][
        "kept"
    ]
    assert kept == 10


def test_settings_from_a_dot_env_file(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("KRAKENFLEX_API_KEY")
    (tmp_path / ".env").write_text(f"KRAKEN_API_KEY={SECRET_KEY}\nOUTAGESYNC_SINCE=2023-01-01\n")
    # dry run: the sandbox, like the real API, accepts only the 2022-01-01 cutoff's list
    result = _run("sync", "--json", "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert _json(result)["sites"][0]["since"] == "2023-01-01T00:00:00.000Z"


@pytest.mark.parametrize(
    ("args", "variables", "message"),
    [
        (["sync", "--since", "yesterday"], {}, "invalid cutoff (--since or OUTAGESYNC_SINCE) 'yesterday'"),
        (["sync", "../etc/passwd"], {}, "invalid site id"),
        (
            ["sync"],
            {"KRAKENFLEX_API_URL": "ftp://example.com"},
            "KRAKENFLEX_API_URL: must be an http(s) URL",
        ),
        (["sync"], {"OUTAGESYNC_MAX_ATTEMPTS": "zero"}, "OUTAGESYNC_MAX_ATTEMPTS"),
        (["sync", "--concurrency", "0"], {}, "--concurrency"),
        (["sync", "kingfisher", "--all"], {}, "give site ids or --all, not both"),
    ],
)
def test_usage_and_configuration_errors_exit_2(
    env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    variables: dict[str, str],
    message: str,
) -> None:
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    result = _run(*args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_no_api_key_says_how_to_set_it(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KRAKENFLEX_API_KEY")
    result = _run("sync")
    assert result.exit_code == 2
    assert "no API key: set KRAKENFLEX_API_KEY" in result.stderr


def test_the_api_key_never_appears(env: dict[str, str], sandbox: Sandbox, tmp_path: Path) -> None:
    sandbox.set_faults(FailFirst(1))
    outputs = [
        _run("-vv", "sync", "norwich-pear-tree", "nowhere", "--json"),
        _run("-vv", "sync", "--dry-run"),
    ]
    sandbox.api_key = "another-key"
    outputs.append(_run("-vv", "sync", "--json"))  # 403: the error path
    assert outputs[-1].exit_code == 1
    assert "the API key was rejected" in outputs[-1].stdout
    for result in outputs:
        assert SECRET_KEY not in result.stdout + result.stderr
    database = sqlite3.connect(tmp_path / "reports.db")
    dump = "\n".join(database.iterdump())
    assert "norwich-pear-tree" in dump
    assert SECRET_KEY not in dump


def test_an_unreachable_database_posts_nothing(
    env: dict[str, str], sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OUTAGESYNC_DATABASE_URL", "postgresql+psycopg://outagesync:hunter2@127.0.0.1:1/none")
    result = _run("sync", "--json")
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr.startswith(
        "error: cannot use the report database postgresql+psycopg://outagesync:***@127.0.0.1:1/none: "
    )
    assert [r.method for r in sandbox.requests] == []  # not even a GET: nothing could be recorded
    assert "hunter2" not in result.stderr + result.stdout


def test_no_store_syncs_without_the_database(
    env: dict[str, str], sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OUTAGESYNC_DATABASE_URL", "postgresql+psycopg://outagesync:hunter2@127.0.0.1:1/none")
    result = _run("sync", "--json", "--no-store")
    assert result.exit_code == 0, result.stderr
    report = _json(result)
    assert (report["status"], report["report_stored"], report["storage_error"]) == ("succeeded", False, None)
    assert report["sites"][0]["post_status"] == 200
    assert sandbox.accepted("norwich-pear-tree") is not None
    assert result.stderr == ""


def test_sync_all_runs_every_enabled_managed_site_with_its_cutoff(
    env: dict[str, str], sandbox: Sandbox
) -> None:
    assert _run("sites", "add", "kingfisher").exit_code == 0
    assert _run("sites", "add", "zurich-lindenhof", "--since", "2023-06-01").exit_code == 0
    assert _run("sites", "add", "norwich-pear-tree", "--disabled").exit_code == 0
    result = _run("sync", "--all", "--dry-run", "--json")
    assert result.exit_code == 0, result.stderr
    sites = {s["site_id"]: s for s in _json(result)["sites"]}
    assert set(sites) == {"kingfisher", "zurich-lindenhof"}
    assert sites["zurich-lindenhof"]["since"] == "2023-06-01T00:00:00.000Z"
    assert sites["kingfisher"]["since"] == "2022-01-01T00:00:00.000Z"
    assert sum(1 for r in sandbox.requests if r.path == "/outages") == 1


def test_large_payloads_keep_a_digest_and_a_count(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OUTAGESYNC_REPORT_ITEMS_MAX", "4")
    site = _json(_run("sync", "--json"))["sites"][0]
    shown = _json(_run("reports", "show", site["id"], "--json"))
    assert (shown["items_total"], len(shown["items"]), shown["items_truncated"]) == (10, 4, True)
    assert shown["items"] == site["items"][:4]
    assert len(shown["items_digest"]) == 64
