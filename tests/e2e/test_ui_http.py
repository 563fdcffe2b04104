"""The dashboard over real HTTP, below the browser: its session cookie, login, CSRF, logout, loopback-only
without a token, the managed-site forms, htmx partial answers, error pages, and /docs offline."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from outagesync import bootstrap
from outagesync.adapters.storage import SqlStore
from outagesync.config import Settings
from outagesync.domain.models import RunReport, SiteOutage, SiteResult, SiteStatus, Trigger
from outagesync.domain.timestamps import isoformat
from outagesync.entrypoints.api import create_app
from outagesync.sandbox import Sandbox
from tests.e2e.api_server import ApiServer, make_settings, serving

HTMX = {"HX-Request": "true"}


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html) or re.search(r'data-csrf="([^"]+)"', html)
    assert found, html[:500]
    return found.group(1)


def _log_in(http: httpx.Client, token: str) -> str:
    """Log in through the form; the session's CSRF token."""
    login = http.get("/ui/login")
    answer = http.post("/ui/login", data={"csrf": _csrf(login.text), "token": token, "next": "/ui/"})
    assert (answer.status_code, answer.headers["location"]) == (303, "/ui/")
    return _csrf(http.get("/ui/").text)


@pytest.fixture
def browser(api_server: ApiServer) -> Iterator[httpx.Client]:
    """A client with no token: a browser, keeping cookies."""
    with httpx.Client(base_url=api_server.url, timeout=30) as http:
        yield http


@pytest.fixture
def user(browser: httpx.Client, api_token: str, sandbox: Sandbox) -> tuple[httpx.Client, str]:
    """A logged-in browser and its CSRF token."""
    return browser, _log_in(browser, api_token)


def test_every_page_sends_a_browser_without_a_session_to_the_login_page(browser: httpx.Client) -> None:
    for path, target in [("/ui/", "%2Fui%2F"), ("/ui/sites/kingfisher?timeline=live", None)]:
        answer = browser.get(path)
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/ui/login?next=")
        if target:
            assert answer.headers["location"] == "/ui/login?next=/ui/"
    assert browser.get("/ui").headers["location"] == "/ui/"
    part = browser.get("/ui/", params={"q": "x"}, headers={**HTMX, "HX-Target": "fleet"})
    assert (part.status_code, part.headers["HX-Redirect"]) == (204, "/ui/login?next=/ui/%3Fq%3Dx")


def test_the_session_cookie_is_signed_http_only_strict_and_for_the_dashboard_only(
    browser: httpx.Client, api_token: str
) -> None:
    login = browser.get("/ui/login")
    cookie = login.headers["set-cookie"]
    assert cookie.startswith("outagesync_ui=")
    assert {"HttpOnly", "Path=/ui", "SameSite=strict"} <= {part.strip() for part in cookie.split(";")}
    assert api_token not in cookie
    wrong = browser.post("/ui/login", data={"csrf": _csrf(login.text), "token": "guess", "next": "/ui/"})
    assert wrong.status_code == 401
    assert "That is not the API token." in wrong.text
    right = browser.post("/ui/login", data={"csrf": _csrf(login.text), "token": api_token, "next": "/ui/"})
    assert right.status_code == 303
    assert right.headers["set-cookie"] != cookie  # a new session, a new CSRF token
    assert browser.get("/ui/").status_code == 200


def test_a_forged_cookie_is_no_session(browser: httpx.Client, api_token: str) -> None:
    _log_in(browser, api_token)
    value = browser.cookies["outagesync_ui"]
    browser.cookies.clear()
    browser.cookies.set("outagesync_ui", value[:-2] + ("AA" if value[-2:] != "AA" else "BB"), path="/ui")
    assert browser.get("/ui/").status_code == 303


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/docs", "/ui/\\evil"])
def test_after_login_the_browser_never_leaves_the_dashboard(
    browser: httpx.Client, api_token: str, target: str
) -> None:
    login = browser.get("/ui/login")
    answer = browser.post("/ui/login", data={"csrf": _csrf(login.text), "token": api_token, "next": target})
    assert answer.headers["location"] == "/ui/"


def test_a_post_without_the_session_csrf_token_is_refused(user: tuple[httpx.Client, str]) -> None:
    http, csrf = user
    for extra in ({}, {"csrf": "not-the-token"}):
        answer = http.post("/ui/managed/new", data={"site_id": "csrf-site", **extra})
        assert answer.status_code == 403
        assert "did not come from this dashboard: reload the page" in answer.text
    by_header = http.post("/ui/managed/new", data={"site_id": "csrf-site"}, headers={"X-CSRF-Token": csrf})
    assert (by_header.status_code, by_header.headers["location"]) == (303, "/ui/sites/csrf-site")
    http.post("/ui/logout", data={"csrf": csrf})


def test_logging_out_clears_the_session(user: tuple[httpx.Client, str]) -> None:
    http, csrf = user
    answer = http.post("/ui/logout", data={"csrf": csrf})
    assert (answer.status_code, answer.headers["location"]) == (303, "/ui/login")
    assert 'outagesync_ui=""' in answer.headers["set-cookie"]
    assert "Max-Age=0" in answer.headers["set-cookie"]
    assert http.get("/ui/").status_code == 303


