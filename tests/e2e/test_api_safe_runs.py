"""REST syncs that take long, overlap or meet a rate limit: 202 Accepted, 409 site-busy, Retry-After."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from outagesync.config import Settings
from outagesync.sandbox import Latency, RateLimit, Sandbox
from tests.e2e.api_server import client, serving

SITE = "kingfisher"


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    """A sandbox of each test's own: these tests leave slow requests behind (killed clients, held
    POSTs), whose late answers must not land in another test's log."""
    with Sandbox() as own:
        yield own


def _problem(response: httpx.Response, status: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem: dict[str, Any] = response.json()
    assert problem["type"] == f"urn:outagesync:problem:{slug}"
    return problem


def _wait_for_status(http: httpx.Client, location: str, status: str) -> dict[str, Any]:
    import time

    deadline = time.monotonic() + 30
    while True:
        report: dict[str, Any] = http.get(location).json()
        if report["status"] == status:
            return report
        assert time.monotonic() < deadline, report
        time.sleep(0.05)


def test_a_sync_longer_than_the_wait_is_accepted_and_goes_on(
    private_settings: Settings, api_token: str, sandbox: Sandbox
) -> None:
    sandbox.set_faults(Latency(1_000, target=f"POST /site-outages/{SITE}"))
    settings = private_settings.model_copy(update={"sync_wait": 0.2})
    with serving(settings) as server, client(server, api_token) as http:
        response = http.post(f"/sites/{SITE}/sync")
        assert response.status_code == 202, response.text
        body = response.json()
        (site,) = body["sites"]
        assert response.headers["location"] == f"/reports/{site['id']}"
        assert "preference-applied" not in response.headers
        assert (body["status"], site["status"]) == ("running", "running")
        assert http.get(response.headers["location"]).json()["status"] == "running"
        done = _wait_for_status(http, response.headers["location"], "succeeded")
    assert (done["posted"], done["post_status"]) == (3, 200)
    assert sandbox.accepted(SITE) is not None


def test_prefer_respond_async_answers_at_once(
    private_settings: Settings, api_token: str, sandbox: Sandbox
) -> None:
    sandbox.set_faults(Latency(300, target=f"POST /site-outages/{SITE}"))
    with serving(private_settings) as server, client(server, api_token) as http:
        response = http.post(f"/sites/{SITE}/sync", headers={"Prefer": "respond-async, wait=5"})
        assert response.status_code == 202, response.text
        assert response.headers["preference-applied"] == "respond-async"
        _wait_for_status(http, response.headers["location"], "succeeded")
        http.post("/sites", json={"site_id": SITE})
        every = http.post("/sync", headers={"Prefer": "respond-async"})
        assert every.status_code == 202, every.text
        assert every.headers["location"] == f"/reports?run={every.json()['run_id']}"


def test_a_site_another_sync_holds_is_a_409_problem(
    private_settings: Settings, api_token: str, sandbox: Sandbox
) -> None:
    from outagesync.adapters.storage import SqlStore

    with Sandbox() as own, SqlStore.from_url(private_settings.database_url) as store:
        # a sandbox of its own: no late answer of another test's slow request can land in its log
        settings = private_settings.model_copy(update={"lock_wait": 0.2, "api_url": own.url})
        holder = store.open_locks()  # another sync holds the site
        assert asyncio.run(holder.try_acquire(f"site:{SITE}"))
        try:
            with serving(settings) as server, client(server, api_token) as http:
                response = http.post(f"/sites/{SITE}/sync")
        finally:
            asyncio.run(holder.close())
        problem = _problem(response, 409, "site-busy")
        assert [r.method for r in own.requests] == []
    assert problem["detail"] == f"{SITE}: another sync of this site held it for 0.2 s; try again later"
    assert problem["report"] == f"/reports/{problem['report_id']}"


def test_a_504_carries_the_upstreams_retry_after(
    private_settings: Settings, api_token: str, sandbox: Sandbox
) -> None:
    sandbox.set_faults(RateLimit(1, per_s=3600, retry_after_s=120, target=f"GET /site-info/{SITE}"))
    with serving(private_settings) as server, client(server, api_token) as http:
        assert http.get(f"/sites/{SITE}/outages").status_code == 200  # the one request the limit allows
        response = http.post(f"/sites/{SITE}/sync")
    problem = _problem(response, 504, "upstream-unavailable")
    assert response.headers["retry-after"] == "120"
    assert problem["detail"].startswith(
        "GET /site-info: rate limited (429); the upstream asks to retry after 120 s"
    )
