"""Identifier and name rules: site ids (they go into upstream URLs), report ids, display names. Pure.

The one home of these rules: the REST API's schema patterns are these patterns.
"""

from __future__ import annotations

import re

from outagesync.errors import InvalidInput, InvalidSiteId, ReportNotFound

SITE_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._~-]{0,127}$"
SITE_ID_RULE = "1-128 letters, digits, '-', '_', '.' or '~', starting with a letter or digit"
REPORT_ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
REPORT_ID_MIN_PREFIX = 8  # `reports show` takes an id prefix this long, as tables show shortened ids
MAX_NAME_LENGTH = 200

_SITE_ID = re.compile(SITE_ID_PATTERN)
_REPORT_ID = re.compile(REPORT_ID_PATTERN)


def check_site_id(site_id: str) -> str:
    """The site id if it is safe to put in an upstream URL path, else InvalidSiteId."""
    if not _SITE_ID.fullmatch(site_id):
        raise InvalidSiteId(f"invalid site id {site_id!r}: use {SITE_ID_RULE}")
    return site_id


def check_report_id(report_id: str) -> str:
    """The report (or run) id if it could be one, else ReportNotFound: no such id can exist."""
    if not _REPORT_ID.fullmatch(report_id):
        raise ReportNotFound(f"no report with id {report_id!r}")
    return report_id


def check_name(name: str | None) -> str | None:
    """A display name, stripped; None for none or blank; InvalidInput if too long or unprintable."""
    if name is None or not name.strip():
        return None
    name = name.strip()
    if len(name) > MAX_NAME_LENGTH or not name.isprintable():
        raise InvalidInput(f"invalid site name: use at most {MAX_NAME_LENGTH} printable characters")
    return name
