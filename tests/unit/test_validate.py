"""Strict validation of upstream bodies: errors name the endpoint, the record and the field."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from outagesync.adapters.krakenflex.decode import decode_outages, decode_site_info
from outagesync.domain.timestamps import parse_cutoff, parse_instant
from outagesync.errors import InvalidUpstreamData

GOOD = {"id": "d", "begin": "2022-01-01T00:00:00.000Z", "end": "2022-01-02T00:00:00.000Z"}


def _body(*records: object) -> bytes:
    return json.dumps(list(records)).encode()


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({**GOOD, "begin": 12}, "GET /outages record 1: begin: Expected `str`, got `int`"),
        ({"id": "d", "end": GOOD["end"]}, "GET /outages record 1: begin: missing required field"),
        ({**GOOD, "end": "yesterday"}, "GET /outages record 1: end: not an ISO 8601 timestamp"),
        ({**GOOD, "begin": "2022-01-01T00:00:00"}, "GET /outages record 1: begin: not an ISO 8601 timestamp"),
        ({**GOOD, "begin": "2022-02-30T00:00:00Z"}, "GET /outages record 1: begin: not an ISO 8601"),
        ({**GOOD, "end": "2022-13-01T00:00:00.000Z"}, "GET /outages record 1: end: not an ISO 8601"),
        ({**GOOD, "id": None}, "GET /outages record 1: id: Expected `str`, got `null`"),
        ("text", "GET /outages record 1: Expected `object`, got `str`"),
    ],
)
def test_bad_record_is_named(record: object, message: str) -> None:
    with pytest.raises(InvalidUpstreamData) as info:
        decode_outages(_body(GOOD, record))
    assert str(info.value).startswith(message)


@pytest.mark.parametrize("body", [b"", b"[{", b"<html>oops</html>", b'{"message": "x"}'])
def test_a_body_that_is_not_an_array_is_an_error_even_when_skipping(body: bytes) -> None:
    with pytest.raises(InvalidUpstreamData, match=r"^GET /outages"):
        decode_outages(body, skip_invalid=True)


def test_skip_invalid_drops_and_lists_bad_records() -> None:
    decoded = decode_outages(
        _body({**GOOD, "begin": 1}, GOOD, {"id": "x"}, {**GOOD, "end": "soon"}), skip_invalid=True
    )
    assert [o.id for o in decoded.outages] == ["d"]
    assert [(r.index, r.field) for r in decoded.invalid] == [(0, "begin"), (2, "begin"), (3, "end")]


def test_extra_fields_are_ignored() -> None:
    (outage,) = decode_outages(_body({**GOOD, "severity": 3})).outages
    assert outage.id == "d"


def test_site_info_must_be_the_site_asked_for() -> None:
    body = json.dumps({"id": "other", "name": "O", "devices": []}).encode()
    with pytest.raises(
        InvalidUpstreamData, match=r"GET /site-info/mine: id: expected site 'mine', got 'other'"
    ):
        decode_site_info(body, "mine")


def test_site_info_device_errors_name_the_device() -> None:
    body = json.dumps({"id": "s", "name": "S", "devices": [{"id": "a", "name": "A"}, {"id": "b"}]}).encode()
    with pytest.raises(
        InvalidUpstreamData, match=r"GET /site-info/s: devices\[1\].name: missing required field"
    ):
        decode_site_info(body, "s")


def test_site_info_same_device_with_two_names_is_ambiguous() -> None:
    devices = [{"id": "a", "name": "A"}, {"id": "a", "name": "B"}]
    body = json.dumps({"id": "s", "name": "S", "devices": devices}).encode()
    with pytest.raises(InvalidUpstreamData, match="appears twice"):
        decode_site_info(body, "s")


def test_parse_instant_accepts_offsets_and_precisions() -> None:
    expected = datetime(2022, 1, 1, tzinfo=UTC)
    for text in ("2022-01-01T00:00:00.000Z", "2022-01-01T00:00:00Z", "2022-01-01T01:00:00+01:00"):
        assert parse_instant(text) == expected


def test_cutoff_without_offset_is_utc() -> None:
    assert (
        parse_cutoff("2022-01-01")
        == parse_cutoff("2022-01-01T00:00:00.000Z")
        == datetime(2022, 1, 1, tzinfo=UTC)
    )
    with pytest.raises(ValueError, match="Invalid isoformat"):
        parse_cutoff("last tuesday")


# whole minutes: ISO 8601 offsets have no seconds, and sub-minute offsets do not round-trip
_fixed_offsets = st.builds(lambda minutes: timezone(timedelta(minutes=minutes)), st.integers(-1439, 1439))


@given(st.datetimes(timezones=_fixed_offsets), st.sampled_from(["seconds", "milliseconds", "microseconds"]))
def test_parse_instant_round_trips_any_aware_time(moment: datetime, timespec: str) -> None:
    moment = moment.replace(microsecond=0) if timespec == "seconds" else moment
    moment = (
        moment.replace(microsecond=moment.microsecond // 1000 * 1000)
        if timespec == "milliseconds"
        else moment
    )
    assert parse_instant(moment.isoformat(timespec=timespec)) == moment


@pytest.mark.parametrize("text", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_out_of_range_instants_are_invalid_records(text: str) -> None:
    with pytest.raises(InvalidUpstreamData, match="record 0: begin: not an ISO 8601 timestamp"):
        decode_outages(_body({**GOOD, "begin": text}))


@pytest.mark.parametrize(
    ("body", "text"),
    [
        (b'[{"id": "d", "begin": 12, "end": "x"}]', "Expected `str`, got `int` - at `$[0].begin`"),
        (b'[{"id": "d", "end": "x"}]', "Object missing required field `begin` - at `$[0]`"),
        (b'{"id": 1}', "Expected `array`, got `object`"),
    ],
)
def test_the_msgspec_texts_the_decoder_splits_are_pinned(body: bytes, text: str) -> None:
    """decode.py splits these texts into problem, index and field: if msgspec rewords them, this fails."""
    import msgspec

    from outagesync.domain.models import Outage

    with pytest.raises(msgspec.ValidationError) as info:
        msgspec.json.decode(body, type=list[Outage])
    assert str(info.value) == text
