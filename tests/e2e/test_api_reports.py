"""REST API over real HTTP: stored site reports (filters, cursor pages, show, delete), both databases."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from outagesync.adapters.storage import SqlStore
from outagesync.config import Settings
from outagesync.domain.models import ErrorInfo, RunReport, SiteOutage, SiteResult, SiteStatus, Trigger
from outagesync.entrypoints.api import create_app
from tests.e2e.api_server import ApiServer, client

T0 = datetime(2024, 5, 1, 12, tzinfo=UTC)
ITEM = SiteOutage(
    "111183e7-fb90-436b-9951-63392b36bdd2",
    "Battery 1",
    "2022-01-01T00:00:00.000Z",
    "2022-09-15T19:45:10.341Z",
)


@pytest.fixture
def store(api_database_url: str) -> Iterator[SqlStore]:
    """The session API server's database, to store reports straight into."""
    with SqlStore.from_url(api_database_url) as sql_store:
        yield sql_store


def _save(store: SqlStore, site_id: str, at: datetime, status: SiteStatus = SiteStatus.SUCCEEDED) -> str:
    report_id = uuid.uuid4().hex
    failed = status is SiteStatus.FAILED
    error = (
        ErrorInfo("upstream-rejected-payload", "the upstream rejected the payload: nope") if failed else None
    )
    site = SiteResult(
        report_id,
        site_id,
        status,
        at,
        at,
        T0,
        kept=1,
        post_status=400 if failed else 200,
        items=(ITEM,),
        error=error,
    )
    store.save_run(RunReport(uuid.uuid4().hex, Trigger.API, at, at, "digest", False, (site,)))
    return report_id


def _site() -> str:
    return f"site-{uuid.uuid4().hex[:12]}"


def _problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem: dict[str, Any] = response.json()
    return problem


def test_reports_are_listed_newest_first_without_items_and_filtered(
    api: httpx.Client, store: SqlStore
) -> None:
    site = _site()
    old = _save(store, site, T0)
    failed = _save(store, site, T0 + timedelta(hours=1), SiteStatus.FAILED)
    new = _save(store, site, T0 + timedelta(hours=2))
    _save(store, _site(), T0 + timedelta(hours=3))  # another site's
    page = api.get("/reports", params={"site": site}).json()
    assert [r["id"] for r in page["items"]] == [new, failed, old]
    assert "items" not in page["items"][0]
    assert (page["next"], page["next_cursor"]) == (None, None)
    statuses = api.get("/reports", params={"site": site, "status": "failed"}).json()["items"]
    assert [(r["id"], r["error"]["code"], r["post_status"]) for r in statuses] == [
        (failed, "upstream-rejected-payload", 400)
    ]
    window = {"site": site, "from": "2024-05-01T13:00:00Z", "to": "2024-05-01T14:00:00+00:00"}
    assert [r["id"] for r in api.get("/reports", params=window).json()["items"]] == [failed]


def test_cursor_pages_cover_every_report_once_and_keep_the_filters(
    api: httpx.Client, store: SqlStore
) -> None:
    site = _site()
    ids = [_save(store, site, T0 + timedelta(minutes=n)) for n in range(5)]
    seen: list[str] = []
    url: str | None = f"/reports?site={site}&limit=2"
    while url is not None:
        page = api.get(url).json()
        seen.extend(r["id"] for r in page["items"])
        url = page["next"]
        assert url is None or f"site={site}" in url
    assert seen == list(reversed(ids))


@pytest.mark.parametrize(
    "params",
    [
        {"limit": "501"},
        {"limit": "0"},
        {"status": "great"},
        {"site": "not a site"},
        {"from": "2024-05-01"},
        {"from": "2024-05-01T00:00:00"},
        {"from": "2024-05-02T00:00:00Z", "to": "2024-05-01T00:00:00Z"},
        {"cursor": "!!!"},
        {"cursor": "bm90LWEtY3Vyc29y"},
    ],
)
def test_bad_filters_are_422_problems(api: httpx.Client, params: dict[str, str]) -> None:
    problem = _problem(api.get("/reports", params=params), 422)
    assert problem["type"] == "urn:outagesync:problem:invalid-request"


def test_a_report_is_shown_with_its_items(api: httpx.Client, store: SqlStore) -> None:
    report_id = _save(store, _site(), T0)
    report = api.get(f"/reports/{report_id}").json()
    assert report["id"] == report_id
    assert report["items"] == [{"id": ITEM.id, "name": ITEM.name, "begin": ITEM.begin, "end": ITEM.end}]
    assert (report["items_total"], report["items_truncated"], len(report["items_digest"])) == (1, False, 64)


@pytest.mark.parametrize("report_id", ["0" * 32, "no-such-report"])
def test_an_unknown_report_is_a_404_problem(api: httpx.Client, report_id: str) -> None:
    problem = _problem(api.get(f"/reports/{report_id}"), 404)
    assert problem["type"] == "urn:outagesync:problem:report-not-found"
    _problem(api.delete(f"/reports/{report_id}"), 404)


def test_deleting_by_filter_says_how_many_went(api: httpx.Client, store: SqlStore) -> None:
    site, other = _site(), _site()
    for n in range(3):
        _save(store, site, T0 + timedelta(minutes=n))
    kept = _save(store, other, T0)
    assert api.delete("/reports", params={"site": site}).json() == {"deleted": 3}
    assert api.get("/reports", params={"site": site}).json()["items"] == []
    assert api.get(f"/reports/{kept}").status_code == 200


def test_deleting_one_report(api: httpx.Client, store: SqlStore) -> None:
    report_id = _save(store, _site(), T0)
    assert api.delete(f"/reports/{report_id}").status_code == 204
    _problem(api.get(f"/reports/{report_id}"), 404)


def test_deleting_every_report_needs_all_true(private_settings: Settings, api_token: str) -> None:
    server = ApiServer(create_app(private_settings))
    try:
        with client(server, api_token) as http, SqlStore.from_url(private_settings.database_url) as store:
            _save(store, _site(), T0)
            _save(store, _site(), T0)
            assert "all=true" in _problem(http.delete("/reports"), 422)["detail"]
            assert http.delete("/reports", params={"all": "true"}).json() == {"deleted": 2}
            assert http.get("/reports").json()["items"] == []
    finally:
        server.stop()


# base64url of ["9999-12-31T23:59:59-23:59","a"]: a valid instant, but past year 9999 in UTC
OVERFLOWING_CURSOR = "WyI5OTk5LTEyLTMxVDIzOjU5OjU5LTIzOjU5IiwiYSJd"


def test_a_cursor_whose_instant_overflows_in_utc_is_a_422_problem(api: httpx.Client) -> None:
    response = api.get("/reports", params={"cursor": OVERFLOWING_CURSOR})
    assert _problem(response, 422) == {
        "type": "urn:outagesync:problem:invalid-request",
        "title": "Invalid request",
        "status": 422,
        "detail": f"invalid cursor {OVERFLOWING_CURSOR!r}: pass the next_cursor of a previous page",
        "instance": "/reports",
    }
