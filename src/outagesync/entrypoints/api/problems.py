"""The REST API's error boundary: every error becomes an RFC 9457 `application/problem+json` response.

One status table for our error tree; FastAPI's validation and HTTP errors get the same shape. No traceback
ever reaches a client. No business logic here: only how an error looks on the wire.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from outagesync import errors
from outagesync.domain.models import SiteResult
from outagesync.errors import OutageSyncError

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


# The one table: every error code of `outagesync.errors` (its test checks the whole tree) -> how it looks
# over HTTP. InvalidInput is the caller's; ConfigError is the service's own (a missing API key, say).
PROBLEMS: dict[str, ProblemType] = {
    row.slug: row
    for row in (
        ProblemType(500, errors.OutageSyncError.code, "Internal error"),
        ProblemType(503, errors.ConfigError.code, "The service is not configured for this"),
        ProblemType(422, errors.InvalidInput.code, "Invalid request"),
        ProblemType(422, errors.InvalidSiteId.code, "Invalid site id"),
        ProblemType(502, errors.UpstreamError.code, "The KrakenFlex API failed"),
        ProblemType(502, errors.ApiKeyRejected.code, "The KrakenFlex API rejected our API key"),
        ProblemType(404, errors.UnknownSite.code, "Unknown site"),
        ProblemType(502, errors.PayloadRejected.code, "The KrakenFlex API rejected the payload"),
        ProblemType(502, errors.UpstreamRejected.code, "The KrakenFlex API rejected the request"),
        ProblemType(504, errors.UpstreamUnavailable.code, "The KrakenFlex API is unavailable"),
        ProblemType(502, errors.InvalidUpstreamData.code, "The KrakenFlex API sent invalid data"),
        ProblemType(503, errors.StorageError.code, "The report database is unavailable"),
        ProblemType(404, errors.ReportNotFound.code, "Report not found"),
        ProblemType(404, errors.JobNotFound.code, "Job not found"),
        ProblemType(404, errors.SiteNotManaged.code, "Site not managed"),
        ProblemType(409, errors.SiteAlreadyManaged.code, "Site already managed"),
        ProblemType(409, errors.SiteBusy.code, "Another sync of the site is running"),
        ProblemType(409, errors.EmptyListRefused.code, "An empty list would clear the site's list"),
        ProblemType(503, errors.RunInterrupted.code, "The run was interrupted"),
    )
}


def problem_of(code: str) -> ProblemType:
    """The row of an error code; a code this version does not know (an old report's) is a 502."""
    return PROBLEMS.get(code, PROBLEMS[errors.UpstreamError.code])


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
    problem = problem_of(error.code if error else errors.UpstreamError.code)
    detail = error.message if error else f"the sync of {site.site_id} did not succeed"
    extensions: dict[str, Any] = {"site_id": site.site_id}
    headers: dict[str, str] = {}
    if run_id is not None:
        location = f"/reports/{site.report_id}"
        extensions.update(report_id=site.report_id, run_id=run_id, report=location)
        headers["Location"] = location
    if error is not None and error.retry_after_s is not None:  # the upstream said when to try again
        headers["Retry-After"] = str(math.ceil(error.retry_after_s))
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
    problem = PROBLEMS[exc.code]
    return problem_response(
        problem.status, str(exc), title=problem.title, type_uri=problem.uri, instance=request.url.path
    )


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    found = [
        {
            "loc": [str(part) for part in error.get("loc", ())],
            "msg": str(error.get("msg", "")),
            "type": error.get("type"),
        }
        for error in exc.errors()
    ]
    detail = "; ".join(f"{'.'.join(error['loc'])}: {error['msg']}" for error in found)
    return problem_response(
        422,
        detail or "the request is not valid",
        title="Invalid request",
        type_uri=PROBLEMS[errors.InvalidInput.code].uri,
        instance=request.url.path,
        extensions={"errors": found},
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    headers = dict(exc.headers or {})
    if exc.status_code == 405:  # Starlette names the methods of the one route it found, not the path's
        headers["Allow"] = ", ".join(allowed_methods(request)) or headers.get("Allow", "")
    return problem_response(exc.status_code, str(exc.detail), instance=request.url.path, headers=headers)


def allowed_methods(request: Request) -> list[str]:
    """The methods the OpenAPI document declares for the request's path (HEAD wherever GET), in the
    usual order; none for a path it does not document (/docs, say)."""
    found: set[str] = set()
    for template, operations in request.app.openapi()["paths"].items():
        if re.fullmatch(_path_pattern(template), request.url.path):
            found.update(method.upper() for method in operations)
    if "GET" in found:
        found.add("HEAD")  # the HeadAsGet middleware answers it
    return sorted(found, key=lambda method: (_METHOD_ORDER.get(method, len(_METHOD_ORDER)), method))


def _path_pattern(template: str) -> str:
    """An OpenAPI path (`/sites/{site_id}`) as a regular expression: a parameter is one path segment."""
    return "[^/]+".join(re.escape(part) for part in re.split(r"\{[^}/]*\}", template))


_METHOD_ORDER = {
    method: rank for rank, method in enumerate(("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"))
}


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
