"""GET /metrics: the server's Prometheus metrics (text exposition format), behind the bearer token.

Not in the OpenAPI document: it is for Prometheus, not for API clients (docs/observability.md).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response

from outagesync.entrypoints.api.deps import StateDep, require_token

router = APIRouter(dependencies=[Depends(require_token)])


@router.get("/metrics", include_in_schema=False)
def metrics(state: StateDep) -> Response:
    body, content_type = state.telemetry.metrics_text()
    return Response(body, headers={"content-type": content_type})
