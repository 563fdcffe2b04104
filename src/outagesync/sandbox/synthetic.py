"""A seeded synthetic dataset for scale (e.g. 1,000,000 outages): the same arguments give the same bytes.

Each device's outages come from an RNG seeded by (seed, device id), so a site's right payload regenerates
them on demand: only the GET /outages body, serialised once, is kept in memory.
"""

from __future__ import annotations

import functools
import random
import uuid
from collections.abc import Container, Iterator
from datetime import UTC, datetime, timedelta

from outagesync.sandbox.data import Dataset

_EPOCH = datetime(2020, 1, 1, tzinfo=UTC)
_DAY_MS = 86_400_000
_BEGIN_SPAN_MS = 1461 * _DAY_MS  # begins spread over 2020-01-01 .. 2023-12-31, about half before the cutoff
_MIN_DURATION_MS = 60_000
_DURATION_SPAN_MS = 365 * _DAY_MS
_TABLE_DAYS = 1461 + 366 + 1  # the latest end: the last begin plus the longest duration
_NO_SITE_SHARE = 0.05  # devices in no site, like the real API's outages of random device ids


@functools.cache
def _timestamp_parts() -> tuple[list[str], list[str], list[str]]:
    """Precomputed "YYYY-MM-DDT", "HH:MM:SS." and "mmmZ" strings: formatting is three lookups."""
    days = [(_EPOCH + timedelta(days=day)).strftime("%Y-%m-%dT") for day in range(_TABLE_DAYS)]
    seconds = [f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}." for s in range(86_400)]
    millis = [f"{ms:03d}Z" for ms in range(1000)]
    return days, seconds, millis


def device_outages(seed: int, device_id: str, count: int) -> list[tuple[str, str]]:
    """(begin, end) of a device's `count` outages, timestamps in the real form YYYY-MM-DDTHH:MM:SS.mmmZ."""
    days, seconds, millis = _timestamp_parts()
    draw = random.Random(f"{seed}/{device_id}").random
    outages = []
    for _ in range(count):
        begin = int(draw() * _BEGIN_SPAN_MS)
        # The product of two draws skews durations towards short outages, as real ones are.
        end = begin + _MIN_DURATION_MS + int(draw() * draw() * _DURATION_SPAN_MS)
        begin_day, begin_ms = divmod(begin, _DAY_MS)
        end_day, end_ms = divmod(end, _DAY_MS)
        outages.append(
            (
                days[begin_day] + seconds[begin_ms // 1000] + millis[begin_ms % 1000],
                days[end_day] + seconds[end_ms // 1000] + millis[end_ms % 1000],
            )
        )
    return outages


class SyntheticDataset(Dataset):
    """A Dataset whose outages are regenerated per device instead of being stored."""

    def __init__(self, *, seed: int, counts: dict[str, int], sites: dict[str, object], body: bytes) -> None:
        super().__init__(sites=sites, outages_body=body)
        self.seed = seed
        self._counts = counts

    @property
    def outage_count(self) -> int:
        return sum(self._counts.values())

    def outages_of_device(self, device_id: str) -> list[tuple[str, str]]:
        return device_outages(self.seed, device_id, self._counts.get(device_id, 0))

    def _served_outages(self, devices: Container[str]) -> Iterator[tuple[str, str, str]]:
        for device_id in sorted(self._counts):  # the body is sorted by device id
            if device_id in devices:
                for begin, end in self.outages_of_device(device_id):
                    yield device_id, begin, end


def generate_dataset(
    outages: int, devices: int | None = None, sites: int | None = None, seed: int = 0
) -> SyntheticDataset:
    """`outages` outages over `devices` devices (default outages/100) spread over `sites` sites (default
    devices/10), about 5% of the devices in no site; /outages is sorted by device id like the real one."""
    devices = max(1, outages // 100) if devices is None else devices
    sites = max(1, devices // 10) if sites is None else sites
    if outages < 0 or devices < 1 or sites < 0:
        raise ValueError("need outages >= 0, devices >= 1 and sites >= 0")
    rng = random.Random(seed)
    device_ids = sorted(str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(devices))
    counts = _spread(outages, len(device_ids), rng)
    counts_by_device = dict(zip(device_ids, counts, strict=True))

    in_sites = device_ids.copy()
    rng.shuffle(in_sites)
    in_sites = in_sites[: devices - int(devices * _NO_SITE_SHARE)] if sites else []
    width = len(str(sites))
    site_infos: dict[str, object] = {}
    for index in range(sites):
        site_id = f"site-{index + 1:0{width}d}"
        members = in_sites[index::sites]
        site_infos[site_id] = {
            "id": site_id,
            "name": f"Synthetic Site {index + 1}",
            "devices": [{"id": device_id, "name": f"Battery {n + 1}"} for n, device_id in enumerate(members)],
        }

    chunks = [
        ",".join(
            [
                f'{{"id":"{device_id}","begin":"{b}","end":"{e}"}}'
                for b, e in device_outages(seed, device_id, n)
            ]
        )
        for device_id, n in counts_by_device.items()
        if n
    ]
    body = ("[" + ",".join(chunks) + "]").encode()
    return SyntheticDataset(seed=seed, counts=counts_by_device, sites=site_infos, body=body)


def _spread(total: int, buckets: int, rng: random.Random) -> list[int]:
    """`total` split over `buckets` unevenly (weights 0.5..1.5), summing exactly to `total`."""
    weights = [0.5 + rng.random() for _ in range(buckets)]
    scale = total / sum(weights)
    counts = [int(weight * scale) for weight in weights]
    for index in range(total - sum(counts)):  # what flooring lost: fewer than `buckets`
        counts[index % buckets] += 1
    return counts
