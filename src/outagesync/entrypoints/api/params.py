"""Path and query parameters several routes share, as `Annotated` aliases (patterns from domain.ids)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

from outagesync.domain.ids import REPORT_ID_PATTERN, SITE_ID_PATTERN, SITE_ID_RULE
from outagesync.entrypoints.api.schemas import InstantIn

SiteIdPath = Annotated[
    str, Path(pattern=SITE_ID_PATTERN, description=f"{SITE_ID_RULE}.", examples=["norwich-pear-tree"])
]
ReportIdPath = Annotated[str, Path(pattern=REPORT_ID_PATTERN, examples=["5f0c6b7e9d8a4b0e8f1c2d3e4a5b6c7d"])]
Since = Annotated[
    InstantIn | None,
    Query(
        description="Cutoff (ISO 8601 with an offset); default: the managed site's own, else the service's.",
        examples=["2022-01-01T00:00:00Z"],
    ),
]
DryRun = Annotated[bool, Query(description="Post nothing; the report says what would have been posted.")]
SkipInvalid = Annotated[
    bool,
    Query(description="Drop invalid upstream records (listed in the report) instead of failing the site."),
]
AllowEmpty = Annotated[
    bool,
    Query(
        description="Post an empty list even when the site's last accepted list was not empty (this "
        "clears it); without it, such a site fails `empty-list-refused`."
    ),
]
