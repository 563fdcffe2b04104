"""Terminal rendering of a diff between two outage lists: one line per added (+), removed (-) and
changed (~) item, unified-diff style, so it reads in a terminal and greps in a pipe."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape

from outagesync.domain.diff import ItemsDiff
from outagesync.domain.models import SiteOutage
from outagesync.services.reports import ReportsDiff

MAX_LINES = 200  # per diff on a terminal; --json has every item


def _item(item: SiteOutage) -> str:
    return escape(f"{item.id}  {item.begin} → {item.end}  {item.name}")


def render_items_diff(diff: ItemsDiff, console: Console, *, title: str, limit: int = MAX_LINES) -> None:
    """`title`, the counts, then the changed lines (at most `limit`, then how many more)."""
    counts = (
        f"{len(diff.added):,} added, {len(diff.removed):,} removed, {len(diff.changed):,} changed, "
        f"{diff.unchanged:,} unchanged"
    )
    console.print(f"{title}: {'no change' if diff.is_empty else counts}", soft_wrap=True)
    lines: list[str] = [f"[green]+ {_item(item)}[/]" for item in diff.added]
    lines += [f"[red]- {_item(item)}[/]" for item in diff.removed]
    for change in diff.changed:
        before, after = change.before, change.after
        what = ", ".join(
            f"{name} {escape(getattr(before, name))} → {escape(getattr(after, name))}"
            for name in change.fields
        )
        lines.append(f"[yellow]~ {escape(after.id)}  {escape(after.begin)}  {what}[/]")
    for line in lines[:limit]:
        console.print(f"  {line}", soft_wrap=True, highlight=False)
    if len(lines) > limit:
        console.print(f"  and {len(lines) - limit:,} more (see --json for all)", soft_wrap=True)


def render_reports_diff(diff: ReportsDiff, console: Console) -> None:
    after = diff.after
    if diff.before is None:
        title = f"{escape(after.site.site_id)}: report {after.report_id} against no earlier accepted list"
    else:
        title = f"{escape(after.site.site_id)}: report {diff.before.report_id} → {after.report_id}"
    render_items_diff(diff.items, console, title=title)
    if not diff.complete:
        console.print(
            "[yellow]note[/]: a report's stored items were cut to the items limit "
            "(OUTAGESYNC_REPORT_ITEMS_MAX): the diff covers the stored items only",
            soft_wrap=True,
        )
