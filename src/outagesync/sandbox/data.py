"""What the sandbox serves (outages, sites) and its own plain rule for each site's right POST payload.

Re-implemented from the API spec on purpose: it must never share code with the sync it checks.
"""

from __future__ import annotations

import functools
import json
from collections import Counter
from collections.abc import Container, Iterable, Iterator, Mapping
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import msgspec

# "Drop outages that began before 2022-01-01T00:00:00.000Z": an outage beginning exactly then is kept.
CUTOFF = datetime(2022, 1, 1, tzinfo=UTC)

# One item of a POST /site-outages payload, compared as exact strings: (id, name, begin, end).
Item = tuple[str, str, str, str]

DATASET_FILE_KEYS = frozenset({"outages", "sites", "description"})


def is_kept(begin: str) -> bool:
    """True if an outage beginning at `begin` is at or after the cutoff; unparseable or naive: False."""
    try:
        instant = datetime.fromisoformat(begin)
    except ValueError:
        return False
    return instant.tzinfo is not None and instant >= CUTOFF


JSON_STYLES = ("compact", "spaced", "indented", "crlf")


def to_json_bytes(value: Any, style: str = "compact") -> bytes:
    """UTF-8 JSON. `compact`: the way the real API writes it (no spaces, non-ASCII as is); `spaced`:
    `json.dumps`'s default `", "` and `": "` (non-ASCII as \\uXXXX escapes); `indented`: 2 spaces;
    `crlf`: indented, with CRLF line ends."""
    if style == "compact":
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
    if style == "spaced":
        return json.dumps(value).encode()
    if style == "indented":
        return json.dumps(value, ensure_ascii=False, indent=2).encode()
    if style == "crlf":
        return json.dumps(value, ensure_ascii=False, indent=2).replace("\n", "\r\n").encode() + b"\r\n"
    raise ValueError(f"unknown JSON style {style!r}: use one of {', '.join(JSON_STYLES)}")


class Dataset:
    """Outages and sites to serve, served exactly as given (malformed records included).

    `outages` is a list of outage records (any JSON values); `sites` maps site id -> site-info object, or is a
    list of site-info objects keyed by their "id". `outages_body` replaces the served GET /outages body with
    raw bytes (anything at all); the right payloads then come from `outages`, or from the body if it parses.
    Bodies are serialised once; each site's right payload is computed on first use and cached.
    """

    def __init__(
        self,
        outages: Iterable[Any] = (),
        sites: Mapping[str, Any] | Iterable[Any] = (),
        *,
        outages_body: bytes | None = None,
    ) -> None:
        records = list(outages)
        self.sites: dict[str, Any] = _sites_by_id(sites)
        self.outages_body: bytes = to_json_bytes(records) if outages_body is None else outages_body
        # None: derive the records from the raw body on first use (see _load_records).
        self._records: list[Any] | None = records if records or outages_body is None else None
        self._by_device: dict[str, list[tuple[str, str]]] | None = None
        self._site_bodies: dict[str, bytes] = {}
        self._right: dict[str, Counter[Item]] = {}
        self._expected: dict[str, bytes] = {}

    def restyled(self, style: str) -> Dataset:
        """The same data, its GET /outages body written in another JSON style (see to_json_bytes)."""
        records = self._load_records()
        return Dataset(records, self.sites, outages_body=to_json_bytes(records, style))

    @property
    def outage_count(self) -> int:
        """How many outage records the right payloads are computed from."""
        return len(self._load_records())

    def site_info_body(self, site_id: str) -> bytes | None:
        """The GET /site-info body of a site, or None if there is no such site."""
        if site_id not in self.sites:
            return None
        body = self._site_bodies.get(site_id)
        if body is None:
            body = self._site_bodies[site_id] = to_json_bytes(self.sites[site_id])
        return body

    def right_payload(self, site_id: str) -> Counter[Item] | None:
        """The multiset of items a POST for this site must contain, or None if there is no such site.

        The rule: every outage of a device of the site whose begin is at or after the cutoff,
        with the device's name added; begin and end exactly as served.
        """
        if site_id not in self.sites:
            return None
        right = self._right.get(site_id)
        if right is None:
            right = Counter()
            for device_id, name in device_names(self.sites[site_id]).items():
                for begin, end in self.outages_of_device(device_id):
                    if is_kept(begin):
                        right[(device_id, name, begin, end)] += 1
            self._right[site_id] = right
        return right

    def expected_body(self, site_id: str) -> bytes | None:
        """The right payload as a straightforward client posts it: compact JSON, in served order, keys
        id, name, begin, end. A POST of exactly these bytes is right without parsing it (the fast check)."""
        if site_id not in self.sites:
            return None
        body = self._expected.get(site_id)
        if body is None:
            names = device_names(self.sites[site_id])
            items = [
                {"id": device_id, "name": names[device_id], "begin": begin, "end": end}
                for device_id, begin, end in self._served_outages(names)
                if is_kept(begin)
            ]
            body = self._expected[site_id] = msgspec.json.encode(items)
        return body

    def _served_outages(self, devices: Container[str]) -> Iterator[tuple[str, str, str]]:
        """(device id, begin, end) of the well-formed outages of these devices, in served order."""
        for record in self._load_records():
            if _is_well_formed(record) and record["id"] in devices:
                yield record["id"], record["begin"], record["end"]

    def outages_of_device(self, device_id: str) -> list[tuple[str, str]]:
        """(begin, end) of the well-formed outages of one device, in served order."""
        if self._by_device is None:
            by_device: dict[str, list[tuple[str, str]]] = {}
            for record in self._load_records():
                if _is_well_formed(record):
                    by_device.setdefault(record["id"], []).append((record["begin"], record["end"]))
            self._by_device = by_device
        return self._by_device.get(device_id, [])

    def _load_records(self) -> list[Any]:
        if self._records is None:
            try:
                parsed = json.loads(self.outages_body)
            except ValueError:  # a deliberately broken body: no outage is right anywhere
                parsed = []
            self._records = parsed if isinstance(parsed, list) else []
        return self._records


