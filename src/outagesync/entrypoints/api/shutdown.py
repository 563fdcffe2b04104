"""ASGI middleware: a request the server cancels at shutdown still gets an answer, as a problem.

When `serve` stops, uvicorn lets requests run for its graceful timeout, then cancels them. A sync then
stores its unfinished sites as `interrupted` (services.sync); this answers its client with a 503
problem of type `interrupted` instead of a dropped connection or uvicorn's plain-text 500.
"""

from __future__ import annotations

import asyncio

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from outagesync.entrypoints.api.problems import PROBLEMS, problem_response
from outagesync.errors import RunInterrupted

STOPPED = "the service is shutting down: this request was stopped (a sync is stored as interrupted)"


class AnswerWhenCancelled:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except asyncio.CancelledError:
            if started:
                raise
            problem = PROBLEMS[RunInterrupted.code]
            response = problem_response(
                problem.status,
                STOPPED,
                title=problem.title,
                type_uri=problem.uri,
                instance=scope.get("path"),
                headers={"Connection": "close"},
            )
            await response(scope, receive, send)  # the request is over: its cancellation ends here
