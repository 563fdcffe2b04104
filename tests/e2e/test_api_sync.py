"""REST API over real HTTP: previews and syncs against the sandbox, reports in SQLite and PostgreSQL."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from outagesync.adapters.storage import SqlStore
from outagesync.config import Settings
from outagesync.domain.models import ErrorInfo
from outagesync.domain.reports import ReportFilter
from outagesync.entrypoints.api import create_app
from outagesync.sandbox import Dataset, Latency, Sandbox, ServerError
from outagesync.services.sync import INTERRUPTED_MESSAGE, INTERRUPTED_POSTING_MESSAGE
from tests.e2e.api_server import ApiServer, client, serving

NORWICH = "norwich-pear-tree"
DATA = Path(__file__).parent.parent / "data"


def _expected_norwich() -> list[dict[str, str]]:
    return sorted(
        json.loads((DATA / "accepted_norwich.json").read_text()), key=lambda i: (i["id"], i["begin"])
    )


def _sorted(items: list[dict[str, str]]) -> list[dict[str, str]]:
    return sorted(items, key=lambda i: (i["id"], i["begin"]))


def _problem(response: httpx.Response, status: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem: dict[str, Any] = response.json()
    assert problem["type"] == f"urn:outagesync:problem:{slug}"
    return problem


def _posts(sandbox: Sandbox) -> list[str]:
    return [r.path for r in sandbox.requests if r.method == "POST"]


@pytest.fixture
def private_api(private_settings: Settings, api_token: str) -> Iterator[httpx.Client]:
    """A server of the test's own, on a fresh database (for managed sites, which every sync-all would see)."""
    with serving(private_settings) as server, client(server, api_token) as http:
        yield http


# --- GET /sites/{site_id}/outages


def test_the_preview_is_what_a_sync_would_post_and_posts_nothing(api: httpx.Client, sandbox: Sandbox) -> None:
    newest_before = api.get("/reports", params={"limit": 1}).json()["items"]
    response = api.get(f"/sites/{NORWICH}/outages")
    assert response.status_code == 200, response.text
    preview = response.json()
    assert _sorted(preview["items"]) == _expected_norwich()
    assert (preview["kept"], preview["items_truncated"], preview["since"]) == (
        10,
        False,
        "2022-01-01T00:00:00.000Z",
    )
    assert _posts(sandbox) == []
    assert api.get("/reports", params={"limit": 1}).json()["items"] == newest_before  # nothing stored


def test_the_preview_takes_a_cutoff_and_a_limit(api: httpx.Client) -> None:
    later = api.get(f"/sites/{NORWICH}/outages", params={"since": "2022-06-01T00:00:00+00:00"}).json()
    assert 0 < later["kept"] < 10
    assert all(item["begin"] >= "2022-06-01" for item in later["items"])
    short = api.get(f"/sites/{NORWICH}/outages", params={"limit": 2}).json()
    assert (len(short["items"]), short["kept"], short["items_truncated"]) == (2, 10, True)


def test_a_naive_cutoff_is_a_422_problem(api: httpx.Client) -> None:
    _problem(
        api.get(f"/sites/{NORWICH}/outages", params={"since": "2022-06-01T00:00:00"}), 422, "invalid-request"
    )


def test_the_preview_of_an_unknown_site_is_a_404_problem(api: httpx.Client) -> None:
    problem = _problem(api.get("/sites/no-such-site/outages"), 404, "unknown-site")
    assert "no-such-site" in problem["detail"]
    assert "report_id" not in problem  # a preview stores nothing


def test_the_preview_with_the_upstream_down_is_a_504_problem(api: httpx.Client, sandbox: Sandbox) -> None:
    sandbox.set_faults(ServerError(target="GET /outages"))
    _problem(api.get(f"/sites/{NORWICH}/outages"), 504, "upstream-unavailable")


def test_the_preview_uses_a_managed_sites_own_cutoff_unless_given_one(private_api: httpx.Client) -> None:
    private_api.post("/sites", json={"site_id": NORWICH, "since": "2022-06-01T00:00:00Z"})
    own = private_api.get(f"/sites/{NORWICH}/outages").json()
    assert (own["since"], own["kept"] < 10) == ("2022-06-01T00:00:00.000Z", True)
    given = private_api.get(f"/sites/{NORWICH}/outages", params={"since": "2022-01-01T00:00:00Z"}).json()
    assert given["kept"] == 10


# --- POST /sites/{site_id}/sync


