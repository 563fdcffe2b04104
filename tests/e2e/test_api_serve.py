"""`outagesync serve` hardening: a weak API token is refused, the access log hides secret query values,
and X-Forwarded-For counts only from OUTAGESYNC_TRUSTED_PROXIES. Real `serve` processes where it matters."""

from __future__ import annotations

import logging
import os
import re
import selectors
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import typer
from pydantic import SecretStr
from typer.testing import CliRunner

from outagesync.config import load_settings
from outagesync.entrypoints.api.access_log import RedactSecrets, redact_query
from outagesync.entrypoints.cli.serve import serve_command
from outagesync.errors import ConfigError

serve_app = typer.Typer()
serve_app.command()(serve_command)
MAKE_ONE = "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`"


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, str]:
    """The environment without our variables (and no .env): a SQLite file of the test's own."""
    for name in list(os.environ):
        if name.startswith(("OUTAGESYNC_", "KRAKENFLEX_", "KRAKEN_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OUTAGESYNC_DATABASE_URL", f"sqlite:///{tmp_path / 'reports.db'}")
    return dict(os.environ)


# --- the API token


@pytest.mark.parametrize(
    ("token", "problem"),
    [
        (" " * 20, "is only whitespace: unset it, or set a token of 16 or more characters"),
        ("\t\n", "is only whitespace: unset it, or set a token of 16 or more characters"),
        ("fifteen-chars!!", f"is shorter than 16 characters: make one with {MAKE_ONE}"),
        (
            " padded-token-of-20c",
            "starts or ends with whitespace, which an Authorization header cannot carry",
        ),
    ],
    ids=["spaces", "tab-newline", "short", "padded"],
)
def test_serve_refuses_a_weak_token_without_showing_it(
    clean_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, token: str, problem: str
) -> None:
    monkeypatch.setenv("OUTAGESYNC_API_TOKEN", token)
    with socket.create_server(("127.0.0.1", 0)) as taken:  # were the token taken: exit 1, not a server
        result = CliRunner().invoke(serve_app, ["--port", str(taken.getsockname()[1])])
    assert result.exit_code == 2
    assert result.stderr == f"error: invalid configuration: OUTAGESYNC_API_TOKEN: {problem}\n"
    assert token.strip() == "" or token.strip() not in result.stderr


@pytest.mark.parametrize("token", [None, ""], ids=["unset", "empty"])
def test_an_unset_or_empty_token_is_no_token(clean_env: dict[str, str], token: str | None) -> None:
    settings = load_settings(api_token=SecretStr(token) if token is not None else None)
    assert settings.api_token is None or settings.api_token.get_secret_value() == ""


def test_a_token_of_16_characters_is_taken() -> None:
    assert load_settings(api_token="0123456789abcdef").api_token == SecretStr("0123456789abcdef")


@pytest.mark.parametrize("value", ["10.0.0.1, bogus", "10.0.0.0/33", "*"])
def test_trusted_proxies_must_be_addresses_or_networks(clean_env: dict[str, str], value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(trusted_proxies=value)
    assert str(caught.value).startswith("invalid configuration: OUTAGESYNC_TRUSTED_PROXIES: ")


def test_trusted_proxies_are_normalised(clean_env: dict[str, str]) -> None:
    assert (
        load_settings(trusted_proxies=" 10.0.0.1 ,, 192.0.2.0/24 ").trusted_proxies == "10.0.0.1,192.0.2.0/24"
    )
    assert load_settings(trusted_proxies=" , ").trusted_proxies is None


# --- the access log


def _access_record(target: str) -> logging.LogRecord:
    """A record as uvicorn's access logger makes it: (client, method, path?query, HTTP version, status)."""
    return logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:50000", "GET", target, "1.1", 200),
        None,
    )


@pytest.mark.parametrize(
    ("target", "logged"),
    [
        ("/reports?limit=2", "/reports?limit=2"),
        ("/which?token=s3cret&limit=2", "/which?token=***&limit=2"),
        (
            "/x?API_KEY=a&Password=b&client_secret=c&access_token=d&keys",
            "/x?API_KEY=***&Password=***&client_secret=***&access_token=***&keys",
        ),
        ("/x?my%5Ftoken=a&site=b%3Dtoken", "/x?my%5Ftoken=***&site=b%3Dtoken"),
        ("/x?site=token", "/x?site=token"),
        ("/sites/token", "/sites/token"),
    ],
)
def test_the_access_log_filter_hides_secret_query_values(target: str, logged: str) -> None:
    record = _access_record(target)
    assert RedactSecrets().filter(record) is True
    assert record.getMessage() == f'127.0.0.1:50000 - "GET {logged} HTTP/1.1" 200'
    assert redact_query(target) == logged


@dataclass
class Served:
    port: int
    process: subprocess.Popen[str]
    output: list[str] = field(default_factory=list)


@contextmanager
def serving_process(env: dict[str, str]) -> Iterator[Served]:
    """`outagesync serve --port 0` as a real process; its stdout and stderr lines, once it has stopped."""
    process = subprocess.Popen(
        [sys.executable, "-m", "outagesync", "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    try:
        served = Served(_announced_port(process), process)
        yield served
    finally:
        process.send_signal(signal.SIGINT)
        rest, _ = process.communicate(timeout=30)
    served.output = rest.splitlines()


def _announced_port(process: subprocess.Popen[str]) -> int:
    """The port of the "outagesync API on http://127.0.0.1:<port>" line (a safety net of 30 s)."""
    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + 30
        while selector.select(timeout=max(0.0, deadline - time.monotonic())):
            line = process.stdout.readline()
            found = re.match(r"outagesync API on http://127\.0\.0\.1:(\d+) ", line)
            if found:
                return int(found.group(1))
            if not line:
                break
    raise AssertionError("outagesync serve did not start")


def _request(port: int, target: str, *headers: str) -> tuple[int, int]:
    """One HTTP/1.1 GET over a socket of ours: (our client port, the status)."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        lines = [f"GET {target} HTTP/1.1", "Host: 127.0.0.1", "Connection: close", *headers, "", ""]
        sock.sendall("\r\n".join(lines).encode())
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
        return sock.getsockname()[1], int(reply.split(b" ", 2)[1])


def test_serve_never_writes_a_secret_query_value_to_the_access_log(clean_env: dict[str, str]) -> None:
    with serving_process(clean_env) as served:
        client_port, status = _request(served.port, "/which?token=s3cret-t0ken&api_key=k3y&limit=2")
    assert status == 200
    assert (
        f'INFO:     127.0.0.1:{client_port} - "GET /which?token=***&api_key=***&limit=2 HTTP/1.1" 200 OK'
        in (served.output)
    )
    assert not any("s3cret-t0ken" in line or "k3y" in line for line in served.output)


FORWARDED = "X-Forwarded-For: 203.0.113.9"


def test_by_default_a_loopback_client_stays_loopback_whatever_x_forwarded_for_says(
    clean_env: dict[str, str],
) -> None:
    with serving_process(clean_env) as served:  # no token: loopback clients only
        client_port, status = _request(served.port, "/sites", FORWARDED)
    assert status == 200
    assert f'INFO:     127.0.0.1:{client_port} - "GET /sites HTTP/1.1" 200 OK' in served.output


def test_x_forwarded_for_from_an_untrusted_address_is_ignored(clean_env: dict[str, str]) -> None:
    with serving_process({**clean_env, "OUTAGESYNC_TRUSTED_PROXIES": "192.0.2.1, 10.0.0.0/8"}) as served:
        client_port, status = _request(served.port, "/sites", FORWARDED)
    assert status == 200
    assert f'INFO:     127.0.0.1:{client_port} - "GET /sites HTTP/1.1" 200 OK' in served.output


def test_x_forwarded_for_from_a_trusted_proxy_names_the_client(clean_env: dict[str, str]) -> None:
    with serving_process({**clean_env, "OUTAGESYNC_TRUSTED_PROXIES": "127.0.0.1"}) as served:
        _, status = _request(served.port, "/sites", FORWARDED)
    assert status == 401  # 203.0.113.9 is not loopback, and this server has no token
    assert 'INFO:     203.0.113.9:0 - "GET /sites HTTP/1.1" 401 Unauthorized' in served.output
