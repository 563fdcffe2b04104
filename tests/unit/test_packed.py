"""Packed outages and items are the outages and items they hold: same values, same payload, same rules."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from outagesync.domain.models import DecodedOutages, Device, Outage, SiteInfo
from outagesync.domain.packed import PackedItems, PackedOutages
from outagesync.domain.payload import encode_payload, payload_digest, payload_length, payload_pieces
from outagesync.domain.select import index_by_device, select_decoded_site_outages, select_site_outages

_text = st.text(alphabet=st.characters(codec="utf-8"), max_size=6)
_device = st.sampled_from(["d1", "d2", 'q"uote', "é"])
_instant = st.sampled_from(
    [
        "2021-12-31T23:59:59.999Z",
        "2022-01-01T00:00:00.000Z",
        "2022-06-01T00:00:00+01:00",
        "2023-01-01T00:00:00Z",
    ]
)
_outages = st.lists(st.builds(Outage, _device, _instant, _instant), max_size=30)
_names = st.dictionaries(_device, st.one_of(_text, st.just("Battery 1")), min_size=1)
CUTOFFS = [datetime(2022, 1, 1, tzinfo=UTC), datetime(2022, 6, 1, tzinfo=UTC)]


@settings(max_examples=200, deadline=None)
@given(st.lists(_outages, max_size=4))
def test_packed_outages_hold_exactly_what_was_appended(batches: list[list[Outage]]) -> None:
    packed = PackedOutages()
    for batch in batches:
        packed.extend(batch)
    everything = [outage for batch in batches for outage in batch]
    assert packed == everything
    assert list(packed) == everything
    assert packed[1:4] == everything[1:4]
    if everything:
        assert packed[-1] == everything[-1]


@settings(max_examples=300, deadline=None)
@given(_outages, _names, st.sampled_from(CUTOFFS), st.booleans())
def test_selecting_packed_outages_gives_the_items_a_list_gives(
    outages: list[Outage], names: dict[str, str], since: datetime, indexed: bool
) -> None:
    site = SiteInfo("s", "Site", [Device(device_id, name) for device_id, name in names.items()])
    packed = PackedOutages(outages)
    decoded = DecodedOutages(packed, [])
    selection = select_decoded_site_outages(
        decoded, site, since, index_by_device(packed) if indexed else None
    )
    expected = select_site_outages(outages, site, since)
    assert isinstance(selection.items, PackedItems)
    assert selection == expected
    assert list(selection.items) == expected.items
    assert b"".join(payload_pieces(selection.items, 7)) == encode_payload(expected.items)
    assert payload_length(selection.items) == len(encode_payload(expected.items))
    assert selection.items.digest is not None  # worked out while the pieces were made
    assert (
        payload_digest(selection.items)
        == payload_digest(expected.items)
        == payload_digest(list(selection.items))
    )


def test_outages_that_began_before_the_kept_from_cutoff_are_not_looked_at_again() -> None:
    outages = [Outage("d1", "2022-03-01T00:00:00Z", "2022-03-02T00:00:00Z")]
    site = SiteInfo("s", "Site", [Device("d1", "One")])
    decoded = DecodedOutages(PackedOutages(outages), [], kept_from=CUTOFFS[0])
    assert len(select_decoded_site_outages(decoded, site, CUTOFFS[0]).items) == 1
    later = select_decoded_site_outages(decoded, site, datetime(2022, 4, 1, tzinfo=UTC))
    assert (len(later.items), later.dropped_before_cutoff) == (0, 1)
