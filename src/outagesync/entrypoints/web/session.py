"""The dashboard's session: a signed cookie (HttpOnly, SameSite=Strict, path /ui) holding a CSRF token and
whether the browser logged in with OUTAGESYNC_API_TOKEN; the checks every page and form goes through.

With a token configured, every page but the login page needs a logged-in session. Without one, the
dashboard answers loopback clients only (as the REST API does) and needs no login. Every POST carries the
session's CSRF token (a form field, or the X-CSRF-Token header of htmx requests).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import Depends, Request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.responses import Response

from outagesync.entrypoints.api.deps import ApiState, get_state, is_loopback

COOKIE = "outagesync_ui"
SESSION_MAX_AGE_S = 8 * 3600
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"


class LoginRequired(Exception):
    """The page needs a logged-in session: the handler answers with a redirect to the login page."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class Forbidden(Exception):
    """403: a non-loopback client without a token configured, or a missing or wrong CSRF token."""


@dataclass(frozen=True, slots=True)
class Session:
    """This browser's session; `fresh`: not in a cookie yet (the response sets it)."""

    csrf: str
    logged_in: bool
    fresh: bool = False


class Sessions:
    """Signs and reads session cookies. The key comes from the API token (sessions survive restarts and
    end when the token changes), else it is random per process."""

    def __init__(self, token: bytes | None) -> None:
        key = hmac.new(token, b"outagesync-ui-session", hashlib.sha256).digest() if token else None
        self._serializer = URLSafeTimedSerializer(key or secrets.token_bytes(32), salt="outagesync-ui")
        self.needs_login = token is not None

    def read(self, request: Request) -> Session | None:
        value = request.cookies.get(COOKIE)
        if not value:
            return None
        try:
            data: Any = self._serializer.loads(value, max_age=SESSION_MAX_AGE_S)
        except BadSignature:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("csrf"), str):
            return None
        return Session(data["csrf"], bool(data.get("in")))

    def new(self, *, logged_in: bool) -> Session:
        return Session(secrets.token_urlsafe(32), logged_in, fresh=True)

    def store(self, response: Response, session: Session, request: Request) -> None:
        value = self._serializer.dumps({"csrf": session.csrf, "in": session.logged_in})
        response.set_cookie(
            COOKIE,
            str(value),
            max_age=SESSION_MAX_AGE_S,
            path="/ui",
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )

    def clear(self, response: Response, request: Request) -> None:
        response.delete_cookie(
            COOKIE, path="/ui", httponly=True, samesite="strict", secure=request.url.scheme == "https"
        )


def get_sessions(request: Request) -> Sessions:
    sessions: Sessions = request.app.state.ui_sessions
    return sessions


SessionsDep = Annotated[Sessions, Depends(get_sessions)]
StateDep = Annotated[ApiState, Depends(get_state)]


def any_session(request: Request, state: StateDep, sessions: SessionsDep) -> Session:
    """The browser's session, a new one if it has none; Forbidden for a non-loopback client when no
    token is configured."""
    if state.token is None:
        client = request.client.host if request.client else ""
        if not is_loopback(client):
            raise Forbidden("this server has no API token configured and answers loopback clients only")
    return sessions.read(request) or sessions.new(logged_in=False)


AnySessionDep = Annotated[Session, Depends(any_session)]


def user_session(request: Request, session: AnySessionDep, sessions: SessionsDep) -> Session:
    """A session allowed to see the dashboard; LoginRequired when a token is configured and it has not
    logged in."""
    if sessions.needs_login and not session.logged_in:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(target)
    return session


UserSessionDep = Annotated[Session, Depends(user_session)]


async def checked_form(request: Request, session: AnySessionDep) -> dict[str, str]:
    """The POST's form fields (application/x-www-form-urlencoded), once its CSRF token matches the
    session's; Forbidden otherwise."""
    body = (await request.body()).decode("utf-8", errors="replace")
    fields = dict(parse_qsl(body, keep_blank_values=True))
    given = fields.pop(CSRF_FIELD, None) or request.headers.get(CSRF_HEADER, "")
    if session.fresh or not hmac.compare_digest(given.encode(), session.csrf.encode()):
        raise Forbidden("the form is out of date or did not come from this dashboard: reload the page")
    return fields


async def user_form(request: Request, session: UserSessionDep) -> dict[str, str]:
    """checked_form for a session allowed to act (logged in when a token is configured)."""
    return await checked_form(request, session)


FormDep = Annotated[dict[str, str], Depends(user_form)]
LoginFormDep = Annotated[dict[str, str], Depends(checked_form)]


def is_right_token(given: str, state: ApiState) -> bool:
    """The configured API token, compared in constant time."""
    return state.token is not None and hmac.compare_digest(given.encode(), state.token)
