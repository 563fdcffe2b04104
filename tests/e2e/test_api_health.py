"""REST API over real HTTP: identity, health, probes and the OpenAPI document."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from pydantic import SecretStr

from outagesync import __version__
from outagesync.config import Settings
from tests.e2e.api_server import ApiServer, client, serving

# A PostgreSQL server that is not there (nothing listens on port 1): the database is down.
DOWN_DATABASE = "postgresql+psycopg://outagesync:hunter2@127.0.0.1:1/outagesync"


@pytest.fixture
def down_api(private_settings: Settings) -> Iterator[ApiServer]:
    settings = private_settings.model_copy(update={"database_url": DOWN_DATABASE})
    with serving(settings) as server:
        yield server


def test_which_is_plain_text_name_and_version_without_a_token(api_server: ApiServer) -> None:
    response = httpx.get(api_server.url + "/which")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text == f"outagesync {__version__}"


def test_check_is_ok_with_the_database_state_and_timings_without_a_token(api_server: ApiServer) -> None:
    response = httpx.get(api_server.url + "/check")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "OK"
    assert body["database"]["status"] == "OK"
    assert body["database"]["migrated"] is True
    assert body["elapsed_ms"] >= body["database"]["elapsed_ms"] > 0


def test_check_is_ko_503_when_the_database_is_down_and_hides_its_password(down_api: ApiServer) -> None:
    response = httpx.get(down_api.url + "/check")
    assert response.status_code == 503
    assert response.json()["status"] == "KO"
    assert response.json()["database"]["status"] == "KO"
    assert "hunter2" not in response.text


def test_readyz_is_503_with_the_reason_when_the_database_is_down(down_api: ApiServer, api_token: str) -> None:
    with client(down_api, api_token) as http:
        response = http.get("/readyz")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    assert "cannot use the report database" in response.json()["detail"]
    assert "hunter2" not in response.text


def test_a_use_case_on_a_down_database_is_a_503_problem(down_api: ApiServer, api_token: str) -> None:
    with client(down_api, api_token) as http:
        response = http.get("/reports")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "urn:outagesync:problem:storage-unavailable"
    assert "hunter2" not in response.text


def test_livez_and_readyz_answer_ok_with_the_token(api: httpx.Client) -> None:
    assert api.get("/livez").json() == {"status": "ok", "detail": None}
    ready = api.get("/readyz")
    assert (ready.status_code, ready.json()["status"]) == (200, "ok")


def test_livez_and_readyz_need_the_token(api_server: ApiServer) -> None:
    for path in ("/livez", "/readyz"):
        assert httpx.get(api_server.url + path).status_code == 401


def test_openapi_documents_every_error_as_a_problem_and_has_examples(api_server: ApiServer) -> None:
    schema = httpx.get(api_server.url + "/openapi.json").json()
    assert schema["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert "examples" in schema["components"]["schemas"]["Problem"]
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if status.startswith(("4", "5")) and path not in ("/check", "/readyz"):
                    assert list(response["content"]) == ["application/problem+json"], (method, path, status)
    for name in ("Site", "SiteIn", "Report", "ReportPage", "Run", "OutagePreview", "Check"):
        assert schema["components"]["schemas"][name].get("examples"), name


def test_docs_page_is_served(api_server: ApiServer) -> None:
    response = httpx.get(api_server.url + "/docs")
    assert response.status_code == 200
    assert "swagger" in response.text.lower()


def test_a_missing_api_key_is_a_503_problem_that_says_how_to_fix_it(
    private_settings: Settings, api_token: str
) -> None:
    settings = private_settings.model_copy(update={"api_key": None})
    with serving(settings) as server, client(server, api_token) as http:
        response = http.post("/sites/norwich-pear-tree/sync")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert "KRAKENFLEX_API_KEY" in response.json()["detail"]


def test_an_empty_token_setting_counts_as_no_token(private_settings: Settings) -> None:
    settings = private_settings.model_copy(update={"api_token": SecretStr("")})
    with serving(settings) as server:
        # no token configured: a loopback client (this test) needs none
        assert httpx.get(server.url + "/livez").status_code == 200
