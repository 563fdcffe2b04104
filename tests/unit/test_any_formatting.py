"""Decoding is independent of formatting: any re-formatting of a body decodes to the same result.

Against the plain whole-body decoder (the executable spec), with tiny chunks so that every body is cut
in many places: between records, inside strings, inside nested values of unknown fields.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from outagesync.adapters.krakenflex.decode import OutagesDecoder, decode_outages, decode_outages_plain
from outagesync.errors import InvalidUpstreamData

_instants = st.sampled_from(
    [
        "2022-01-01T00:00:00.000Z",
        "2021-12-31T23:59:59Z",
        "2023-06-01T12:00:00+01:00",
        "2022-02-30T00:00:00Z",
        7,
    ]
)
_text = st.text(alphabet=st.characters(codec="utf-8"), max_size=12)  # utf-8: no lone surrogates
_extra = st.recursive(
    st.none() | st.booleans() | st.integers() | _text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_text, inner, max_size=3),
    max_leaves=6,
)
_record = st.fixed_dictionaries(
    {"id": st.sampled_from(["d1", "d2", "}, {", "é"]), "begin": _instants, "end": _instants},
    optional={"meta": _extra, "note": _text},
)
_styles = st.sampled_from(["compact", "spaced", "indent2", "indent4", "crlf", "tabs"])


def _render(records: list[Any], style: str, shuffle: random.Random) -> bytes:
    records = [dict(sorted(r.items(), key=lambda _: shuffle.random())) for r in records]  # any key order
    if style == "compact":
        text = json.dumps(records, separators=(",", ":"), ensure_ascii=False)
    elif style == "spaced":
        text = json.dumps(records)  # ", " and ": ", non-ASCII as \\uXXXX escapes
    elif style in ("indent2", "indent4"):
        text = json.dumps(records, indent=int(style[-1]), ensure_ascii=False)
    elif style == "crlf":
        text = json.dumps(records, indent=2).replace("\n", "\r\n") + "\r\n"
    else:
        text = json.dumps(records, indent="\t", ensure_ascii=False) + "\n"
    return text.encode()


def _outcome(decode: Any, body: bytes, **options: Any) -> object:
    try:
        decoded = decode(body, **options)
    except InvalidUpstreamData as exc:
        return ("error", str(exc))
    return (decoded.outages, decoded.invalid, decoded.released, decoded.fetched)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(_record, max_size=12),
    _styles,
    st.integers(0, 2**32),
    st.booleans(),
    st.sampled_from([1, 16, 64]),
)
def test_any_formatting_decodes_as_the_plain_decoder_does(
    records: list[Any], style: str, seed: int, skip_invalid: bool, chunk_bytes: int
) -> None:
    body = _render(records, style, random.Random(seed))
    fast = _outcome(decode_outages, body, skip_invalid=skip_invalid, chunk_bytes=chunk_bytes)
    assert fast == _outcome(decode_outages_plain, body, skip_invalid=skip_invalid)


@pytest.mark.parametrize("style", ["compact", "spaced", "indent2", "indent4", "crlf", "tabs"])
def test_every_style_of_a_large_body_gives_the_same_records(style: str) -> None:
    rng = random.Random(1)
    records = [
        {
            "id": f"device-{n % 50}",
            "begin": "2022-03-01T00:00:00.000Z",
            "end": "2022-03-02T00:00:00.000Z",
            "meta": {"tags": [{"k": "a"}, {"k": "b"}]},
        }
        for n in range(5_000)
    ]
    compact = decode_outages(_render(records, "compact", rng))
    styled = decode_outages(_render(records, style, rng))
    assert styled.outages == compact.outages
    assert len(styled.outages) == 5_000


@pytest.mark.parametrize("style", ["compact", "spaced", "indent2", "indent4", "crlf", "tabs"])
def test_every_style_streams_holding_one_piece_at_a_time(style: str) -> None:
    records = [
        {
            "id": "d",
            "begin": "2022-03-01T00:00:00.000Z",
            "end": "2022-03-02T00:00:00.000Z",
            "meta": [{"x": 1}, {"y": 2}],
        }
        for _ in range(2_000)
    ]
    body = _render(records, style, random.Random(2))
    decoder = OutagesDecoder(chunk_bytes=256)
    held = 0
    for start in range(0, len(body), 100):  # as a network would hand it over
        decoder.feed(body[start : start + 100])
        held = max(held, decoder.buffered_bytes)
    assert len(decoder.finish().outages) == 2_000
    assert held < 256 + 2 * 200  # a piece and the record that ends it, never the body (> 200 KB)


@settings(max_examples=200, deadline=None)
@given(st.lists(_record, min_size=1, max_size=8), _styles, st.data())
def test_malformed_json_is_named_at_the_same_byte_as_the_plain_decoder_does(
    records: list[Any], style: str, data: st.DataObject
) -> None:
    body = _render(records, style, random.Random(0))
    position = data.draw(st.integers(0, len(body) - 1))
    broken = body[:position] + data.draw(st.sampled_from([b"@", b"}", b",,", b"\x00"])) + body[position:]
    for chunk_bytes in (1, 16, 64):
        streamed = _outcome(decode_outages, broken, chunk_bytes=chunk_bytes)
        assert streamed == _outcome(decode_outages_plain, broken)


def test_the_first_bad_record_in_body_order_is_named_whatever_its_kind() -> None:
    good = {"id": "d", "begin": "2022-01-01T00:00:00Z", "end": "2022-01-02T00:00:00Z"}
    records = [good, {**good, "end": "2022-02-30T00:00:00Z"}, good, {**good, "begin": 7}]
    body = json.dumps(records).encode()
    for decode in (decode_outages, decode_outages_plain):
        with pytest.raises(InvalidUpstreamData, match=r"^GET /outages record 1: end: not an ISO 8601"):
            decode(body)


def test_outages_of_devices_no_site_has_are_dropped_once_the_devices_are_known() -> None:
    records = [
        {"id": f"d{n % 4}", "begin": f"202{1 + n % 2}-06-01T00:00:00Z", "end": "2023-01-01T00:00:00Z"}
        for n in range(400)
    ]
    body = json.dumps(records).encode()
    known: set[str] | None = None
    decoder = OutagesDecoder(
        release_before=datetime(2022, 1, 1, tzinfo=UTC), devices=lambda: known, chunk_bytes=64
    )
    decoder.feed(body[: len(body) // 2])
    known = {"d1"}
    decoder.feed(body[len(body) // 2 :])
    decoded = decoder.finish()
    assert decoded.fetched == 400
    assert {o.id for o in decoded.outages[-50:]} == {"d1"}  # the second half: d1's only
    assert decoded.foreign_count + decoded.released_count + len(decoded.outages) == 400
    assert 0 < decoded.foreign_count < 300


@pytest.mark.parametrize("padding", [b"", b" " * 100_000, b"\r\n" * 3])
def test_a_body_is_cut_off_only_if_it_does_not_end_with_the_bracket_it_opened(padding: bytes) -> None:
    body = (
        padding + b'[{"id": "d", "begin": "2022-01-01T00:00:00Z", "end": "2022-01-02T00:00:00Z"}]' + padding
    )
    whole, cut = OutagesDecoder(), OutagesDecoder()
    for start in range(0, len(body), 1000):
        whole.feed(body[start : start + 1000])
    cut.feed(body[: len(padding) + 40])
    assert (whole.looks_cut_off(), cut.looks_cut_off()) == (False, True)
    assert len(whole.finish().outages) == 1
