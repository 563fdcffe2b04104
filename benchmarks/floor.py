"""Benchmark child: the floor. The same HTTP transfers as outagesync's sync, and nothing else.

GET /outages and every site's info are downloaded and not parsed; each site's POST sends the bytes
outagesync posted in the warm-up run (read from a file). Same client (httpx), same connection limit,
same order constraints: a site posts once /outages and its info have arrived. The harness times the
whole process, start-up included, as it does outagesync's.
Prints one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path

import httpx


def load_payloads(path: Path) -> dict[str, bytes]:
    """The file written by run.py (save_payloads): a JSON header {site id: length}, then the bodies."""
    with path.open("rb") as file:
        lengths: dict[str, int] = json.loads(file.readline())
        return {site_id: file.read(length) for site_id, length in lengths.items()}


async def _transfer(payloads: dict[str, bytes], concurrency: int) -> int:
    url, key = os.environ["KRAKENFLEX_API_URL"], os.environ["KRAKENFLEX_API_KEY"]
    limits = httpx.Limits(max_connections=concurrency + 1, max_keepalive_connections=concurrency + 1)
    limit = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(
        base_url=url, headers={"x-api-key": key}, limits=limits, timeout=300
    ) as client:

        async def get(path: str) -> bytes:
            response = await client.get(path)
            response.raise_for_status()
            return response.content

        async def site(site_id: str, outages: asyncio.Future[bytes]) -> None:
            async with limit:
                await get(f"/site-info/{site_id}")
            await asyncio.shield(outages)
            async with limit:
                response = await client.post(
                    f"/site-outages/{site_id}",
                    content=payloads[site_id],
                    headers={"content-type": "application/json"},
                )
                response.raise_for_status()

        outages = asyncio.ensure_future(get("/outages"))
        await asyncio.gather(*(site(site_id, outages) for site_id in payloads))
        return len(await outages)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("payloads", type=Path, help="the file written by run.py (save_payloads)")
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    payloads = load_payloads(args.payloads)
    started = time.perf_counter()
    outages_bytes = asyncio.run(_transfer(payloads, args.concurrency))
    work_s = time.perf_counter() - started
    posted_bytes = sum(len(body) for body in payloads.values())
    result = {"work_s": work_s, "ok": True, "outages_bytes": outages_bytes, "posted_bytes": posted_bytes}
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
