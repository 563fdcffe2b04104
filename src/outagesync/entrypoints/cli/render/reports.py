"""Terminal rendering (Rich) of stored reports. Presentation only: stdout tables (render.grid), and a
report as `label: value` lines. Nothing is cut: ids, digests and timestamps are printed whole.
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.console import Console
from rich.markup import escape

from outagesync.domain.reports import ReportPage, StoredReport
from outagesync.domain.timestamps import isoformat
from outagesync.entrypoints.cli.render.console import notes_for, stdout
from outagesync.entrypoints.cli.render.grid import Cell, Column, Grid, print_grid
from outagesync.entrypoints.cli.render.runs import ITEM_COLUMNS
from outagesync.entrypoints.cli.render.styles import SHORT_ID, styled_status, when
from outagesync.presenters.cursors import next_cursor

PAGE_COLUMNS = (
    Column("id", "id"),  # shortened: every command taking an id accepts it (--json has it whole)
    Column("started (UTC)", "time"),
    Column("site", "id"),
    Column("status", "status"),
    Column("posted", "number"),
    Column("POST", "number"),
    Column("error", "id"),
)


def render_report_page(
    page: ReportPage, console: Console | None = None, *, title: str = "site reports, newest first"
) -> None:
    console = console or stdout()
    notes = notes_for(console)
    if not page.reports:
        notes.print("no reports")
        return
    rows: list[tuple[Cell, ...]] = [
        (
            report.site.report_id[:SHORT_ID],
            when(report.site.started_at, seconds=False),
            report.site.site_id,
            report.site.status.value,
            report.posted if report.site.post_status is not None else None,
            report.site.post_status,
            report.site.error.code if report.site.error else None,
        )
        for report in page.reports
    ]
    print_grid(Grid(PAGE_COLUMNS, rows, title), console, err=notes)
    token = next_cursor(page)
    if token:
        notes.print(f"more: add --cursor {token}", highlight=False, soft_wrap=True)  # never split


def render_report(report: StoredReport, console: Console | None = None) -> None:
    console = console or stdout()
    notes = notes_for(console)
    console.print(f"report {report.report_id}", highlight=False, soft_wrap=True)
    for label, value in _report_fields(report):
        console.print(f"[bold]{label}[/]: {value}", highlight=False, soft_wrap=True)
    items = report.site.items
    if items:
        verb = "would be posted" if report.run.dry_run else "posted" if report.posted else "selected"
        shown = f"{len(items):,} of {report.items_total:,}" if report.items_truncated else f"{len(items):,}"
        console.print()
        rows: list[tuple[Cell, ...]] = [(item.id, item.name, item.begin, item.end) for item in items]
        print_grid(
            Grid(ITEM_COLUMNS, rows, f"{shown} outage{'' if len(items) == 1 else 's'} {verb}"),
            console,
            err=notes,
        )
    if report.items_truncated:
        notes.print(
            f"only the first {len(items):,} of {report.items_total:,} items were stored (digest above)"
        )
    for record in report.site.invalid_records:
        notes.print(f"[yellow]invalid record[/]: {escape(str(record))}", highlight=False, soft_wrap=True)


def _report_fields(report: StoredReport) -> Iterable[tuple[str, str]]:
    site, run = report.site, report.run
    calls = ", ".join(
        f"{escape(endpoint)}: {stats.attempts:,} ({stats.retries:,} retries)"
        for endpoint, stats in site.calls.items()
    )
    yield "site", escape(site.site_id)
    yield "status", styled_status(site.status.value)
    yield "run", f"{run.run_id} ({run.trigger.value}, {styled_status(run.status.value)})"
    yield "started / finished", f"{when(site.started_at)} / {when(site.finished_at)} UTC"
    yield "cutoff", isoformat(site.since)
    yield "fetched / site devices", f"{site.fetched:,} / {site.site_devices:,}"
    yield "kept", f"{site.kept:,}"
    dropped = site.dropped_before_cutoff, site.dropped_unknown_device
    yield "dropped", f"{dropped[0]:,} before the cutoff, {dropped[1]:,} for an unknown device"
    yield "invalid records", f"{report.invalid_total:,}"
    yield "requests", calls or "-"
    yield "POST", f"{site.post_status or '-'} {escape(site.upstream_message or '')}".strip()
    yield "posted", f"{report.posted:,}"
    yield "items", f"{report.items_total:,}, sha256 {report.items_digest}"
    if site.error:
        yield "error", f"[red]{escape(site.error.code)}[/]: {escape(site.error.message)}"
    if site.upstream_detail is not None:
        from outagesync.presenters.json import detail_text

        yield "upstream detail", escape(detail_text(site.upstream_detail))