def test_a_sync_is_201_with_its_report_which_is_stored(api: httpx.Client, sandbox: Sandbox) -> None:
    response = api.post(f"/sites/{NORWICH}/sync")
    assert response.status_code == 201, response.text
    report = response.json()
    assert response.headers["location"] == f"/reports/{report['id']}"
    assert (report["status"], report["trigger"], report["posted"], report["post_status"]) == (
        "succeeded",
        "api",
        10,
        200,
    )
    assert _sorted(report["items"]) == _expected_norwich()
    assert _sorted(sandbox.accepted(NORWICH) or []) == _expected_norwich()
    assert api.get(response.headers["location"]).json() == report


def test_a_dry_run_sync_posts_nothing_and_is_stored_as_such(api: httpx.Client, sandbox: Sandbox) -> None:
    response = api.post(f"/sites/{NORWICH}/sync", params={"dry_run": "true"})
    assert response.status_code == 201
    assert (response.json()["status"], response.json()["posted"], len(response.json()["items"])) == (
        "dry_run",
        0,
        10,
    )
    assert _posts(sandbox) == []
    assert api.get(response.headers["location"]).json()["status"] == "dry_run"


def test_a_rejected_payload_is_a_502_problem_with_the_upstreams_message_and_the_stored_report(
    api: httpx.Client,
) -> None:
    # The sandbox accepts only the list for the 2022-01-01 cutoff: a later cutoff posts a subset, refused.
    response = api.post(f"/sites/{NORWICH}/sync", params={"since": "2022-06-01T00:00:00Z"})
    problem = _problem(response, 502, "upstream-rejected-payload")
    assert problem["detail"].startswith("the upstream rejected the payload: ")
    assert response.headers["location"] == problem["report"] == f"/reports/{problem['report_id']}"
    stored = api.get(response.headers["location"]).json()
    assert (stored["status"], stored["post_status"], stored["error"]["code"]) == (
        "failed",
        400,
        "upstream-rejected-payload",
    )
    assert stored["upstream_message"]
    assert stored["upstream_message"] in problem["detail"]


def test_an_upstream_down_after_every_retry_is_a_504_problem_with_the_stored_report(
    api: httpx.Client, sandbox: Sandbox
) -> None:
    sandbox.set_faults(ServerError(target="POST /site-outages"))
    response = api.post(f"/sites/{NORWICH}/sync")
    problem = _problem(response, 504, "upstream-unavailable")
    stored = api.get(response.headers["location"]).json()
    assert (stored["id"], stored["status"]) == (problem["report_id"], "failed")
    assert stored["calls"]["POST /site-outages"] == {"attempts": 3, "retries": 2}


def test_a_sync_of_an_unknown_site_is_a_404_problem_with_the_stored_report(api: httpx.Client) -> None:
    response = api.post("/sites/no-such-site/sync")
    problem = _problem(response, 404, "unknown-site")
    assert api.get(response.headers["location"]).json()["error"]["code"] == "unknown-site"
    assert problem["site_id"] == "no-such-site"


def test_a_rejected_api_key_is_a_502_problem(api: httpx.Client, sandbox: Sandbox) -> None:
    sandbox.api_key = "another-key"
    _problem(api.post(f"/sites/{NORWICH}/sync"), 502, "upstream-key-rejected")


def test_invalid_upstream_data_is_a_502_problem_unless_skipped(api: httpx.Client, sandbox: Sandbox) -> None:
    outages = [
        {"id": "k1", "begin": "2022-03-01T00:00:00.000Z", "end": "2022-03-02T00:00:00.000Z"},
        {"id": "k1", "begin": "2022-03-01T00:00:00.000Z"},
    ]
    sandbox.dataset = Dataset(
        outages, {"s": {"id": "s", "name": "S", "devices": [{"id": "k1", "name": "K"}]}}
    )
    problem = _problem(api.get("/sites/s/outages"), 502, "invalid-upstream-data")
    assert problem["detail"] == "GET /outages record 1: end: missing required field"
    skipped = api.get("/sites/s/outages", params={"skip_invalid": "true"}).json()
    assert (skipped["kept"], skipped["invalid"]) == (1, 1)
    assert skipped["invalid_records"] == ["GET /outages record 1: end: missing required field"]
    failed = api.post("/sites/s/sync")
    _problem(failed, 502, "invalid-upstream-data")
    assert _posts(sandbox) == []  # nothing is posted from data that failed validation
    assert api.get(failed.headers["location"]).json()["error"]["code"] == "invalid-upstream-data"


# --- POST /sync


