"""How statuses look in a terminal: one table for every renderer."""

from __future__ import annotations

from datetime import datetime

STATUS_STYLES = {
    "succeeded": "green",
    "dry_run": "cyan",
    "failed": "red",
    "partial": "yellow",
    "interrupted": "yellow",
}
SHORT_ID = 12  # ids in tables are shortened to this (`reports show` accepts a prefix; --json has them whole)


def styled_status(value: str) -> str:
    """The status as Rich markup in its colour (unknown statuses plain)."""
    style = STATUS_STYLES.get(value)
    return f"[{style}]{value}[/]" if style else value


def when(moment: datetime, *, seconds: bool = True) -> str:
    """A UTC time for tables: to the second, or to the minute."""
    return moment.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")
