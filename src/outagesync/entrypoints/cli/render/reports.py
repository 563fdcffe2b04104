"""Terminal rendering (Rich) of stored reports. Presentation only: stdout tables.

Cells fold rather than truncate: an id or a timestamp is never shown cut short.
"""

from __future__ import annotations

from collections.abc import Iterable

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from outagesync.domain.reports import ReportPage, StoredReport
from outagesync.domain.timestamps import isoformat
from outagesync.entrypoints.cli.render.styles import SHORT_ID, styled_status, when
from outagesync.presenters.cursors import next_cursor


def render_report_page(page: ReportPage, console: Console | None = None) -> None:
    console = console or Console()
    if not page.reports:
        console.print("no reports")
        return
    table = Table(title="site reports, newest first", title_justify="left", box=box.SIMPLE_HEAD)
    table.add_column("id", no_wrap=True)  # shortened: `reports show` accepts a prefix (--json has it whole)
    table.add_column("started (UTC)", no_wrap=True)
    for column in ("site", "status", "posted", "POST", "error"):
        table.add_column(column, justify="right" if column in ("posted", "POST") else "left", overflow="fold")
    for report in page.reports:
        site = report.site
        table.add_row(
            site.report_id[:SHORT_ID],
            when(site.started_at, seconds=False),
            escape(site.site_id),
            styled_status(site.status.value),
            str(report.posted),
            str(site.post_status or "-"),
            escape(site.error.code) if site.error else "",
        )
    console.print(table)
    token = next_cursor(page)
    if token:
        console.print(f"more: add --cursor {token}", highlight=False)


def render_report(report: StoredReport, console: Console | None = None) -> None:
    console = console or Console()
    table = Table(show_header=False, title=f"report {report.report_id}", title_justify="left")
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    for label, value in _report_fields(report):
        table.add_row(label, value)
    console.print(table)
    items = report.site.items
    if items:
        verb = "would be posted" if report.run.dry_run else "posted" if report.posted else "selected"
        shown = f"{len(items)} of {report.items_total}" if report.items_truncated else str(len(items))
        listing = Table(title=f"{shown} outages {verb}", title_justify="left")
        for column in ("id", "name", "begin", "end"):
            listing.add_column(column, overflow="fold")
        for item in items:
            listing.add_row(*(escape(text) for text in (item.id, item.name, item.begin, item.end)))
        console.print(listing)
    if report.items_truncated:
        console.print(f"only the first {len(items)} of {report.items_total} items were stored (digest above)")
    for record in report.site.invalid_records:
        console.print(f"[yellow]invalid record[/]: {escape(str(record))}", highlight=False)


def _report_fields(report: StoredReport) -> Iterable[tuple[str, str]]:
    site, run = report.site, report.run
    calls = ", ".join(
        f"{escape(endpoint)}: {stats.attempts} ({stats.retries} retries)"
        for endpoint, stats in site.calls.items()
    )
    yield "site", escape(site.site_id)
    yield "status", styled_status(site.status.value)
    yield "run", f"{run.run_id} ({run.trigger.value}, {styled_status(run.status.value)})"
    yield "started / finished", f"{when(site.started_at)} / {when(site.finished_at)} UTC"
    yield "cutoff", isoformat(site.since)
    yield "fetched / site devices", f"{site.fetched} / {site.site_devices}"
    yield "kept", str(site.kept)
    dropped = site.dropped_before_cutoff, site.dropped_unknown_device
    yield "dropped", f"{dropped[0]} before the cutoff, {dropped[1]} for an unknown device"
    yield "invalid records", str(report.invalid_total)
    yield "requests", calls or "-"
    yield "POST", f"{site.post_status or '-'} {escape(site.upstream_message or '')}".strip()
    yield "posted", str(report.posted)
    yield "items", f"{report.items_total}, sha256 {report.items_digest}"
    if site.error:
        yield "error", f"[red]{escape(site.error.code)}[/]: {escape(site.error.message)}"
