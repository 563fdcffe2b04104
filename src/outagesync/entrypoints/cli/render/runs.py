"""Terminal rendering of run reports (Rich). Presentation only."""

from __future__ import annotations

from collections import Counter

from rich.console import Console
from rich.markup import escape

from outagesync.defaults import INVALID_RECORDS_SHOWN
from outagesync.domain.models import RunReport, SiteResult, SiteStatus
from outagesync.entrypoints.cli.render.grid import Cell, Column, Grid, print_grid
from outagesync.entrypoints.cli.render.styles import SHORT_ID

RUN_COLUMNS = (
    Column("site", "id"),
    Column("status", "status"),
    *(
        Column(header, "number")
        for header in ("fetched", "devices", "kept", "before cutoff", "unknown device", "invalid", "posted")
    ),
    Column("requests (retries)", "number"),
    Column("POST", "number"),
    Column("error", "id"),  # the error's code; its message follows the table
)
ITEM_COLUMNS = (Column("id", "id"), Column("name"), Column("begin", "time"), Column("end", "time"))


def render_run(report: RunReport, console: Console, notes: Console) -> None:
    """The run's table on `console`; then, on `notes` (stdout on a terminal, stderr in a pipe), each
    failed site's message, its invalid records, what a dry run would post, and a summary line when the
    run has several sites."""
    title = f"run {report.run_id[:SHORT_ID]}: {report.status.value}"
    print_grid(Grid(RUN_COLUMNS, [_run_row(site) for site in report.sites], title), console, err=notes)
    for site in report.sites:
        if site.error is not None:
            message = f"[red]{escape(site.site_id)}[/]: {escape(site.error.message)}"
            notes.print(message, highlight=False, soft_wrap=True)  # one line, for grep
            if site.upstream_detail is not None:
                from outagesync.presenters.json import detail_text

                detail = escape(detail_text(site.upstream_detail))
                notes.print(
                    f"[red]{escape(site.site_id)}[/]: upstream detail: {detail}",
                    highlight=False,
                    soft_wrap=True,
                )
        what = "skipped invalid record" if site.ok else "invalid record"
        for record in site.invalid_records[:INVALID_RECORDS_SHOWN]:
            notes.print(
                f"[yellow]{escape(site.site_id)}[/]: {what}: {escape(str(record))}",
                highlight=False,
                soft_wrap=True,
            )
        hidden = len(site.invalid_records) - INVALID_RECORDS_SHOWN
        if hidden > 0:
            notes.print(f"[yellow]{escape(site.site_id)}[/]: and {hidden:,} more invalid records")
    if report.dry_run:
        render_would_post(report, notes)
    if len(report.sites) > 1:
        notes.print(run_summary(report), highlight=False, soft_wrap=True)


def run_summary(report: RunReport) -> str:
    """`1,000 sites: 998 succeeded, 2 failed · posted 123,456 items` (a dry run: `would post`)."""
    counts = Counter(site.status for site in report.sites)
    statuses = ", ".join(  # in SiteStatus's order: succeeded first
        f"{counts[status]:,} {status.value.replace('_', ' ')}" for status in SiteStatus if counts[status]
    )
    if report.dry_run:
        items = sum(len(site.items) for site in report.sites if site.status is SiteStatus.DRY_RUN)
        verb = "would post"
    else:
        items = sum(site.posted for site in report.sites)
        verb = "posted"
    plural = "" if items == 1 else "s"
    return f"{len(report.sites):,} sites: {statuses} · {verb} {items:,} item{plural}"


def _run_row(site: SiteResult) -> tuple[Cell, ...]:
    """A site's figures; `None` (shown `-`) for what it did not get to (a request never made)."""
    fetched = "GET /outages" in site.calls
    devices = "GET /site-info" in site.calls and (site.site_devices > 0 or _selected(site))
    selected = fetched and devices and _selected(site)
    attempts = sum(stats.attempts for stats in site.calls.values())
    retries = sum(stats.retries for stats in site.calls.values())
    return (
        site.site_id,
        site.status.value,
        site.fetched if fetched else None,
        site.site_devices if devices else None,
        *((site.kept, site.dropped_before_cutoff, site.dropped_unknown_device) if selected else (None,) * 3),
        len(site.invalid_records),
        site.posted if site.status is SiteStatus.SUCCEEDED else None,
        f"{attempts:,} ({retries:,})" if site.calls else None,
        site.post_status,
        site.error.code if site.error else None,
    )


def _selected(site: SiteResult) -> bool:
    """Whether the site's outages were selected (kept/dropped mean something): it failed after that."""
    if site.error is None or site.post_status is not None or site.error.code == "empty-list-refused":
        return True
    return site.kept + site.dropped_before_cutoff + site.dropped_unknown_device > 0


def render_items(site: SiteResult, console: Console, notes: Console, *, limit: int = 200) -> None:
    """The items that would be posted (dry run)."""
    rows: list[tuple[Cell, ...]] = [(item.id, item.name, item.begin, item.end) for item in site.items[:limit]]
    print_grid(Grid(ITEM_COLUMNS, rows, f"{site.site_id}: {_would_post(site)}"), console, err=notes)
    if len(site.items) > limit:
        notes.print(f"and {len(site.items) - limit:,} more (use --json to see them all)", soft_wrap=True)


def render_would_post(report: RunReport, console: Console) -> None:
    """One line per computed site of a dry run: what a sync would post (for 0: that it clears the list)."""
    for site in report.sites:
        if site.status is SiteStatus.DRY_RUN:
            line = f"{escape(site.site_id)}: {_would_post(site)}"
            if not site.items:
                line += " (posting [] would clear the site's list; refused if it was not empty)"
            console.print(line, highlight=False, soft_wrap=True)


def _would_post(site: SiteResult) -> str:
    count = len(site.items)
    return f"would post {count:,} outage{'' if count == 1 else 's'}"
