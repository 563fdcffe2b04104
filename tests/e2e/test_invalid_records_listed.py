"""Every invalid record is listed (issue 12, point 3): a GET /outages body with several bad records fails
the run naming the first, counting the others, listing each in the report and the output; the failed
site's row shows what it did fetch (records, site devices, invalid)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner, Result

from outagesync.entrypoints.cli import app
from outagesync.sandbox import Sandbox
from outagesync.sandbox.data import Dataset

DEVICE = "d" * 8 + "-0000-0000-0000-000000000001"
SITE = {"id": "bad-data", "name": "Bad", "devices": [{"id": DEVICE, "name": "D"}]}
GOOD = {"id": DEVICE, "begin": "2022-01-01T00:00:00.000Z", "end": "2022-01-02T00:00:00.000Z"}
OUTAGES = [
    GOOD,
    {"id": DEVICE, "begin": "yesterday", "end": "2022-01-02T00:00:00.000Z"},  # record 1
    GOOD,
    {"id": DEVICE, "begin": "2022-01-01T00:00:00.000Z"},  # record 3: no end
    {"id": 42, "begin": "2022-01-01T00:00:00.000Z", "end": "2022-01-02T00:00:00.000Z"},  # record 4
]


@pytest.fixture
def db(cli_db: str, sandbox: Sandbox) -> str:
    sandbox.dataset = Dataset(OUTAGES, [SITE])
    return cli_db


def _run(*args: str) -> Result:
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def test_every_bad_record_is_listed_and_the_row_shows_what_was_fetched(db: str, sandbox: Sandbox) -> None:
    result = _run("sync", "bad-data", "--json")
    assert result.exit_code == 1
    (site,) = json.loads(result.stdout)["sites"]
    assert site["error"]["code"] == "invalid-upstream-data"
    assert site["error"]["message"].startswith("GET /outages record 1: begin: ")
    assert site["error"]["message"].endswith(" (and 2 more invalid records: see the report)")
    assert [record.split(":")[0] for record in site["invalid_records"]] == [
        "GET /outages record 1",
        "GET /outages record 3",
        "GET /outages record 4",
    ]
    assert (site["fetched"], site["site_devices"], site["invalid"], site["kept"]) == (5, 1, 3, 0)
    assert not [request for request in sandbox.requests if request.method == "POST"]
    stored = json.loads(_run("reports", "show", site["id"], "--json").stdout)
    assert stored["invalid_records"] == site["invalid_records"]
    assert (stored["fetched"], stored["invalid"]) == (5, 3)
    text = _run("sync", "bad-data")
    lines = (text.stdout + text.stderr).splitlines()
    assert sum("bad-data: invalid record: GET /outages record" in line for line in lines) == 3
    assert not any("skipped" in line for line in lines)


def test_skip_invalid_still_posts_the_rest(db: str, sandbox: Sandbox) -> None:
    result = _run("sync", "bad-data", "--skip-invalid", "--json")
    (site,) = json.loads(result.stdout)["sites"]
    assert (site["fetched"], site["invalid"], site["kept"]) == (5, 3, 2)
    assert site["error"] is None or site["error"]["code"] != "invalid-upstream-data"
