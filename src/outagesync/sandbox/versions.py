"""Changing data: each GET /outages serves a new version, marked by one extra outage per site.

A version is the base Dataset plus its markers, derived on demand and never stored whole; a POST is checked
with the plain rules against the versions served. It only serves and matches: recording is app.py's.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from outagesync.sandbox.data import Dataset, Item, device_names, to_json_bytes
from outagesync.sandbox.payload import compare_items, read_items

# After the cutoff (and DEFAULT_SINCE), so a default sync keeps every marker; the end encodes the version.
MARKER_BEGIN = "2023-01-01T00:00:00.000Z"
_MARKER_EPOCH = datetime(2023, 1, 1, tzinfo=UTC)
_END_FORMAT = "%Y-%m-%dT%H:%M:%S.000Z"
KEPT_VERSIONS = 1000  # a POST may match any of the last 1000 versions served: memory stays bounded


def marker_end(version: int) -> str:
    """The `end` of the markers of `version`: MARKER_BEGIN plus `version` seconds, in the real form."""
    return (_MARKER_EPOCH + timedelta(seconds=version)).strftime(_END_FORMAT)


def version_of_end(end: str) -> int | None:
    """The version that a marker's `end` encodes, or None if it is not the end of any marker."""
    try:
        instant = datetime.strptime(end, _END_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return None
    version = int((instant - _MARKER_EPOCH).total_seconds())
    return version if version >= 1 and marker_end(version) == end else None


class Markers:
    """Where a dataset's markers go: the first device of each site, one marker record per device.

    A site sees the markers of all its devices (a device may be the first of another site too). A site
    with no well-formed device gets none; if the /outages body is not a JSON array, no site gets any.
    """

    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset
        body = dataset.outages_body
        # "[", items or none, "]": found without copying the body (it may be 114 MB).
        opening, close = re.match(rb"\s*\[\s*", body), body.rfind(b"]")
        is_array = opening is not None and close >= opening.end() and not body[close + 1 :].strip()
        names_by_site = {site_id: device_names(site) for site_id, site in dataset.sites.items()}
        firsts = [next(iter(names)) for names in names_by_site.values() if names] if is_array else []
        self.devices = list(dict.fromkeys(firsts))  # served order, each device once
        marked = set(self.devices)
        self._by_site = {
            site_id: [(device_id, name) for device_id, name in names.items() if device_id in marked]
            for site_id, names in names_by_site.items()
        }
        self._close = close
        self._separator = b"," if opening is not None and close > opening.end() else b""

    def body(self, version: int) -> bytes:
        """The GET /outages body of `version`: the dataset's, with the markers appended to its array."""
        if not self.devices:
            return self.dataset.outages_body
        end = marker_end(version)
        records = b",".join(
            to_json_bytes({"id": device_id, "begin": MARKER_BEGIN, "end": end}) for device_id in self.devices
        )
        body = memoryview(self.dataset.outages_body)  # one copy of the body, not three
        return b"".join((body[: self._close], self._separator, records, body[self._close :]))

    def has_marker(self, site_id: str) -> bool:
        return bool(self._by_site.get(site_id))

    def is_marker_of(self, site_id: str, device_id: str, name: str) -> bool:
        """Whether a marker on this device, with this name, belongs in the site's payloads."""
        return (device_id, name) in self._by_site.get(site_id, [])

    def right_payload(self, site_id: str, version: int) -> Counter[Item] | None:
        """The site's right payload in `version`: the plain rule's, plus the site's markers."""
        right = self.dataset.right_payload(site_id)
        if right is None or not self._by_site.get(site_id):
            return right
        end = marker_end(version)
        return right + Counter((device, name, MARKER_BEGIN, end) for device, name in self._by_site[site_id])


class Versions:
    """The versions served so far (the markers of the last KEPT_VERSIONS), and the check of a POST."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._latest = 0
        self._kept: dict[int, Markers] = {}

    @property
    def latest(self) -> int:
        """How many versions were served (the number of the last one; 0: none)."""
        return self._latest

    def serve(self, dataset: Dataset) -> tuple[int, bytes]:
        """The next version's number and GET /outages body; from now on a POST may match it."""
        with self._lock:
            self._latest += 1
            version = self._latest
            markers = self._kept.get(version - 1)
            if markers is None or markers.dataset is not dataset:
                markers = Markers(dataset)
            self._kept[version] = markers
            self._kept.pop(version - KEPT_VERSIONS, None)
        return version, markers.body(version)

    def clear(self) -> None:
        with self._lock:
            self._latest = 0
            self._kept.clear()

    def match(self, site_id: str, body: bytes) -> tuple[list[Any], int | None, str | None]:
        """(the items, the version whose right payload they are, None), else ([], None, what is wrong).

        Schema errors are reported as in the plain check; a wrong set is compared with the version it
        seems to aim at (the one its marker names), else with the newest version.
        """
        items, received, problem = read_items(body)
        if problem is not None:
            return [], None, problem
        with self._lock:
            kept = dict(self._kept)
        got = Counter(received)
        candidates = _candidates(site_id, got, kept)
        for version in candidates:
            right = kept[version].right_payload(site_id, version)
            if right is not None and got == right:
                return items, version, None
        # What it seems to aim at: the version its marker names, else the newest one with this site.
        aimed = (
            (version, right)
            for version in [*candidates, *sorted(kept, reverse=True)]
            if (right := kept[version].right_payload(site_id, version)) is not None
        )
        compared = next(aimed, None)
        if compared is None:
            return [], None, "no version of the data with this site was served yet (GET /outages first)"
        version, right = compared
        lowest, highest = min(kept), max(kept)
        served = f"version {lowest}" if lowest == highest else f"versions {lowest}–{highest}"
        difference = compare_items(got, right)
        return [], None, f"matches none of the {served} served; against version {version}: {difference}"


def _candidates(site_id: str, got: Counter[Item], kept: dict[int, Markers]) -> list[int]:
    """The kept versions a payload can match, newest first, each right payload checked once: those whose
    marker for this site was posted, then, for a site without markers, the newest of each dataset."""
    marked = set()
    for device_id, name, begin, end in got:
        version = version_of_end(end) if begin == MARKER_BEGIN else None
        if version in kept and kept[version].is_marker_of(site_id, device_id, name):
            marked.add(version)
    unmarked: dict[int, int] = {}  # id(markers) -> its newest version: the same right payload for all
    for version in sorted(kept, reverse=True):
        if not kept[version].has_marker(site_id):
            unmarked.setdefault(id(kept[version]), version)
    return [*sorted(marked, reverse=True), *unmarked.values()]
