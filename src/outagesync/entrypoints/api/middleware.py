"""ASGI middleware of the REST API: request bodies are capped (413 as a problem, declared or streamed),
HEAD is answered wherever GET is, and each request is observed (server span, metrics by route template).
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from outagesync.entrypoints.api.problems import problem_response
from outagesync.services.ports import RequestRecord, Telemetry

_PROPAGATED = (b"traceparent", b"tracestate")  # the only request headers telemetry sees


class BodyLimit:
    """ASGI middleware: a request body over `max_bytes` is refused with 413, declared or streamed."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await self._too_large(scope["path"])(scope, receive, send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                # raised inside the app, so the app's handler answers it (as a problem)
                raise HTTPException(413, self._detail())
            return message

        await self.app(scope, limited_receive, send)

    def _detail(self) -> str:
        return f"the request body is larger than {self.max_bytes} bytes"

    def _too_large(self, path: str) -> JSONResponse:
        return problem_response(413, self._detail(), instance=path, headers={"Connection": "close"})


class HeadAsGet:
    """ASGI middleware: a HEAD request is answered as the GET would be (status, headers), without the body.

    FastAPI routes a GET operation for GET only; this makes HEAD work on every one of them, undocumented
    (RFC 9110: HEAD goes with GET), and a HEAD of a path without GET is the GET's 405.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def send_without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, send_without_body)


class Observed:
    """ASGI middleware: each HTTP request through `telemetry.request` (span, metrics, unexpected errors),
    labelled with its route template once routed (`unmatched` otherwise), never with the raw path."""

    def __init__(self, app: ASGIApp, telemetry: Telemetry) -> None:
        self.app = app
        self.telemetry = telemetry

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        record = RequestRecord(scope["method"])
        headers = {
            name.decode("latin-1"): value.decode("latin-1")
            for name, value in scope["headers"]
            if name in _PROPAGATED
        }

        async def send_observed(message: Message) -> None:
            if message["type"] == "http.response.start":
                record.status = message["status"]
            await send(message)

        with self.telemetry.request(record, headers):
            try:
                await self.app(scope, receive, send_observed)
            finally:
                route = getattr(scope.get("route"), "path", None)  # set by the router, in this scope
                if isinstance(route, str):
                    record.route = route
