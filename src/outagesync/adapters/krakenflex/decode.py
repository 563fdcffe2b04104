"""Upstream JSON bytes -> domain values, strictly. Every error names the endpoint, the record's index and
the field.

Timestamps must parse as ISO 8601 instants with an offset (`Z`, `+01:00`); the raw text is kept to be
posted back byte for byte. `GET /outages` is decoded by `OutagesDecoder` while it downloads: bytes are
fed as they arrive, cut into pieces of about 64 KiB where one object of the array ends and the next
begins, whatever the formatting, and each piece is decoded and dropped. The body is never held whole.
`decode_outages_plain`, the whole-body decode, is its executable spec (property tests check they agree).
Nothing here does I/O.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Container
from datetime import datetime
from typing import Any

import msgspec

from outagesync.defaults import INVALID_RECORDS_MAX
from outagesync.domain.models import (
    OUTAGES_ENDPOINT,
    SITE_INFO_ENDPOINT,
    DecodedOutages,
    InvalidRecord,
    Outage,
    SiteInfo,
)
from outagesync.domain.packed import PackedOutages
from outagesync.domain.timestamps import is_before, parse_instant
from outagesync.errors import InvalidUpstreamData

_PATH = re.compile(r"^\$(?:\[(?P<index>\d+)\])?(?:\.(?P<field>.+))?$")
_MISSING = re.compile(r"^Object missing required field `(.+)`$")
_BYTE = re.compile(r"\(byte (\d+)\)$")
_outages_decoder = msgspec.json.Decoder(list[Outage])
_records_decoder = msgspec.json.Decoder(list[Any])
_site_info_decoder = msgspec.json.Decoder(SiteInfo)
_fromisoformat = datetime.fromisoformat
_CHUNK_BYTES = 1 << 16  # a piece and its records stay in the CPU cache (1 MiB pieces were 40% slower)
_WHITESPACE = b" \t\r\n"  # JSON's insignificant whitespace
_SEPARATOR = re.compile(rb"\}[ \t\r\n]*,[ \t\r\n]*\{")  # between two objects of the array
_RESCAN_BYTES = 4096  # a separator cut by the end of what has arrived is found again from this far back
_NOT_ARRAY_MAX = 1 << 20  # a body that is not an array is kept (up to this) to name the problem exactly
_TRUNCATED = "Input data was truncated"

DeviceFilter = Callable[[], Container[str] | None]
"""The device ids the run's sites have, once known (None until then): other outages are dropped."""


