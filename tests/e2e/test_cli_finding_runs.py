"""Finding runs and what changed (issue 12, points 6 and 7): `reports show RUN_ID`, `reports last`,
`reports diff`, `sync --diff`, relative times in filters and `reports clear --older-than`, through the CLI
against the sandbox over real HTTP and a real SQLite report database."""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from outagesync.adapters.storage import SqlStore
from outagesync.domain.models import RunReport, SiteResult, SiteStatus, Trigger
from outagesync.entrypoints.cli import app
from outagesync.sandbox import Sandbox
from outagesync.sandbox.data import Dataset

DEVICE_A = "a" * 8 + "-0000-0000-0000-000000000001"
DEVICE_B = "b" * 8 + "-0000-0000-0000-000000000002"
SITE = {
    "id": "diff-site",
    "name": "Diff",
    "devices": [{"id": DEVICE_A, "name": "A"}, {"id": DEVICE_B, "name": "B"}],
}


def _outage(device: str, begin: str, end: str) -> dict[str, str]:
    return {"id": device, "begin": begin, "end": end}


FIRST = [
    _outage(DEVICE_A, "2022-01-01T00:00:00.000Z", "2022-01-02T00:00:00.000Z"),
    _outage(DEVICE_A, "2022-03-01T00:00:00.000Z", "2022-03-02T00:00:00.000Z"),
    _outage(DEVICE_B, "2022-05-01T00:00:00.000Z", "2022-05-02T00:00:00.000Z"),
]
SECOND = [
    FIRST[0],  # unchanged
    _outage(DEVICE_A, "2022-03-01T00:00:00.000Z", "2022-03-09T00:00:00.000Z"),  # new end: changed
    _outage(DEVICE_B, "2022-07-01T00:00:00.000Z", "2022-07-02T00:00:00.000Z"),  # added; May's removed
]


