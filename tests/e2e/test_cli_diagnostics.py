"""Failures name their cause, through the real CLI against real servers on 127.0.0.1: a closed port, an
unresolvable name, a self-signed HTTPS server, an HTML 404, an API-Gateway-style 403; and settings that
cannot work are configuration errors (exit 2) naming the variable, never showing the key."""

from __future__ import annotations

import datetime as dt
import gc
import ipaddress
import json
import os
import socket
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from typer.testing import CliRunner, Result

from outagesync.entrypoints.cli import app
from outagesync.sandbox import Sandbox

# A site that fails at once ends the run while its GET /outages may still be connecting; anyio then
# leaves that socket to the garbage collector (a ResourceWarning). It is collected after each test here,
# so that the warning is this module's, not a later test's, and ignored.
pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
KEY = "diagnostics-key-never-shown"


@pytest.fixture(autouse=True)
def _collect_leftover_sockets() -> Iterator[None]:
    yield
    gc.collect()


HTML = b"<html><body><h1>Not Found</h1><p>a long page</p></body></html>"


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """A clean environment, two attempts per request, short backoffs, a fresh SQLite file."""
    for name in list(os.environ):
        if name.startswith(("OUTAGESYNC_", "KRAKENFLEX_", "KRAKEN_", "SSL_CERT_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KRAKENFLEX_API_KEY", KEY)
    monkeypatch.setenv("OUTAGESYNC_DATABASE_URL", f"sqlite:///{tmp_path}/reports.db")
    monkeypatch.setenv("OUTAGESYNC_MAX_ATTEMPTS", "2")
    monkeypatch.setenv("OUTAGESYNC_BACKOFF_INITIAL", "0.01")
    monkeypatch.setenv("OUTAGESYNC_BACKOFF_MAX", "0.02")
    return monkeypatch


class _Html404(BaseHTTPRequestHandler):
    """A web server that is not the KrakenFlex API: an HTML page, 404, for every path."""

    def do_GET(self) -> None:
        self.send_response(404)
        self.send_header("content-type", "text/html; charset=utf-8")
        self.send_header("content-length", str(len(HTML)))
        self.end_headers()
        self.wfile.write(HTML)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _serve(server: ThreadingHTTPServer) -> Iterator[str]:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def html_server() -> Iterator[str]:
    """host:port of a plain-HTTP server answering an HTML 404 to everything."""
    yield from _serve(ThreadingHTTPServer(("127.0.0.1", 0), _Html404))


@pytest.fixture
def certificate(tmp_path: Path) -> Path:
    """A self-signed certificate for 127.0.0.1 (key and certificate in one PEM file)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "outagesync test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    path = tmp_path / "self-signed.pem"
    path.write_bytes(
        cert.public_bytes(serialization.Encoding.PEM)
        + key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return path


@pytest.fixture
def https_server(certificate: Path) -> Iterator[str]:
    """host:port of an HTTPS server with a self-signed certificate (an HTML 404 behind it)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Html404)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificate)
    # the handshake in each connection's thread, not in accept(): a client that never finishes its
    # handshake cannot block the server (and its shutdown)
    server.socket = context.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
    yield from _serve(server)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port  # closed again: nothing listens there


def _sync(env: pytest.MonkeyPatch, url: str, **variables: str) -> tuple[dict[str, Any], Result]:
    env.setenv("KRAKENFLEX_API_URL", url)
    for name, value in variables.items():
        env.setenv(name, value)
    result = CliRunner().invoke(app, ["sync", "--json"], catch_exceptions=False)
    assert KEY not in result.stdout + result.stderr
    (site,) = json.loads(result.stdout)["sites"]
    return site, result


def _attempts(site: dict[str, Any]) -> int:
    return int(site["calls"]["GET /site-info"]["attempts"])


def test_a_closed_port_is_named_refused(env: pytest.MonkeyPatch) -> None:
    port = _closed_port()
    site, result = _sync(env, f"http://127.0.0.1:{port}")
    assert result.exit_code == 1
    assert site["error"] == {
        "code": "upstream-unavailable",
        "message": f"GET /site-info: connection refused by 127.0.0.1:{port} (is the URL's port right?); "
        "gave up after 2 attempts",
    }


def test_an_unresolvable_name_is_named(env: pytest.MonkeyPatch) -> None:
    site, result = _sync(env, "http://nonexistent.invalid:8181/v1")
    assert result.exit_code == 1
    assert site["error"]["message"] == (
        "GET /site-info: connection failed: the name nonexistent.invalid was not resolved (DNS); "
        "gave up after 2 attempts"
    )


