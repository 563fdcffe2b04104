"""The sync's guards through the real CLI and REST API, against the sandbox: an empty list never clears a
site's list unasked, and `sync --all` with nothing to sync is a configuration error."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner, Result

from outagesync.config import Settings
from outagesync.entrypoints.cli import app
from outagesync.sandbox import Dataset, Sandbox
from outagesync.sandbox.data import load_default_dataset
from tests.e2e.api_server import client, serving

REFUSED = (
    "not posting an empty list: it would clear the 3 outages of the site's last accepted list; to "
    "clear it, sync with --allow-empty (REST API: allow_empty=true), or let the site allow it: "
    "outagesync sites update kingfisher --allow-empty"
)


@pytest.fixture
def env(cli_db: str) -> None:
    """A clean environment pointing at the sandbox and a fresh SQLite file."""


@pytest.fixture
def private_api(private_settings: Settings, api_token: str) -> Iterator[httpx.Client]:
    """A REST API server of the test's own, on a fresh database."""
    with serving(private_settings) as server, client(server, api_token) as http:
        yield http


def _run(*args: str) -> Result:
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def _site(result: Result) -> Any:
    (site,) = json.loads(result.stdout)["sites"]
    return site


def _outages_cleared(sandbox: Sandbox) -> None:
    """The upstream now has no outage at all: every site's right list is []."""
    sandbox.dataset = Dataset([], load_default_dataset().sites)


def _posts(sandbox: Sandbox) -> list[str]:
    return [r.path for r in sandbox.requests if r.method == "POST"]


def test_an_empty_list_over_an_accepted_one_is_refused_unless_allowed(env: None, sandbox: Sandbox) -> None:
    assert _run("sync", "kingfisher").exit_code == 0
    _outages_cleared(sandbox)
    sandbox.clear_requests()

    refused = _run("sync", "kingfisher", "--json")
    assert refused.exit_code == 1
    site = _site(refused)
    assert (site["status"], site["error"], site["fetched"]) == (
        "failed",
        {"code": "empty-list-refused", "message": REFUSED},
        0,
    )
    assert (_posts(sandbox), len(sandbox.accepted("kingfisher") or [])) == ([], 3)

    allowed = _run("sync", "kingfisher", "--allow-empty", "--json")
    assert allowed.exit_code == 0, allowed.stderr
    assert (_site(allowed)["status"], sandbox.accepted("kingfisher")) == ("succeeded", [])
    assert _run("sync", "kingfisher").exit_code == 0  # [] over [] clears nothing


def test_the_refusal_is_shown_in_the_table(env: None, sandbox: Sandbox) -> None:
    assert _run("sync", "kingfisher").exit_code == 0
    result = _run("sync", "kingfisher", "--since", "2099-01-01")
    assert result.exit_code == 1
    assert result.stdout.splitlines()[-1].endswith("\tempty-list-refused")  # the code in the table
    assert f"kingfisher: {REFUSED}" in result.stderr.splitlines()  # the message below it (stderr: piped)


def test_a_dry_run_says_what_it_would_post(env: None) -> None:
    result = _run("sync", "kingfisher", "empty-acres", "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert result.stderr.splitlines()[-4:-1] == [  # piped: stdout has the tables, the lines go to stderr
        "kingfisher: would post 3 outages",
        "empty-acres: would post 0 outages (posting [] would clear the site's list; refused if it was "
        "not empty)",
        "2 sites: 2 dry run · would post 3 items",
    ]


def test_sync_all_with_no_enabled_managed_site_is_a_configuration_error(env: None, sandbox: Sandbox) -> None:
    assert _run("sites", "add", "kingfisher", "--disabled").exit_code == 0
    result = _run("sync", "--all")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "error: nothing to sync: --all found no enabled managed site; add one with `outagesync sites add "
        "SITE_ID` (or enable one with `outagesync sites update SITE_ID --enable`)"
    ]
    assert sandbox.requests == []


def test_the_rest_api_refuses_an_empty_list_unless_allow_empty(
    private_api: httpx.Client, sandbox: Sandbox
) -> None:
    assert private_api.post("/sites/kingfisher/sync").status_code == 201
    _outages_cleared(sandbox)
    refused = private_api.post("/sites/kingfisher/sync")
    assert refused.status_code == 409, refused.text
    problem = refused.json()
    assert (problem["type"], problem["detail"]) == ("urn:outagesync:problem:empty-list-refused", REFUSED)
    assert len(sandbox.accepted("kingfisher") or []) == 3

    allowed = private_api.post("/sites/kingfisher/sync", params={"allow_empty": "true"})
    assert allowed.status_code == 201, allowed.text
    assert sandbox.accepted("kingfisher") == []


def test_the_rest_sync_of_every_site_takes_allow_empty(private_api: httpx.Client, sandbox: Sandbox) -> None:
    assert private_api.post("/sites", json={"site_id": "kingfisher"}).status_code == 201
    assert private_api.post("/sync").json()["status"] == "succeeded"
    _outages_cleared(sandbox)
    (site,) = private_api.post("/sync").json()["sites"]
    assert site["error"] == {"code": "empty-list-refused", "message": REFUSED}
    (site,) = private_api.post("/sync", params={"allow_empty": "true"}).json()["sites"]
    assert (site["status"], sandbox.accepted("kingfisher")) == ("succeeded", [])


def test_a_managed_site_may_allow_an_empty_list(env: None, sandbox: Sandbox) -> None:
    added = _run("sites", "add", "kingfisher", "--allow-empty", "--json")
    assert added.exit_code == 0, added.stderr
    assert json.loads(added.stdout)["allow_empty"] is True
    assert _run("sync", "kingfisher").exit_code == 0
    _outages_cleared(sandbox)
    by_id = _run("sync", "kingfisher", "--json")  # synced by id: the managed site's flag holds
    assert by_id.exit_code == 0, by_id.stdout
    assert (_site(by_id)["status"], sandbox.accepted("kingfisher")) == ("succeeded", [])
    assert _run("sync", "--all").exit_code == 0

    sandbox.dataset = load_default_dataset()
    assert _run("sync", "kingfisher").exit_code == 0  # 3 outages accepted again
    updated = _run("sites", "update", "kingfisher", "--no-allow-empty", "--json")
    assert json.loads(updated.stdout)["allow_empty"] is False
    _outages_cleared(sandbox)
    refused = _run("sync", "--all", "--json")
    assert refused.exit_code == 1
    assert _site(refused)["error"] == {"code": "empty-list-refused", "message": REFUSED}


def test_the_rest_api_sets_a_sites_allow_empty(private_api: httpx.Client, sandbox: Sandbox) -> None:
    created = private_api.post("/sites", json={"site_id": "kingfisher", "allow_empty": True})
    assert (created.status_code, created.json()["allow_empty"]) == (201, True)
    assert private_api.post("/sites/kingfisher/sync").status_code == 201
    _outages_cleared(sandbox)
    synced = private_api.post("/sites/kingfisher/sync")
    assert (synced.status_code, synced.json()["status"], sandbox.accepted("kingfisher")) == (
        201,
        "succeeded",
        [],
    )
    patched = private_api.patch("/sites/kingfisher", json={"allow_empty": False})
    assert patched.json()["allow_empty"] is False
    assert private_api.patch("/sites/kingfisher", json={"allow_empty": None}).status_code == 422
