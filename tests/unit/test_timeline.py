"""The outage timeline (domain/timeline.py): bars kept or dropped by the cutoff, and downsampling that
keeps every outage inside a bar of its device and kind, with counts that add up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from outagesync.domain.models import Device, Outage, SiteInfo, SiteOutage
from outagesync.domain.timeline import TimelineBar, downsample, timeline_of_items, timeline_of_site

SINCE = datetime(2022, 1, 1, tzinfo=UTC)
SITE = SiteInfo("s", "Site", [Device("a", "Battery A"), Device("b", "Battery B")])


def test_a_site_timeline_marks_outages_before_the_cutoff_dropped_and_ignores_other_devices() -> None:
    outages = [
        Outage("b", "2022-01-01T00:00:00.000Z", "2022-01-02T00:00:00.000Z"),  # at the cutoff: kept
        Outage("a", "2021-12-31T23:59:59.999Z", "2022-01-03T00:00:00.000Z"),  # just before: dropped
        Outage("x", "2022-05-01T00:00:00.000Z", "2022-05-02T00:00:00.000Z"),  # not the site's
        Outage("a", "2022-02-01T01:00:00+01:00", "2022-02-01T02:00:00+01:00"),
    ]
    timeline = timeline_of_site(outages, SITE, SINCE, max_bars=10)
    assert [(bar.device, bar.begin.isoformat(), bar.kept) for bar in timeline.bars] == [
        ("Battery A", "2021-12-31T23:59:59.999000+00:00", False),
        ("Battery A", "2022-02-01T00:00:00+00:00", True),
        ("Battery B", "2022-01-01T00:00:00+00:00", True),
    ]
    assert timeline.devices == (("a", "Battery A"), ("b", "Battery B"))
    assert (timeline.outages, timeline.kept, timeline.dropped, timeline.downsampled) == (3, 2, 1, False)


def test_a_posted_list_is_all_kept() -> None:
    items = [SiteOutage("a", "Battery A", "2022-03-01T00:00:00.000Z", "2022-03-02T00:00:00.000Z")] * 2
    timeline = timeline_of_items(items, SINCE, max_bars=10)
    assert [bar.count for bar in timeline.bars] == [1, 1]
    assert all(bar.kept for bar in timeline.bars)


def test_many_outages_of_one_device_are_merged_into_max_bars() -> None:
    start = datetime(2022, 1, 1, tzinfo=UTC)
    bars = [
        TimelineBar("a", "A", start + timedelta(hours=i), start + timedelta(hours=i, minutes=30), True)
        for i in range(10)
    ]
    merged = downsample(bars, 3)
    assert [(bar.count, bar.begin.hour, bar.end.hour, bar.end.minute) for bar in merged] == [
        (3, 0, 2, 30),
        (3, 3, 5, 30),
        (4, 6, 9, 30),
    ]


def test_max_bars_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_bars must be at least 1"):
        downsample([], 0)


_moments = st.integers(min_value=0, max_value=10_000).map(
    lambda minutes: datetime(2022, 1, 1, tzinfo=UTC) + timedelta(minutes=minutes)
)
_bars = st.lists(
    st.builds(
        lambda device, begin, length, kept: TimelineBar(
            device, device.upper(), begin, begin + timedelta(minutes=length), kept
        ),
        st.sampled_from("abcd"),
        _moments,
        st.integers(min_value=0, max_value=600),
        st.booleans(),
    ),
    max_size=300,
)


@given(_bars, st.integers(min_value=1, max_value=50))
def test_downsampling_keeps_every_outage_inside_a_bar_of_its_device_and_kind(
    bars: list[TimelineBar], max_bars: int
) -> None:
    merged = downsample(bars, max_bars)
    groups = {(bar.device_id, bar.kept) for bar in bars}
    assert sum(bar.count for bar in merged) == len(bars)
    assert len(merged) <= max(len(bars) if len(bars) <= max_bars else 0, max_bars + len(groups))
    if len(bars) <= max_bars:  # nothing merged: the same bars, in row and time order
        assert list(merged) == sorted(bars, key=lambda b: (b.device_id, b.begin, b.end, b.kept))
    for bar in bars:
        assert any(
            out.device_id == bar.device_id
            and out.kept == bar.kept
            and out.begin <= bar.begin
            and bar.end <= out.end
            for out in merged
        )
    assert list(merged) == sorted(merged, key=lambda b: (b.device_id, b.begin, b.end, b.kept))


def test_a_report_page_of_items_is_searched_then_paged() -> None:
    from outagesync.domain.items_page import page_of_items

    items = [
        SiteOutage(f"d{n}", f"Battery {n}", f"2022-0{1 + n % 9}-01T00:00:00.000Z", "x") for n in range(25)
    ]
    assert page_of_items(items, size=10, page=3).items == tuple(items[20:])
    assert (page_of_items(items, size=10, page=9).page, page_of_items(items, size=10, page=0).page) == (3, 1)
    found = page_of_items(items, text="battery 1", size=10)
    assert (found.matching, found.pages, [i.id for i in found.items][:2]) == (11, 2, ["d1", "d10"])
    assert page_of_items([], text="x").pages == 1
