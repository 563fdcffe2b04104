"""REST routes for identity, health and probes: /which, /check, /livez, /readyz. Parse, call, render."""

from __future__ import annotations

import time

from fastapi import APIRouter, Depends, Response
from fastapi.responses import PlainTextResponse

from outagesync import __version__
from outagesync.entrypoints.api.deps import StoreDep, require_token
from outagesync.entrypoints.api.problems import problem_responses
from outagesync.entrypoints.api.schemas import Check, DatabaseCheck, Probe
from outagesync.services import admin

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
    health = admin.check_health(store=store)
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
    detail = admin.readiness_problem(store=store)
    response.status_code = 503 if detail else 200
    return Probe(status="unavailable" if detail else "ok", detail=detail)
