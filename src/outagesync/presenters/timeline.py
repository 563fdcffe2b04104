"""A Timeline as the data the site page's chart draws (JSON): rows, bars, cutoff. Times in epoch ms and
as exact ISO text for hover labels."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from outagesync.domain.timeline import Timeline


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def timeline_to_dict(timeline: Timeline) -> dict[str, Any]:
    """`devices`: row names, top to bottom; each bar `[row, begin_ms, end_ms, kept, count, begin, end]`."""
    rows = {device_id: row for row, (device_id, _) in enumerate(timeline.devices)}
    return {
        "devices": [name for _, name in timeline.devices],
        "since": _ms(timeline.since),
        "since_text": _iso(timeline.since),
        "outages": timeline.outages,
        "kept": timeline.kept,
        "downsampled": timeline.downsampled,
        "bars": [
            [
                rows[bar.device_id],
                _ms(bar.begin),
                _ms(bar.end),
                bar.kept,
                bar.count,
                _iso(bar.begin),
                _iso(bar.end),
            ]
            for bar in timeline.bars
        ],
    }
