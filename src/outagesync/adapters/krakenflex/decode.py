"""Upstream JSON bytes -> domain values, strictly. Every error names the endpoint, the record's index and
the field.

Timestamps must parse as ISO 8601 instants with an offset (`Z`, `+01:00`); the raw text is kept to be
posted back byte for byte. Two decoders of `GET /outages`: `decode_outages`, the fast path (chunks,
shared device ids, early outages released), and `decode_outages_plain`, the whole-body decode that is
its executable spec (the property tests check they agree) and its fallback. Nothing here does I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import msgspec

from outagesync.domain.models import (
    OUTAGES_ENDPOINT,
    SITE_INFO_ENDPOINT,
    DecodedOutages,
    InvalidRecord,
    Outage,
    SiteInfo,
)
from outagesync.domain.timestamps import is_before, parse_instant
from outagesync.errors import InvalidUpstreamData

_OUTAGES_TYPE = list[Outage]
_PATH = re.compile(r"^\$(?:\[(?P<index>\d+)\])?(?:\.(?P<field>.+))?$")
_MISSING = re.compile(r"^Object missing required field `(.+)`$")
_outages_decoder = msgspec.json.Decoder(_OUTAGES_TYPE)
_site_info_decoder = msgspec.json.Decoder(SiteInfo)
_fromisoformat = datetime.fromisoformat
_CHUNK_BYTES = 1 << 16  # a chunk and its records stay in the CPU cache (1 MiB chunks were 40% slower)


def decode_outages(
    body: bytes, *, skip_invalid: bool = False, release_before: datetime | None = None
) -> DecodedOutages:
    """Every outage of a `GET /outages` body, validated; InvalidUpstreamData on the first bad record.

    With `skip_invalid`, bad records are dropped and listed instead; a body that is not a JSON
    array is always an error. With `release_before`, valid outages that began before it are only
    counted per device (see DecodedOutages), so that a million of them need not stay in memory.
    """
    decoded = _decode_in_chunks(body, release_before)
    if decoded is not None:
        return decoded
    return decode_outages_plain(body, skip_invalid=skip_invalid, release_before=release_before)


def decode_outages_plain(
    body: bytes, *, skip_invalid: bool = False, release_before: datetime | None = None
) -> DecodedOutages:
    """What `decode_outages` must return, the plain way: the whole body at once, then each record."""
    decoded = _decode_whole(body, skip_invalid=skip_invalid)
    return decoded if release_before is None else _release(decoded, release_before)


def _decode_in_chunks(body: bytes, release_before: datetime | None) -> DecodedOutages | None:
    """The fast path for a valid body: 64 KiB at a time, device ids shared, early outages released.

    Peak memory is the body plus what is kept, instead of the body plus every record. None as soon as
    anything is wrong (a chunk that does not decode, a bad timestamp): the whole-body path then decides,
    and names the error.
    """
    kept: list[Outage] = []
    released: dict[str, int] = {}
    ids: dict[str, str] = {}
    for chunk in _chunks(body):
        try:
            outages = _outages_decoder.decode(chunk)
        except msgspec.MsgspecError:
            return None
        for outage in outages:
            began = _valid_begin(outage)
            if began is None:
                return None
            if release_before is not None and began < release_before:  # is_before, begin parsed once
                released[outage.id] = released.get(outage.id, 0) + 1
                continue
            device_id = ids.setdefault(outage.id, outage.id)
            if device_id is not outage.id:
                # One str per device id instead of one per outage (-88 MB per million). The struct is
                # fresh from the decoder and seen by no one else yet, so setting its field is safe.
                msgspec.structs.force_setattr(outage, "id", device_id)
            kept.append(outage)
    return DecodedOutages(kept, [], released, sum(released.values()))


def _chunks(body: bytes) -> Iterator[bytes]:
    """The body as JSON arrays of about _CHUNK_BYTES, split where compact JSON separates objects (`},{`).

    A split inside a string or a nested value leaves a chunk that is not valid JSON, so decoding it
    fails; when every chunk decodes, the chunks hold exactly the body's records, in order.
    """
    if len(body) <= _CHUNK_BYTES or body[:1] != b"[" or body[-1:] != b"]":
        yield body
        return
    start = 1  # just after the opening bracket
    while (split := body.find(b"},{", start + _CHUNK_BYTES)) >= 0:
        yield b"[" + body[start : split + 1] + b"]"
        start = split + 2
    yield b"[" + body[start:]


def _release(decoded: DecodedOutages, before: datetime) -> DecodedOutages:
    kept: list[Outage] = []
    released: dict[str, int] = {}
    for outage in decoded.outages:
        if is_before(outage.begin, before):
            released[outage.id] = released.get(outage.id, 0) + 1
        else:
            kept.append(outage)
    return DecodedOutages(kept, decoded.invalid, released, sum(released.values()))


def _decode_whole(body: bytes, *, skip_invalid: bool) -> DecodedOutages:
    try:
        outages = _outages_decoder.decode(body)
    except msgspec.ValidationError as exc:
        if not skip_invalid:
            raise _from_msgspec(OUTAGES_ENDPOINT, exc) from None
        return _decode_outages_one_by_one(body)
    except msgspec.DecodeError as exc:
        raise InvalidUpstreamData(OUTAGES_ENDPOINT, f"the body is not valid JSON ({exc})") from None
    invalid: list[InvalidRecord] = []
    bad_indexes: set[int] = set()
    for index, outage in enumerate(outages):
        problem = _timestamp_problem(outage)
        if problem is None:
            continue
        field, message = problem
        if not skip_invalid:
            raise InvalidUpstreamData(OUTAGES_ENDPOINT, message, index=index, field=field)
        invalid.append(InvalidRecord(OUTAGES_ENDPOINT, index, field, message))
        bad_indexes.add(index)
    if bad_indexes:
        outages = [o for i, o in enumerate(outages) if i not in bad_indexes]
    return DecodedOutages(outages, invalid)


def decode_site_info(body: bytes, site_id: str) -> SiteInfo:
    """The site's info, validated: fields present and typed, its id the one asked, device ids unambiguous."""
    endpoint = f"{SITE_INFO_ENDPOINT}/{site_id}"
    try:
        site = _site_info_decoder.decode(body)
    except msgspec.ValidationError as exc:
        raise _from_msgspec(endpoint, exc) from None
    except msgspec.DecodeError as exc:
        raise InvalidUpstreamData(endpoint, f"the body is not valid JSON ({exc})") from None
    if site.id != site_id:
        raise InvalidUpstreamData(endpoint, f"expected site {site_id!r}, got {site.id!r}", field="id")
    names: dict[str, str] = {}
    for index, device in enumerate(site.devices):
        if names.setdefault(device.id, device.name) != device.name:
            problem = f"device {device.id!r} appears twice with different names"
            raise InvalidUpstreamData(endpoint, problem, field=f"devices[{index}].id")
    return site