def _run(*args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(app, list(args), catch_exceptions=False, input=stdin)


def _json(*args: str) -> Any:
    result = _run(*args, "--json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def _item(device: str, name: str, begin: str, end: str) -> dict[str, str]:
    return {"id": device, "name": name, "begin": begin, "end": end}


def _two_accepted_lists(sandbox: Sandbox) -> tuple[str, str]:
    sandbox.dataset = Dataset(FIRST, [SITE])
    first = _json("sync", "diff-site")["sites"][0]["id"]
    sandbox.dataset = Dataset(SECOND, [SITE])
    second = _json("sync", "diff-site")["sites"][0]["id"]
    return first, second


EXPECTED_DIFF = {
    "added": [_item(DEVICE_B, "B", "2022-07-01T00:00:00.000Z", "2022-07-02T00:00:00.000Z")],
    "removed": [_item(DEVICE_B, "B", "2022-05-01T00:00:00.000Z", "2022-05-02T00:00:00.000Z")],
    "changed": [
        {
            "before": _item(DEVICE_A, "A", "2022-03-01T00:00:00.000Z", "2022-03-02T00:00:00.000Z"),
            "after": _item(DEVICE_A, "A", "2022-03-01T00:00:00.000Z", "2022-03-09T00:00:00.000Z"),
            "fields": ["end"],
        }
    ],
    "unchanged": 1,
}


def test_reports_diff_of_a_report_against_the_previous_accepted_one(cli_db: str, sandbox: Sandbox) -> None:
    first, second = _two_accepted_lists(sandbox)
    diff = _json("reports", "diff", second[:8])
    assert diff["before"]["id"] == first
    assert diff["after"]["id"] == second
    assert diff["complete"] is True
    assert {key: diff[key] for key in EXPECTED_DIFF} == EXPECTED_DIFF
    assert _json("reports", "diff", first, second) == diff  # the same pair, named
    text = _run("reports", "diff", second)
    assert text.exit_code == 0
    lines = text.stdout.splitlines()
    assert lines[0] == f"diff-site: report {first} → {second}: 1 added, 1 removed, 1 changed, 1 unchanged"
    assert lines[1:] == [
        f"  + {DEVICE_B}  2022-07-01T00:00:00.000Z → 2022-07-02T00:00:00.000Z  B",
        f"  - {DEVICE_B}  2022-05-01T00:00:00.000Z → 2022-05-02T00:00:00.000Z  B",
        f"  ~ {DEVICE_A}  2022-03-01T00:00:00.000Z  end 2022-03-02T00:00:00.000Z → 2022-03-09T00:00:00.000Z",
    ]
    first_diff = _json("reports", "diff", first)
    assert first_diff["before"] is None
    assert len(first_diff["added"]) == 3


def test_sync_diff_shows_what_a_dry_run_would_change(cli_db: str, sandbox: Sandbox) -> None:
    sandbox.dataset = Dataset(FIRST, [SITE])
    accepted = _json("sync", "diff-site")["sites"][0]["id"]
    sandbox.dataset = Dataset(SECOND, [SITE])
    sandbox.clear_requests()
    report = _json("sync", "diff-site", "--dry-run", "--diff")
    site_diff = report["sites"][0]["diff"]
    assert site_diff["against_report"] == accepted
    assert {key: site_diff[key] for key in EXPECTED_DIFF} == EXPECTED_DIFF
    assert not [request for request in sandbox.requests if request.method == "POST"]
    text = _run("sync", "diff-site", "--dry-run", "--diff")
    assert (
        f"diff-site: would change against last accepted {accepted}: 1 added, 1 removed, 1 changed, 1 unchanged"
        in text.stdout
    )
    unchanged = _json("sync", "diff-site", "--diff")["sites"][0]["diff"]  # posts SECOND: diff still vs FIRST
    assert unchanged["against_report"] == accepted
    again = _json("sync", "diff-site", "--diff")["sites"][0]["diff"]
    assert (again["added"], again["removed"], again["changed"], again["unchanged"]) == ([], [], [], 3)


def test_sync_diff_needs_the_report_database(cli_db: str) -> None:
    result = _run("sync", "--diff", "--no-store")
    assert result.exit_code == 2
    assert "--diff compares with the report database" in result.stderr


def test_reports_show_takes_a_run_id_and_last_shows_the_newest(cli_db: str) -> None:
    synced = _run("sync", "kingfisher", "norwich-pear-tree")
    run_id = re.match(r"run ([0-9a-f]{12})", synced.stderr)  # piped: the table's title is on stderr
    assert run_id is not None, synced.stderr
    shown = _json("reports", "show", run_id.group(1))
    assert shown["run_id"].startswith(run_id.group(1))
    assert [report["site_id"] for report in shown["reports"]] == ["kingfisher", "norwich-pear-tree"]
    assert _json("reports", "last") == shown
    last = _json("reports", "last", "--site", "kingfisher")
    assert last["site_id"] == "kingfisher"
    assert last["run_id"] == shown["run_id"]
    assert len(last["items"]) == last["items_total"] > 0
    missing = _run("reports", "show", "0123456789ab")
    assert missing.exit_code != 0
    assert "no report or run with id '0123456789ab'" in missing.stderr
    none_yet = _run("reports", "last", "--site", "nowhere")
    assert none_yet.exit_code != 0
    assert "no report for site nowhere yet" in none_yet.stderr


def _stored(cli_db: str, site_id: str, started: datetime) -> None:
    site = SiteResult(
        f"r-{site_id}-{started:%Y%m%d%H}", site_id, SiteStatus.SUCCEEDED, started, started, started
    )
    run = RunReport(f"run-{site_id}-{started:%Y%m%d%H}", Trigger.CLI, started, started, "", False, (site,))
    with SqlStore.from_url(cli_db) as store:
        store.save_run(run)


def _sites(*args: str) -> list[str]:
    return [report["site_id"] for report in _json("reports", "list", *args)["items"]]


def test_relative_times_and_clear_older_than(cli_db: str) -> None:
    now = datetime.now(UTC)
    _stored(cli_db, "old", now - timedelta(days=100))
    _stored(cli_db, "recent", now - timedelta(days=2))
    _stored(cli_db, "fresh", now - timedelta(hours=1))
    assert _sites("--from", "7d") == ["fresh", "recent"]
    assert _sites("--from", "7d", "--to", "12h") == ["recent"]
    assert _sites("--before", "90d") == ["old"]
    bad = _run("reports", "list", "--from", "7 days")
    assert bad.exit_code == 2
    assert "neither ISO 8601 nor an age" in bad.stderr
    refused = _run("reports", "clear", "--older-than", "90d")  # not a terminal: needs --yes
    assert refused.exit_code == 2
    assert "add --yes to confirm" in refused.stderr
    cleared = _run("reports", "clear", "--older-than", "90d", "--yes")
    assert cleared.exit_code == 0
    assert cleared.stdout == "deleted 1 report\n"
    assert _sites() == ["fresh", "recent"]
    assert _run("reports", "clear", "--older-than", "9x", "--yes").exit_code == 2


def _on_a_terminal(args: list[str], answer: bytes, env: dict[str, str]) -> tuple[int, str]:
    """Run the installed CLI with stdin and stdout on a pseudo-terminal, answer its prompt."""
    import pty
    import subprocess
    import sys

    main, secondary = pty.openpty()
    command = [str(Path(sys.executable).parent / "outagesync"), *args]
    with subprocess.Popen(command, stdin=secondary, stdout=secondary, stderr=secondary, env=env) as process:  # noqa: S603
        os.close(secondary)
        output = b""
        while b"[y/N]" not in output:
            output += os.read(main, 1024)
        os.write(main, answer)
        try:
            while chunk := os.read(main, 1024):
                output += chunk
        except OSError:  # EIO: the process closed the terminal
            pass
        code = process.wait(timeout=30)
    os.close(main)
    return code, output.decode().replace("\r\n", "\n")


def test_clear_asks_on_a_terminal_with_the_count(cli_db: str) -> None:
    now = datetime.now(UTC)
    _stored(cli_db, "old", now - timedelta(days=100))
    _stored(cli_db, "older", now - timedelta(days=200))
    env = {**os.environ, "COLUMNS": "100"}
    code, output = _on_a_terminal(["reports", "clear", "--older-than", "90d"], b"n\n", env)
    assert code == 1
    assert "delete 2 reports for good? [y/N]" in output
    assert output.rstrip().endswith("nothing deleted")
    code, output = _on_a_terminal(["reports", "clear", "--older-than", "90d"], b"y\n", env)
    assert code == 0
    assert output.rstrip().endswith("deleted 2 reports")
    assert _json("reports", "list")["items"] == []


def test_a_diff_against_a_cut_report_says_so(cli_db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OUTAGESYNC_REPORT_ITEMS_MAX", "2")  # norwich's accepted list has 10 items
    assert _run("sync", "norwich-pear-tree").exit_code == 0
    site_diff = _json("sync", "norwich-pear-tree", "--dry-run", "--diff")["sites"][0]["diff"]
    assert (site_diff["complete"], site_diff["unchanged"], len(site_diff["added"])) == (False, 2, 8)
    text = _run("sync", "norwich-pear-tree", "--dry-run", "--diff")
    assert "norwich-pear-tree: the last accepted report kept only its first items" in text.stdout