class OutagesDecoder:
    """`GET /outages`, decoded as it arrives: `feed` each piece of the body, then `finish`.

    Strict: `finish` raises InvalidUpstreamData if the body is not valid JSON, else for the first bad
    record in body order (with `skip_invalid`, bad records are listed instead); `feed` raises as soon
    as the JSON is malformed. With `release_before`, valid outages that began before it are only counted per
    device; with `devices`, once it returns the run's device ids, outages of other devices are only
    counted (`foreign_count`). Neither can be posted by any site of the run, so neither is kept.
    """

    def __init__(
        self,
        *,
        skip_invalid: bool = False,
        release_before: datetime | None = None,
        devices: DeviceFilter | None = None,
        chunk_bytes: int = _CHUNK_BYTES,
    ) -> None:
        self._skip_invalid = skip_invalid
        self._release_before = release_before
        self._devices = devices
        self._chunk_bytes = chunk_bytes
        self._buffer = bytearray()
        self._offset = 0  # where the buffer starts in the body
        self._scan_from = chunk_bytes  # where in the buffer to look for the next separator
        self._state = "start"  # start -> array (after its "[") | not-array
        self._first = b""  # the body's first and last bytes that are not whitespace
        self._last = b""
        self._index = 0  # records decoded so far
        self._kept = PackedOutages()
        self._invalid: list[InvalidRecord] = []
        self._released: Counter[str] = Counter()
        self._released_count = 0
        self._foreign_count = 0
        self._error: InvalidUpstreamData | None = None  # the first bad record, without skip_invalid
        self._invalid_total = 0  # without skip_invalid, only the first INVALID_RECORDS_MAX are listed

    def feed(self, data: bytes) -> None:
        """The next bytes of the body; decodes every whole piece they complete."""
        if not data:
            return
        if not self._first and (text := data.lstrip(_WHITESPACE)):
            self._first = text[:1]
        if text := data.rstrip(_WHITESPACE):
            self._last = text[-1:]
        self._buffer += data
        if self._state == "start":
            self._start()
        if self._state == "array":
            self._decode_pieces()
        elif self._state == "not-array" and len(self._buffer) > _NOT_ARRAY_MAX:
            raise InvalidUpstreamData(OUTAGES_ENDPOINT, "the body is not a JSON array")

    @property
    def buffered_bytes(self) -> int:
        """How much of the body is held, waiting for the end of its piece."""
        return len(self._buffer)

    def looks_cut_off(self) -> bool:
        """The body so far does not end with the bracket it opened: it was cut off on the way."""
        return (self._first, self._last) not in ((b"[", b"]"), (b"{", b"}"))

    def finish(self) -> DecodedOutages:
        """Decode what is left (the last records and the closing bracket) and return the outages."""
        if self._state != "array":
            # not an array (or nothing at all): the plain decoder names the problem exactly
            return decode_outages_plain(bytes(self._buffer), skip_invalid=self._skip_invalid)
        rest = b"[" + self._buffer  # the last piece with its closing "]" and what follows it
        records = self._decode_piece(rest, final=True)
        assert records is not None  # a final piece either decodes or raises
        self._buffer = bytearray()
        if self._error is not None:
            raise _listing(self._error, self._invalid, self._invalid_total, self._index)
        return DecodedOutages(
            self._kept,
            self._invalid,
            self._released,
            self._released_count,
            self._foreign_count,
            kept_from=self._release_before,
        )

    def _start(self) -> None:
        stripped = self._buffer.lstrip(_WHITESPACE)
        if not stripped:
            return
        if stripped[:1] != b"[":
            self._state = "not-array"
            return
        skipped = len(self._buffer) - len(stripped) + 1
        del self._buffer[:skipped]
        self._offset += skipped
        self._state = "array"

    def _decode_pieces(self) -> None:
        buffer = self._buffer
        while len(buffer) > self._scan_from:
            split = _SEPARATOR.search(buffer, self._scan_from)
            if split is None:
                self._scan_from = max(self._scan_from, len(buffer) - _RESCAN_BYTES)
                return
            end = split.start() + 1  # just after the "}" of the piece's last object
            if self._decode_piece(b"[" + buffer[:end] + b"]", final=False) is None:
                self._scan_from = split.end()  # cut inside a string or a nested value: take more
                continue
            next_start = split.end() - 1  # the "{" of the next object
            del buffer[:next_start]
            self._offset += next_start
            self._scan_from = self._chunk_bytes

    def _decode_piece(self, text: bytes, *, final: bool) -> list[Outage] | None:
        """Decode one piece (`[` records `]`) and take its records; None if it is not whole yet."""
        try:
            outages: list[Outage] | None = _outages_decoder.decode(text)
            text.decode()  # skipped unknown fields are not checked for UTF-8 by the line above
        except (msgspec.ValidationError, UnicodeDecodeError):
            outages = None
        except msgspec.DecodeError as exc:
            if not final and str(exc) == _TRUNCATED:
                return None
            outages = None  # the untyped decode below names the problem as the plain decoder does
        if outages is not None and self._take(outages):
            return outages
        # a record is wrong somewhere in this piece: look at each, in order, to name it or skip it
        try:
            records = _records_decoder.decode(text)
        except msgspec.DecodeError as exc:
            if not final and str(exc) == _TRUNCATED:
                return None
            raise self._not_json(exc) from None
        valid: list[Outage] = []
        for position, record in enumerate(records):
            outage = self._check(record, self._index + position)
            if outage is not None:
                valid.append(outage)
        self._index += len(records) - len(valid)  # _take counts the valid ones
        self._take(valid, checked=True)
        return valid

    def _check(self, record: Any, index: int) -> Outage | None:
        """The record as a valid outage, or None (listed as invalid; raised unless skip_invalid)."""
        try:
            outage = msgspec.convert(record, Outage)
        except msgspec.ValidationError as exc:
            error = _from_msgspec(OUTAGES_ENDPOINT, exc, index=index)
            field, message = error.field, error.problem
        else:
            problem = _timestamp_problem(outage)
            if problem is None:
                return outage
            field, message = problem
        if not self._skip_invalid and self._error is None:
            # raised by finish: a body that is not valid JSON further on is named as such first
            self._error = InvalidUpstreamData(OUTAGES_ENDPOINT, message, index=index, field=field)
        self._invalid_total += 1
        if self._skip_invalid or len(self._invalid) < INVALID_RECORDS_MAX:
            self._invalid.append(InvalidRecord(OUTAGES_ENDPOINT, index, field, message))
        return None

    def _take(self, outages: list[Outage], *, checked: bool = False) -> bool:
        """Keep, release or drop each outage; False (nothing taken) if one has a bad timestamp.

        The hot loop of a sync (a million times): one pass that validates and sorts each outage, its
        outcome applied only once the whole piece is valid.
        """
        devices = self._devices() if self._devices is not None else None
        before = self._release_before
        kept: list[Outage] = []
        released: list[str] = []
        foreign = 0
        fromisoformat = _fromisoformat
        for outage in outages:
            begin, end = outage.begin, outage.end
            try:
                if begin[-1:] == "Z" == end[-1:]:
                    # The upstream's own form: a parse that succeeds on text ending in "Z" gives an aware
                    # UTC datetime, so parse_instant has nothing more to check (see _valid_begin).
                    fromisoformat(end)
                    began = fromisoformat(begin)
                else:
                    parse_instant(end)
                    began = parse_instant(begin)
            except ValueError:
                assert not checked
                return False
            if devices is not None and outage.id not in devices:
                foreign += 1
            elif before is not None and began < before:  # is_before, with begin parsed once
                released.append(outage.id)
            else:
                kept.append(outage)
        self._index += len(outages)
        if self._error is not None:
            return True  # the body is refused: only its JSON is still checked, nothing kept
        self._foreign_count += foreign
        self._released_count += len(released)
        self._released.update(released)  # per device, in C
        self._kept.extend(kept)  # packed: about 60 bytes an outage instead of 216
        return True

    def _not_json(self, exc: msgspec.DecodeError) -> InvalidUpstreamData:
        """msgspec's message, its byte position moved from the piece (after its "[") to the body."""
        message = _BYTE.sub(lambda m: f"(byte {int(m[1]) - 1 + self._offset})", str(exc))
        return InvalidUpstreamData(OUTAGES_ENDPOINT, f"the body is not valid JSON ({message})")


