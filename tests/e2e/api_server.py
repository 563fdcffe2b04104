"""The REST API served by uvicorn on 127.0.0.1 (ephemeral port, in a thread), for tests over real HTTP."""

from __future__ import annotations

import os
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from pydantic import SecretStr

from outagesync.config import Settings
from outagesync.entrypoints.api import create_app
from outagesync.sandbox import Sandbox


class ApiServer:
    """`app` under uvicorn in a daemon thread, on a free port of 127.0.0.1, until `stop()`."""

    def __init__(self, app: FastAPI, *, graceful_timeout_s: int = 5) -> None:
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._sock.getsockname()[1]
        config = uvicorn.Config(
            app, log_config=None, access_log=False, timeout_graceful_shutdown=graceful_timeout_s
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, name="api", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 15
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the API server did not start")
            time.sleep(0.005)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        """Shut down as on SIGTERM (graceful: in-flight requests get `graceful_timeout_s`), then wait."""
        self._server.should_exit = True
        self._thread.join(timeout=30)
        self._sock.close()


@contextmanager
def serving(settings: Settings, *, graceful_timeout_s: int = 5) -> Iterator[ApiServer]:
    server = ApiServer(create_app(settings), graceful_timeout_s=graceful_timeout_s)
    try:
        yield server
    finally:
        server.stop()


def client(server: ApiServer, token: str | None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=server.url, headers=headers, timeout=30)


def make_settings(
    sandbox: Sandbox, *, database_url: str, token: str | None, api_key: str | None = None
) -> Settings:
    """Settings for the sandbox (tiny backoffs) and `database_url`, whatever the environment and .env say."""
    with pytest.MonkeyPatch.context() as patch, tempfile.TemporaryDirectory() as empty:
        for name in list(os.environ):
            if name.startswith(("OUTAGESYNC_", "KRAKENFLEX_", "KRAKEN_")):
                patch.delenv(name)
        patch.chdir(empty)  # no .env there
        return Settings(
            api_url=sandbox.url,
            api_key=SecretStr(api_key or sandbox.api_key),
            database_url=database_url,
            api_token=SecretStr(token) if token else None,
            max_attempts=3,
            backoff_initial=0.01,
            backoff_max=0.05,
            timeout=5,
            deadline=30,
        )
