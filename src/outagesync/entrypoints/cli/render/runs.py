"""Terminal rendering of run reports (Rich). Presentation only."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from outagesync.defaults import INVALID_RECORDS_SHOWN
from outagesync.domain.models import RunReport, SiteResult, SiteStatus
from outagesync.entrypoints.cli.render.styles import SHORT_ID, styled_status


def render_run(report: RunReport, console: Console) -> None:
    table = Table(title=f"run {report.run_id[:SHORT_ID]}: {report.status.value}", title_justify="left")
    table.add_column("site", no_wrap=True)
    table.add_column("status", no_wrap=True)
    for column in ("fetched", "devices", "kept", "before cutoff", "unknown device", "invalid", "posted"):
        table.add_column(column, justify="right")
    table.add_column("requests (retries)", justify="right")
    table.add_column("POST", justify="right")
    for site in report.sites:
        table.add_row(
            escape(site.site_id),
            styled_status(site.status.value),
            str(site.fetched),
            str(site.site_devices),
            str(site.kept),
            str(site.dropped_before_cutoff),
            str(site.dropped_unknown_device),
            str(len(site.invalid_records)),
            str(site.posted),
            _calls(site),
            str(site.post_status or "-"),
        )
    console.print(table)
    for site in report.sites:
        if site.error is not None:
            message = f"[red]{escape(site.site_id)}[/]: {escape(site.error.message)}"
            console.print(message, highlight=False, soft_wrap=True)  # one line, for grep
        for record in site.invalid_records[:INVALID_RECORDS_SHOWN]:
            console.print(
                f"[yellow]{site.site_id}[/]: skipped invalid record: {escape(str(record))}", highlight=False
            )
        hidden = len(site.invalid_records) - INVALID_RECORDS_SHOWN
        if hidden > 0:
            console.print(f"[yellow]{site.site_id}[/]: … and {hidden} more invalid records")


def render_items(site: SiteResult, console: Console, *, limit: int = 200) -> None:
    """The items that would be posted (dry run)."""
    table = Table(title=f"{escape(site.site_id)}: {_would_post(site)}", title_justify="left")
    for column in ("id", "name", "begin", "end"):
        table.add_column(column)
    for item in site.items[:limit]:
        table.add_row(*(escape(text) for text in (item.id, item.name, item.begin, item.end)))
    console.print(table)
    if len(site.items) > limit:
        console.print(f"… {len(site.items) - limit} more (use --json to see them all)")


def render_would_post(report: RunReport, console: Console) -> None:
    """One line per computed site of a dry run: what a sync would post (for 0: that it clears the list)."""
    for site in report.sites:
        if site.status is SiteStatus.DRY_RUN:
            line = f"{escape(site.site_id)}: {_would_post(site)}"
            if not site.items:
                line += " (posting [] would clear the site's list; refused if it was not empty)"
            console.print(line, highlight=False)


def _would_post(site: SiteResult) -> str:
    count = len(site.items)
    return f"would post {count:,} outage{'' if count == 1 else 's'}"


def _calls(site: SiteResult) -> str:
    attempts = sum(stats.attempts for stats in site.calls.values())
    retries = sum(stats.retries for stats in site.calls.values())
    return f"{attempts} ({retries})"
