"""`outagesync reports|sites|db` through the real CLI app, on a fresh SQLite file per test."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from outagesync.adapters.storage import SqlStore
from outagesync.adapters.storage.migrate import head_revision
from outagesync.domain.models import ErrorInfo, RunReport, SiteOutage, SiteResult, SiteStatus, Trigger
from outagesync.entrypoints.cli import app

T0 = datetime(2024, 5, 1, 12, tzinfo=UTC)
ITEM = SiteOutage(
    "111183e7-fb90-436b-9951-63392b36bdd2",
    "Battery 1",
    "2022-01-01T00:00:00.000Z",
    "2022-09-15T19:45:10.341Z",
)


@pytest.fixture
def database_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A clean environment whose database is a fresh SQLite file; no .env in the way."""
    for name in list(os.environ):
        if name.startswith(("OUTAGESYNC_", "KRAKENFLEX_", "KRAKEN_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "200")  # tables fold long cells at the default 80
    path = tmp_path / "reports.db"
    monkeypatch.setenv("OUTAGESYNC_DATABASE_URL", f"sqlite:///{path}")
    return path


def _run(*args: str) -> Result:
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def _lines(text: str) -> list[str]:
    return [line.rstrip() for line in text.splitlines()]


def _json(result: Result) -> Any:
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def _save(path: Path, site_id: str, at: datetime, status: SiteStatus = SiteStatus.SUCCEEDED) -> str:
    report_id = uuid.uuid4().hex
    error = (
        ErrorInfo("upstream-rejected-payload", "the upstream rejected the payload: nope")
        if status is SiteStatus.FAILED
        else None
    )
    site = SiteResult(
        report_id, site_id, status, at, at, T0, kept=1, post_status=200, items=(ITEM,), error=error
    )
    with SqlStore.from_url(f"sqlite:///{path}") as store:
        store.save_run(RunReport(uuid.uuid4().hex, Trigger.CLI, at, at, "d", False, (site,)))
    return report_id


def test_reports_list_is_newest_first_as_json_and_as_a_table(database_file: Path) -> None:
    old = _save(database_file, "norwich-pear-tree", T0)
    new = _save(database_file, "kingfisher", T0 + timedelta(hours=1), SiteStatus.FAILED)
    listed = _json(_run("reports", "list", "--json"))
    assert [r["id"] for r in listed["items"]] == [new, old]
    assert listed["next_cursor"] is None
    assert "items" not in listed["items"][0]  # listings leave the posted items out
    table = _run("reports", "list")
    assert table.exit_code == 0
    assert (
        table.stdout.splitlines()
        == [  # piped: tab-separated, the title on stderr
            "id\tstarted (UTC)\tsite\tstatus\tposted\tPOST\terror",
            f"{new[:12]}\t2024-05-01 13:00\tkingfisher\tfailed\t0\t200\tupstream-rejected-payload",
            f"{old[:12]}\t2024-05-01 12:00\tnorwich-pear-tree\tsucceeded\t1\t200\t-",
        ]
    )
    assert table.stderr.splitlines() == ["site reports, newest first"]


def test_reports_list_filters_and_pages(database_file: Path) -> None:
    ids = [_save(database_file, "norwich-pear-tree", T0 + timedelta(minutes=n)) for n in range(3)]
    failed = _save(database_file, "norwich-pear-tree", T0 - timedelta(days=1), SiteStatus.FAILED)
    first = _json(
        _run(
            "reports",
            "list",
            "--site",
            "norwich-pear-tree",
            "--status",
            "succeeded",
            "--limit",
            "2",
            "--json",
        )
    )
    second = _json(
        _run(
            "reports",
            "list",
            "--status",
            "succeeded",
            "--limit",
            "2",
            "--cursor",
            first["next_cursor"],
            "--json",
        )
    )
    assert [r["id"] for r in first["items"] + second["items"]] == ids[::-1]
    assert [r["id"] for r in _json(_run("reports", "list", "--before", "2024-05-01", "--json"))["items"]] == [
        failed
    ]
    assert [
        r["id"] for r in _json(_run("reports", "list", "--from", "2024-05-01T12:02", "--json"))["items"]
    ] == [ids[2]]


def test_reports_show_includes_the_posted_items(database_file: Path) -> None:
    report_id = _save(database_file, "norwich-pear-tree", T0)
    shown = _json(_run("reports", "show", report_id, "--json"))
    assert shown["items"] == [{"id": ITEM.id, "name": ITEM.name, "begin": ITEM.begin, "end": ITEM.end}]
    assert (shown["id"], shown["site_id"], shown["posted"], shown["items_total"]) == (
        report_id,
        "norwich-pear-tree",
        1,
        1,
    )
    assert (shown["trigger"], shown["run_status"], shown["items_truncated"]) == ("cli", "succeeded", False)
    table = _run("reports", "show", report_id)
    assert table.exit_code == 0
    lines = table.stdout.splitlines()
    assert lines[0] == f"report {report_id}"
    fields = [line.split(": ", 1) for line in lines[1:14]]
    assert [(label, value) for label, value in fields] == [
        ("site", "norwich-pear-tree"),
        ("status", "succeeded"),
        ("run", f"{shown['run_id']} (cli, succeeded)"),
        ("started / finished", "2024-05-01 12:00:00 / 2024-05-01 12:00:00 UTC"),
        ("cutoff", "2024-05-01T12:00:00.000Z"),
        ("fetched / site devices", "0 / 0"),
        ("kept", "1"),
        ("dropped", "0 before the cutoff, 0 for an unknown device"),
        ("invalid records", "0"),
        ("requests", "-"),
        ("POST", "200"),
        ("posted", "1"),
        ("items", f"1, sha256 {shown['items_digest']}"),
    ]
    assert lines[14:] == [
        "",
        "id\tname\tbegin\tend",
        "111183e7-fb90-436b-9951-63392b36bdd2\tBattery 1\t2022-01-01T00:00:00.000Z\t2022-09-15T19:45:10.341Z",
    ]
    assert table.stderr.splitlines() == ["1 outage posted"]


def test_reports_show_of_an_unknown_id_fails(database_file: Path) -> None:
    result = _run("reports", "show", "0123abcd")
    assert (result.exit_code, result.stdout) == (1, "")
    assert "error: no report or run with id '0123abcd'" in result.stderr


def test_reports_clear_needs_yes(database_file: Path) -> None:
    report_id = _save(database_file, "kingfisher", T0)
    refused = _run("reports", "clear")
    assert refused.exit_code == 2
    assert "add --yes" in refused.stderr
    assert [r["id"] for r in _json(_run("reports", "list", "--json"))["items"]] == [report_id]


def test_reports_clear_deletes_what_matches(database_file: Path) -> None:
    _save(database_file, "kingfisher", T0)
    kept = [
        _save(database_file, "kingfisher", T0 + timedelta(days=2)),
        _save(database_file, "norwich-pear-tree", T0),
    ]
    result = _run("reports", "clear", "--site", "kingfisher", "--before", "2024-05-02", "--yes")
    assert (result.exit_code, result.stdout) == (0, "deleted 1 report\n")
    assert {r["id"] for r in _json(_run("reports", "list", "--json"))["items"]} == set(kept)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("reports", "list", "--before", "yesterday"), "'yesterday' is neither ISO 8601 nor an age"),
        (("reports", "list", "--limit", "0"), "invalid limit 0"),
        (("reports", "list", "--status", "fine"), "invalid status 'fine'"),
        (("reports", "list", "--cursor", "nope"), "invalid cursor"),
        (("reports", "clear", "--before", "2024-02-30", "--yes"), "is neither ISO 8601 nor an age"),
        (("sites", "add", "bad/site"), "invalid site id 'bad/site'"),
        (("sites", "add", "kingfisher", "--since", "soon"), "'soon' is not ISO 8601"),
        (("sites", "update", "kingfisher", "--since", "2023-01-01", "--clear-since"), "not both"),
    ],
)
def test_bad_input_is_a_usage_error(database_file: Path, args: tuple[str, ...], message: str) -> None:
    result = _run(*args)
    assert result.exit_code == 2
    assert message in " ".join(result.stderr.replace("│", " ").split())
    assert result.stdout == ""


