"""`create_app(settings)`: the FastAPI app that runs the CLI's use cases over HTTP.

Here: the app, its lifespan (schema, store disposal) and the OpenAPI document. Routes live in
`routes/`; none holds business logic.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from outagesync import __version__, bootstrap
from outagesync.config import Settings
from outagesync.defaults import API_MAX_BODY_BYTES
from outagesync.domain.models import Trigger
from outagesync.entrypoints.api.deps import ApiState, configured_token
from outagesync.entrypoints.api.middleware import BodyLimit, HeadAsGet, Observed
from outagesync.entrypoints.api.problems import install_error_handlers
from outagesync.entrypoints.api.routes import health, jobs, metrics, reports, sites, sync
from outagesync.entrypoints.api.schemas import Problem
from outagesync.entrypoints.api.shutdown import AnswerWhenCancelled
from outagesync.entrypoints.web import install_dashboard
from outagesync.entrypoints.web.docs import install_docs
from outagesync.errors import StorageError
from outagesync.services import admin
from outagesync.services.ports import Store, Telemetry

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
    {"name": "jobs", "description": "Queue jobs (PostgreSQL, docs/scale-out.md): state, attempts, reports."},
]


def create_app(settings: Settings) -> FastAPI:
    """The app for `settings`; ConfigError if they are unusable (a bad cutoff or database URL)."""
    telemetry = bootstrap.build_telemetry(settings, server=True)
    options = bootstrap.sync_options(settings, trigger=Trigger.API, observer=telemetry)
    store = bootstrap.build_store(settings)
    app = FastAPI(
        title="outagesync",
        version=__version__,
        description=DESCRIPTION,
        openapi_tags=TAGS,
        lifespan=_lifespan(store, telemetry),
        # no redirect of /sites/ to /sites: Starlette's would build it from the Host header (any client's)
        redirect_slashes=False,
        docs_url=None,  # /docs and /redoc are served offline (install_docs)
        redoc_url=None,
    )
    queue = bootstrap.open_queue(settings) if bootstrap.has_queue(settings) else None
    if settings.execution == "queue" and queue is None:
        bootstrap.open_queue(settings)  # ConfigError: OUTAGESYNC_EXECUTION=queue needs PostgreSQL
    app.state.api = ApiState(settings, store, options, configured_token(settings), telemetry, queue=queue)
    install_error_handlers(app)
    app.add_middleware(Observed, telemetry=telemetry)  # inside HeadAsGet: it sees the router's scope
    app.add_middleware(BodyLimit, max_bytes=API_MAX_BODY_BYTES)
    app.add_middleware(HeadAsGet)
    app.add_middleware(AnswerWhenCancelled)  # outermost: answers a request cancelled at shutdown
    for module in (health, sites, sync, reports, jobs, metrics):
        app.include_router(module.router)
    install_docs(app)  # /docs and /redoc from assets in the wheel: they work without internet
    install_dashboard(app, app.state.api.token)  # the web dashboard at /ui
    app.openapi = _with_problem_schema(app.openapi)  # type: ignore[method-assign]
    return app


def _lifespan(store: Store, telemetry: Telemetry) -> Callable[[FastAPI], Any]:
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        try:
            await asyncio.to_thread(admin.upgrade_schema, store=store)
        except StorageError as exc:  # serve anyway: /check and /readyz say what is wrong
            LOGGER.warning("the report database is not ready: %s", exc)
        try:
            yield
        finally:
            state: ApiState = _app.state.api
            await state.syncs.shutdown()  # syncs that outlived their requests store what they did
            store.dispose()
            telemetry.close()  # spans and error reports still buffered

    return lifespan


def _with_problem_schema(openapi: Callable[[], dict[str, Any]]) -> Callable[[], dict[str, Any]]:
    """FastAPI's OpenAPI document, plus the Problem schema the error responses refer to."""

    def document() -> dict[str, Any]:
        schema = openapi()
        schemas = schema.setdefault("components", {}).setdefault("schemas", {})
        schemas.setdefault("Problem", Problem.model_json_schema(ref_template="#/components/schemas/{model}"))
        return schema

    return document
