"""The stdout console the commands render to."""

from __future__ import annotations

from rich.console import Console


def stdout(*, piped_width: int | None = None) -> Console:
    """A console on stdout; when stdout is not a terminal, `piped_width` columns if given."""
    console = Console(highlight=False)
    if piped_width is not None and not console.is_terminal:
        console.width = piped_width
    return console
