"""Fixtures of the REST API tests: the app over real HTTP, the sandbox as upstream, a real database.

One API server per database backend serves the whole session (tests use their own site ids, as the
style guide asks); tests that need other settings start their own with `serving(...)`.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from outagesync.config import Settings
from outagesync.sandbox import DEFAULT_API_KEY, Sandbox
from tests.conftest import fresh_postgres_database
from tests.e2e.api_server import ApiServer, client, make_settings, serving


@pytest.fixture(scope="session")
def api_token() -> str:
    return f"test-token-{uuid.uuid4().hex}"


@pytest.fixture(scope="session", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def api_database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A database for the session's API server: a SQLite file, or a PostgreSQL database made for it."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('api') / 'api.db'}"
        return
    server_url: str = request.getfixturevalue("postgres_server_url")
    with fresh_postgres_database(server_url, "outagesync_api_test") as url:
        yield url


@pytest.fixture(scope="session")
def api_settings(sandbox_server: Sandbox, api_database_url: str, api_token: str) -> Settings:
    """The sandbox as upstream (tiny backoffs), the session's database, a token."""
    # the sandbox's initial key: a test may have changed it just before (each test's `sandbox` resets it)
    return make_settings(
        sandbox_server, database_url=api_database_url, token=api_token, api_key=DEFAULT_API_KEY
    )


@pytest.fixture(scope="session")
def api_server(api_settings: Settings) -> Iterator[ApiServer]:
    with serving(api_settings) as server:
        yield server


@pytest.fixture
def api(api_server: ApiServer, api_token: str, sandbox: Sandbox) -> Iterator[httpx.Client]:
    """A client of the session's API server that sends the token; the sandbox is reset for the test."""
    with client(api_server, api_token) as http:
        yield http


@pytest.fixture
def private_settings(sandbox: Sandbox, sqlite_url: str, api_token: str) -> Settings:
    """Settings for a server of the test's own, on a fresh SQLite file."""
    return make_settings(sandbox, database_url=sqlite_url, token=api_token)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """No OUTAGESYNC_/KRAKENFLEX_ variable from outside, and a fresh working directory (no stray .env)."""
    for name in list(os.environ):
        if name.startswith(("OUTAGESYNC_", "KRAKENFLEX_", "KRAKEN_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return monkeypatch


@pytest.fixture
def cli_db(clean_env: pytest.MonkeyPatch, tmp_path: Path, sandbox: Sandbox) -> str:
    """A clean environment pointing the CLI at the sandbox, with a fresh SQLite report database; its URL."""
    url = f"sqlite:///{tmp_path}/reports.db"
    clean_env.setenv("KRAKENFLEX_API_URL", sandbox.url)
    clean_env.setenv("KRAKENFLEX_API_KEY", sandbox.api_key)
    clean_env.setenv("OUTAGESYNC_DATABASE_URL", url)
    return url