def test_managed_sites_lifecycle(database_file: Path) -> None:
    added = _json(
        _run(
            "sites",
            "add",
            "norwich-pear-tree",
            "--name",
            "Norwich Pear Tree",
            "--since",
            "2023-01-01",
            "--json",
        )
    )
    assert (added["site_id"], added["name"], added["since"], added["enabled"]) == (
        "norwich-pear-tree",
        "Norwich Pear Tree",
        "2023-01-01T00:00:00.000Z",
        True,
    )
    assert _run("sites", "add", "kingfisher", "--disabled").exit_code == 0
    listed = _json(_run("sites", "list", "--json"))["items"]
    assert [(s["site_id"], s["enabled"]) for s in listed] == [
        ("kingfisher", False),
        ("norwich-pear-tree", True),
    ]
    assert [s["site_id"] for s in _json(_run("sites", "list", "--enabled-only", "--json"))["items"]] == [
        "norwich-pear-tree"
    ]
    updated = _json(
        _run("sites", "update", "norwich-pear-tree", "--clear-since", "--disable", "--name", "", "--json")
    )
    assert (updated["name"], updated["since"], updated["enabled"]) == (None, None, False)
    assert _json(_run("sites", "show", "norwich-pear-tree", "--json")) == updated
    removed = _run("sites", "remove", "kingfisher")
    assert (removed.exit_code, "no longer managed" in removed.stdout) == (0, True)
    assert "kingfisher" not in _run("sites", "list").stdout


