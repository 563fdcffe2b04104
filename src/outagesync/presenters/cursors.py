"""The opaque page tokens of report listings: a ReportCursor as URL-safe text, and back.

Entry points decode what a caller passes (`--cursor`, `?cursor=`) and encode what they show.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime

from outagesync.domain.reports import ReportCursor, ReportPage
from outagesync.errors import InvalidInput


def encode_cursor(cursor: ReportCursor) -> str:
    """An opaque, URL-safe token for `cursor`."""
    raw = json.dumps([cursor.started_at.astimezone(UTC).isoformat(), cursor.report_id], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(token: str) -> ReportCursor:
    """The cursor behind a token from `encode_cursor`; InvalidInput if it is not one."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        started_at, report_id = json.loads(raw)
        moment = datetime.fromisoformat(started_at)
        if moment.tzinfo is None or not isinstance(report_id, str):
            raise ValueError("not a report cursor")
        moment = moment.astimezone(UTC)  # OverflowError when UTC is past year 9999 or before year 1
    except (ValueError, TypeError, OverflowError, binascii.Error):
        raise InvalidInput(f"invalid cursor {token!r}: pass the next_cursor of a previous page") from None
    return ReportCursor(moment, report_id)


def next_cursor(page: ReportPage) -> str | None:
    """The token of the page after `page`, None on the last page."""
    return encode_cursor(page.more_after) if page.more_after is not None else None
