"""The fleet overview's query: every site's activity from the reports, in three queries whatever the number
of sites (window functions: SQLite 3.25+ and PostgreSQL). The items column is never read.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from outagesync.adapters.storage.tables import site_reports
from outagesync.domain.fleet import SiteActivity
from outagesync.domain.models import SiteStatus

_T = site_reports.c


def site_activity(connection: sa.Connection, *, failures_from: datetime, trend: int) -> list[SiteActivity]:
    """Each site's newest `trend` reports, its newest success and its failures since `failures_from`."""
    recent = _newest(connection, [_T.id, _T.status, _T.started_at, _T.error_code], None, trend)
    successes = _newest(
        connection, [_T.started_at, _T.items_total], _T.status == SiteStatus.SUCCEEDED.value, 1
    )
    failed = (
        sa.select(_T.site_id, sa.func.count())
        .where(_T.status == SiteStatus.FAILED.value, _T.started_at >= failures_from)
        .group_by(_T.site_id)
    )
    failures: dict[str, int] = {site_id: int(count) for site_id, count in connection.execute(failed)}
    activity = []
    for site_id, rows in recent.items():
        last = rows[0]
        success = successes.get(site_id, [None])[0]
        activity.append(
            SiteActivity(
                site_id=site_id,
                last_status=SiteStatus(last["status"]),
                last_run_at=last["started_at"],
                last_report_id=last["id"],
                last_error_code=last["error_code"],
                last_success_at=success["started_at"] if success else None,
                posted_last=int(success["items_total"]) if success else None,
                failures=failures.get(site_id, 0),
                recent=tuple(SiteStatus(row["status"]) for row in rows),
            )
        )
    return activity


def _newest(
    connection: sa.Connection,
    columns: list[sa.ColumnElement[Any]],
    where: sa.ColumnElement[bool] | None,
    count: int,
) -> dict[str, list[sa.RowMapping]]:
    """Per site id, its `count` newest reports matching `where` (newest first): `columns` of each."""
    rank = (
        sa.func.row_number()
        .over(partition_by=_T.site_id, order_by=(_T.started_at.desc(), _T.id.desc()))
        .label("rank")
    )
    inner = sa.select(_T.site_id, *columns, rank)
    if where is not None:
        inner = inner.where(where)
    ranked = inner.subquery()
    query = sa.select(ranked).where(ranked.c.rank <= count).order_by(ranked.c.site_id, ranked.c.rank)
    by_site: dict[str, list[sa.RowMapping]] = {}
    for row in connection.execute(query).mappings():
        by_site.setdefault(row["site_id"], []).append(row)
    return by_site
