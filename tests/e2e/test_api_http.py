"""REST API over real HTTP: methods (405 with the path's every method in `Allow`, HEAD wherever GET) and
paths (no redirect of a trailing slash built from the client's Host header)."""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.api_server import ApiServer

SITE = "/sites/norwich-pear-tree"
REPORT = "/reports/" + "0" * 32


def _method_not_allowed(path: str) -> dict[str, object]:
    return {
        "type": "about:blank",
        "title": "Method Not Allowed",
        "status": 405,
        "detail": "Method Not Allowed",
        "instance": path,
    }


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("POST", SITE, "GET, HEAD, PUT, PATCH, DELETE"),
        ("OPTIONS", SITE, "GET, HEAD, PUT, PATCH, DELETE"),
        ("PUT", "/sites", "GET, HEAD, POST"),
        ("DELETE", "/sites", "GET, HEAD, POST"),
        ("GET", "/sync", "POST"),
        ("GET", SITE + "/sync", "POST"),
        ("POST", SITE + "/outages", "GET, HEAD"),
        ("PATCH", "/reports", "GET, HEAD, DELETE"),
        ("POST", REPORT, "GET, HEAD, DELETE"),
        ("POST", "/which", "GET, HEAD"),
    ],
)
def test_a_405_lists_every_method_of_the_path(
    api: httpx.Client, method: str, path: str, allowed: str
) -> None:
    response = api.request(method, path)
    assert response.status_code == 405
    assert response.headers["allow"] == allowed
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json() == _method_not_allowed(path)


def test_allow_names_the_methods_the_schema_documents_for_each_path(
    api: httpx.Client, api_server: ApiServer
) -> None:
    """Schemathesis' ST205 (allow_header_conformance), over every path: OPTIONS is never documented."""
    schema = httpx.get(api_server.url + "/openapi.json").json()
    for template, operations in schema["paths"].items():
        path = template.replace("{site_id}", "norwich-pear-tree").replace("{report_id}", "0" * 32)
        allowed = {method.strip().lower() for method in api.options(path).headers["allow"].split(",")}
        assert allowed - {"head"} == set(operations), template
        assert ("head" in allowed) == ("get" in operations), template


@pytest.mark.parametrize(
    "path", ["/which", "/check", "/livez", "/readyz", "/sites", SITE, "/reports", REPORT, "/openapi.json"]
)
def test_head_answers_as_get_without_the_body(api: httpx.Client, path: str) -> None:
    got, head = api.get(path), api.head(path)
    assert head.status_code == got.status_code
    assert head.content == b""
    if path == "/check":  # the timings differ, so the length may too
        del got.headers["content-length"], head.headers["content-length"]
    assert {**head.headers, "date": ""} == {**got.headers, "date": ""}


def test_head_needs_the_token_like_get(api_server: ApiServer) -> None:
    response = httpx.head(api_server.url + "/sites")
    assert (response.status_code, response.content) == (401, b"")
    assert response.headers["www-authenticate"] == 'Bearer realm="outagesync"'


def test_head_of_a_path_without_get_is_its_405(api: httpx.Client) -> None:
    response = api.head("/sync")
    assert (response.status_code, response.headers["allow"], response.content) == (405, "POST", b"")


@pytest.mark.parametrize("path", ["/sites/", "/reports/", "/which/", SITE + "/"])
def test_a_trailing_slash_is_a_404_problem_not_a_redirect_to_the_host_header(
    api: httpx.Client, path: str
) -> None:
    response = api.get(path, headers={"Host": "evil.example"})
    assert response.status_code == 404
    assert "location" not in response.headers
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json() == {
        "type": "about:blank",
        "title": "Not Found",
        "status": 404,
        "detail": "Not Found",
        "instance": path,
    }
