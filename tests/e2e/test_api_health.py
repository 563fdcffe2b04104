"""REST API over real HTTP: identity, health, probes and the OpenAPI document."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
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


# --- credentials in the database URL, and a schema that comes (back) while the server runs

QUERY_SECRET = "hunter2-in-the-query"


def test_a_password_given_in_the_database_urls_query_is_never_shown(
    private_settings: Settings, api_token: str, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"postgresql+psycopg://outagesync@127.0.0.1:1/outagesync?password={QUERY_SECRET}"
    shown = "postgresql+psycopg://outagesync@127.0.0.1:1/outagesync?password=***"
    with (
        caplog.at_level(logging.WARNING, logger="outagesync.api"),
        serving(private_settings.model_copy(update={"database_url": url})) as server,
        client(server, api_token) as http,
    ):
        ready, listed, checked = http.get("/readyz"), http.get("/reports"), http.get("/check")
    assert (ready.status_code, listed.status_code, checked.status_code) == (503, 503, 503)
    assert ready.json()["detail"].startswith(f"cannot use the report database {shown}: ")
    assert listed.json()["detail"].startswith(f"cannot use the report database {shown}: ")
    (startup,) = [r.getMessage() for r in caplog.records if r.name == "outagesync.api"]
    assert startup.startswith(f"the report database is not ready: cannot use the report database {shown}: ")
    for text in (ready.text, listed.text, checked.text, caplog.text):
        assert QUERY_SECRET not in text


READY = {"status": "ok", "detail": None}


def test_readyz_turns_ready_once_a_sqlite_directory_missing_at_startup_can_be_made(
    private_settings: Settings, api_token: str, tmp_path: Path
) -> None:
    blocker = tmp_path / "blocked"
    blocker.write_text("a file where the database's directory should be")
    url = f"sqlite:///{blocker / 'outagesync.db'}"
    with (
        serving(private_settings.model_copy(update={"database_url": url})) as server,
        client(server, api_token) as http,
    ):
        assert http.get("/readyz").status_code == 503
        blocker.unlink()  # the "database" is there now
        ready = http.get("/readyz")
        assert (ready.status_code, ready.json()) == (200, READY)
        assert http.get("/sites").json() == {"items": [], "next_cursor": None, "next": None}


@pytest.mark.postgres
def test_readyz_turns_ready_once_a_postgresql_database_missing_at_startup_exists(
    private_settings: Settings, api_token: str, postgres_server_url: str
) -> None:
    name = f"outagesync_late_{uuid.uuid4().hex[:16]}"
    url = sa.make_url(postgres_server_url).set(database=name).render_as_string(hide_password=False)
    admin = sa.create_engine(postgres_server_url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    try:
        with (
            serving(private_settings.model_copy(update={"database_url": url})) as server,
            client(server, api_token) as http,
        ):
            not_ready = http.get("/readyz")
            assert (not_ready.status_code, not_ready.json()["status"]) == (503, "unavailable")
            assert f'database "{name}" does not exist' in not_ready.json()["detail"]
            with admin.connect() as connection:
                connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
            ready = http.get("/readyz")
            assert (ready.status_code, ready.json()) == (200, READY)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def _drop_every_table(url: str) -> None:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        tables = sa.MetaData()
        tables.reflect(engine)
        tables.drop_all(engine)
    finally:
        engine.dispose()


@pytest.fixture
def own_database_server(
    private_settings: Settings, database_url: str, api_token: str
) -> Iterator[tuple[httpx.Client, str]]:
    """A server on a database of the test's own (SQLite, PostgreSQL), its client, and the database's URL."""
    with (
        serving(private_settings.model_copy(update={"database_url": database_url})) as server,
        client(server, api_token) as http,
    ):
        yield http, database_url


def test_a_schema_dropped_while_serving_is_created_again_on_the_next_request(
    own_database_server: tuple[httpx.Client, str],
) -> None:
    http, url = own_database_server
    assert http.post("/sites", json={"site_id": "norwich-pear-tree"}).status_code == 201
    _drop_every_table(url)
    lost = http.get("/sites/norwich-pear-tree")
    shown = sa.make_url(url).render_as_string(hide_password=True)
    assert (lost.status_code, lost.json()) == (
        503,
        {
            "type": "urn:outagesync:problem:storage-unavailable",
            "title": "The report database is unavailable",
            "status": 503,
            "detail": f"the report database {shown} has lost its tables (were they dropped?): they are "
            "created again on the next request; retry",
            "instance": "/sites/norwich-pear-tree",
        },
    )
    assert http.get("/sites/norwich-pear-tree").json()["type"] == "urn:outagesync:problem:site-not-managed"
    assert http.post("/sites", json={"site_id": "norwich-pear-tree"}).status_code == 201
    assert http.get("/readyz").json() == READY


def test_check_and_readyz_migrate_again_a_schema_dropped_while_serving(
    own_database_server: tuple[httpx.Client, str],
) -> None:
    http, url = own_database_server
    assert http.get("/readyz").json() == READY
    _drop_every_table(url)
    checked = http.get("/check")
    assert (checked.status_code, checked.json()["status"], checked.json()["database"]["migrated"]) == (
        200,
        "OK",
        True,
    )
    _drop_every_table(url)
    ready = http.get("/readyz")
    assert (ready.status_code, ready.json()) == (200, READY)
    assert http.get("/sites").json() == {"items": [], "next_cursor": None, "next": None}
