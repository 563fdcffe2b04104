"""The stdout console the commands render to."""

from __future__ import annotations

from rich.console import Console

from outagesync.entrypoints.cli.console import is_quiet, stderr


def stdout() -> Console:
    """A console on stdout, silent under --quiet (docs/cli.md: --quiet prints only errors)."""
    return Console(highlight=False, quiet=is_quiet())


def notes_for(out: Console) -> Console:
    """Where the lines around a table go: `out` on a terminal; in a pipe stderr, so that stdout holds
    nothing but the tab-separated rows."""
    return out if out.is_terminal else stderr()
