"""Rendering of the dashboard: the Jinja2 templates (shipped in the package), their filters, and the route
class that turns errors into pages (a login redirect, 403, or our error's message and status).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.routing import APIRoute
from starlette.responses import RedirectResponse, Response
from starlette.templating import Jinja2Templates

from outagesync import __version__
from outagesync.entrypoints.api.problems import problem_of
from outagesync.entrypoints.web.session import (
    Forbidden,
    LoginRequired,
    Session,
    Sessions,
    get_sessions,
)
from outagesync.errors import OutageSyncError

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")

# status -> (icon, class): the icon and the word say it; the colour only repeats it
STATUS_ICONS = {
    "succeeded": ("✔", "ok"),
    "failed": ("✖", "bad"),
    "dry_run": ("◌", "info"),
    "running": ("⟳", "info"),
    "interrupted": ("⚠", "warn"),
    "abandoned": ("⚠", "warn"),
    "partial": ("⚠", "warn"),
}


def age(moment: datetime | None, now: datetime | None = None) -> str:
    """`5 min ago`, `3 h ago`, `2 d ago`; `never` for None."""
    if moment is None:
        return "never"
    seconds = max(0, int(((now or datetime.now(UTC)) - moment).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit} ago"
    return f"{seconds} s ago"


def stamp(moment: datetime | None) -> str:
    """An exact UTC time, to the second: `2024-05-01 12:00:00Z`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ") if moment else "—"


templates.env.filters["age"] = age
templates.env.filters["stamp"] = stamp
templates.env.globals["STATUS_ICONS"] = STATUS_ICONS
templates.env.globals["version"] = __version__


# Only this server's scripts run; styles may be inline (the chart library sets element styles)
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)


def _headers(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def page(
    request: Request, name: str, session: Session, context: dict[str, Any], *, status_code: int = 200
) -> Response:
    """The template `name` with `context`; the session's cookie set when it is new."""
    context = {"session": session, "needs_login": get_sessions(request).needs_login, **context}
    response = templates.TemplateResponse(request, name, context, status_code=status_code)
    if session.fresh:
        get_sessions(request).store(response, session, request)
    return _headers(response)


def see_other(location: str) -> RedirectResponse:
    return RedirectResponse(location, status_code=303)


class PageRoute(APIRoute):
    """A dashboard route: LoginRequired is a redirect to the login page; Forbidden and our errors are an
    error page with the error's status (as the REST API would answer it) and its message."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except LoginRequired as exc:
                login = f"/ui/login?next={_quote(exc.next_path)}"
                if request.headers.get("hx-request"):  # a part of a page: the whole page goes to login
                    return Response(status_code=204, headers={"HX-Redirect": login})
                return see_other(login)
            except Forbidden as exc:
                return _error_page(request, 403, "Forbidden", str(exc))
            except OutageSyncError as exc:
                problem = problem_of(exc.code)
                return _error_page(request, problem.status, problem.title, str(exc))

        return handle


def _quote(path: str) -> str:
    return quote(path, safe="/")


def _error_page(request: Request, status: int, title: str, message: str) -> Response:
    sessions: Sessions = get_sessions(request)
    session = sessions.read(request) or Session("", logged_in=False)
    context = {"session": session, "needs_login": sessions.needs_login, "title": title, "message": message}
    return _headers(templates.TemplateResponse(request, "error.html", context, status_code=status))
