"""The upstream's rejection message and detail are stored and shown (issue 12, point 3): a 400's JSON
`detail` reaches the report database, `sync`'s output, `reports show` and the REST API's report."""

from __future__ import annotations

import json

from typer.testing import CliRunner, Result

from outagesync.entrypoints.cli import app

MISSING = "9 missing and 0 unexpected item(s) (order does not matter, copies count); missing: "


def _run(*args: str) -> Result:
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def test_a_rejected_payloads_detail_is_stored_and_shown(cli_db: str) -> None:
    # The sandbox accepts only the 2022-01-01 cutoff's list: a later cutoff posts a subset, refused (400)
    # with {"message": "Unexpected outages received", "detail": "9 missing ..."}.
    synced = _run("sync", "norwich-pear-tree", "--since", "2022-06-01", "--json")
    assert synced.exit_code == 1
    site = json.loads(synced.stdout)["sites"][0]
    assert site["upstream_message"] == "Unexpected outages received"
    assert site["upstream_detail"].startswith(MISSING)
    assert site["upstream_detail"].endswith(" and 6 more")
    stored = json.loads(_run("reports", "show", site["id"], "--json").stdout)
    assert (stored["upstream_message"], stored["upstream_detail"]) == (
        site["upstream_message"],
        site["upstream_detail"],
    )
    shown = _run("reports", "show", site["id"])
    assert f"upstream detail: {MISSING}" in " ".join(shown.stdout.replace("│", " ").split())
    text = _run("sync", "norwich-pear-tree", "--since", "2022-06-01")
    assert f"norwich-pear-tree: upstream detail: {MISSING}" in text.stdout + text.stderr


def test_an_answer_without_detail_stores_none(cli_db: str) -> None:
    synced = _run("sync", "no-such-site", "--json")
    assert synced.exit_code == 1
    site = json.loads(synced.stdout)["sites"][0]
    assert site["error"]["code"] == "unknown-site"
    assert site["upstream_detail"] is None
