"""A site's outage timeline: one bar per outage (device as row, `begin` to `end`), kept or dropped by the
cutoff, and the downsampling that keeps a large list drawable. Pure: values in, values out.

A bar of a downsampled timeline stands for `count` outages of one device, all kept or all dropped,
consecutive by begin time: it spans the earliest `begin` to the latest `end` among them.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from outagesync.domain.models import Outage, SiteInfo, SiteOutage
from outagesync.domain.timestamps import parse_instant

TIMELINE_BARS_MAX = 2000  # more outages than this are merged into at most about this many bars


@dataclass(frozen=True, slots=True)
class TimelineBar:
    """One outage (`count` 1), or `count` consecutive outages of one device merged by downsampling."""

    device_id: str
    device: str  # the device's name
    begin: datetime
    end: datetime
    kept: bool  # began at or after the cutoff: posted (or to be posted); else dropped before the cutoff
    count: int = 1


@dataclass(frozen=True, slots=True)
class Timeline:
    """What the site page draws. `outages` counts every outage behind the bars (downsampled or not)."""

    bars: tuple[TimelineBar, ...]
    devices: tuple[tuple[str, str], ...]  # (id, name) of each row, in row order
    since: datetime
    outages: int
    kept: int

    @property
    def downsampled(self) -> bool:
        return len(self.bars) < self.outages

    @property
    def dropped(self) -> int:
        return self.outages - self.kept


def timeline_of_items(items: Iterable[SiteOutage], since: datetime, *, max_bars: int) -> Timeline:
    """The timeline of a posted list (every item was kept by the cutoff rule)."""
    bars = [_bar(item.id, item.name, item.begin, item.end, kept=True) for item in items]
    rows = sorted({(bar.device, bar.device_id) for bar in bars})  # by name: the list has no device order
    return _timeline(bars, since, max_bars, [(device_id, name) for name, device_id in rows])


def timeline_of_site(
    outages: Iterable[Outage], site: SiteInfo, since: datetime, *, max_bars: int
) -> Timeline:
    """The timeline of every outage of the site's devices (validated), kept or dropped by `since`.
    Outages of devices the site does not have are not drawn."""
    names = {device.id: device.name for device in site.devices}
    bars = []
    for outage in outages:
        name = names.get(outage.id)
        if name is not None:
            begin = parse_instant(outage.begin)
            bars.append(_bar(outage.id, name, outage.begin, outage.end, kept=begin >= since))
    rows = [(device.id, device.name) for device in site.devices]  # every device, in the site's order
    return _timeline(bars, since, max_bars, rows)


def downsample(bars: Sequence[TimelineBar], max_bars: int) -> tuple[TimelineBar, ...]:
    """`bars` as they are if there are at most `max_bars`; else each (device, kept) group's bars merged in
    runs of consecutive begin times, each group getting a share of `max_bars` in proportion to its size
    (at least one bar). Every outage stays inside a bar of its device and kind; counts add up."""
    if max_bars < 1:
        raise ValueError("max_bars must be at least 1")
    ordered = sorted(bars, key=_order)
    if len(ordered) <= max_bars:
        return tuple(ordered)
    groups: dict[tuple[str, bool], list[TimelineBar]] = {}
    for bar in ordered:
        groups.setdefault((bar.device_id, bar.kept), []).append(bar)
    merged: list[TimelineBar] = []
    for group in groups.values():
        share = min(len(group), max(1, max_bars * len(group) // len(ordered)))
        bounds = [len(group) * part // share for part in range(share + 1)]  # `share` runs, sizes within 1
        merged.extend(_merge(group[start:end]) for start, end in itertools.pairwise(bounds))
    return tuple(sorted(merged, key=_order))


def _merge(run: Sequence[TimelineBar]) -> TimelineBar:
    first = run[0]
    if len(run) == 1:
        return first
    return TimelineBar(
        first.device_id,
        first.device,
        min(bar.begin for bar in run),
        max(bar.end for bar in run),
        first.kept,
        sum(bar.count for bar in run),
    )


def _order(bar: TimelineBar) -> tuple[str, datetime, datetime, bool]:
    return (bar.device_id, bar.begin, bar.end, bar.kept)


def _bar(device_id: str, name: str, begin: str, end: str, *, kept: bool) -> TimelineBar:
    return TimelineBar(device_id, name, parse_instant(begin), parse_instant(end), kept)


def _timeline(
    bars: list[TimelineBar], since: datetime, max_bars: int, rows: list[tuple[str, str]]
) -> Timeline:
    return Timeline(
        bars=downsample(bars, max_bars),
        devices=tuple(dict(rows).items()),  # a device listed twice keeps its first row
        since=since,
        outages=len(bars),
        kept=sum(1 for bar in bars if bar.kept),
    )
