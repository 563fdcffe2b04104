"""Run the sandbox: `Sandbox`, a uvicorn server in a background thread, configurable while it runs.

Used by tests (ephemeral port), benchmarks and the `outagesync sandbox` command (which just waits on it).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterable
from types import TracebackType
from typing import Any, Self

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from outagesync.sandbox import DEFAULT_API_KEY, DEFAULT_HOST
from outagesync.sandbox.app import DROP_EXTENSION, RequestRecord, SandboxApp, SandboxState
from outagesync.sandbox.data import Dataset, load_default_dataset
from outagesync.sandbox.faults import Fault, FaultInjector

_START_TIMEOUT_S = 10.0


class _DroppableHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, plus a scope extension through which the app can drop the connection."""

    def on_message_begin(self) -> None:
        super().on_message_begin()
        # abort(), not close(): no FIN after buffered data, the client sees the connection die mid-request.
        self.scope["extensions"] = {DROP_EXTENSION: {"abort": self.transport.abort}}


class Sandbox:
    """A running sandbox server. `with Sandbox() as sandbox: httpx.get(sandbox.url + "/outages", ...)`.

    `port=0` picks a free port; `url` is the base URL (no trailing slash). Data, key and faults can be changed
    at any time; `requests` and `accepted()` show what clients did; `reset()` restores the initial state.
    `changing=True` serves a new version of the data on each GET /outages (see `changing`).
    `json_style` writes the GET /outages body compact (as the real API does), `spaced`, `indented` or `crlf`.
    """

    def __init__(
        self,
        dataset: Dataset | None = None,
        *,
        api_key: str = DEFAULT_API_KEY,
        faults: Iterable[Fault] = (),
        fault_seed: int = 0,
        host: str = DEFAULT_HOST,
        port: int = 0,
        changing: bool = False,
        json_style: str = "compact",
    ) -> None:
        if json_style != "compact":  # the same records, written another way
            dataset = (dataset or load_default_dataset()).restyled(json_style)
        self._initial = (dataset, api_key, tuple(faults), fault_seed)
        self._state = SandboxState(
            dataset or load_default_dataset(), api_key, FaultInjector(faults, fault_seed)
        )
        self._state.changing = changing
        self.host = host
        self.port = port
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None

    # --- lifecycle

    def start(self) -> Self:
        """Bind (OSError if the address is taken) and serve in a daemon thread; returns once accepting."""
        if self._server is not None:
            raise RuntimeError("this sandbox is already running")
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        # Binding here, not in uvicorn, makes a busy port an OSError in the caller and gives the real port.
        sock = socket.create_server((self.host, self.port), family=family)
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            SandboxApp(self._state),
            http=_DroppableHttpProtocol,
            lifespan="off",
            log_config=None,  # leave logging to the host process (pytest, the CLI)
            access_log=False,  # the app logs each request itself, on "outagesync.sandbox"
            server_header=False,  # the real API sends no Server header
            proxy_headers=False,  # nothing stands in front of the sandbox
            timeout_graceful_shutdown=2,
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="sandbox", daemon=True)
        thread.start()
        deadline = time.monotonic() + _START_TIMEOUT_S
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                sock.close()
                raise RuntimeError(f"the sandbox did not start on {self.host}:{self.port}")
            time.sleep(0.002)
        self._server, self._thread, self._socket = server, thread, sock
        return self

    def stop(self) -> None:
        """Stop serving and wait for the thread (idempotent)."""
        if self._server is None or self._thread is None or self._socket is None:
            return
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()
        self._server, self._thread, self._socket = None, None, None

    def wait(self) -> None:
        """Block until the server stops (the CLI's foreground loop; Ctrl-C raises KeyboardInterrupt here)."""
        while self._thread is not None and self._thread.is_alive():
            self._thread.join(timeout=0.5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The base URL, e.g. http://127.0.0.1:8181 (the upstream API's paths are at its root)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    # --- configuration

    def settings(self, **overrides: Any) -> dict[str, Any]:
        """Settings values that point a client at this sandbox (plus `overrides`), e.g. for
        `outagesync.sync([...], settings=sandbox.settings(database_url=...))`. Plain values: the sandbox
        knows nothing of outagesync's own Settings class."""
        return {"api_url": self.url, "api_key": self.api_key, **overrides}

    @property
    def api_key(self) -> str:
        return self._state.api_key

    @api_key.setter
    def api_key(self, value: str) -> None:
        self._state.api_key = value

    @property
    def dataset(self) -> Dataset:
        return self._state.dataset

    @dataset.setter
    def dataset(self, value: Dataset) -> None:
        self._state.dataset = value

    @property
    def changing(self) -> bool:
        """True: GET /outages number n serves version n of the data, the dataset plus one marker outage
        per site, and a POST is accepted if it is the right payload of any of the last 1000 versions.
        False: the plain data, for GETs and POSTs alike (the versions recorded stay until `reset()`)."""
        return self._state.changing

    @changing.setter
    def changing(self, value: bool) -> None:
        self._state.changing = value

    @property
    def faults(self) -> tuple[Fault, ...]:
        return self._state.injector.faults

    def set_faults(self, *faults: Fault, seed: int = 0) -> None:
        """Replace the faults (counters, rate windows and the RNG start afresh from `seed`)."""
        self._state.injector = FaultInjector(faults, seed)

    def clear_faults(self) -> None:
        self.set_faults()

    def reset(self) -> None:
        """Back to the constructor's dataset, key and faults, with `changing` off; forget requests, accepted
        payloads and versions."""
        dataset, api_key, faults, fault_seed = self._initial
        self._state.dataset = dataset or load_default_dataset()
        self._state.api_key = api_key
        self.set_faults(*faults, seed=fault_seed)
        self._state.changing = False
        self._state.versions.clear()
        self._state.clear_requests()
        self._state.clear_accepted()

    # --- inspection

    @property
    def requests(self) -> list[RequestRecord]:
        """The upstream requests answered so far, oldest first (a copy; /_sandbox requests are not listed)."""
        return self._state.requests()

    def clear_requests(self) -> None:
        self._state.clear_requests()

    def accepted(self, site_id: str) -> list[Any] | None:
        """The last payload accepted (200) for a site, as received; None if none was accepted yet."""
        return self._state.accepted(site_id)

    @property
    def version(self) -> int:
        """How many versions of the data were served while `changing` (the number of the last one)."""
        return self._state.versions.latest

    def accepted_versions(self, site_id: str) -> list[int]:
        """The versions of the payloads accepted for a site while `changing`, in the order accepted."""
        return self._state.accepted_versions(site_id)
