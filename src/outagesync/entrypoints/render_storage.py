"""Terminal rendering (Rich) of stored reports and managed sites. Presentation only: stdout tables.

Cells fold rather than truncate: an id or a timestamp is never shown cut short.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from outagesync.domain.models import ManagedSite
from outagesync.domain.reports import ReportPage, StoredReport
from outagesync.domain.serialize import isoformat

SHORT_ID = 12
_STATUS_STYLE = {"succeeded": "green", "dry_run": "cyan", "failed": "red", "interrupted": "yellow"}


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
        table.add_row(
            report.report_id[:SHORT_ID],
            _when(report.started_at, seconds=False),
            escape(report.site_id),
            _status(report.status.value),
            str(report.posted),
            str(report.post_status or "-"),
            escape(report.error.type) if report.error else "",
        )
    console.print(table)
    if page.next_cursor:
        console.print(f"more: add --cursor {page.next_cursor}", highlight=False)


def render_report(report: StoredReport, console: Console | None = None) -> None:
    console = console or Console()
    table = Table(show_header=False, title=f"report {report.report_id}", title_justify="left")
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    for label, value in _report_fields(report):
        table.add_row(label, value)
    console.print(table)
    items = report.items or ()
    if items:
        verb = "would be posted" if report.dry_run else "posted" if report.posted else "selected"
        shown = f"{len(items)} of {report.items_total}" if report.items_truncated else str(len(items))
        listing = Table(title=f"{shown} outages {verb}", title_justify="left")
        for column in ("id", "name", "begin", "end"):
            listing.add_column(column, overflow="fold")
        for item in items:
            listing.add_row(*(escape(text) for text in (item.id, item.name, item.begin, item.end)))
        console.print(listing)
    if report.items_truncated:
        console.print(f"only the first {len(items)} of {report.items_total} items were stored (digest above)")
    for record in report.invalid_records:
        console.print(f"[yellow]invalid record[/]: {escape(str(record))}", highlight=False)


def _report_fields(report: StoredReport) -> Iterable[tuple[str, str]]:
    calls = ", ".join(
        f"{escape(endpoint)}: {stats.attempts} ({stats.retries} retries)"
        for endpoint, stats in report.calls.items()
    )
    yield "site", escape(report.site_id)
    yield "status", _status(report.status.value)
    yield "run", f"{report.run_id} ({report.trigger.value}, {_status(report.run_status.value)})"
    yield "started / finished", f"{_when(report.started_at)} / {_when(report.finished_at)} UTC"
    yield "cutoff", isoformat(report.since)
    yield "fetched / site devices", f"{report.fetched} / {report.site_devices}"
    yield "kept", str(report.kept)
    dropped = report.dropped_before_cutoff, report.dropped_unknown_device
    yield "dropped", f"{dropped[0]} before the cutoff, {dropped[1]} for an unknown device"
    yield "invalid records", str(report.invalid_total)
    yield "requests", calls or "-"
    yield "POST", f"{report.post_status or '-'} {escape(report.upstream_message or '')}".strip()
    yield "posted", str(report.posted)
    yield "items", f"{report.items_total}, sha256 {report.items_digest}"
    if report.error:
        yield "error", f"[red]{escape(report.error.type)}[/]: {escape(report.error.message)}"


def render_sites(sites: list[ManagedSite], console: Console | None = None) -> None:
    console = console or Console()
    if not sites:
        console.print("no managed sites (add one with `outagesync sites add SITE_ID`)")
        return
    table = Table(title="managed sites", title_justify="left")
    for column in ("site", "name", "cutoff", "enabled", "updated (UTC)"):
        table.add_column(column, overflow="fold")
    for site in sites:
        table.add_row(*_site_cells(site))
    console.print(table)


def render_site(site: ManagedSite, console: Console | None = None) -> None:
    console = console or Console()
    table = Table(show_header=False)
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    site_cells = _site_cells(site)
    for label, value in zip(("site", "name", "cutoff", "enabled", "updated"), site_cells, strict=True):
        table.add_row(label, value)
    table.add_row("created", _when(site.created_at))
    console.print(table)


def _site_cells(site: ManagedSite) -> tuple[str, str, str, str, str]:
    return (
        escape(site.site_id),
        escape(site.name or "-"),
        isoformat(site.since) if site.since else "the run's",
        "[green]yes[/]" if site.enabled else "[yellow]no[/]",
        _when(site.updated_at),
    )


def _when(moment: datetime, *, seconds: bool = True) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def _status(value: str) -> str:
    style = _STATUS_STYLE.get(value)
    return f"[{style}]{value}[/]" if style else value