def decode_outages(
    body: bytes,
    *,
    skip_invalid: bool = False,
    release_before: datetime | None = None,
    devices: DeviceFilter | None = None,
    chunk_bytes: int = _CHUNK_BYTES,
) -> DecodedOutages:
    """Every outage of a whole `GET /outages` body, through OutagesDecoder (fed as if it arrived in
    pieces of `chunk_bytes`)."""
    decoder = OutagesDecoder(
        skip_invalid=skip_invalid, release_before=release_before, devices=devices, chunk_bytes=chunk_bytes
    )
    view = memoryview(body)
    step = max(chunk_bytes, 1 << 20) if chunk_bytes >= _CHUNK_BYTES else chunk_bytes
    for start in range(0, len(body), step):
        decoder.feed(bytes(view[start : start + step]))
    return decoder.finish()


def decode_outages_plain(
    body: bytes, *, skip_invalid: bool = False, release_before: datetime | None = None
) -> DecodedOutages:
    """What `decode_outages` must return, the plain way: the whole body at once, then each record in
    order (the first bad one raises, or with `skip_invalid` each is listed)."""
    try:
        records = _records_decoder.decode(body)
    except msgspec.ValidationError as exc:
        if not skip_invalid:
            raise _from_msgspec(OUTAGES_ENDPOINT, exc) from None
        raise InvalidUpstreamData(OUTAGES_ENDPOINT, f"the body is not a JSON array ({exc})") from None
    except msgspec.DecodeError as exc:
        raise InvalidUpstreamData(OUTAGES_ENDPOINT, f"the body is not valid JSON ({exc})") from None
    outages: list[Outage] = []
    invalid: list[InvalidRecord] = []
    first: InvalidUpstreamData | None = None
    total = 0
    for index, record in enumerate(records):
        problem: tuple[str | None, str] | None
        try:
            outage = msgspec.convert(record, Outage)
        except msgspec.ValidationError as exc:
            error = _from_msgspec(OUTAGES_ENDPOINT, exc, index=index)
            problem = (error.field, error.problem)
        else:
            problem = _timestamp_problem(outage)
        if problem is None:
            outages.append(outage)
            continue
        if first is None and not skip_invalid:
            first = InvalidUpstreamData(OUTAGES_ENDPOINT, problem[1], index=index, field=problem[0])
        total += 1
        if skip_invalid or len(invalid) < INVALID_RECORDS_MAX:
            invalid.append(InvalidRecord(OUTAGES_ENDPOINT, index, *problem))
    if first is not None:
        raise _listing(first, invalid, total, len(records))
    decoded = DecodedOutages(outages, invalid)
    return decoded if release_before is None else _release(decoded, release_before)


def _listing(
    error: InvalidUpstreamData, invalid: list[InvalidRecord], total: int, records: int
) -> InvalidUpstreamData:
    """The first bad record's error, listing every bad record found (up to the cap) and the total."""
    error.invalid_records = tuple(invalid)
    error.invalid_total = total
    error.records_seen = records
    return error


def _release(decoded: DecodedOutages, before: datetime) -> DecodedOutages:
    kept: list[Outage] = []
    released: dict[str, int] = {}
    for outage in decoded.outages:
        if is_before(outage.begin, before):
            released[outage.id] = released.get(outage.id, 0) + 1
        else:
            kept.append(outage)
    return DecodedOutages(kept, decoded.invalid, released, sum(released.values()), kept_from=before)


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
