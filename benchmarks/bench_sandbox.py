"""Benchmark the sandbox: time to serve GET /outages with 1,000,000 outages, and to check a 1M-item POST.

Runs `outagesync sandbox --outages N` in a subprocess (or in-process with --in-process) on 127.0.0.1, times
the requests with httpx and prints the median, the size and the throughput; --json PATH saves the results.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

KEY = "bench-key"
RUN_COMMAND = (
    "import typer; from outagesync.entrypoints.cli.sandbox import sandbox_command; typer.run(sandbox_command)"
)


@contextmanager
def sandbox_subprocess(outages: int, devices: int, sites: int, seed: int) -> Iterator[tuple[str, float]]:
    """(base URL, seconds from launch to ready) of a sandbox CLI process, stopped with SIGINT afterwards."""
    args = ["--port", "0", "--api-key", KEY, "--outages", str(outages), "--devices", str(devices)]
    args += ["--sites", str(sites), "--seed", str(seed)]
    with tempfile.TemporaryFile("w+") as log:  # a file, not a pipe: an unread pipe would block the server
        started = time.perf_counter()
        process = subprocess.Popen([sys.executable, "-c", RUN_COMMAND, *args], stderr=log)
        try:
            url = _wait_for_url(log, process)
            yield url, time.perf_counter() - started
        finally:
            process.send_signal(signal.SIGINT)
            process.wait(timeout=30)


def _wait_for_url(log: Any, process: subprocess.Popen[bytes]) -> str:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        log.seek(0)
        found = re.search(r"sandbox on (http://\S+)", log.read())
        if found:
            return found.group(1)
        if process.poll() is not None:
            raise SystemExit(f"the sandbox exited with {process.returncode}")
        time.sleep(0.05)
    raise SystemExit("the sandbox did not start within 120 s")


@contextmanager
def sandbox_in_process(outages: int, devices: int, sites: int, seed: int) -> Iterator[tuple[str, float]]:
    from outagesync.sandbox import Sandbox, generate_dataset

    started = time.perf_counter()
    with Sandbox(generate_dataset(outages, devices, sites, seed), api_key=KEY) as sandbox:
        yield sandbox.url, time.perf_counter() - started


def time_get_outages(client: httpx.Client, repeat: int) -> tuple[list[float], int]:
    client.get("/outages").raise_for_status()  # warm-up: connection, first-touch of the cached bytes
    times, size = [], 0
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get("/outages")
        times.append(time.perf_counter() - started)
        response.raise_for_status()
        size = len(response.content)
    return times, size


def time_big_post(client: httpx.Client, outages_body: bytes, sites: int) -> dict[str, float]:
    """POST every outage (with a name) to one site: a 1M-item payload, checked and rejected with 400."""
    payload = outages_body.replace(b'","begin":"', b'","name":"Battery 1","begin":"')
    first_site = f"site-{1:0{len(str(sites))}d}"  # the generator's naming: site-0001 of 1000 sites
    started = time.perf_counter()
    response = client.post(f"/site-outages/{first_site}", content=payload)
    elapsed_s = time.perf_counter() - started
    assert response.status_code == 400, response.text[:200]
    log = client.get("/_sandbox/requests").json()
    return {"post_bytes": len(payload), "post_s": elapsed_s, "post_server_ms": log[-1]["duration_ms"]}


def time_right_post(client: httpx.Client) -> dict[str, float]:
    """POST site-1's right payload (one site, 8 devices: about half the outages), accepted with 200: as
    outagesync writes it (compact, served order), then `json.dumps`-spaced in reverse order."""
    outages = client.get("/outages").json()
    site = client.get("/site-info/site-1").json()
    names = {device["id"]: device["name"] for device in site["devices"]}
    items = [
        {"id": o["id"], "name": names[o["id"]], "begin": o["begin"], "end": o["end"]}
        for o in outages
        if o["id"] in names and o["begin"] >= "2022-01-01T00:00:00.000Z"  # the synthetic data's one form
    ]
    results: dict[str, float] = {"right_post_items": len(items)}
    bodies = {
        "compact": json.dumps(items, separators=(",", ":"), ensure_ascii=False).encode(),
        "spaced": json.dumps(items[::-1]).encode(),
    }
    client.post("/site-outages/site-1", content=bodies["compact"])  # untimed: the sandbox works out and
    # caches the site's right payload on its first POST (as the benchmarks' warm-up run does)
    for style, body in bodies.items():
        response = client.post("/site-outages/site-1", content=body)
        assert response.status_code == 200, response.text[:300]
        log = client.get("/_sandbox/requests").json()
        results[f"right_post_{style}_server_ms"] = log[-1]["duration_ms"]
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--outages", type=int, default=1_000_000)
    parser.add_argument("--devices", type=int, default=10_000)
    parser.add_argument("--sites", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--in-process", action="store_true", help="serve from a thread of this process")
    parser.add_argument("--skip-post", action="store_true", help="do not time the 1M-item POST")
    parser.add_argument("--json", type=Path, help="write the results to this file")
    options = parser.parse_args()

    start = sandbox_in_process if options.in_process else sandbox_subprocess
    with (
        start(options.outages, options.devices, options.sites, options.seed) as (url, ready_s),
        httpx.Client(base_url=url, headers={"x-api-key": KEY}, timeout=120) as client,
    ):
        times, size = time_get_outages(client, options.repeat)
        post = (
            {} if options.skip_post else time_big_post(client, client.get("/outages").content, options.sites)
        )
    if not options.skip_post:  # a right payload: one site of 8 devices
        with (
            start(options.outages, 8, 1, options.seed) as (url, _),
            httpx.Client(base_url=url, headers={"x-api-key": KEY}, timeout=120) as client,
        ):
            post.update(time_right_post(client))
    median_s = statistics.median(times)
    results: dict[str, Any] = {
        "mode": "in-process" if options.in_process else "subprocess",
        "outages": options.outages,
        "devices": options.devices,
        "sites": options.sites,
        "seed": options.seed,
        "ready_s": round(ready_s, 3),
        "body_bytes": size,
        "get_outages_s": [round(t, 4) for t in times],
        "get_outages_median_s": round(median_s, 4),
        "get_outages_mb_per_s": round(size / median_s / 1e6, 1),
        **{key: round(value, 3) for key, value in post.items()},
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
    }
    print(f"sandbox ({results['mode']}) ready in {ready_s:.2f} s (generation included)")
    print(f"GET /outages, {options.outages:,} outages, {size / 1e6:.1f} MB, {options.repeat} runs:")
    print(f"  median {median_s * 1000:.0f} ms (min {min(times) * 1000:.0f}, max {max(times) * 1000:.0f}),")
    print(f"  {results['get_outages_mb_per_s']} MB/s")
    if post:
        print(
            f"POST of {options.outages:,} items ({post['post_bytes'] / 1e6:.0f} MB) checked and rejected in "
            f"{post['post_s']:.2f} s (server side {post['post_server_ms'] / 1000:.2f} s)"
        )
    if "right_post_items" in post:
        print(
            f"right POST of {post['right_post_items']:,.0f} items accepted in "
            f"{post['right_post_compact_server_ms'] / 1000:.3f} s server side as outagesync writes it, "
            f"{post['right_post_spaced_server_ms'] / 1000:.3f} s spaced and reordered"
        )
    if options.json:
        options.json.parent.mkdir(parents=True, exist_ok=True)
        options.json.write_text(json.dumps(results, indent=2) + "\n")
        print(f"results written to {options.json}")


if __name__ == "__main__":
    main()