def test_managed_sites_are_added_edited_and_disabled_from_forms(
    user: tuple[httpx.Client, str], api: httpx.Client
) -> None:
    http, csrf = user
    site_id = "ui-form-site"
    bad = http.post("/ui/managed/new", data={"csrf": csrf, "site_id": site_id, "since": "yesterday"})
    assert bad.status_code == 422
    assert "invalid cutoff &#39;yesterday&#39;: give an ISO 8601 time" in bad.text
    added = http.post(
        "/ui/managed/new",
        data={"csrf": csrf, "site_id": site_id, "name": "Form Farm", "since": "2023-01-01", "enabled": "on"},
    )
    assert added.headers["location"] == f"/ui/sites/{site_id}"
    form = http.get(f"/ui/managed/{site_id}/edit").text
    assert 'value="2023-01-01T00:00:00Z"' in form
    edited = http.post(f"/ui/managed/{site_id}/edit", data={"csrf": csrf, "name": "Renamed", "enabled": "on"})
    assert edited.status_code == 303
    disabled = http.post(f"/ui/managed/{site_id}/enabled", data={"csrf": csrf, "enabled": "false"})
    assert disabled.status_code == 303
    site = api.get(f"/sites/{site_id}").json()
    assert (site["name"], site["since"], site["enabled"]) == ("Renamed", None, False)
    again = http.post("/ui/managed/new", data={"csrf": csrf, "site_id": site_id})
    assert again.status_code == 409
    assert f"{site_id}" in again.text


def test_error_pages_say_what_is_wrong_with_the_error_status(user: tuple[httpx.Client, str]) -> None:
    http, _ = user
    missing = http.get("/ui/reports/0123456789abcdef")
    assert missing.status_code == 404
    assert "no report with id &#39;0123456789abcdef&#39;" in missing.text
    bad_id = http.get("/ui/sites/bad%20id")
    assert bad_id.status_code == 422
    assert "<h1>Invalid site id</h1>" in bad_id.text
    assert http.get("/ui/managed/not-managed-site/edit").status_code == 404


def test_htmx_gets_only_the_part_of_the_page_it_asks_for(
    user: tuple[httpx.Client, str], api: httpx.Client
) -> None:
    http, _ = user
    report = api.post("/sites/norwich-pear-tree/sync").json()
    items = http.get(
        f"/ui/reports/{report['id']}", params={"q": "battery 3"}, headers={**HTMX, "HX-Target": "items"}
    )
    assert items.text.startswith('<div id="items">')
    assert "1 item matching “battery 3”; page 1 of 1." in items.text
    status = http.get(f"/ui/reports/{report['id']}", headers={**HTMX, "HX-Target": "run-status"})
    assert status.headers["HX-Refresh"] == "true"  # the run is over: the page reloads whole
    fleet = http.get("/ui/", params={"q": "norwich"}, headers={**HTMX, "HX-Target": "fleet"})
    assert fleet.text.lstrip().startswith('<div id="fleet">')
    assert 'data-site="norwich-pear-tree" data-status="succeeded"' in fleet.text


def test_a_preview_shows_what_a_sync_would_post_and_posts_nothing(
    user: tuple[httpx.Client, str], sandbox: Sandbox
) -> None:
    http, csrf = user
    confirm = http.get("/ui/sites/norwich-pear-tree/sync")
    assert "<h1>Sync norwich-pear-tree now?</h1>" in confirm.text
    preview = http.post("/ui/sites/norwich-pear-tree/preview", data={"csrf": csrf})
    assert preview.status_code == 200
    assert "A sync now would post <strong>10</strong> items (8 dropped before the cutoff" in preview.text
    assert preview.text.count("<tr><td><code>") == 10
    assert [r.method for r in sandbox.requests if r.method == "POST"] == []
    unknown = http.post("/ui/sites/no-such-site/preview", data={"csrf": csrf})
    assert "<code>unknown-site</code>" in unknown.text


def test_the_live_timeline_reads_the_upstream_and_posts_nothing(
    user: tuple[httpx.Client, str], sandbox: Sandbox
) -> None:
    http, _ = user
    live = http.get("/ui/sites/norwich-pear-tree", params={"timeline": "live"})
    assert (
        "18 outages on 8 devices:\n  10 kept, 8 dropped (began before the cutoff 2022-01-01 00:00:00Z)"
        in (live.text)
    )
    assert live.text.count('<tr class="bar">') == 18
    assert sorted({(r.method, r.path.split("/")[1]) for r in sandbox.requests}) == [
        ("GET", "outages"),
        ("GET", "site-info"),
    ]
    assert http.get("/ui/sites/norwich-pear-tree", params={"timeline": "other"}).status_code == 422


def test_pages_run_only_this_servers_scripts(user: tuple[httpx.Client, str]) -> None:
    http, _ = user
    answer = http.get("/ui/")
    assert "script-src 'self';" in answer.headers["content-security-policy"]
    assert answer.headers["cache-control"] == "no-store"
    for asset in re.findall(r'(?:src|href)="(/ui/static/[^"]+)"', answer.text):
        assert http.get(asset).status_code == 200


