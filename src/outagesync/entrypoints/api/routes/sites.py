"""REST routes for managed sites: list, add, show, replace, change, remove.

Parse, call services.sites, render; no business logic.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from outagesync.defaults import MAX_PAGE_SIZE, SITES_PAGE_SIZE
from outagesync.domain.ids import SITE_ID_PATTERN
from outagesync.domain.models import ManagedSite
from outagesync.entrypoints.api.deps import StoreDep, require_token
from outagesync.entrypoints.api.params import SiteIdPath
from outagesync.entrypoints.api.problems import problem_responses
from outagesync.entrypoints.api.schemas import Site, SiteIn, SitePage, SitePatch, SiteReplace
from outagesync.presenters.json import managed_site_to_dict
from outagesync.services import sites as site_cases

_LOCATION = {"Location": {"description": "The site's URL.", "schema": {"type": "string"}, "required": True}}

router = APIRouter(
    tags=["sites"], dependencies=[Depends(require_token)], responses=problem_responses(401, 422, 503)
)


@router.get("/sites", response_model=SitePage, summary="List managed sites, by site id")
def list_sites(
    request: Request,
    store: StoreDep,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="Page size.")] = SITES_PAGE_SIZE,
    cursor: Annotated[
        str | None,
        Query(pattern=SITE_ID_PATTERN, description="`next_cursor` of the previous page (a site id)."),
    ] = None,
    enabled_only: Annotated[bool, Query(description="Only the sites that POST /sync syncs.")] = False,
) -> SitePage:
    found = site_cases.list_sites(sites=store, enabled_only=enabled_only, limit=limit, after=cursor)
    next_cursor = next_url = None
    if len(found) == limit:  # maybe more: the next page starts after the last id
        next_cursor = found[-1].site_id
        url = request.url.include_query_params(cursor=next_cursor)
        next_url = f"{url.path}?{url.query}"
    return SitePage(items=[_site(site) for site in found], next_cursor=next_cursor, next=next_url)


@router.post(
    "/sites",
    status_code=201,
    response_model=Site,
    summary="Manage a site",
    responses={201: {"headers": _LOCATION}, **problem_responses(400, 409, 413)},
)
def add_site(body: SiteIn, store: StoreDep, response: Response) -> Site:
    site = site_cases.add_site(
        body.site_id,
        sites=store,
        name=body.name,
        since=body.since,
        enabled=body.enabled,
        schedule=body.schedule,
        allow_empty=body.allow_empty,
    )
    response.headers["Location"] = f"/sites/{site.site_id}"
    return _site(site)


@router.get(
    "/sites/{site_id}", response_model=Site, summary="Show a managed site", responses=problem_responses(404)
)
def get_site(site_id: SiteIdPath, store: StoreDep) -> Site:
    return _site(site_cases.get_site(site_id, sites=store))


@router.put(
    "/sites/{site_id}",
    response_model=Site,
    summary="Replace a managed site's settings",
    responses=problem_responses(400, 404, 413),
)
def replace_site(site_id: SiteIdPath, body: SiteReplace, store: StoreDep) -> Site:
    site = site_cases.update_site(
        site_id,
        sites=store,
        name=body.name,
        since=body.since,
        enabled=body.enabled,
        schedule=body.schedule,
        allow_empty=body.allow_empty,
    )
    return _site(site)


@router.patch(
    "/sites/{site_id}",
    response_model=Site,
    summary="Change some of a managed site's settings",
    responses=problem_responses(400, 404, 413),
)
def change_site(site_id: SiteIdPath, body: SitePatch, store: StoreDep) -> Site:
    changes: dict[str, Any] = body.model_dump(exclude_unset=True)
    return _site(site_cases.update_site(site_id, sites=store, **changes))


@router.delete(
    "/sites/{site_id}",
    status_code=204,
    response_class=Response,
    summary="Stop managing a site (its reports are kept)",
    responses=problem_responses(404),
)
def remove_site(site_id: SiteIdPath, store: StoreDep) -> None:
    site_cases.remove_site(site_id, sites=store)


def _site(site: ManagedSite) -> Site:
    return Site.model_validate(managed_site_to_dict(site))
