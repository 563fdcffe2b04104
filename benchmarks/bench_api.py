"""Benchmark the REST API: requests per second and p50/p99 latency of GET /reports and GET /check.

Stores `--reports` site reports in a fresh SQLite file, starts `outagesync serve` (the real command, in its
own process, on 127.0.0.1), then drives each endpoint for `--duration` seconds from this process with a
small asyncio HTTP/1.1 load generator: keep-alive connections, each one request at a time, first one
connection (the latency of a request alone), then 16 (throughput and latency under load).
Prints a table; `--json PATH` saves the results. A script for `make bench`, not a test.
"""

from __future__ import annotations

import argparse
import asyncio
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
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

TOKEN = "bench-token"  # noqa: S105 - a throwaway token for a server on 127.0.0.1
SERVE = "import typer; from outagesync.entrypoints.cli.serve import serve_command; typer.run(serve_command)"


def store_reports(database_url: str, count: int) -> None:
    """`count` one-site runs of 10 posted items each, a minute apart, as the sync would store them."""
    from outagesync.adapters.storage import SqlStore
    from outagesync.domain.models import RunReport, SiteOutage, SiteResult, SiteStatus, Trigger

    items = tuple(
        SiteOutage(str(uuid.uuid4()), f"Battery {n}", "2022-05-23T12:21:27.377Z", "2022-11-13T02:16:38.905Z")
        for n in range(10)
    )
    start = datetime(2024, 1, 1, tzinfo=UTC)
    with SqlStore.from_url(database_url) as store:
        for n in range(count):
            at = start + timedelta(minutes=n)
            site = SiteResult(
                uuid.uuid4().hex, f"site-{n % 20}", SiteStatus.SUCCEEDED, at, at, start, kept=10, items=items
            )
            store.save_run(RunReport(uuid.uuid4().hex, Trigger.API, at, at, "bench", False, (site,)))


@contextmanager
def serving(database_url: str, workdir: Path) -> Iterator[str]:
    """The base URL of `outagesync serve` in a subprocess (clean environment), stopped with SIGINT after."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OUTAGESYNC_", "KRAKENFLEX_", "KRAKEN_"))}
    env.update(OUTAGESYNC_DATABASE_URL=database_url, OUTAGESYNC_API_TOKEN=TOKEN)
    with (workdir / "serve.log").open("w+") as log:  # a file, not a pipe: an unread pipe blocks the server
        process = subprocess.Popen(
            [sys.executable, "-c", SERVE, "--port", "0"], stderr=log, stdout=log, env=env, cwd=workdir
        )
        try:
            yield _wait_for_url(log, process)
        finally:
            process.send_signal(signal.SIGINT)
            process.wait(timeout=60)


def _wait_for_url(log: Any, process: subprocess.Popen[bytes]) -> str:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        log.seek(0)
        text = log.read()
        if "Application startup complete" in text and (found := re.search(r"API on (http://\S+)", text)):
            return found.group(1)
        if process.poll() is not None:
            raise SystemExit(f"outagesync serve exited with {process.returncode}:\n{text}")
        time.sleep(0.05)
    raise SystemExit("outagesync serve did not start within 60 s")


async def drive(url: str, path: str, *, connections: int, duration_s: float) -> dict[str, Any]:
    """Keep `connections` connections busy with GET `path` for `duration_s`; latencies and counts."""
    parts = urlsplit(url)
    request = (
        f"GET {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nAuthorization: Bearer {TOKEN}\r\n\r\n"
    ).encode()
    latencies: list[float] = []
    errors = 0
    stop_at = time.perf_counter() + duration_s

    async def connection() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        try:
            while time.perf_counter() < stop_at:
                started = time.perf_counter()
                writer.write(request)
                status = await _read_response(reader)
                latencies.append(time.perf_counter() - started)
                errors += status != 200
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(connections)))
    elapsed = time.perf_counter() - started
    ordered = sorted(latencies)
    return {
        "requests": len(ordered),
        "errors": errors,
        "duration_s": round(elapsed, 3),
        "requests_per_s": round(len(ordered) / elapsed, 1),
        "p50_ms": round(_percentile(ordered, 50) * 1000, 2),
        "p90_ms": round(_percentile(ordered, 90) * 1000, 2),
        "p99_ms": round(_percentile(ordered, 99) * 1000, 2),
        "max_ms": round(ordered[-1] * 1000, 2),
        "mean_ms": round(statistics.fmean(ordered) * 1000, 2),
    }


async def _read_response(reader: asyncio.StreamReader) -> int:
    """Read one response (Content-Length bodies: all our endpoints send one); its status code."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    length = next(int(line.split(":", 1)[1]) for line in lines if line.lower().startswith("content-length:"))
    await reader.readexactly(length)
    return int(lines[0].split()[1])


def _percentile(ordered: list[float], pct: float) -> float:
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--reports", type=int, default=1000, help="site reports stored first (default 1000)")
    parser.add_argument("--limit", type=int, default=50, help="page size of GET /reports (default 50)")
    parser.add_argument(
        "--connections",
        type=lambda text: [int(n) for n in text.split(",")],
        default=[1, 16],
        help="concurrent connections, comma-separated levels (default 1,16: latency alone, then under load)",
    )
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per endpoint (default 5)")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds of warm-up per endpoint")
    parser.add_argument("--json", type=Path, help="write the results to this file")
    args = parser.parse_args()
    paths = {"GET /reports": f"/reports?limit={args.limit}", "GET /check": "/check"}
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="outagesync-bench-api-") as tmp:
        database_url = f"sqlite:///{Path(tmp) / 'api.db'}"
        store_reports(database_url, args.reports)
        with serving(database_url, Path(tmp)) as url:
            for name, path in paths.items():
                asyncio.run(drive(url, path, connections=max(args.connections), duration_s=args.warmup))
                results[name] = {}
                for connections in args.connections:
                    result = asyncio.run(drive(url, path, connections=connections, duration_s=args.duration))
                    results[name][f"connections={connections}"] = result
                    print(_row(f"{name} x{connections}", result), flush=True)
    document = {"meta": _meta(args), "endpoints": results}
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(document, indent=2) + "\n")


def _row(name: str, result: dict[str, Any]) -> str:
    return (
        f"{name:<18} {result['requests_per_s']:>9.1f} req/s   p50 {result['p50_ms']:>7.2f} ms   "
        f"p99 {result['p99_ms']:>7.2f} ms   ({result['requests']} requests, {result['errors']} errors)"
    )


def _meta(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "database": "sqlite",
        "reports_stored": args.reports,
        "page_size": args.limit,
        "connections": args.connections,
        "duration_s": args.duration,
        "server": "outagesync serve (uvicorn, 1 process)",
        "load_generator": "asyncio HTTP/1.1 keep-alive, in the benchmark process",
    }


if __name__ == "__main__":
    main()
