"""Benchmark the dashboard's fleet overview: the time to answer GET /ui/ for a fleet of `--sites` sites.

Stores `--reports` site reports per site (and manages every site) in a fresh SQLite file, or in the
PostgreSQL database `--postgres` names, then asks the app for the overview `--repeat` times over ASGI (no
network: the query and the rendering only) and prints min/median/max. A script for `make bench`, not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from pydantic import SecretStr

from outagesync.adapters.storage import SqlStore
from outagesync.config import Settings
from outagesync.domain.models import RunReport, SiteOutage, SiteResult, SiteStatus, Trigger
from outagesync.entrypoints.api import create_app

ITEM = SiteOutage("device", "Battery", "2022-02-01T00:00:00.000Z", "2022-02-02T00:00:00.000Z")


def seed(url: str, sites: int, reports: int) -> None:
    """`reports` runs of every site (one in five failed), newest an hour ago; every site managed."""
    now = datetime.now(UTC)
    with SqlStore.from_url(url) as store:
        store.upgrade()
        for number in range(sites):
            store.add_site(f"site-{number:05d}", name=f"Site {number}")
        for run in range(reports):
            at = now - timedelta(hours=1 + run)
            results = tuple(
                SiteResult(
                    uuid.uuid4().hex,
                    f"site-{number:05d}",
                    SiteStatus.FAILED if (number + run) % 5 == 0 else SiteStatus.SUCCEEDED,
                    at,
                    at,
                    at,
                    items=(ITEM,) * 3,
                )
                for number in range(sites)
            )
            store.save_run(RunReport(uuid.uuid4().hex, Trigger.API, at, at, "bench", False, results))


async def measure(url: str, repeat: int) -> list[float]:
    settings = Settings(api_url="http://127.0.0.1:9", api_key=SecretStr("k"), database_url=url)
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 5000))
    timings = []
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
        for _ in range(repeat + 1):
            started = time.perf_counter()
            answer = await http.get("/ui/")
            timings.append(time.perf_counter() - started)
            assert answer.status_code == 200, answer.text[:500]
    return timings[1:]  # the first builds the template cache


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sites", type=int, default=1000)
    parser.add_argument("--reports", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--postgres", help="a PostgreSQL URL of an empty database (default: SQLite)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        url = args.postgres or f"sqlite:///{Path(directory) / 'ui.db'}"
        seed(url, args.sites, args.reports)
        timings = asyncio.run(measure(url, args.repeat))
    backend = "PostgreSQL" if args.postgres else "SQLite"
    print(
        f"GET /ui/ with {args.sites} sites x {args.reports} reports ({backend}): "
        f"min {min(timings) * 1000:.0f} ms, median {statistics.median(timings) * 1000:.0f} ms, "
        f"max {max(timings) * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main()
