"""Decoding is independent of formatting: any re-formatting of a body decodes to the same result.

Against the plain whole-body decoder (the executable spec), with tiny chunks so that every body is cut
in many places: between records, inside strings, inside nested values of unknown fields.
"""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from outagesync.adapters.krakenflex.decode import decode_outages, decode_outages_plain
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
def test_every_style_streams_in_chunks_instead_of_falling_back(style: str) -> None:
    from outagesync.adapters.krakenflex.decode import _decode_in_chunks

    records = [
        {
            "id": "d",
            "begin": "2022-03-01T00:00:00.000Z",
            "end": "2022-03-02T00:00:00.000Z",
            "meta": [{"x": 1}, {"y": 2}],
        }
        for _ in range(2_000)
    ]
    streamed = _decode_in_chunks(_render(records, style, random.Random(2)), None, chunk_bytes=256)
    assert streamed is not None
    assert len(streamed.outages) == 2_000
