"""REST API over real HTTP: managed sites (CRUD, pages, validation, body limits), SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest


def _site_id(label: str = "site") -> str:
    return f"{label}-{uuid.uuid4().hex[:12]}"


def _problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem: dict[str, Any] = response.json()
    assert problem["status"] == status
    assert {"type", "title", "detail", "instance"} <= problem.keys()
    return problem


def test_a_site_goes_through_its_whole_life(api: httpx.Client) -> None:
    site_id = _site_id()
    created = api.post(
        "/sites", json={"site_id": site_id, "name": "Pear Tree", "since": "2023-01-01T00:00:00Z"}
    )
    assert created.status_code == 201, created.text
    assert created.headers["location"] == f"/sites/{site_id}"
    assert created.json()["since"] == "2023-01-01T00:00:00.000Z"
    assert created.json()["enabled"] is True
    assert api.get(created.headers["location"]).json() == created.json()

    replaced = api.put(f"/sites/{site_id}", json={"enabled": False})
    assert replaced.status_code == 200
    assert (replaced.json()["name"], replaced.json()["since"], replaced.json()["enabled"]) == (
        None,
        None,
        False,
    )

    patched = api.patch(f"/sites/{site_id}", json={"name": "Pear Tree 2"}).json()
    assert (patched["name"], patched["enabled"]) == ("Pear Tree 2", False)
    patched = api.patch(
        f"/sites/{site_id}", json={"enabled": True, "since": "2022-06-01T01:00:00+01:00"}
    ).json()
    assert (patched["name"], patched["enabled"], patched["since"]) == (
        "Pear Tree 2",
        True,
        "2022-06-01T00:00:00.000Z",
    )
    cleared = api.patch(f"/sites/{site_id}", json={"name": None}).json()
    assert cleared["name"] is None

    assert api.delete(f"/sites/{site_id}").status_code == 204
    problem = _problem(api.get(f"/sites/{site_id}"), 404)
    assert problem["type"] == "urn:outagesync:problem:site-not-managed"
    assert problem["instance"] == f"/sites/{site_id}"


def test_adding_a_managed_site_again_is_a_409_problem(api: httpx.Client) -> None:
    site_id = _site_id()
    assert api.post("/sites", json={"site_id": site_id}).status_code == 201
    problem = _problem(api.post("/sites", json={"site_id": site_id}), 409)
    assert site_id in problem["detail"]


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_an_unmanaged_site_is_a_404_problem(api: httpx.Client, method: str) -> None:
    body = {"enabled": True} if method in ("put", "patch") else None
    _problem(api.request(method, f"/sites/{_site_id()}", json=body), 404)


@pytest.mark.parametrize(
    "site_id", ["", "-starts-with-dash", "has space", "a" * 129, "semi;colon", "ünïcode"]
)
def test_an_invalid_site_id_in_a_body_is_a_422_problem(api: httpx.Client, site_id: str) -> None:
    problem = _problem(api.post("/sites", json={"site_id": site_id}), 422)
    assert problem["errors"][0]["loc"] == ["body", "site_id"]


@pytest.mark.parametrize(
    "path", ["/sites/has%20space", "/sites/-dash", "/sites/" + "a" * 129, "/sites/a%3Bb"]
)
def test_an_invalid_site_id_in_a_path_is_a_422_problem(api: httpx.Client, path: str) -> None:
    _problem(api.get(path), 422)


@pytest.mark.parametrize(
    "body",
    [
        {"site_id": "ok-site", "since": "2023-01-01T00:00:00"},  # no offset: ambiguous
        {"site_id": "ok-site", "since": "0001-01-01T00:00:00+01:00"},  # before year 1 in UTC
        {"site_id": "ok-site", "since": "yesterday"},
        {"site_id": "ok-site", "name": "x" * 201},
        {"site_id": "ok-site", "name": "tab\there"},
        {"site_id": "ok-site", "enabled": "maybe"},
        {"site_id": "ok-site", "colour": "red"},
        ["not", "an", "object"],
    ],
)
def test_an_invalid_site_body_is_a_422_problem(api: httpx.Client, body: Any) -> None:
    _problem(api.post("/sites", json=body), 422)
    assert api.get("/sites/ok-site").status_code == 404


def test_malformed_json_is_a_422_problem(api: httpx.Client) -> None:
    response = api.post("/sites", content=b'{"site_id": ', headers={"content-type": "application/json"})
    _problem(response, 422)


def test_an_empty_patch_is_a_422_problem(api: httpx.Client) -> None:
    site_id = _site_id()
    api.post("/sites", json={"site_id": site_id})
    assert "nothing to update" in _problem(api.patch(f"/sites/{site_id}", json={}), 422)["detail"]


def test_a_body_over_64_kib_is_a_413_problem(api: httpx.Client) -> None:
    body = {"site_id": _site_id(), "name": "x" * 70_000}
    _problem(api.post("/sites", json=body), 413)


def test_a_streamed_body_over_64_kib_is_a_413_problem_too(api: httpx.Client) -> None:
    def chunks() -> Iterator[bytes]:  # no Content-Length: chunked transfer encoding
        yield b'{"site_id": "streamed", "name": "'
        for _ in range(100):
            yield b"x" * 1024
        yield b'"}'

    response = api.post("/sites", content=chunks(), headers={"content-type": "application/json"})
    _problem(response, 413)


def test_sites_are_listed_by_id_in_pages_that_link_to_the_next(api: httpx.Client) -> None:
    prefix = _site_id("page")
    ids = [f"{prefix}-{n}" for n in range(5)]
    for site_id in reversed(ids):
        assert api.post("/sites", json={"site_id": site_id, "enabled": site_id != ids[2]}).status_code == 201
    seen: list[str] = []
    url: str | None = f"/sites?limit=2&cursor={prefix}"  # other tests' sites share the database
    while url is not None and len(seen) < len(ids):
        page = api.get(url).json()
        assert len(page["items"]) <= 2
        seen.extend(site["site_id"] for site in page["items"])
        url = page["next"]
        assert url is None or url.endswith(f"cursor={page['next_cursor']}")
    assert seen[: len(ids)] == ids
    everything = api.get("/sites", params={"limit": 500, "enabled_only": "true"}).json()["items"]
    assert [site["site_id"] for site in everything if site["site_id"].startswith(prefix)] == [
        site_id for site_id in ids if site_id != ids[2]
    ]
    for site_id in ids:
        api.delete(f"/sites/{site_id}")


@pytest.mark.parametrize("limit", ["0", "501", "-1", "ten"])
def test_a_page_size_outside_1_to_500_is_a_422_problem(api: httpx.Client, limit: str) -> None:
    _problem(api.get("/sites", params={"limit": limit}), 422)


def test_a_patch_with_a_null_enabled_flag_is_a_422_problem(api: httpx.Client) -> None:
    site_id = _site_id()
    api.post("/sites", json={"site_id": site_id, "enabled": False})
    problem = _problem(api.patch(f"/sites/{site_id}", json={"enabled": None}), 422)
    assert (problem["detail"], problem["errors"]) == (
        "body.enabled: Value error, must be true or false; leave it out to keep the site's flag",
        [
            {
                "loc": ["body", "enabled"],
                "msg": "Value error, must be true or false; leave it out to keep the site's flag",
                "type": "value_error",
            }
        ],
    )
    assert api.get(f"/sites/{site_id}").json()["enabled"] is False


@pytest.mark.parametrize(
    ("since", "stored"),
    [
        ("1900-01-01T00:00:00+01:00", "1899-12-31T23:00:00.000Z"),  # the year as written counts
        ("2999-12-31T23:59:59-23:59", "3000-01-01T23:58:59.000Z"),
    ],
)
def test_instants_from_1900_to_2999_as_written_are_taken(api: httpx.Client, since: str, stored: str) -> None:
    response = api.post("/sites", json={"site_id": _site_id(), "since": since})
    assert (response.status_code, response.json()["since"]) == (201, stored)


@pytest.mark.parametrize(
    "since", ["1899-12-31T23:59:59Z", "3000-01-01T00:00:00Z", "9999-12-31T23:59:59-23:59"]
)
def test_instants_outside_1900_to_2999_are_422_problems(api: httpx.Client, since: str) -> None:
    problem = _problem(api.post("/sites", json={"site_id": _site_id(), "since": since}), 422)
    assert problem["errors"] == [
        {
            "loc": ["body", "since"],
            "msg": "Value error, use ISO 8601 with an offset, from 1900 to 2999, e.g. 2022-01-01T00:00:00Z",
            "type": "value_error",
        }
    ]


def test_the_schema_says_which_instants_are_taken(api: httpx.Client) -> None:
    schema = api.get("/openapi.json").json()
    since = schema["paths"]["/sites/{site_id}/sync"]["post"]["parameters"]
    (query,) = [p["schema"] for p in since if p["name"] == "since"]
    assert query["anyOf"][0] == {
        "type": "string",
        "format": "date-time",
        "pattern": "^(19|2[0-9])[0-9]{2}-[0-9]{2}-[0-9]{2}[Tt ]",
    }
