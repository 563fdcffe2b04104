"""Terminal rendering (Rich) of managed sites. Presentation only: a stdout table (render.grid), and a
site as `label: value` lines; nothing is cut."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape

from outagesync.domain.models import ManagedSite
from outagesync.domain.timestamps import isoformat
from outagesync.entrypoints.cli.render.console import notes_for, stdout
from outagesync.entrypoints.cli.render.grid import Cell, Column, Grid, print_grid
from outagesync.entrypoints.cli.render.styles import when

SITE_COLUMNS = (
    Column("site", "id"),
    Column("name"),
    Column("cutoff", "time"),
    Column("enabled", "id"),
    Column("schedule"),
    Column("updated (UTC)", "time"),
)


def render_sites(sites: list[ManagedSite], console: Console | None = None) -> None:
    console = console or stdout()
    notes = notes_for(console)
    if not sites:
        notes.print("no managed sites (add one with `outagesync sites add SITE_ID`)", soft_wrap=True)
        return
    rows: list[tuple[Cell, ...]] = [
        (
            site.site_id,
            site.name or None,
            isoformat(site.since) if site.since else "the run's",
            "yes" if site.enabled else "no",
            site.schedule or None,
            when(site.updated_at),
        )
        for site in sites
    ]
    print_grid(Grid(SITE_COLUMNS, rows, "managed sites"), console, err=notes)


def render_site(site: ManagedSite, console: Console | None = None) -> None:
    console = console or stdout()
    fields = (
        ("site", escape(site.site_id)),
        ("name", escape(site.name or "-")),
        ("cutoff", isoformat(site.since) if site.since else "the run's"),
        ("enabled", "[green]yes[/]" if site.enabled else "[yellow]no[/]"),
        ("updated", when(site.updated_at)),
        ("schedule", escape(site.schedule) if site.schedule else "-"),
        (
            "allow empty list",
            "yes" if site.allow_empty else "no (an empty list over a non-empty one is refused)",
        ),
        ("created", when(site.created_at)),
    )
    for label, value in fields:
        console.print(f"[bold]{label}[/]: {value}", highlight=False, soft_wrap=True)