def test_a_self_signed_certificate_fails_at_once_and_says_how_to_trust_it(
    env: pytest.MonkeyPatch, https_server: str
) -> None:
    site, result = _sync(env, f"https://{https_server}")
    assert result.exit_code == 1
    why = "self-signed certificate" if ssl.OPENSSL_VERSION_INFO >= (3,) else "self signed certificate"
    assert site["error"] == {
        "code": "upstream-unavailable",
        "message": f"GET /site-info: TLS verification of {https_server} failed: {why}; set "
        "OUTAGESYNC_CA_BUNDLE (or SSL_CERT_FILE) to a PEM file of the CA that signed its certificate",
    }
    assert _attempts(site) == 1  # not retried


def test_the_ca_bundle_makes_the_certificate_trusted(
    env: pytest.MonkeyPatch, https_server: str, certificate: Path
) -> None:
    site, result = _sync(env, f"https://{https_server}", OUTAGESYNC_CA_BUNDLE=str(certificate))
    assert result.exit_code == 1
    assert site["error"]["message"].startswith(f"GET /site-info: 404 from https://{https_server}/site-info/")


def test_a_ca_bundle_that_cannot_be_read_is_a_configuration_error(env: pytest.MonkeyPatch) -> None:
    env.setenv("KRAKENFLEX_API_URL", "https://127.0.0.1:1")
    env.setenv("OUTAGESYNC_CA_BUNDLE", "/no/such/bundle.pem")
    result = CliRunner().invoke(app, ["sync"], catch_exceptions=False)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "error: OUTAGESYNC_CA_BUNDLE: cannot load '/no/such/bundle.pem': No such file or directory"
    ]


def test_https_to_a_plain_http_port_names_the_failed_handshake(
    env: pytest.MonkeyPatch, html_server: str
) -> None:
    site, result = _sync(env, f"https://{html_server}")
    assert result.exit_code == 1
    message = site["error"]["message"]
    prefix = f"GET /site-info: connection failed: TLS handshake with {html_server} failed: "
    assert (message.startswith(prefix), message.endswith("; gave up after 2 attempts")) == (True, True)


def test_an_html_404_says_the_url_is_probably_wrong_without_the_page(
    env: pytest.MonkeyPatch, html_server: str
) -> None:
    site, result = _sync(env, f"http://{html_server}/v1")
    assert result.exit_code == 1
    assert site["error"] == {
        "code": "upstream-rejected",
        "message": f"GET /site-info: 404 from http://{html_server}/v1/site-info/norwich-pear-tree with a "
        "non-JSON body (text/html): this is probably not the KrakenFlex API; check KRAKENFLEX_API_URL",
    }
    assert _attempts(site) == 1


def test_an_api_gateway_403_for_a_missing_route_blames_the_url_not_the_key(
    env: pytest.MonkeyPatch, sandbox: Sandbox
) -> None:
    sandbox.api_key = KEY
    site, result = _sync(env, f"{sandbox.url}/interview-tests-mock-api/v2")
    assert result.exit_code == 1
    assert site["error"] == {
        "code": "upstream-rejected",
        "message": f"GET /site-info: 403 Missing Authentication Token from {sandbox.url}/interview-tests-mock"
        "-api/v2/site-info/norwich-pear-tree: the API has no such path, so the URL is wrong; check the path "
        "of KRAKENFLEX_API_URL (the default is https://api.krakenflex.systems/interview-tests-mock-api/v1)",
    }


def test_a_wrong_key_is_still_blamed_on_the_key(env: pytest.MonkeyPatch, sandbox: Sandbox) -> None:
    site, _ = _sync(env, sandbox.url)
    assert site["error"] == {
        "code": "upstream-key-rejected",
        "message": "GET /site-info: the API key was rejected (403); check KRAKENFLEX_API_KEY",
    }


@pytest.mark.parametrize("key", [f" {KEY}", f"{KEY}\n", f"{KEY[:5]} {KEY[5:]}", f"{KEY}\x07"])
def test_a_key_with_whitespace_or_control_characters_is_a_configuration_error(
    env: pytest.MonkeyPatch, key: str
) -> None:
    env.setenv("KRAKENFLEX_API_KEY", key)
    result = CliRunner().invoke(app, ["-vv", "sync"], catch_exceptions=False)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "error: invalid configuration: KRAKENFLEX_API_KEY: contains whitespace or control "
        "characters (a stray space or newline from a copy and paste?): set the key alone (it is not shown "
        "here)"
    ]
    assert KEY[5:] not in result.stdout + result.stderr


def test_a_bad_url_names_the_variable_that_was_set(env: pytest.MonkeyPatch) -> None:
    env.setenv("KRAKENFLEX_API_URL", "ftp://x")
    result = CliRunner().invoke(app, ["sync"], catch_exceptions=False)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "error: invalid configuration: KRAKENFLEX_API_URL: must be an http(s) URL such as "
        "https://api.krakenflex.systems/interview-tests-mock-api/v1, got 'ftp://x'"
    ]
