"""Run reports in and out of the tables: rows from RunReport, StoredReport from rows, the report queries.

Functions take an open connection; the store owns transactions and error translation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import sqlalchemy as sa

from outagesync.adapters.storage.tables import runs, site_reports
from outagesync.domain.ids import REPORT_ID_MIN_PREFIX
from outagesync.domain.models import (
    CallStats,
    ErrorInfo,
    InvalidRecord,
    RunReport,
    RunStatus,
    SiteOutage,
    SiteResult,
    SiteStatus,
    Trigger,
)
from outagesync.domain.payload import payload_digest
from outagesync.domain.reports import ReportCursor, ReportFilter, ReportPage, RunInfo, StoredReport
from outagesync.errors import InvalidInput, ReportNotFound
from outagesync.presenters.json import items_to_builtins, site_counts

_RUN_COLUMNS = (
    runs.c.trigger,
    runs.c.status.label("run_status"),
    runs.c.dry_run,
    runs.c.upstream_url,
    runs.c.sandbox,
)


def save_run(connection: sa.Connection, report: RunReport, *, items_max: int) -> None:
    """Insert the run and its site reports; a run saved again replaces the earlier copy."""
    connection.execute(sa.delete(site_reports).where(site_reports.c.run_id == report.run_id))
    connection.execute(sa.delete(runs).where(runs.c.id == report.run_id))
    connection.execute(
        sa.insert(runs).values(
            id=report.run_id,
            trigger=report.trigger.value,
            status=report.status.value,
            dry_run=report.dry_run,
            started_at=report.started_at,
            finished_at=report.finished_at,
            settings_digest=report.settings_digest,
            upstream_url=report.upstream_url,
            sandbox=report.sandbox,
        )
    )
    if report.sites:
        rows = [_site_row(site, report.run_id, items_max) for site in report.sites]
        connection.execute(sa.insert(site_reports), rows)


def _site_row(site: SiteResult, run_id: str, items_max: int) -> dict[str, Any]:
    kept_items = site.items[:items_max]
    return {
        "id": site.report_id,
        "run_id": run_id,
        "site_id": site.site_id,
        "status": site.status.value,
        "started_at": site.started_at,
        "finished_at": site.finished_at,
        "since": site.since,
        **site_counts(site),  # the columns are named as in every report shape
        "invalid_records": [
            {"endpoint": r.endpoint, "index": r.index, "field": r.field, "problem": r.problem}
            for r in site.invalid_records[:items_max]
        ],
        # a list, not an object: JSONB reorders object keys, and the call order reads better
        "calls": [
            {"endpoint": endpoint, "attempts": stats.attempts} for endpoint, stats in site.calls.items()
        ],
        "post_status": site.post_status,
        "upstream_message": site.upstream_message,
        "upstream_detail": site.upstream_detail,
        "error_code": site.error.code if site.error else None,
        "error_message": site.error.message if site.error else None,
        "items": items_to_builtins(kept_items),
        "items_total": len(site.items),
        "items_digest": payload_digest(site.items),
        "items_truncated": len(kept_items) < len(site.items),
    }


def list_reports(
    connection: sa.Connection, where: ReportFilter, *, limit: int, after: ReportCursor | None
) -> ReportPage:
    """Reports matching `where`, newest first (by started_at, then id), without their items. A run id
    of 8+ characters may be a prefix (tables show 12): InvalidInput if it starts more than one run id."""
    where = _with_whole_run_id(connection, where)
    columns = [column for column in site_reports.c if column.name != "items"]
    query = sa.select(*columns, *_RUN_COLUMNS).join_from(site_reports, runs).where(*_conditions(where))
    if after is not None:
        query = query.where(
            sa.or_(
                site_reports.c.started_at < after.started_at,
                sa.and_(site_reports.c.started_at == after.started_at, site_reports.c.id < after.report_id),
            )
        )
    query = query.order_by(site_reports.c.started_at.desc(), site_reports.c.id.desc()).limit(limit + 1)
    rows = connection.execute(query).mappings().all()
    reports = tuple(_stored_report(row, with_items=False) for row in rows[:limit])
    more_after = None
    if len(rows) > limit:
        last = reports[-1].site
        more_after = ReportCursor(last.started_at, last.report_id)
    return ReportPage(reports, more_after)


def last_accepted_total(connection: sa.Connection, site_id: str) -> int | None:
    """The item count of the site's newest succeeded report; None if it has none."""
    query = (
        sa.select(site_reports.c.items_total)
        .where(site_reports.c.site_id == site_id, site_reports.c.status == SiteStatus.SUCCEEDED.value)
        .order_by(site_reports.c.started_at.desc(), site_reports.c.id.desc())
        .limit(1)
    )
    total = connection.execute(query).scalar_one_or_none()
    return None if total is None else int(total)


