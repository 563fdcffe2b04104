"""Real HTTP receivers on 127.0.0.1 for the telemetry tests: they record every request, bytes and all.

`Receiver` answers each request with `answer(captured)`; `forwarding(url)` makes it a recording proxy
in front of another server (to see the headers the client sent upstream). `pushgateway()` runs Debian's
`prometheus-pushgateway` (installed by .ci/run): skipped when missing, FAILED when CI=true.
"""

from __future__ import annotations

import gzip
import os
import shutil
import socket
import subprocess
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Self

import httpx
import pytest


@dataclass(frozen=True)
class Captured:
    method: str
    path: str
    headers: dict[str, str]  # names in lower case
    raw: bytes  # as received
    body: bytes  # decompressed (gzip, deflate) when the request said so


Answer = tuple[int, dict[str, str], bytes]


def ok_json(_request: Captured) -> Answer:
    return 200, {"content-type": "application/json"}, b'{"err": 0, "result": {"id": null, "uuid": "0"}}'


class Receiver:
    """A threaded HTTP server on a free port of 127.0.0.1 that records each request."""

    def __init__(self, answer: Callable[[Captured], Answer] = ok_json) -> None:
        self.requests: list[Captured] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else b""
                headers = {name.lower(): value for name, value in self.headers.items()}
                captured = Captured(self.command, self.path, headers, raw, _decoded(raw, headers))
                with receiver._lock:
                    receiver.requests.append(captured)
                status, answer_headers, body = answer(captured)
                self.send_response(status)
                for name, value in {**answer_headers, "content-length": str(len(body))}.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_DELETE = _handle

            def log_message(self, format: str, *args: object) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port: int = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="receiver", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def received(self) -> list[Captured]:
        with self._lock:
            return list(self.requests)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._server.shutdown()
        self._server.server_close()


def forwarding(upstream: str) -> Callable[[Captured], Answer]:
    """An answer that forwards the request (headers included) to `upstream` and relays its response."""

    def answer(request: Captured) -> Answer:
        headers = {k: v for k, v in request.headers.items() if k not in ("host", "content-length")}
        response = httpx.request(
            request.method, upstream + request.path, headers=headers, content=request.raw, timeout=30
        )
        relayed = {"content-type": response.headers.get("content-type", "application/json")}
        return response.status_code, relayed, response.content

    return answer


def _decoded(raw: bytes, headers: dict[str, str]) -> bytes:
    encoding = headers.get("content-encoding", "")
    if encoding == "gzip":
        return gzip.decompress(raw)
    if encoding == "deflate":
        return zlib.decompress(raw)
    return raw


def require_binary(name: str, package: str) -> str:
    """The path of `name`; skip when missing, fail when CI=true (.ci/run installs `package`)."""
    path = shutil.which(name)
    if path is None:
        reason = f"{name} is not installed (apt-get install {package}; .ci/run does)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason} (CI=true: it must be there)")
        pytest.skip(reason)
    return path


@contextmanager
def pushgateway() -> Iterator[str]:
    """A real Pushgateway on a free port of 127.0.0.1 (no persistence); its URL."""
    binary = require_binary("prometheus-pushgateway", "prometheus-pushgateway")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(  # noqa: S603 (a fixed binary, our arguments)
        [binary, f"--web.listen-address=127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if httpx.get(f"{url}/-/ready", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, "the Pushgateway exited"
            assert time.monotonic() < deadline, "the Pushgateway did not start"
            time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
