"""The sandbox as a raw ASGI app: the three upstream endpoints, key check, faults, the /_sandbox read-back.

Statuses, bodies and headers follow the API spec; what is the sandbox's own (/_sandbox, `detail`) says so.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import asdict, dataclass, replace
from typing import Any

import msgspec

from outagesync.sandbox.data import Dataset, to_json_bytes
from outagesync.sandbox.faults import Decision, FaultInjector
from outagesync.sandbox.payload import check_payload
from outagesync.sandbox.versions import Versions

LOGGER = logging.getLogger("outagesync.sandbox")
# Set by server.py in each request's scope: {"abort": <close the socket now>}. ASGI itself cannot drop.
DROP_EXTENSION = "outagesync.sandbox.drop"
TOO_MUCH_TOO_SOON = "too-much-too-soon"  # the real API's site id that always answers 429
# The sandbox's own header, only while the data changes: the version served, accepted or read back.
VERSION_HEADER = b"x-sandbox-version"

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    body: bytes
    headers: tuple[tuple[bytes, bytes], ...] = ()


# The recorded real answers (see docs/sandbox.md); 403 carries API Gateway's error type and CORS headers.
FORBIDDEN = Response(
    403,
    b'{"message":"Forbidden"}',
    (
        (b"x-amzn-errortype", b"ForbiddenException"),
        (
            b"access-control-allow-headers",
            b"Content-Type,X-Amz-Date,Authorization,X-Api-Key,X-Amz-Security-Token",
        ),
        (b"access-control-allow-methods", b"GET,POST,PUT,DELETE,OPTIONS"),
    ),
)
# API Gateway's answer to a path or method it has no route for (real behaviour, not in our spec).
NO_ROUTE = Response(
    403,
    b'{"message":"Missing Authentication Token"}',
    ((b"x-amzn-errortype", b"MissingAuthenticationTokenException"),),
)
SITE_NOT_FOUND = Response(404, b'{"message":"Site not found"}')
LIMIT_EXCEEDED = Response(429, b'{"message":"You have exceeded your limit for your API key"}')
ACCEPTED = Response(200, b"{}")  # the real success body is undocumented: clients must not read it
NOTHING_ACCEPTED = Response(404, b'{"message":"No outages accepted for this site yet (sandbox)"}')


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """One request the sandbox answered (never its headers, so never the key)."""

    method: str
    path: str
    status: int | None  # None: the connection was dropped on purpose (a fault)
    duration_ms: float
    fault: str | None = None  # the fault that shaped the answer, if any


class SandboxState:
    """What the app serves and records. Set from any thread; each request reads it once, on the server's."""

    def __init__(self, dataset: Dataset, api_key: str, injector: FaultInjector) -> None:
        self.dataset = dataset
        self.api_key = api_key
        self.injector = injector
        self.changing = False  # True: each GET /outages serves a new version (versions.py)
        self.versions = Versions()
        self._lock = threading.Lock()
        self._requests: list[RequestRecord] = []
        self._accepted: dict[str, tuple[list[Any] | bytes, int | None]] = {}
        self._accepted_versions: dict[str, list[int]] = {}

    def record(self, request: RequestRecord) -> None:
        with self._lock:
            self._requests.append(request)

    def requests(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._requests)

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    def accept(self, site_id: str, items: list[Any] | bytes, version: int | None = None) -> None:
        with self._lock:
            self._accepted[site_id] = items, version
            if version is not None:
                self._accepted_versions.setdefault(site_id, []).append(version)

    def accepted(self, site_id: str) -> list[Any] | None:
        """The items of the site's last accepted POST, as the JSON values that were posted."""
        with self._lock:
            items, _ = self._accepted.get(site_id, (None, None))
        if isinstance(items, bytes):  # the fast check keeps a right body as it came
            return list(msgspec.json.decode(items))
        return None if items is None else msgspec.to_builtins(items)  # or as structs

    def accepted_version(self, site_id: str) -> int | None:
        """The version of the last accepted payload; None if none, or if the data was not changing."""
        with self._lock:
            return self._accepted.get(site_id, (None, None))[1]

    def accepted_versions(self, site_id: str) -> list[int]:
        with self._lock:
            return list(self._accepted_versions.get(site_id, []))

    def clear_accepted(self) -> None:
        with self._lock:
            self._accepted.clear()
            self._accepted_versions.clear()


def _route(method: str, path: str) -> tuple[str, str] | None:
    """(endpoint, site id or "") for the paths the sandbox serves, None for anything else."""
    match method, path.split("/"):
        case "GET", ["", "outages"]:
            return "outages", ""
        case "GET", ["", "site-info", site_id] if site_id:
            return "site-info", site_id
        case "POST", ["", "site-outages", site_id] if site_id:
            return "site-outages", site_id
        case "GET", ["", "_sandbox", "site-outages", site_id] if site_id:
            return "_sandbox/site-outages", site_id
        case "GET", ["", "_sandbox", "requests"]:
            return "_sandbox/requests", ""
    return None


