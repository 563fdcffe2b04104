"""The REST API's error boundary: every error becomes an RFC 9457 `application/problem+json` response.

One status table for our error tree; FastAPI's validation and HTTP errors get the same shape. No traceback
ever reaches a client. No business logic here: only how an error looks on the wire.
"""

from __future__ import annotations

from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from outagesync.domain.models import SiteResult
from outagesync.errors import (
    ApiKeyRejected,
    ConfigError,
    InvalidSiteId,
    InvalidUpstreamData,
    OutageSyncError,
    PayloadRejected,
    ReportNotFound,
    SiteAlreadyManaged,
    SiteNotManaged,
    StorageError,
    UnknownSite,
    UpstreamError,
    UpstreamRejected,
    UpstreamUnavailable,
)

PROBLEM_JSON = "application/problem+json"
TYPE_PREFIX = "urn:outagesync:problem:"


@dataclass(frozen=True, slots=True)
class ProblemType:
    """How one kind of error looks over HTTP: its status, a stable type slug and a short title."""

    status: int
    slug: str
    title: str

    @property
    def uri(self) -> str:
        return TYPE_PREFIX + self.slug


# Every class of the error tree, most specific first; a subclass not listed inherits its parent's row.
# ConfigError is the caller's invalid input here (the services check their arguments); the server's own
# configuration is checked when it starts (and a missing API key is answered 503 before any use case runs).
PROBLEMS: dict[type[OutageSyncError], ProblemType] = {
    InvalidSiteId: ProblemType(422, "invalid-site-id", "Invalid site id"),
    ConfigError: ProblemType(422, "invalid-request", "Invalid request"),
    ApiKeyRejected: ProblemType(502, "upstream-key-rejected", "The KrakenFlex API rejected our API key"),
    UnknownSite: ProblemType(404, "unknown-site", "Unknown site"),
    PayloadRejected: ProblemType(502, "upstream-rejected-payload", "The KrakenFlex API rejected the payload"),
    UpstreamRejected: ProblemType(502, "upstream-rejected", "The KrakenFlex API rejected the request"),
    UpstreamUnavailable: ProblemType(504, "upstream-unavailable", "The KrakenFlex API is unavailable"),
    UpstreamError: ProblemType(502, "upstream-error", "The KrakenFlex API failed"),
    InvalidUpstreamData: ProblemType(502, "invalid-upstream-data", "The KrakenFlex API sent invalid data"),
    StorageError: ProblemType(503, "storage-unavailable", "The report database is unavailable"),
    ReportNotFound: ProblemType(404, "report-not-found", "Report not found"),
    SiteNotManaged: ProblemType(404, "site-not-managed", "Site not managed"),
    SiteAlreadyManaged: ProblemType(409, "site-already-managed", "Site already managed"),
    OutageSyncError: ProblemType(500, "internal-error", "Internal error"),
}
# A failed site's report names its error by class name ("PayloadRejected"): the same table, by name.
_PROBLEMS_BY_NAME = {error_type.__name__: problem for error_type, problem in PROBLEMS.items()}


def problem_type_of(error_type: type[OutageSyncError]) -> ProblemType:
    """The row of the closest listed ancestor of `error_type`."""
    for ancestor in error_type.__mro__:
        if ancestor in PROBLEMS:
            return PROBLEMS[ancestor]
    return PROBLEMS[OutageSyncError]


def problem_response(
    status: int,
    detail: str,
    *,
    title: str | None = None,
    type_uri: str = "about:blank",
    instance: str | None = None,
    headers: dict[str, str] | None = None,
    extensions: dict[str, Any] | None = None,
) -> JSONResponse:
    """An RFC 9457 problem: type, title, status, detail, instance, and extension members."""
    body: dict[str, Any] = {
        "type": type_uri,
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "instance": instance,
        **(extensions or {}),
    }
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_JSON)


def failed_site_response(site: SiteResult, instance: str, *, run_id: str | None = None) -> JSONResponse:
    """The problem for a site that failed; with `run_id` (its report was stored), Location: that report."""
    error = site.error
    problem = _PROBLEMS_BY_NAME.get(error.type if error else "", PROBLEMS[UpstreamError])
    detail = error.message if error else f"the sync of {site.site_id} did not succeed"
    extensions: dict[str, Any] = {"site_id": site.site_id}
    headers = None
    if run_id is not None:
        location = f"/reports/{site.report_id}"
        extensions.update(report_id=site.report_id, run_id=run_id, report=location)
        headers = {"Location": location}
    return problem_response(
        problem.status,
        detail,
        title=problem.title,
        type_uri=problem.uri,
        instance=instance,
        headers=headers,
        extensions=extensions,
    )


async def _outagesync_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, OutageSyncError)
    problem = problem_type_of(type(exc))
    return problem_response(
        problem.status, str(exc), title=problem.title, type_uri=problem.uri, instance=request.url.path
    )


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {
            "loc": [str(part) for part in error.get("loc", ())],
            "msg": str(error.get("msg", "")),
            "type": error.get("type"),
        }
        for error in exc.errors()
    ]
    detail = "; ".join(f"{'.'.join(error['loc'])}: {error['msg']}" for error in errors)
    return problem_response(
        422,
        detail or "the request is not valid",
        title="Invalid request",
        type_uri=PROBLEMS[ConfigError].uri,
        instance=request.url.path,
        extensions={"errors": errors},
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    return problem_response(
        exc.status_code, str(exc.detail), instance=request.url.path, headers=dict(exc.headers or {})
    )


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    # A bug: Starlette logs it with its traceback and re-raises it after this answer; the client sees none.
    return problem_response(
        500, "an unexpected error occurred; it has been logged", instance=request.url.path
    )


def install_error_handlers(app: FastAPI) -> None:
    """Route every error to its problem response."""
    app.add_exception_handler(OutageSyncError, _outagesync_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)


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


_DESCRIPTIONS = {
    400: "The body could not be read (not UTF-8).",
    401: "Missing or wrong bearer token (`WWW-Authenticate: Bearer`).",
    404: "Unknown site or report.",
    409: "The site is already managed.",
    413: "The request body is too large.",
    422: "Invalid request: a parameter or the body breaks the schema, or an invalid site id.",
    502: "The KrakenFlex API rejected the request or our API key, or sent invalid data.",
    503: "The report database is unavailable, or the service has no KrakenFlex API key.",
    504: "The KrakenFlex API is unavailable (5xx, 429, timeouts) after every retry.",
}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries for problem statuses, each `application/problem+json` (a Problem)."""
    schema = {"$ref": "#/components/schemas/Problem"}
    return {
        status: {"description": _DESCRIPTIONS[status], "content": {PROBLEM_JSON: {"schema": schema}}}
        for status in statuses
    }