def _valid_begin(outage: Outage) -> datetime | None:
    """`begin` as an aware datetime if both timestamps are valid, else None (_timestamp_problem says why)."""
    begin, end = outage.begin, outage.end
    try:
        if begin[-1:] == "Z" == end[-1:]:
            # The upstream's own form, and the hot path (a million records): a parse that succeeds on
            # text ending in "Z" gives an aware UTC datetime, so parse_instant has nothing more to check.
            _fromisoformat(end)
            return _fromisoformat(begin)
        parse_instant(end)
        return parse_instant(begin)
    except ValueError:
        return None


def _timestamp_problem(outage: Outage) -> tuple[str, str] | None:
    if _valid_begin(outage) is not None:
        return None
    begin, end = outage.begin, outage.end
    for field, text in (("begin", begin), ("end", end)):
        try:
            parse_instant(text)
        except ValueError:
            return field, f"not an ISO 8601 timestamp with a time zone: {text!r}"
    return None


def _decode_outages_one_by_one(body: bytes) -> DecodedOutages:
    try:
        records = msgspec.json.decode(body, type=list[Any])
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise InvalidUpstreamData(OUTAGES_ENDPOINT, f"the body is not a JSON array ({exc})") from None
    outages: list[Outage] = []
    invalid: list[InvalidRecord] = []
    for index, record in enumerate(records):
        try:
            outage = msgspec.convert(record, Outage)
        except msgspec.ValidationError as exc:
            error = _from_msgspec(OUTAGES_ENDPOINT, exc, index=index)
            invalid.append(InvalidRecord(OUTAGES_ENDPOINT, index, error.field, error.problem))
            continue
        problem = _timestamp_problem(outage)
        if problem is None:
            outages.append(outage)
        else:
            invalid.append(InvalidRecord(OUTAGES_ENDPOINT, index, *problem))
    return DecodedOutages(outages, invalid)


def _from_msgspec(
    endpoint: str, exc: msgspec.ValidationError, *, index: int | None = None
) -> InvalidUpstreamData:
    """msgspec says "Expected `str`, got `int` - at `$[12].begin`": split it into problem, index, field."""
    message = str(exc)
    problem, _, path = message.rpartition(" - at `")
    if not problem:
        problem, path = message, "$`"
    match = _PATH.match(path.rstrip("`"))
    field = match["field"] if match else path.rstrip("`")
    if match and match["index"] is not None:
        index = int(match["index"])
    missing = _MISSING.match(problem)
    if missing:
        field = f"{field}.{missing[1]}" if field else missing[1]
        problem = "missing required field"
    return InvalidUpstreamData(endpoint, problem, index=index, field=field)
