"""The reference "plain script": the sync as people usually write it, to compare outagesync against.

requests, the standard json module, a datetime.strptime per outage, the device looked up by scanning the
site's device list, /outages fetched again for every site, no retries. Correct on well-formed data (the
sandbox accepts its payload). Usage: KRAKENFLEX_API_URL=... KRAKENFLEX_API_KEY=... plain_script.py SITE...
Prints one JSON line with its own timing; not part of outagesync.
"""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import UTC, datetime
from typing import Any

import requests

CUTOFF = datetime(2022, 1, 1, tzinfo=UTC)


def sync_site(base_url: str, api_key: str, site_id: str) -> int:
    """Sync one site; returns the number of outages posted (raises on any HTTP error)."""
    headers = {"x-api-key": api_key}
    response = requests.get(f"{base_url}/outages", headers=headers, timeout=300)
    response.raise_for_status()
    outages: list[dict[str, Any]] = response.json()
    response = requests.get(f"{base_url}/site-info/{site_id}", headers=headers, timeout=300)
    response.raise_for_status()
    site = response.json()

    result = []
    for outage in outages:
        begin = datetime.strptime(outage["begin"], "%Y-%m-%dT%H:%M:%S.%f%z")
        if begin < CUTOFF:
            continue
        for device in site["devices"]:
            if device["id"] == outage["id"]:
                result.append(
                    {
                        "id": outage["id"],
                        "name": device["name"],
                        "begin": outage["begin"],
                        "end": outage["end"],
                    }
                )
                break

    response = requests.post(f"{base_url}/site-outages/{site_id}", json=result, headers=headers, timeout=300)
    response.raise_for_status()
    return len(result)


def main() -> None:
    base_url = os.environ["KRAKENFLEX_API_URL"].rstrip("/")
    api_key = os.environ["KRAKENFLEX_API_KEY"]
    started = time.perf_counter()
    posted = sum(sync_site(base_url, api_key, site_id) for site_id in sys.argv[1:])
    work_s = time.perf_counter() - started
    sys.stdout.write(json.dumps({"work_s": work_s, "ok": True, "posted_items": posted}) + "\n")


if __name__ == "__main__":
    main()
