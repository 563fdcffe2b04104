"""Use cases on managed sites (the sites `sync --all` keeps in sync): add, list, show, update, remove.

Plain functions over a SiteStore port; they check their inputs and never print or read settings.
"""

from __future__ import annotations

from datetime import datetime

from outagesync.domain.ids import check_name, check_site_id
from outagesync.domain.models import ManagedSite
from outagesync.domain.reports import check_aware, check_limit
from outagesync.domain.schedules import check_schedule
from outagesync.domain.sites import KEEP, Keep, SiteChanges
from outagesync.errors import InvalidInput
from outagesync.services.ports import SiteStore


def add_site(
    site_id: str,
    *,
    sites: SiteStore,
    name: str | None = None,
    since: datetime | None = None,
    enabled: bool = True,
    schedule: str | None = None,
    allow_empty: bool = False,
) -> ManagedSite:
    """Start managing a site. `name` is for display ("" means none); `since` (aware) overrides the cutoff;
    `schedule` (cron, UTC; "" means none) is when the queue's workers sync it; `allow_empty`: an
    empty list may be posted to it even when its last accepted list was not empty.

    Raises InvalidSiteId, InvalidInput for a bad name, naive `since` or bad cron, SiteAlreadyManaged.
    """
    return sites.add_site(
        check_site_id(site_id),
        name=check_name(name),
        since=check_aware("cutoff", since),
        enabled=enabled,
        schedule=check_schedule(schedule),
        allow_empty=allow_empty,
    )


def list_sites(
    *, sites: SiteStore, enabled_only: bool = False, limit: int | None = None, after: str | None = None
) -> list[ManagedSite]:
    """Managed sites by site id: all of them, or `limit` (1..500) after the site id `after`."""
    return sites.list_sites(
        enabled_only=enabled_only,
        limit=check_limit(limit) if limit is not None else None,
        after=after,
    )


def get_site(site_id: str, *, sites: SiteStore) -> ManagedSite:
    """The managed site; SiteNotManaged if it is not managed."""
    return sites.get_site(check_site_id(site_id))


def update_site(
    site_id: str,
    *,
    sites: SiteStore,
    name: str | Keep | None = KEEP,
    since: datetime | Keep | None = KEEP,
    enabled: bool | Keep = KEEP,
    schedule: str | Keep | None = KEEP,
    allow_empty: bool | Keep = KEEP,
) -> ManagedSite:
    """Change what is given (None or "" clears name, since or schedule; KEEP leaves a field alone); the
    updated site.

    Raises InvalidInput when nothing is to change or the cron is invalid, SiteNotManaged when the site
    is not managed.
    """
    changes = SiteChanges(
        name=name if name is KEEP else check_name(name),
        since=since if since is KEEP else check_aware("cutoff", since),
        enabled=enabled,
        schedule=schedule if schedule is KEEP else check_schedule(schedule),
        allow_empty=allow_empty,
    )
    if changes.is_empty:
        raise InvalidInput(
            "nothing to update: give a new name, cutoff, schedule, enabled flag or allow-empty flag"
        )
    return sites.update_site(check_site_id(site_id), changes)


def remove_site(site_id: str, *, sites: SiteStore) -> None:
    """Stop managing a site (its reports are kept); SiteNotManaged if it is not managed."""
    sites.remove_site(check_site_id(site_id))
