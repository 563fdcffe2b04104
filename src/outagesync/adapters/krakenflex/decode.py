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
_WHITESPACE = b" \t\r\n"  # JSON's insignificant whitespace
_PENDING_MAX = 64  # chunks joined in search of a record boundary before giving up on streaming
_SEPARATOR = re.compile(rb"\}[ \t\r\n]*,[ \t\r\n]*\{")  # between two objects of the array


def decode_outages(
    body: bytes,
    *,
    skip_invalid: bool = False,
    release_before: datetime | None = None,
    chunk_bytes: int = _CHUNK_BYTES,
) -> DecodedOutages:
    """Every outage of a `GET /outages` body, validated; InvalidUpstreamData on the first bad record.

    With `skip_invalid`, bad records are dropped and listed instead; a body that is not a JSON
    array is always an error. With `release_before`, valid outages that began before it are only
    counted per device (see DecodedOutages), so that a million of them need not stay in memory.
    """
    decoded = _decode_in_chunks(body, release_before, chunk_bytes)
    if decoded is not None:
        return decoded
    return decode_outages_plain(body, skip_invalid=skip_invalid, release_before=release_before)


def decode_outages_plain(
    body: bytes, *, skip_invalid: bool = False, release_before: datetime | None = None
) -> DecodedOutages:
    """What `decode_outages` must return, the plain way: the whole body at once, then each record."""
    decoded = _decode_whole(body, skip_invalid=skip_invalid)
    return decoded if release_before is None else _release(decoded, release_before)


def _decode_in_chunks(
    body: bytes, release_before: datetime | None, chunk_bytes: int = _CHUNK_BYTES
) -> DecodedOutages | None:
    """The fast path for a valid body: about 64 KiB at a time, device ids shared, early outages released.

    Peak memory is the body plus what is kept, instead of the body plus every record. None as soon as
    a record is wrong (a bad type, a bad timestamp): the whole-body path then decides and names the error.
    """
    kept: list[Outage] = []
    released: dict[str, int] = {}
    ids: dict[str, str] = {}
    for outages in _decoded_chunks(body, chunk_bytes):
        if outages is None:
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


def _decoded_chunks(body: bytes, chunk_bytes: int) -> Iterator[list[Outage] | None]:
    """The records of the body, a chunk at a time; None (then nothing more) if a record does not match.

    A split that fell inside a string or a nested value leaves text that is not JSON: the next piece is
    then joined to it (with the separator between them) and decoded again, so any formatting streams.
    """
    pending = b""
    for separator, piece in _pieces(body, chunk_bytes):
        pending = pending + separator + piece if pending else piece
        try:
            outages = _outages_decoder.decode(b"[" + pending + b"]")
        except msgspec.ValidationError:
            yield None
            return
        except msgspec.DecodeError:
            if len(pending) > _PENDING_MAX * chunk_bytes:
                yield None  # no record boundary in sight: let the whole-body path decode it
                return
            continue  # not a whole number of records yet
        pending = b""
        yield outages
    if pending:
        yield None  # the end of the body is not JSON: the whole-body path names the problem


def _pieces(body: bytes, chunk_bytes: int) -> Iterator[tuple[bytes, bytes]]:
    """(separator before, piece): the array's content cut where one object ends and the next begins
    (`}`, optional whitespace, `,`, optional whitespace, `{`, as any JSON formatter writes it), after
    about `chunk_bytes`. Pieces and separators rebuild the content exactly. A small body, or one that
    is not an array, is one piece: its content if it is bracketed, else text that never decodes.
    """
    first, last = _first_and_last(body)
    if body[first : first + 1] != b"[" or body[last : last + 1] != b"]" or last <= first:
        yield b"", b"\x00"  # not an array: the whole-body path names the problem
        return
    start, separator = first + 1, b""
    while (split := _SEPARATOR.search(body, start + chunk_bytes, last)) is not None:
        yield separator, body[start : split.start() + 1]
        separator = body[split.start() + 1 : split.end() - 1]
        start = split.end() - 1  # the `{` of the next object
    yield separator, body[start:last]


def _first_and_last(body: bytes) -> tuple[int, int]:
    """Where the JSON text starts and ends (its first and last non-whitespace byte)."""
    first = len(body) - len(body.lstrip(_WHITESPACE))
    return first, len(body.rstrip(_WHITESPACE)) - 1


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
