"""Managed sites in and out of the `managed_sites` table.

Functions take an open connection; the store owns transactions, the clock and error translation.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from outagesync.adapters.storage.tables import managed_sites
from outagesync.domain.models import ManagedSite
from outagesync.domain.sites import KEEP, SiteChanges
from outagesync.errors import SiteAlreadyManaged, SiteNotManaged


def site_ids_starting(connection: sa.Connection, prefix: str, *, limit: int) -> list[str]:
    """Managed site ids that start with `prefix`, in order, at most `limit` (none before the schema)."""
    if not sa.inspect(connection).has_table(managed_sites.name):
        return []
    column = managed_sites.c.site_id
    query = sa.select(column).where(column.startswith(prefix, autoescape=True)).order_by(column).limit(limit)
    return list(connection.scalars(query))


def list_sites(
    connection: sa.Connection, *, enabled_only: bool, limit: int | None, after: str | None
) -> list[ManagedSite]:
    """Managed sites ordered by site id, those after `after` only, at most `limit`."""
    query = sa.select(managed_sites).order_by(managed_sites.c.site_id)
    if enabled_only:
        query = query.where(managed_sites.c.enabled.is_(True))
    if after is not None:
        query = query.where(managed_sites.c.site_id > after)
    if limit is not None:
        query = query.limit(limit)
    return [_site(row) for row in connection.execute(query).mappings()]


def get_site(connection: sa.Connection, site_id: str) -> ManagedSite:
    """The managed site with that id; SiteNotManaged if there is none."""
    row = (
        connection.execute(sa.select(managed_sites).where(managed_sites.c.site_id == site_id))
        .mappings()
        .first()
    )
    if row is None:
        raise SiteNotManaged(f"site {site_id!r} is not managed")
    return _site(row)


def add_site(connection: sa.Connection, site: ManagedSite) -> None:
    """Insert `site`; SiteAlreadyManaged if its id is taken (also when another writer just took it)."""
    try:
        connection.execute(
            sa.insert(managed_sites).values(
                site_id=site.site_id,
                name=site.name,
                since=site.since,
                enabled=site.enabled,
                schedule=site.schedule,
                allow_empty=site.allow_empty,
                created_at=site.created_at,
                updated_at=site.updated_at,
            )
        )
    except sa.exc.IntegrityError:
        raise SiteAlreadyManaged(f"site {site.site_id!r} is already managed") from None


def update_site(
    connection: sa.Connection, site_id: str, changes: SiteChanges, *, now: datetime
) -> ManagedSite:
    """Apply `changes` (fields at KEEP stay as they are); SiteNotManaged if the site is not there."""
    values: dict[str, Any] = {"updated_at": now}
    if changes.name is not KEEP:
        values["name"] = changes.name
    if changes.since is not KEEP:
        values["since"] = changes.since
    if changes.enabled is not KEEP:
        values["enabled"] = changes.enabled
    if changes.schedule is not KEEP:
        values["schedule"] = changes.schedule
    if changes.allow_empty is not KEEP:
        values["allow_empty"] = changes.allow_empty
    statement = sa.update(managed_sites).where(managed_sites.c.site_id == site_id).values(**values)
    if connection.execute(statement).rowcount == 0:
        raise SiteNotManaged(f"site {site_id!r} is not managed")
    return get_site(connection, site_id)


def remove_site(connection: sa.Connection, site_id: str) -> None:
    """Delete the site (its reports stay); SiteNotManaged if it is not there."""
    statement = sa.delete(managed_sites).where(managed_sites.c.site_id == site_id)
    if connection.execute(statement).rowcount == 0:
        raise SiteNotManaged(f"site {site_id!r} is not managed")


def _site(row: sa.RowMapping) -> ManagedSite:
    return ManagedSite(
        site_id=row["site_id"],
        name=row["name"],
        since=row["since"],
        enabled=row["enabled"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        schedule=row["schedule"],
        allow_empty=bool(row["allow_empty"]),
    )
