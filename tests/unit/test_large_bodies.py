"""The paths taken for large bodies and many sites give exactly what the plain paths give.

Bodies above 64 KiB are decoded in chunks, outages that began before `release_before` are only counted,
and many sites select through a device index: none of it may change a result or an error.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from outagesync.adapters.krakenflex.decode import decode_outages
from outagesync.domain.models import Device, Outage, SiteInfo
from outagesync.domain.select import index_by_device, select_decoded_site_outages, select_site_outages
from outagesync.errors import InvalidUpstreamData

CUTOFF = datetime(2022, 1, 1, tzinfo=UTC)
DEVICES = [f"device-{n}" for n in range(12)]


def _records(count: int, seed: int = 0) -> list[dict[str, Any]]:
    """Outages around the cutoff, mostly in the upstream's "Z" form, some with offsets or no fraction."""
    draw = random.Random(seed)
    records = []
    for _ in range(count):
        begin = CUTOFF + timedelta(
            seconds=draw.randint(-3 * 86_400, 3 * 86_400), milliseconds=draw.randint(0, 999)
        )
        form = draw.random()
        if form < 0.8:
            text = begin.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        elif form < 0.9:
            text = begin.astimezone(UTC).isoformat(timespec="seconds")  # "+00:00"
        else:
            text = begin.isoformat(timespec="seconds").replace("+00:00", "Z")
        records.append({"id": draw.choice(DEVICES), "begin": text, "end": "2023-01-01T00:00:00.000Z"})
    return records


def _compact(records: list[Any]) -> bytes:
    return json.dumps(records, separators=(",", ":")).encode()


def _outages(records: list[dict[str, Any]]) -> list[Outage]:
    return [Outage(r["id"], r["begin"], r["end"]) for r in records]


def test_a_large_body_decodes_to_every_record_in_order() -> None:
    records = _records(5_000)
    body = _compact(records)
    assert len(body) > 4 * 65_536  # several chunks
    decoded = decode_outages(body)
    assert decoded.outages == _outages(records)
    assert (decoded.invalid, decoded.fetched) == ([], 5_000)
    # one str per device id, not per outage: what keeps a million decoded outages small
    assert len({id(outage.id) for outage in decoded.outages}) == len(DEVICES)


def test_chunk_separators_inside_strings_and_nested_values_change_nothing() -> None:
    records: list[dict[str, Any]] = _records(4_000, seed=1)
    for index in range(0, 4_000, 7):
        records[index] = {**records[index], "note": "x},{y" * 50, "tags": [{"a": 1}, {"b": "},{"}]}
    body = _compact(records)
    assert body.count(b"},{") > 4_000
    assert decode_outages(body).outages == _outages(records)


def test_a_bad_record_deep_in_a_large_body_is_named_by_its_position() -> None:
    records: list[Any] = _records(5_000, seed=2)
    records[4_321] = {**records[4_321], "end": "2022-02-30T00:00:00.000Z"}
    with pytest.raises(InvalidUpstreamData, match=r"^GET /outages record 4321: end: not an ISO 8601"):
        decode_outages(_compact(records))
    records[4_321] = {"id": "d", "begin": 12, "end": "2022-01-01T00:00:00Z"}
    with pytest.raises(InvalidUpstreamData, match=r"^GET /outages record 4321: begin: Expected `str`"):
        decode_outages(_compact(records))


def test_skip_invalid_in_a_large_body_lists_the_bad_records() -> None:
    records: list[Any] = _records(5_000, seed=3)
    records[10] = {**records[10], "begin": "soon"}
    records[4_000] = "not an object"
    decoded = decode_outages(_compact(records), skip_invalid=True)
    assert [r.index for r in decoded.invalid] == [10, 4_000]
    assert decoded.outages == _outages([r for i, r in enumerate(records) if i not in (10, 4_000)])
    assert decoded.fetched == 5_000


@pytest.mark.parametrize("size", [50, 5_000])  # the whole-body path and the chunked path
def test_released_outages_are_counted_per_device_not_kept(size: int) -> None:
    records = _records(size, seed=4)
    decoded = decode_outages(_compact(records), release_before=CUTOFF)
    everything = decode_outages(_compact(records)).outages
    early = [o for o in everything if datetime.fromisoformat(o.begin) < CUTOFF]
    assert decoded.outages == [o for o in everything if o not in early]
    assert decoded.released == {d: n for d in DEVICES if (n := sum(o.id == d for o in early))}
    assert decoded.released_count == len(early)
    assert decoded.fetched == size


_sites = st.lists(st.sampled_from(DEVICES), min_size=0, max_size=6, unique=True)
_since = st.integers(min_value=-2 * 86_400, max_value=2 * 86_400).map(lambda s: CUTOFF + timedelta(seconds=s))


@settings(max_examples=40, deadline=None)
@given(
    size=st.sampled_from([40, 3_000]),
    seed=st.integers(0, 10**6),
    devices=_sites,
    since=_since,
    data=st.data(),
)
def test_release_and_index_select_what_the_plain_rule_selects(
    size: int, seed: int, devices: list[str], since: datetime, data: st.DataObject
) -> None:
    release_before = data.draw(
        st.sampled_from([since, since - timedelta(days=1), CUTOFF - timedelta(days=9)])
    )
    body = _compact(_records(size, seed))
    site = SiteInfo("s", "S", [Device(d, d.upper()) for d in devices])
    expected = select_site_outages(decode_outages(body).outages, site, since)
    decoded = decode_outages(body, release_before=release_before)
    assert select_decoded_site_outages(decoded, site, since) == expected
    assert select_decoded_site_outages(decoded, site, since, index_by_device(decoded.outages)) == expected
