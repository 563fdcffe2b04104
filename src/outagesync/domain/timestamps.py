"""Instants: the upstream's ISO 8601 timestamps and users' cutoffs as aware UTC datetimes. Pure.

The cutoff rule compares `begin` as an instant; the raw text is never rewritten (it is posted as received).
"""

from __future__ import annotations

from datetime import UTC, datetime

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
