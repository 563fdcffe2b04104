"""Terminal rendering (Rich) of managed sites. Presentation only: stdout tables, cells fold, never cut."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from outagesync.domain.models import ManagedSite
from outagesync.domain.timestamps import isoformat
from outagesync.entrypoints.cli.render.styles import when


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
    table.add_row("schedule", escape(site.schedule) if site.schedule else "-")
    table.add_row("created", when(site.created_at))
    console.print(table)


def _site_cells(site: ManagedSite) -> tuple[str, str, str, str, str]:
    return (
        escape(site.site_id),
        escape(site.name or "-"),
        isoformat(site.since) if site.since else "the run's",
        "[green]yes[/]" if site.enabled else "[yellow]no[/]",
        when(site.updated_at),
    )