def device_names(site: Any) -> dict[str, str]:
    """Device id -> name for the well-formed devices of a site-info object (others are ignored)."""
    devices = site.get("devices") if isinstance(site, dict) else None
    if not isinstance(devices, list):
        return {}
    return {
        device["id"]: device["name"]
        for device in devices
        if isinstance(device, dict)
        and isinstance(device.get("id"), str)
        and isinstance(device.get("name"), str)
    }


def _is_well_formed(record: Any) -> bool:
    return isinstance(record, dict) and all(
        isinstance(record.get(key), str) for key in ("id", "begin", "end")
    )


def _sites_by_id(sites: Mapping[str, Any] | Iterable[Any]) -> dict[str, Any]:
    if isinstance(sites, Mapping):
        return dict(sites)
    by_id: dict[str, Any] = {}
    for site in sites:
        if not (isinstance(site, dict) and isinstance(site.get("id"), str)):
            raise ValueError(
                f"a site in a list needs a string 'id' (or pass a dict of site id -> site): {site!r}"
            )
        by_id[site["id"]] = site
    return by_id


def dataset_from_json(document: Any, *, source: str) -> Dataset:
    """A Dataset from a dataset document: {"outages": [...], "sites": [...] or {...}, "description": ""}."""
    if not isinstance(document, dict):
        raise ValueError(f"{source}: a dataset must be a JSON object with 'outages' and 'sites'")
    unknown = sorted(set(document) - DATASET_FILE_KEYS)
    if unknown:
        raise ValueError(
            f"{source}: unknown key(s) {', '.join(unknown)}; expected outages, sites, description"
        )
    outages = document.get("outages", [])
    sites = document.get("sites", [])
    if not isinstance(outages, list):
        raise ValueError(f"{source}: 'outages' must be a list")
    if not isinstance(sites, list | dict):
        raise ValueError(
            f"{source}: 'sites' must be a list of site-info objects or an object keyed by site id"
        )
    try:
        return Dataset(outages, sites)
    except ValueError as exc:
        raise ValueError(f"{source}: {exc}") from exc


def load_dataset_file(path: str | Path) -> Dataset:
    """Read a dataset file (the format of default_dataset.json); ValueError/OSError say what is wrong."""
    text = Path(path).read_text(encoding="utf-8")
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise ValueError(f"{path}: not valid JSON: {exc}") from exc
    return dataset_from_json(document, source=str(path))


@functools.cache
def load_default_dataset() -> Dataset:
    """The built-in dataset (real norwich-pear-tree data, kingfisher, edge-case sites); loaded once."""
    text = resources.files("outagesync.sandbox").joinpath("default_dataset.json").read_text(encoding="utf-8")
    return dataset_from_json(json.loads(text), source="default_dataset.json")
