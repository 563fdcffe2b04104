"""Options several command groups share: dates, a site's cutoff, --json. Typer annotations only."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer

from outagesync.domain.models import SiteStatus

STATUSES = ", ".join(status.value for status in SiteStatus)
DATE_HELP = "ISO 8601 date or time; no offset = UTC"


def parse_date(text: str) -> datetime:
    """A date or time from the command line (no offset: UTC); a usage error (exit 2) otherwise."""
    from outagesync.domain.timestamps import parse_cutoff

    try:
        return parse_cutoff(text)
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is not ISO 8601: use e.g. 2024-05-01 or 2024-05-01T12:00:00Z"
        ) from None


SiteCutoff = Annotated[
    datetime | None,
    typer.Option(
        "--since",
        parser=parse_date,
        metavar="DATE",
        help=f"This site's cutoff, instead of the run's ({DATE_HELP}).",
    ),
]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON on stdout instead of a table.")]
