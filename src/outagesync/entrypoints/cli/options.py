"""Options several command groups share: dates, a site's cutoff, --json. Typer annotations only."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

import typer

from outagesync.domain.models import SiteStatus

STATUSES = ", ".join(status.value for status in SiteStatus)
DATE_HELP = "ISO 8601 date or time; no offset = UTC"
WHEN_HELP = "ISO 8601 date or time (no offset = UTC), or an age such as 7d, 12h, 30m, 1h30m (that long ago)"


def parse_date(text: str) -> datetime:
    """A date or time from the command line (no offset: UTC); a usage error (exit 2) otherwise."""
    from outagesync.domain.timestamps import parse_cutoff

    try:
        return parse_cutoff(text)
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is not ISO 8601: use e.g. 2024-05-01 or 2024-05-01T12:00:00Z"
        ) from None


def parse_when(text: str) -> datetime:
    """A time in a filter: ISO 8601, or an age (`7d`: seven days before now); a usage error otherwise."""
    from datetime import UTC

    from outagesync.domain.timestamps import parse_time_filter

    try:
        return parse_time_filter(text, datetime.now(UTC))
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is neither ISO 8601 nor an age: use e.g. 2024-05-01, 2024-05-01T12:00:00Z, 7d or 12h"
        ) from None


def parse_age(text: str) -> timedelta:
    """A duration from the command line (`90d`, `12h`); a usage error otherwise."""
    from outagesync.domain.timestamps import parse_duration

    try:
        return parse_duration(text)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None


SiteCutoff = Annotated[
    datetime | None,
    typer.Option(
        "--since",
        parser=parse_date,
        metavar="ISO8601",
        help=f"This site's cutoff, instead of the run's ({DATE_HELP}).",
    ),
]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON on stdout instead of a table.")]
