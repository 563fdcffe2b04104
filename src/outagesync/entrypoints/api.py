"""The REST API: `create_app(settings)` builds the FastAPI app that runs the CLI's use cases over HTTP.

Here: the app, its lifespan (schema, store disposal), the health routes and the OpenAPI document.
Routes live in api_sites, api_sync and api_reports; none holds business logic.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Response
from fastapi.responses import PlainTextResponse

from outagesync import __version__, bootstrap
from outagesync.adapters.storage import SqlStore
from outagesync.config import Settings
from outagesync.domain.models import Trigger
from outagesync.entrypoints import api_reports, api_sites, api_sync
from outagesync.entrypoints.api_deps import ApiState, StoreDep, configured_token, require_token
from outagesync.entrypoints.api_errors import BodyLimit, install_error_handlers, problem_responses
from outagesync.entrypoints.api_models import Check, DatabaseCheck, Probe, Problem
from outagesync.errors import StorageError

MAX_BODY_BYTES = 64 * 1024
LOGGER = logging.getLogger("outagesync.api")

DESCRIPTION = """\
Keeps each energy site's outage list on the KrakenFlex platform correct: the same use cases as the
`outagesync` command, over HTTP.

**Auth**: every endpoint but `/which` and `/check` needs `Authorization: Bearer <OUTAGESYNC_API_TOKEN>`.
A server started without a token listens on loopback only, and answers loopback clients without one.

**Errors** are `application/problem+json` (RFC 9457): `type`, `title`, `status`, `detail`, `instance`.
"""
TAGS = [
    {"name": "health", "description": "Identity, health and probes."},
    {"name": "sites", "description": "Managed sites: the sites `POST /sync` keeps in sync."},
    {"name": "sync", "description": "Preview and run syncs."},
    {"name": "reports", "description": "Stored site reports: what was sent, when, and did it work."},
]


def create_app(settings: Settings) -> FastAPI:
    """The app for `settings`; ConfigError if they are unusable (a bad cutoff or database URL)."""
    options = bootstrap.sync_options(settings, trigger=Trigger.API)
    store = bootstrap.build_store(settings)
    app = FastAPI(
        title="outagesync",
        version=__version__,
        description=DESCRIPTION,
        openapi_tags=TAGS,
        lifespan=_lifespan(store),
    )
    app.state.api = ApiState(settings, store, options, configured_token(settings))
    install_error_handlers(app)
    app.add_middleware(BodyLimit, max_bytes=MAX_BODY_BYTES)
    for router in (_health_router(), api_sites.router, api_sync.router, api_reports.router):
        app.include_router(router)
    app.openapi = _with_problem_schema(app.openapi)  # type: ignore[method-assign]
    return app


def _lifespan(store: SqlStore) -> Callable[[FastAPI], Any]:
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        try:
            await asyncio.to_thread(store.upgrade)
        except StorageError as exc:  # serve anyway: /check and /readyz say what is wrong
            LOGGER.warning("the report database is not ready: %s", exc)
        try:
            yield
        finally:
            store.dispose()

    return lifespan


def _health_router() -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/which", response_class=PlainTextResponse, summary="The service's name and version")
    def which() -> str:
        return f"outagesync {__version__}"

    @router.get(
        "/check",
        response_model=Check,
        summary="Health: a real database query and how long it took",
        responses={503: {"model": Check, "description": "KO: the database cannot be used."}},
    )
    def check(store: StoreDep, response: Response) -> Check:
        started = time.perf_counter()
        health = store.check()
        status = "OK" if health.ok else "KO"
        response.status_code = 200 if health.ok else 503
        database = DatabaseCheck(status=status, migrated=health.migrated, elapsed_ms=health.elapsed_s * 1000)
        return Check(status=status, database=database, elapsed_ms=(time.perf_counter() - started) * 1000)

    @router.get(
        "/livez",
        response_model=Probe,
        summary="Liveness: the process answers",
        dependencies=[Depends(require_token)],
        responses=problem_responses(401),
    )
    def livez() -> Probe:
        return Probe(status="ok")

    @router.get(
        "/readyz",
        response_model=Probe,
        summary="Readiness: the database is reachable and migrated",
        responses={
            503: {"model": Probe, "description": "Not ready: `detail` says why."},
            **problem_responses(401),
        },
        dependencies=[Depends(require_token)],
    )
    def readyz(store: StoreDep, response: Response) -> Probe:
        health = store.check()
        detail = health.error if not health.ok else None
        if health.ok and not health.migrated:
            detail = f"the database schema is at revision {health.revision}, not {store.head_revision()}"
        response.status_code = 503 if detail else 200
        return Probe(status="unavailable" if detail else "ok", detail=detail)

    return router


def _with_problem_schema(openapi: Callable[[], dict[str, Any]]) -> Callable[[], dict[str, Any]]:
    """FastAPI's OpenAPI document, plus the Problem schema the error responses refer to."""

    def document() -> dict[str, Any]:
        schema = openapi()
        schemas = schema.setdefault("components", {}).setdefault("schemas", {})
        schemas.setdefault("Problem", Problem.model_json_schema(ref_template="#/components/schemas/{model}"))
        return schema

    return document
