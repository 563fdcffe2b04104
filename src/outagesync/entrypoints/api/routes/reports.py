"""REST routes for stored site reports: list (filtered, cursor-paged), show, delete. Parse, call, render."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.exceptions import RequestValidationError

from outagesync.defaults import MAX_PAGE_SIZE, REPORTS_PAGE_SIZE
from outagesync.domain.ids import REPORT_ID_PATTERN, SITE_ID_PATTERN
from outagesync.domain.models import SiteStatus
from outagesync.entrypoints.api.deps import StoreDep, require_token
from outagesync.entrypoints.api.params import ReportIdPath
from outagesync.entrypoints.api.problems import problem_responses
from outagesync.entrypoints.api.schemas import CURSOR_PATTERN, Deleted, InstantIn, Report, ReportPage
from outagesync.presenters.cursors import decode_cursor
from outagesync.presenters.json import report_page_to_dict, stored_report_to_dict
from outagesync.services import reports as report_cases

router = APIRouter(
    tags=["reports"], dependencies=[Depends(require_token)], responses=problem_responses(401, 422, 503)
)


@dataclass(frozen=True, slots=True)
class ReportQuery:
    """The filters of GET and DELETE /reports, as the services name them."""

    site_id: str | None
    status: SiteStatus | None
    started_from: datetime | None
    started_before: datetime | None

    @property
    def is_empty(self) -> bool:
        return all(value is None for value in asdict(self).values())


def report_query(
    site: Annotated[str | None, Query(pattern=SITE_ID_PATTERN, description="Only this site's.")] = None,
    status: Annotated[SiteStatus | None, Query(description="Only reports with this status.")] = None,
    started_from: Annotated[
        InstantIn | None,
        Query(
            alias="from",
            description="Started at or after (ISO 8601 with an offset).",
            examples=["2024-05-01T00:00:00Z"],
        ),
    ] = None,
    started_before: Annotated[
        InstantIn | None,
        Query(alias="to", description="Started before (exclusive).", examples=["2024-06-01T00:00:00Z"]),
    ] = None,
) -> ReportQuery:
    return ReportQuery(site, status, started_from, started_before)


QueryDep = Annotated[ReportQuery, Depends(report_query)]


@router.get("/reports", response_model=ReportPage, summary="List site reports, newest first")
def list_reports(
    request: Request,
    store: StoreDep,
    where: QueryDep,
    run: Annotated[str | None, Query(pattern=REPORT_ID_PATTERN, description="Only this run's.")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="Page size.")] = REPORTS_PAGE_SIZE,
    cursor: Annotated[
        str | None, Query(pattern=CURSOR_PATTERN, description="`next_cursor` of the previous page.")
    ] = None,
) -> dict[str, Any]:
    after = decode_cursor(cursor) if cursor is not None else None
    page = report_cases.list_reports(reports=store, run_id=run, limit=limit, after=after, **asdict(where))
    data = report_page_to_dict(page)
    next_url = None
    if data["next_cursor"] is not None:
        url = request.url.include_query_params(cursor=data["next_cursor"])
        next_url = f"{url.path}?{url.query}"
    # a dict, not a ReportPage: FastAPI validates it against response_model once (a model, twice)
    return {**data, "next": next_url}


@router.get(
    "/reports/{report_id}",
    response_model=Report,
    summary="Show a site report, with the items posted",
    responses=problem_responses(404),
)
def get_report(report_id: ReportIdPath, store: StoreDep) -> dict[str, Any]:
    return stored_report_to_dict(report_cases.get_report(report_id, reports=store))


def _deletion_query(
    where: QueryDep,
    all_reports: Annotated[
        bool, Query(alias="all", description="Required to delete every report when no filter is given.")
    ] = False,
) -> ReportQuery:
    if where.is_empty and not all_reports:
        raise RequestValidationError(
            [
                {
                    "type": "missing",
                    "loc": ("query", "all"),
                    "msg": "give a filter (site, status, from, to) or all=true to delete every report",
                    "input": None,
                }
            ]
        )
    return where


@router.delete("/reports", response_model=Deleted, summary="Delete the site reports matching the filters")
def delete_reports(where: Annotated[ReportQuery, Depends(_deletion_query)], store: StoreDep) -> Deleted:
    return Deleted(deleted=report_cases.clear_reports(reports=store, **asdict(where)))


@router.delete(
    "/reports/{report_id}",
    status_code=204,
    response_class=Response,
    summary="Delete a site report",
    responses=problem_responses(404),
)
def delete_report(report_id: ReportIdPath, store: StoreDep) -> None:
    report_cases.delete_report(report_id, reports=store)
