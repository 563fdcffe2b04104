"""The web dashboard at /ui, served by `outagesync serve` (docs/ui.md): pages rendered on the server from
the same use cases as the CLI and the REST API, htmx for partial updates, ECharts for the outage timeline;
every asset is in this package (static/), nothing is loaded from elsewhere.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.requests import Request
from starlette.responses import RedirectResponse

from outagesync.entrypoints.web import actions, jobs, pages
from outagesync.entrypoints.web.session import Sessions

STATIC = Path(__file__).parent / "static"


def install_dashboard(app: FastAPI, token: bytes | None) -> None:
    """Serve the dashboard's pages under /ui and its assets under /ui/static."""
    app.state.ui_sessions = Sessions(token)
    app.include_router(pages.router)
    app.include_router(actions.router)
    app.include_router(jobs.router)

    @app.get("/ui", include_in_schema=False)
    def dashboard(request: Request) -> RedirectResponse:
        return RedirectResponse("/ui/", status_code=307)

    app.mount("/ui/static", StaticFiles(directory=STATIC), name="ui-static")