def test_docs_and_redoc_load_only_assets_of_this_server(browser: httpx.Client) -> None:
    for path in ("/docs", "/redoc"):
        page = browser.get(path)
        assert page.status_code == 200
        urls = re.findall(r"""(?:src|href|url)\s*[=:]\s*['"]([^'"]+)['"]""", page.text)
        assert urls
        assert all(url.startswith(("/static-offline-docs/", "/openapi.json", "/docs/")) for url in urls), urls
        assert "default-src 'self'" in page.headers["content-security-policy"]
        for url in urls:
            if url.startswith("/static-offline-docs/"):
                assert browser.get(url).status_code == 200


async def test_without_a_token_only_loopback_browsers_get_the_dashboard(private_settings: Settings) -> None:
    app = create_app(private_settings.model_copy(update={"api_token": None}))
    remote = httpx.ASGITransport(app=app, client=("192.0.2.7", 5000))
    async with httpx.AsyncClient(transport=remote, base_url="http://testserver") as http:
        refused = await http.get("/ui/")
        assert refused.status_code == 403
        assert "answers loopback clients only" in refused.text
    local = httpx.ASGITransport(app=app, client=("127.0.0.1", 5000))
    async with httpx.AsyncClient(transport=local, base_url="http://testserver") as http:
        overview = await http.get("/ui/")
        assert overview.status_code == 200
        assert "Log out" not in overview.text  # nothing to log out of
        assert (await http.get("/ui/login")).headers["location"] == "/ui/"
        csrf = _csrf(overview.text)
        added = await http.post("/ui/managed/new", data={"csrf": csrf, "site_id": "local-site"})
        assert added.status_code == 303


def test_a_sync_needs_the_services_api_key(private_settings: Settings) -> None:
    settings = private_settings.model_copy(update={"api_key": None})
    with serving(settings) as server, httpx.Client(base_url=server.url) as http:
        csrf = _log_in(http, private_settings.api_token.get_secret_value())  # type: ignore[union-attr]
        answer = http.post("/ui/sites/kingfisher/sync", data={"csrf": csrf})
    assert answer.status_code == 503
    assert "no KrakenFlex API key is configured" in answer.text


@pytest.mark.postgres
def test_with_the_queue_a_sync_from_the_dashboard_is_a_job_to_follow(
    sandbox: Sandbox, postgres_url: str, api_token: str
) -> None:
    settings = make_settings(sandbox, database_url=postgres_url, token=api_token)
    settings = settings.model_copy(update={"execution": "queue"})
    asyncio.run(bootstrap.upgrade_queue_schema(settings))
    with serving(settings) as server, httpx.Client(base_url=server.url) as http:
        csrf = _log_in(http, api_token)
        started = http.post("/ui/sites/kingfisher/sync", data={"csrf": csrf})
        assert started.status_code == 303
        job_id = int(started.headers["location"].removeprefix("/ui/jobs/"))
        again = http.post("/ui/sites/kingfisher/sync", data={"csrf": csrf})
        assert again.headers["location"] == f"/ui/jobs/{job_id}"  # still waiting: the same job
        job = http.get(f"/ui/jobs/{job_id}")
        assert f"<h1>Job {job_id}: sync of kingfisher</h1>" in job.text
        assert "Job state: <strong>todo</strong>" in job.text
        status = http.get(f"/ui/jobs/{job_id}", headers={**HTMX, "HX-Target": "job-status"})
        assert status.text.startswith('<p id="job-status" hx-get=')  # polled until a worker ran it
        assert "HX-Redirect" not in status.headers
        assert http.get("/ui/jobs/999999").status_code == 404


def test_a_large_list_is_downsampled_on_the_server(
    user: tuple[httpx.Client, str], api_settings: Settings
) -> None:
    http, _ = user
    start = datetime(2023, 1, 1, tzinfo=UTC)
    items = tuple(
        SiteOutage(
            f"device-{n % 5}",
            f"Battery {n % 5}",
            isoformat(start + timedelta(minutes=10 * n)),
            isoformat(start + timedelta(minutes=10 * n + 5)),
        )
        for n in range(5000)
    )
    site = SiteResult(uuid.uuid4().hex, "ui-big-site", SiteStatus.SUCCEEDED, start, start, start, items=items)
    with SqlStore.from_url(api_settings.database_url) as store:
        store.save_run(RunReport(uuid.uuid4().hex, Trigger.API, start, start, "d", False, (site,)))
    page = http.get("/ui/sites/ui-big-site").text
    bars = page.count('<tr class="bar">')
    assert (
        f"5000 outages on 5 devices:\n  5000 kept (posted; cutoff 2023-01-01 00:00:00Z); drawn as {bars} bars"
        in page
    )
    assert bars == 2000  # each device's share of 2,000 bars: runs of 2 or 3 neighbouring outages
    assert page.count('<td class="num">3</td></tr>') + page.count('<td class="num">2</td></tr>') == bars
