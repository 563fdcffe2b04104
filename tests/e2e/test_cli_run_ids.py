"""The run id `sync` prints (12 characters) is accepted by `reports list --run`, as any unique prefix of
8+ characters is; a prefix several runs start with is a clear usage error."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import UTC, datetime

from typer.testing import CliRunner, Result

from outagesync.adapters.storage import SqlStore
from outagesync.domain.models import RunReport, SiteResult, SiteStatus, Trigger
from outagesync.entrypoints.cli import app


def _run(*args: str) -> Result:
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def test_the_printed_run_id_lists_the_runs_reports(cli_db: str) -> None:
    synced = _run("sync", "kingfisher", "norwich-pear-tree")
    assert synced.exit_code == 0, synced.stderr
    match = re.match(r"run ([0-9a-f]{12}): succeeded", synced.stderr)  # piped: the title is on stderr
    assert match is not None, synced.stderr
    assert _run("sync", "kingfisher").exit_code == 0  # another run, not listed below
    listed = _run("reports", "list", "--run", match.group(1), "--json")
    assert listed.exit_code == 0, listed.stderr
    items = json.loads(listed.stdout)["items"]
    assert sorted(item["site_id"] for item in items) == ["kingfisher", "norwich-pear-tree"]
    assert {item["run_id"][:12] for item in items} == {match.group(1)}


def test_a_prefix_several_runs_start_with_is_a_usage_error(cli_db: str) -> None:
    at = datetime(2024, 1, 1, tzinfo=UTC)
    site = SiteResult("", "kingfisher", SiteStatus.SUCCEEDED, at, at, at)
    with SqlStore.from_url(cli_db) as store:
        for run_id in ("abcdef01" + "0" * 24, "abcdef01" + "1" * 24):
            report = RunReport(run_id, Trigger.CLI, at, at, "", False, (replace(site, report_id=run_id),))
            store.save_run(report)
    result = _run("reports", "list", "--run", "abcdef01")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "error: more than one run id starts with 'abcdef01': give more of it"
    ]
    one = json.loads(_run("reports", "list", "--run", "abcdef011", "--json").stdout)["items"]
    assert [item["run_id"] for item in one] == ["abcdef01" + "1" * 24]
    assert json.loads(_run("reports", "list", "--run", "abcdef02", "--json").stdout)["items"] == []
