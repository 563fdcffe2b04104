"""Benchmark child: outagesync's sync use case, in-process, against KRAKENFLEX_API_URL / KRAKENFLEX_API_KEY.

The same call `outagesync sync SITE...` makes (real KrakenFlexClient, `sync_sites`), minus the report
store and the terminal rendering, which the references do not have either. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from collections.abc import Callable, Container, Sequence
from datetime import UTC, datetime
from pathlib import Path

from outagesync.adapters.krakenflex.client import KrakenFlexClient
from outagesync.domain.models import DecodedOutages, RunReport, SiteInfo, SiteOutage
from outagesync.domain.payload import encode_payload
from outagesync.services.ports import Fetched, Posted, Upstream
from outagesync.services.sync import SyncOptions, sync_sites

CUTOFF = datetime(2022, 1, 1, tzinfo=UTC)


class _SavingPayloads:
    """An Upstream that passes everything on and keeps each POST body (the floor replays them)."""

    def __init__(self, client: KrakenFlexClient) -> None:
        self.client = client
        self.bodies: dict[str, bytes] = {}

    async def fetch_outages(
        self,
        *,
        skip_invalid: bool = False,
        release_before: datetime | None = None,
        devices: Callable[[], Container[str] | None] | None = None,
    ) -> Fetched[DecodedOutages]:
        return await self.client.fetch_outages(
            skip_invalid=skip_invalid, release_before=release_before, devices=devices
        )

    async def fetch_site_info(self, site_id: str) -> Fetched[SiteInfo]:
        return await self.client.fetch_site_info(site_id)

    async def post_site_outages(self, site_id: str, items: Sequence[SiteOutage]) -> Posted:
        self.bodies[site_id] = encode_payload(items)  # the bytes the client posts
        return await self.client.post_site_outages(site_id, items)


def save_payloads(path: Path, bodies: dict[str, bytes]) -> None:
    """One JSON header line {site id: length}, then the bodies back to back, in that order."""
    with path.open("wb") as file:
        file.write(json.dumps({site: len(body) for site, body in bodies.items()}).encode() + b"\n")
        for body in bodies.values():
            file.write(body)


async def _sync(site_ids: list[str], concurrency: int, payloads: Path | None) -> RunReport:
    url, key = os.environ["KRAKENFLEX_API_URL"], os.environ["KRAKENFLEX_API_KEY"]
    async with KrakenFlexClient(url, key, max_connections=concurrency + 1) as client:
        upstream: Upstream = _SavingPayloads(client) if payloads else client
        report = await sync_sites(
            site_ids,
            options=SyncOptions(since=CUTOFF, concurrency=concurrency),
            upstream=upstream,
            reports=None,
            clock=lambda: datetime.now(UTC),
        )
    if payloads and isinstance(upstream, _SavingPayloads):
        save_payloads(payloads, upstream.bodies)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("site_ids", nargs="+")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--save-payloads", type=Path, help="write the POST bodies here (for the floor)")
    args = parser.parse_args()
    started = time.perf_counter()
    reports: list[RunReport] = []  # as the CLI does: asyncio.run must not repr the report

    async def boxed() -> None:
        reports.append(await _sync(args.site_ids, args.concurrency, args.save_payloads))

    asyncio.run(boxed())
    report = reports[0]
    work_s = time.perf_counter() - started
    failed = [f"{s.site_id}: {s.error.message}" for s in report.sites if s.error]
    result = {
        "work_s": work_s,
        "ok": not failed,
        "errors": failed[:3],
        "posted_items": sum(s.posted for s in report.sites),
        "fetched": report.sites[0].fetched if report.sites else 0,
    }
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
