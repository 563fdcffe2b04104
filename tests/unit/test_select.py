"""The selection rules, against the real data and against a plain reference implementation."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from outagesync.adapters.krakenflex.decode import decode_outages, decode_site_info
from outagesync.domain.models import Device, Outage, SiteInfo, SiteOutage
from outagesync.domain.select import select_site_outages

DATA = Path(__file__).parent.parent / "data"
CUTOFF = datetime(2022, 1, 1, tzinfo=UTC)


def _items(path: str) -> Counter[tuple[str, str, str, str]]:
    return Counter((i["id"], i["name"], i["begin"], i["end"]) for i in json.loads((DATA / path).read_text()))


def _as_counter(items: Sequence[SiteOutage]) -> Counter[tuple[str, str, str, str]]:
    return Counter((i.id, i.name, i.begin, i.end) for i in items)


def test_real_norwich_data_gives_the_accepted_payload() -> None:
    outages = decode_outages((DATA / "outages_real.json").read_bytes()).outages
    site = decode_site_info((DATA / "site_info_norwich.json").read_bytes(), "norwich-pear-tree")
    selection = select_site_outages(outages, site, CUTOFF)
    assert _as_counter(selection.items) == _items("accepted_norwich.json")
    assert selection.dropped_before_cutoff == 8
    assert selection.dropped_unknown_device == 90


def test_kingfisher_brief_example() -> None:
    outages = decode_outages((DATA / "kingfisher_outages.json").read_bytes()).outages
    site = decode_site_info((DATA / "site_info_kingfisher.json").read_bytes(), "kingfisher")
    items = select_site_outages(outages, site, CUTOFF).items
    assert _as_counter(items) == _items("expected_kingfisher.json")


def _site(*devices: tuple[str, str]) -> SiteInfo:
    return SiteInfo(id="s", name="S", devices=[Device(id=i, name=n) for i, n in devices])


def test_cutoff_is_inclusive() -> None:
    site = _site(("d", "Battery"))
    at, before = Outage("d", "2022-01-01T00:00:00.000Z", "x"), Outage("d", "2021-12-31T23:59:59.999Z", "x")
    assert select_site_outages([at, before], site, CUTOFF).items == [at.named("Battery")]


def test_offsets_are_compared_as_instants() -> None:
    site = _site(("d", "Battery"))
    # 00:30 at +01:00 is 23:30 UTC the day before: before the cutoff, although its text says 2022
    early = Outage("d", "2022-01-01T00:30:00+01:00", "2022-02-01T00:00:00Z")
    # 23:30 at -01:00 on 31 Dec is 00:30 UTC on 1 Jan: after the cutoff, although its text says 2021
    late = Outage("d", "2021-12-31T23:30:00-01:00", "2022-02-01T00:00:00Z")
    no_fraction = Outage("d", "2022-01-01T00:00:00Z", "2022-01-02T00:00:00Z")
    selection = select_site_outages([early, late, no_fraction], site, CUTOFF)
    assert selection.items == [late.named("Battery"), no_fraction.named("Battery")]
    assert selection.dropped_before_cutoff == 1


def test_timestamps_are_posted_exactly_as_received() -> None:
    site = _site(("d", "Battery"))
    outage = Outage("d", "2022-03-01T10:00:00.1+01:00", "2022-03-02T10:00:00.120000Z")
    (item,) = select_site_outages([outage], site, CUTOFF).items
    assert (item.begin, item.end) == (outage.begin, outage.end)


def test_upstream_order_and_repeats_are_kept() -> None:
    site = _site(("b", "B"), ("a", "A"))
    outages = [Outage(i, "2022-05-01T00:00:00.000Z", "2022-05-02T00:00:00.000Z") for i in "babxa"]
    assert [item.id for item in select_site_outages(outages, site, CUTOFF).items] == ["b", "a", "b", "a"]


# A plain reference: a string scan with the slow, obvious parse, to check the fast code against.
def _reference(outages: list[Outage], devices: list[Device], since: datetime) -> list[SiteOutage]:
    result = []
    for outage in outages:
        for device in devices:
            begin = datetime.fromisoformat(outage.begin.replace("Z", "+00:00"))
            if device.id == outage.id and begin >= since:
                result.append(SiteOutage(outage.id, device.name, outage.begin, outage.end))
                break
    return result


_ids = st.sampled_from(["d1", "d2", "d3", "d4", "ghost"])
_offsets = st.sampled_from(
    [timedelta(0), timedelta(hours=1), timedelta(hours=-5, minutes=-30), timedelta(hours=14)]
)
_instants = st.datetimes(
    min_value=datetime(2021, 12, 30), max_value=datetime(2022, 1, 2), timezones=st.just(UTC)
) | st.just(CUTOFF)


@st.composite
def _timestamps(draw: st.DrawFn) -> str:
    moment = draw(_instants).astimezone(timezone(draw(_offsets)))
    text = moment.isoformat(timespec=draw(st.sampled_from(["seconds", "milliseconds", "microseconds"])))
    return text.replace("+00:00", "Z") if draw(st.booleans()) else text


@given(
    outages=st.lists(st.builds(Outage, id=_ids, begin=_timestamps(), end=_timestamps()), max_size=30),
    names=st.lists(st.text(min_size=1, max_size=8), min_size=4, max_size=4),
)
def test_selection_matches_the_reference(outages: list[Outage], names: list[str]) -> None:
    devices = [Device(f"d{n}", name) for n, name in enumerate(names, start=1)]
    site = SiteInfo(id="s", name="S", devices=devices)
    selection = select_site_outages(outages, site, CUTOFF)
    assert selection.items == _reference(outages, devices, CUTOFF)
    dropped = selection.dropped_before_cutoff + selection.dropped_unknown_device
    assert len(selection.items) + dropped == len(outages)
    assert selection.dropped_unknown_device == sum(o.id == "ghost" for o in outages)