def test_sites_errors_exit_non_zero(database_file: Path) -> None:
    _run("sites", "add", "kingfisher")
    twice = _run("sites", "add", "kingfisher")
    assert (twice.exit_code, twice.stderr.strip()) == (1, "error: site 'kingfisher' is already managed")
    assert _run("sites", "show", "ghost").exit_code == 1
    assert _run("sites", "remove", "ghost").exit_code == 1
    nothing = _run("sites", "update", "kingfisher")
    assert nothing.exit_code == 2
    assert "nothing to update" in nothing.stderr


def test_db_upgrade_and_current(database_file: Path) -> None:
    before = _run("db", "current")
    assert before.exit_code == 0
    assert "revision: none" in before.stdout
    assert "run `outagesync db upgrade`" in before.stdout
    assert not database_file.exists()  # looking does not create the database
    upgraded = _run("db", "upgrade")
    assert upgraded.exit_code == 0
    assert f"database: sqlite:///{database_file}" in upgraded.stdout
    assert _run("db", "current").stdout == (
        f"database: sqlite:///{database_file}\nrevision: {head_revision()} (up to date)\n"
    )
    assert _run("db", "downgrade", "base").exit_code == 2  # needs --yes
    assert "revision: none" in _run("db", "downgrade", "base", "--yes").stdout


def test_an_unreachable_database_is_a_clear_error_without_the_password(
    database_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OUTAGESYNC_DATABASE_URL", "postgresql+psycopg://app:hunter2@127.0.0.1:1/outagesync")
    for args in (("reports", "list"), ("sites", "add", "kingfisher"), ("db", "upgrade")):
        result = _run(*args)
        assert result.exit_code == 1
        assert result.stderr.startswith(
            "error: cannot use the report database postgresql+psycopg://app:***@127.0.0.1:1"
        )
        assert "hunter2" not in result.stdout + result.stderr


def test_the_cli_loads_no_database_code_until_a_command_needs_it() -> None:
    """`outagesync --help` must stay fast: SQLAlchemy and Alembic are imported inside the commands."""
    code = (
        "import sys, outagesync.entrypoints.cli; print(sorted({'sqlalchemy', 'alembic'} & set(sys.modules)))"
    )
    argv = [sys.executable, "-c", code]  # this interpreter, a fixed script
    loaded = subprocess.run(argv, capture_output=True, text=True, check=True).stdout  # noqa: S603
    assert loaded.strip() == "[]"