def test_sync_runs_every_enabled_managed_site_with_one_get_outages(
    private_api: httpx.Client, sandbox: Sandbox
) -> None:
    for body in (
        {"site_id": NORWICH},
        {"site_id": "kingfisher"},
        {"site_id": "switched-off", "enabled": False},
    ):
        assert private_api.post("/sites", json=body).status_code == 201
    response = private_api.post("/sync")
    assert response.status_code == 200, response.text
    run = response.json()
    assert (run["status"], run["trigger"], run["report_stored"]) == ("succeeded", "api", True)
    assert sorted(site["site_id"] for site in run["sites"]) == ["kingfisher", NORWICH]
    assert [r.path for r in sandbox.requests].count("/outages") == 1
    listed = private_api.get("/reports", params={"run": run["run_id"]}).json()["items"]
    assert sorted(r["id"] for r in listed) == sorted(site["id"] for site in run["sites"])


def test_sync_is_200_and_partial_when_one_site_fails(private_api: httpx.Client) -> None:
    private_api.post("/sites", json={"site_id": NORWICH})
    private_api.post("/sites", json={"site_id": "no-such-site"})
    run = private_api.post("/sync").json()
    assert run["status"] == "partial"
    errors = {site["site_id"]: site["error"] for site in run["sites"]}
    assert errors[NORWICH] is None
    assert errors["no-such-site"]["code"] == "unknown-site"


def test_sync_with_no_managed_site_is_an_empty_run(private_api: httpx.Client, sandbox: Sandbox) -> None:
    run = private_api.post("/sync").json()
    assert (run["sites"], run["report_stored"]) == ([], True)
    assert sandbox.requests == []


# --- shutdown


def test_a_sync_in_flight_at_shutdown_is_stored_as_interrupted(
    private_settings: Settings, api_token: str
) -> None:
    # A sandbox of its own: its slow POST must not end up in the shared sandbox's log of a later test.
    with Sandbox(faults=[Latency(5_000, target="POST /site-outages")]) as slow:
        settings = private_settings.model_copy(update={"api_url": slow.url})
        server = ApiServer(create_app(settings), graceful_timeout_s=1)
        outcome: list[object] = []

        def call() -> None:
            try:
                with client(server, api_token) as http:
                    outcome.append(http.post(f"/sites/{NORWICH}/sync").status_code)
            except httpx.HTTPError as exc:
                outcome.append(exc)

        caller = threading.Thread(target=call)
        caller.start()
        deadline = time.monotonic() + 10
        while not any(r.path.startswith("/site-info") for r in slow.requests):  # the POST is next
            assert time.monotonic() < deadline
            time.sleep(0.01)
        time.sleep(0.1)  # the POST (held 5 s by the sandbox) is on its way
        server.stop()  # as on SIGTERM: 1 s for in-flight requests, then they are cancelled
        caller.join(timeout=10)
        assert not caller.is_alive()
    assert len(outcome) == 1
    assert outcome[0] != 201
    with SqlStore.from_url(settings.database_url) as store:
        (report,) = store.list_reports(ReportFilter(site_id=NORWICH), limit=10).reports
    assert report.site.status.value == "interrupted"
    assert report.site.error is not None
    # whether its POST had left yet depends on how far it got in the second before the stop: both are true
    assert report.site.error in (
        ErrorInfo("interrupted", INTERRUPTED_POSTING_MESSAGE),
        ErrorInfo("interrupted", INTERRUPTED_MESSAGE),
    )


@pytest.mark.postgres
def test_a_sync_that_cannot_be_recorded_is_a_503_problem_and_posts_nothing(
    private_settings: Settings, api_token: str, postgres_url: str, sandbox: Sandbox
) -> None:
    import sqlalchemy as sa

    database = sa.make_url(postgres_url).database
    admin = sa.create_engine(
        sa.make_url(postgres_url).set(database="postgres"),
        isolation_level="AUTOCOMMIT",
        poolclass=sa.pool.NullPool,
    )
    with serving(private_settings.model_copy(update={"database_url": postgres_url})) as server:
        with admin.connect() as connection:  # the database stops taking connections while the service runs
            connection.exec_driver_sql(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS false')
            terminate = "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name"
            connection.execute(sa.text(terminate), {"name": database})
        try:
            with client(server, api_token) as http:
                # with a cutoff given, the sync needs no managed-site lookup: it cannot record its run
                response = http.post(f"/sites/{NORWICH}/sync", params={"since": "2022-01-01T00:00:00Z"})
        finally:
            with admin.connect() as connection:
                connection.exec_driver_sql(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true')
            admin.dispose()
    problem = _problem(response, 503, "storage-unavailable")
    assert problem["detail"].startswith("cannot use the report database postgresql+psycopg://")
    assert sandbox.accepted(NORWICH) is None
    assert [r.method for r in sandbox.requests if r.method == "POST"] == []
