"""REST API over real HTTP: the bearer token, and `serve` refusing to expose a server that has none."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import httpx
import pytest
import typer
from typer.testing import CliRunner

from outagesync.config import Settings
from outagesync.entrypoints.cli.serve import serve_command
from tests.e2e.api_server import ApiServer, serving

PUBLIC = {("get", "/which"), ("get", "/check")}
EXAMPLE_PATH_PARAMS = {"{site_id}": "norwich-pear-tree", "{report_id}": "0" * 32}


def _operations(server: ApiServer) -> list[tuple[str, str]]:
    """Every (method, concrete path) of the OpenAPI document."""
    schema = httpx.get(server.url + "/openapi.json").json()
    found: list[tuple[str, str]] = []
    for path, operations in schema["paths"].items():
        for placeholder, value in EXAMPLE_PATH_PARAMS.items():
            path = path.replace(placeholder, value)
        found.extend((method, path) for method in operations)
    return found


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong-token", "Basic dXNlcjpwYXNz", "Bearer"],
    ids=["none", "wrong", "basic", "empty"],
)
def test_every_endpoint_but_which_and_check_needs_the_token(
    api_server: ApiServer, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    operations = _operations(api_server)
    assert len(operations) >= 17
    for method, path in operations:
        response = httpx.request(method, api_server.url + path, headers=headers)
        if (method, path) in PUBLIC:
            assert response.status_code == 200, path
            continue
        assert response.status_code == 401, (method, path, response.text)
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert (problem["status"], problem["title"]) == (401, "Unauthorized")


def test_the_right_token_is_let_in(api_server: ApiServer, api_token: str) -> None:
    response = httpx.get(api_server.url + "/sites", headers={"Authorization": f"Bearer {api_token}"})
    assert response.status_code == 200


def test_the_scheme_name_is_case_insensitive(api_server: ApiServer, api_token: str) -> None:
    response = httpx.get(api_server.url + "/sites", headers={"Authorization": f"bearer {api_token}"})
    assert response.status_code == 200


def test_a_prefix_of_the_token_is_refused(api_server: ApiServer, api_token: str) -> None:
    response = httpx.get(api_server.url + "/sites", headers={"Authorization": f"Bearer {api_token[:-1]}"})
    assert response.status_code == 401


def test_without_a_configured_token_loopback_clients_need_none(private_settings: Settings) -> None:
    with serving(private_settings.model_copy(update={"api_token": None})) as server:
        assert httpx.get(server.url + "/sites").status_code == 200


# --- `outagesync serve` (registered by cli.py; a throwaway app here)

serve_app = typer.Typer()
serve_app.command()(serve_command)


@pytest.fixture
def no_token_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith(("OUTAGESYNC_", "KRAKENFLEX_", "KRAKEN_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OUTAGESYNC_DATABASE_URL", f"sqlite:///{tmp_path}/reports.db")


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.10", "example.com"])
def test_serve_refuses_anything_but_loopback_without_a_token(no_token_env: None, host: str) -> None:
    result = CliRunner().invoke(serve_app, ["--host", host, "--port", "0"])
    assert result.exit_code == 2
    assert "refusing to listen" in result.stderr
    assert "OUTAGESYNC_API_TOKEN" in result.stderr


def test_serve_reports_a_busy_port_in_one_line_and_exits_1(no_token_env: None) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        result = CliRunner().invoke(serve_app, ["--host", "127.0.0.1", "--port", str(port)])
    assert result.exit_code == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr


def test_serve_reports_a_configuration_error_and_exits_2(
    no_token_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OUTAGESYNC_SINCE", "yesterday")
    result = CliRunner().invoke(serve_app, [])
    assert result.exit_code == 2
    assert "OUTAGESYNC_SINCE" in result.stderr