class SandboxApp:
    """The ASGI callable. Order per request: route, key, faults (upstream endpoints only), then the answer."""

    def __init__(self, state: SandboxState) -> None:
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # the server runs without lifespan; websockets are not served
            return
        started = time.perf_counter()
        method, path = scope["method"], scope["path"]
        response, fault = await self._answer(scope, receive, method, path)
        if response is None:
            await _drop_connection(scope, receive)
        else:
            await _send(send, response)
        status = None if response is None else response.status
        duration_ms = (time.perf_counter() - started) * 1000
        if not path.startswith("/_sandbox/"):  # the log is of what a client under test did
            self.state.record(RequestRecord(method, path, status, round(duration_ms, 3), fault))
        note = f" [{fault}]" if fault else ""
        version = dict(response.headers).get(VERSION_HEADER) if response else None
        note += f" (version {version.decode()})" if version else ""
        LOGGER.info("%s %s %s %.1f ms%s", method, path, status or "dropped", duration_ms, note)

    async def _answer(
        self, scope: Scope, receive: Receive, method: str, path: str
    ) -> tuple[Response | None, str | None]:
        """The response (None: drop the connection) and the name of the fault that shaped it."""
        route = _route(method, path)
        if route is None:
            return NO_ROUTE, None
        if not self._has_key(scope):
            return FORBIDDEN, None
        endpoint, site_id = route
        if endpoint == "_sandbox/requests":
            return Response(200, to_json_bytes([asdict(r) for r in self.state.requests()])), None
        if endpoint == "_sandbox/site-outages":
            return self._accepted(site_id), None
        decision = self.state.injector.decide(method, path)
        if decision.latency_s:
            await asyncio.sleep(decision.latency_s)
        if decision.drop:
            return None, decision.fault
        if decision.status is not None:
            return _fault_response(decision), decision.fault
        response = await self._upstream(endpoint, site_id, receive)
        if decision.truncate:
            if response.status != 200:  # only a success is cut short; errors pass untouched
                return response, None
            return replace(response, body=response.body[: len(response.body) // 2]), decision.fault
        return response, decision.fault

    def _has_key(self, scope: Scope) -> bool:
        expected = self.state.api_key.encode()
        for name, value in scope["headers"]:
            if name == b"x-api-key":
                return hmac.compare_digest(value, expected)
        return False

    def _accepted(self, site_id: str) -> Response:
        if site_id not in self.state.dataset.sites:
            return SITE_NOT_FOUND
        items = self.state.accepted(site_id)
        if items is None:
            return NOTHING_ACCEPTED
        return Response(200, to_json_bytes(items), _version_headers(self.state.accepted_version(site_id)))

    async def _upstream(self, endpoint: str, site_id: str, receive: Receive) -> Response:
        dataset = self.state.dataset  # one snapshot, even if a test swaps the dataset meanwhile
        if endpoint == "outages":
            return await self._outages(dataset)
        if site_id == TOO_MUCH_TOO_SOON:
            return LIMIT_EXCEEDED
        if site_id not in dataset.sites:  # the site is checked before the payload, as the real API does
            return SITE_NOT_FOUND
        if endpoint == "site-info":
            return Response(200, dataset.site_info_body(site_id) or b"")
        body = await _read_body(receive)
        # A 1,000,000-item payload takes a second to check: keep the event loop free meanwhile.
        version: int | None = None
        items: list[Any] | bytes
        if self.state.changing:  # any version served will do: the sandbox reports races, not prevents them
            items, version, problem = await asyncio.to_thread(self.state.versions.match, site_id, body)
        else:
            items, problem = await asyncio.to_thread(_check, dataset, site_id, body)
        if problem is not None:
            return Response(400, to_json_bytes({"message": "Unexpected outages received", "detail": problem}))
        self.state.accept(site_id, items, version)
        return replace(ACCEPTED, headers=_version_headers(version))

    async def _outages(self, dataset: Dataset) -> Response:
        if not self.state.changing:
            return Response(200, dataset.outages_body)
        # A new body per GET (a copy of up to 114 MB plus the markers): off the event loop, too.
        version, body = await asyncio.to_thread(self.state.versions.serve, dataset)
        return Response(200, body, _version_headers(version))


def _check(dataset: Dataset, site_id: str, body: bytes) -> tuple[list[Any] | bytes, str | None]:
    right = dataset.right_payload(site_id)
    if right is None:  # the dataset was swapped for one without this site while the body arrived
        return [], f"there is no site {site_id} any more"
    return check_payload(body, right, dataset.expected_body(site_id))


def _version_headers(version: int | None) -> tuple[tuple[bytes, bytes], ...]:
    return () if version is None else ((VERSION_HEADER, str(version).encode()),)


def _fault_response(decision: Decision) -> Response:
    if decision.retry_after_s is None:
        return Response(decision.status or 500, decision.body)
    headers = ((b"retry-after", str(decision.retry_after_s).encode()),)
    return Response(decision.status or 429, decision.body, headers)


async def _send(send: Send, response: Response) -> None:
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(response.body)).encode()),
        (b"x-amzn-requestid", str(uuid.uuid4()).encode()),
        (b"access-control-allow-origin", b"*"),
        *response.headers,
    ]
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    await send({"type": "http.response.body", "body": response.body})


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _drop_connection(scope: Scope, receive: Receive) -> None:
    drop = scope.get("extensions", {}).get(DROP_EXTENSION)
    if drop is None:
        raise RuntimeError("DropConnection needs the sandbox's own server (outagesync.sandbox.server)")
    drop["abort"]()
    # Return only once the server has seen the socket close; returning earlier makes uvicorn answer 500.
    while (await receive())["type"] != "http.disconnect":
        pass
