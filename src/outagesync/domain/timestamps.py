"""Instants: the upstream's ISO 8601 timestamps and users' cutoffs as aware UTC datetimes. Pure.

The cutoff rule compares `begin` as an instant; the raw text is never rewritten (it is posted as received).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

_fromisoformat = datetime.fromisoformat


def parse_instant(text: str) -> datetime:
    """An aware UTC datetime from an ISO 8601 timestamp with an offset; ValueError otherwise."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"timestamp {text!r} has no time zone offset")
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # e.g. 0001-01-01T00:00:00+01:00: before the first representable instant
        raise ValueError(f"timestamp {text!r} is out of range") from None


def is_before(text: str, since: datetime) -> bool:
    """True if the validated timestamp `text` is an instant before `since` (aware): the cutoff rule's test."""
    if text[-1:] == "Z":  # the hot path: already an aware UTC instant, no conversion needed to compare
        return _fromisoformat(text) < since
    return parse_instant(text) < since


def parse_cutoff(text: str) -> datetime:
    """A cutoff given by a user: ISO 8601; without an offset it is taken as UTC. ValueError otherwise."""
    moment = datetime.fromisoformat(text.strip())
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def isoformat(moment: datetime) -> str:
    """UTC, millisecond precision, `Z`: the upstream's own timestamp form."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


_DURATION = re.compile(r"(?:\d+[wdhms])+")
_DURATION_PART = re.compile(r"(\d+)([wdhms])")
_UNIT_SECONDS = {"w": 604_800, "d": 86_400, "h": 3_600, "m": 60, "s": 1}


def parse_duration(text: str) -> timedelta:
    """A duration such as `90d`, `12h`, `30m`, `1h30m` (units w, d, h, m, s); ValueError otherwise."""
    compact = text.strip().lower()
    if not _DURATION.fullmatch(compact):
        raise ValueError(f"{text!r} is not a duration: use e.g. 90d, 12h, 30m or 1h30m")
    seconds = sum(int(count) * _UNIT_SECONDS[unit] for count, unit in _DURATION_PART.findall(compact))
    if seconds > 100 * 366 * 86_400:
        raise ValueError(f"{text!r} is too long a duration: at most 100 years")
    return timedelta(seconds=seconds)


def parse_time_filter(text: str, now: datetime) -> datetime:
    """A time in a filter: ISO 8601 (no offset: UTC), or a duration meaning that long before `now`
    (`7d`: seven days ago). ValueError otherwise."""
    try:
        return now - parse_duration(text)
    except ValueError:
        return parse_cutoff(text)