def get_report(connection: sa.Connection, report_id: str) -> StoredReport:
    """The report with its stored items, by id or unique id prefix; ReportNotFound otherwise."""
    query = sa.select(site_reports, *_RUN_COLUMNS).join_from(site_reports, runs)
    row = connection.execute(query.where(site_reports.c.id == report_id)).mappings().first()
    if row is None and len(report_id) >= REPORT_ID_MIN_PREFIX:
        by_prefix = query.where(site_reports.c.id.startswith(report_id, autoescape=True)).limit(2)
        rows = connection.execute(by_prefix).mappings().all()
        if len(rows) > 1:
            raise ReportNotFound(f"more than one report id starts with {report_id!r}: give more of it")
        row = rows[0] if rows else None
    if row is None:
        raise ReportNotFound(f"no report with id {report_id!r}")
    return _stored_report(row, with_items=True)


def count_reports(connection: sa.Connection, where: ReportFilter) -> int:
    """How many site reports match `where`."""
    where = _with_whole_run_id(connection, where)
    query = sa.select(sa.func.count()).select_from(site_reports).where(*_conditions(where))
    return int(connection.execute(query).scalar_one())


def delete_reports(connection: sa.Connection, where: ReportFilter) -> int:
    """Delete the matching site reports (and runs left without any); how many site reports went."""
    where = _with_whole_run_id(connection, where)
    deleted = connection.execute(sa.delete(site_reports).where(*_conditions(where))).rowcount
    orphan = ~sa.exists().where(site_reports.c.run_id == runs.c.id)
    connection.execute(sa.delete(runs).where(orphan))
    return int(deleted)


def delete_report(connection: sa.Connection, report_id: str) -> None:
    """Delete one site report (and its run if it was the last); ReportNotFound if there is none."""
    if delete_reports(connection, ReportFilter(report_id=report_id)) == 0:
        raise ReportNotFound(f"no report with id {report_id!r}")


def _with_whole_run_id(connection: sa.Connection, where: ReportFilter) -> ReportFilter:
    """`where` with its run id prefix (8+ characters, not a whole run id) replaced by the run id it starts;
    unchanged when none does. InvalidInput when several do."""
    prefix = where.run_id
    if prefix is None or len(prefix) < REPORT_ID_MIN_PREFIX:
        return where
    if connection.execute(sa.select(runs.c.id).where(runs.c.id == prefix)).first() is not None:
        return where
    query = sa.select(runs.c.id).where(runs.c.id.startswith(prefix, autoescape=True)).limit(2)
    found = connection.execute(query).scalars().all()
    if len(found) > 1:
        raise InvalidInput(f"more than one run id starts with {prefix!r}: give more of it")
    return replace(where, run_id=found[0]) if found else where


def _conditions(where: ReportFilter) -> Sequence[sa.ColumnElement[bool]]:
    table = site_reports.c
    conditions: list[sa.ColumnElement[bool]] = []
    if where.report_id is not None:
        conditions.append(table.id == where.report_id)
    if where.site_id is not None:
        conditions.append(table.site_id == where.site_id)
    if where.status is not None:
        conditions.append(table.status == where.status.value)
    if where.run_id is not None:
        conditions.append(table.run_id == where.run_id)
    if where.started_from is not None:
        conditions.append(table.started_at >= where.started_from)
    if where.started_before is not None:
        conditions.append(table.started_at < where.started_before)
    return conditions


def _stored_report(row: sa.RowMapping, *, with_items: bool) -> StoredReport:
    error = ErrorInfo(row["error_code"], row["error_message"] or "") if row["error_code"] else None
    items = tuple(SiteOutage(**item) for item in row["items"]) if with_items else ()
    site = SiteResult(
        report_id=row["id"],
        site_id=row["site_id"],
        status=SiteStatus(row["status"]),
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        since=row["since"],
        fetched=row["fetched"],
        site_devices=row["site_devices"],
        kept=row["kept"],
        dropped_before_cutoff=row["dropped_before_cutoff"],
        dropped_unknown_device=row["dropped_unknown_device"],
        invalid_records=tuple(InvalidRecord(**record) for record in row["invalid_records"]),
        calls={call["endpoint"]: CallStats(call["attempts"]) for call in row["calls"]},
        post_status=row["post_status"],
        upstream_message=row["upstream_message"],
        upstream_detail=row["upstream_detail"],
        error=error,
        items=items,
    )
    run = RunInfo(
        row["run_id"],
        Trigger(row["trigger"]),
        RunStatus(row["run_status"]),
        row["dry_run"],
        row["upstream_url"],
        bool(row["sandbox"]),
    )
    return StoredReport(
        site=site,
        run=run,
        invalid_total=row["invalid"],
        items_total=row["items_total"],
        items_digest=row["items_digest"],
        items_truncated=row["items_truncated"],
        items_loaded=with_items,
    )
