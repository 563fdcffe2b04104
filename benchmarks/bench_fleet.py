"""Benchmark the queue (issue 15): a fleet drained by 1, 2 and 4 `outagesync worker` processes.

The sandbox (in this process, so its request log can be read) serves `--sites` sites and `--outages`
outages with `--latency-ms` added to every request. For each worker count: a fresh PostgreSQL database,
the workers started and registered, then every site deferred at once in batches of OUTAGESYNC_BATCH_SIZE
(one job each); the drain time runs from the deferral to the last job finished. Checks, from the sandbox's
request log and the reports: one GET /outages per batch, exactly one accepted POST per site, every site's
report `succeeded`. The chaos run kills (SIGKILL) one of 4 workers mid-run: every site must still end
`succeeded` (its batch runs again after the stall timeout). Prints a table; `--json PATH` saves the
results, `--plot PATH` draws them. A script for `make bench` / `make bench-fleet`, not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import sqlalchemy as sa

from outagesync.sandbox import Latency, Sandbox, generate_dataset

ROOT = Path(__file__).resolve().parent.parent
OUTAGESYNC = str(Path(sys.executable).parent / "outagesync")
SERVER = os.environ.get("OUTAGESYNC_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
TARGET_SPEEDUP_4 = 3.0  # the issue: 4 workers at least 3x the throughput of 1


@contextmanager
def fresh_database() -> Iterator[str]:
    name = f"outagesync_bench_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(SERVER, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield sa.make_url(SERVER).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def libpq(url: str) -> str:
    return sa.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def scalar(conninfo: str, sql: str) -> Any:
    with psycopg.connect(conninfo, autocommit=True) as connection:
        row = connection.execute(sql).fetchone()
        return row[0] if row else None


def run_fleet(
    sandbox: Sandbox, site_ids: list[str], *, workers: int, args: argparse.Namespace, chaos: bool = False
) -> dict[str, Any]:
    from outagesync.adapters.queue.jobs import ProcrastinateQueue
    from outagesync.domain.jobs import Batch, batches

    with fresh_database() as url, _logs(workers) as logs:
        conninfo = libpq(url)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OUTAGESYNC_", "KRAKENFLEX_"))}
        env |= {
            "KRAKENFLEX_API_URL": sandbox.url,
            "KRAKENFLEX_API_KEY": sandbox.api_key,
            "OUTAGESYNC_DATABASE_URL": url,
            "OUTAGESYNC_CONCURRENCY": str(args.concurrency),
            "OUTAGESYNC_BATCH_SIZE": str(args.batch_size),
            "OUTAGESYNC_STALL_TIMEOUT": str(args.stall_timeout),
            "OUTAGESYNC_LOCK_WAIT": "120",
        }
        subprocess.run([OUTAGESYNC, "db", "upgrade"], env=env, check=True, capture_output=True)
        processes = [
            subprocess.Popen([OUTAGESYNC, "worker", "--concurrency", "1"], stdout=log, stderr=log, env=env)
            for log in logs
        ]
        try:
            _wait(lambda: scalar(conninfo, "SELECT count(*) FROM procrastinate_workers") == workers, 60)
            sandbox.clear_requests()
            todo = [Batch(ids, "bench") for ids in batches(site_ids, args.batch_size)]
            started = time.perf_counter()
            asyncio.run(ProcrastinateQueue(conninfo).defer_batches(todo))
            killed = None
            while (done := _count(conninfo, FINISHED)) < len(todo):
                # mid-run, and while every worker (the victim too) is running a batch
                if chaos and killed is None and done >= len(todo) // 3 and _count(conninfo, DOING) == workers:
                    time.sleep(2.0)  # well into the victim's batch: some of its sites are posted
                    processes[0].send_signal(signal.SIGKILL)
                    killed = done
                time.sleep(0.2)
            drain_s = time.perf_counter() - started
            return _verify(sandbox, conninfo, site_ids, len(todo), workers, drain_s, chaos, killed)
        finally:
            for process in processes:
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)
            for process in processes:
                process.wait(timeout=60)


_JOBS = "SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'outagesync.sync_batch' AND "
FINISHED = _JOBS + "status IN ('succeeded', 'failed', 'cancelled', 'aborted')"
DOING = _JOBS + "status = 'doing'"


def _count(conninfo: str, query: str) -> int:
    return int(scalar(conninfo, query))


def _verify(
    sandbox: Sandbox,
    conninfo: str,
    site_ids: list[str],
    jobs: int,
    workers: int,
    drain_s: float,
    chaos: bool,
    killed_at: int | None,
) -> dict[str, Any]:
    posts = Counter(
        r.path.rsplit("/", 1)[1] for r in sandbox.requests if r.method == "POST" and r.status == 200
    )
    gets = sum(1 for r in sandbox.requests if r.method == "GET" and r.path.startswith("/outages"))
    with psycopg.connect(conninfo, autocommit=True) as connection:
        statuses: dict[Any, Any] = dict(
            connection.execute("SELECT status, count(*) FROM site_reports GROUP BY status").fetchall()
        )
        run_twice = connection.execute(
            "SELECT count(*) FROM (SELECT job_id FROM procrastinate_events WHERE type = 'started' "
            "GROUP BY job_id HAVING count(*) > 1) AS again"
        ).fetchone()
        failed_jobs = connection.execute(
            "SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'outagesync.sync_batch' "
            "AND status <> 'succeeded'"
        ).fetchone()
    succeeded = int(statuses.get("succeeded", 0))
    result = {
        "workers": workers,
        "chaos": chaos,
        "sites": len(site_ids),
        "jobs": jobs,
        "drain_s": round(drain_s, 2),
        "sites_per_s": round(len(site_ids) / drain_s, 1),
        "get_outages": gets,
        "posts_accepted": sum(posts.values()),
        "sites_posted_once": sum(1 for s in site_ids if posts[s] == 1),
        "sites_not_posted": sum(1 for s in site_ids if posts[s] == 0),
        "reports": {str(k): int(v) for k, v in statuses.items()},
        "jobs_not_succeeded": int(failed_jobs[0]) if failed_jobs else 0,
        "every_site_succeeded": succeeded == len(site_ids) and len(statuses) == 1,
        "killed_after_jobs": killed_at,
        "jobs_run_twice": int(run_twice[0]) if run_twice else 0,
        "sites_posted_twice": sum(1 for s in site_ids if posts[s] > 1),
    }
    result["checks_ok"] = result["every_site_succeeded"] and (
        (killed_at is not None and run_twice is not None and run_twice[0] >= 1)
        if chaos
        else (result["sites_posted_once"] == len(site_ids) and gets == jobs)
    )
    return result


@contextmanager
def _logs(count: int) -> Iterator[list[Any]]:
    directory = Path(tempfile.gettempdir()) / "outagesync-bench-fleet"  # the workers' logs, if one fails
    directory.mkdir(parents=True, exist_ok=True)
    files = [(directory / f"worker-{n}.log").open("w") for n in range(count)]
    try:
        yield files
    finally:
        for file in files:
            file.close()


def _wait(condition: Any, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit("the workers did not register in time")
        time.sleep(0.1)


def plot(results: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = [r for r in results if not r["chaos"]]
    fig, ax = plt.subplots(figsize=(6, 3.6))
    labels = [str(r["workers"]) for r in runs]
    ax.bar(labels, [r["sites_per_s"] for r in runs], color="#4c72b0", label="measured")
    one = runs[0]["sites_per_s"] if runs else 0
    ax.plot(labels, [one * r["workers"] for r in runs], "k--", marker="o", label="linear from 1 worker")
    for label, r in zip(labels, runs, strict=True):
        ax.annotate(
            f"{r['sites_per_s']:.0f}/s\n{r['drain_s']:.0f} s",
            (label, r["sites_per_s"]),
            ha="center",
            va="bottom",
            fontsize=8,
        )
    ax.set_xlabel("worker processes (same concurrency each)")
    ax.set_ylabel("sites synced per second")
    ax.set_title(f"Fleet drain: {runs[0]['sites']:,} sites, 50 ms latency" if runs else "Fleet drain")
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sites", type=int, default=10_000)
    parser.add_argument("--outages", type=int, default=100_000)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--workers", default="1,2,4", help="worker counts, comma-separated")
    parser.add_argument("--concurrency", type=int, default=5, help="OUTAGESYNC_CONCURRENCY of each worker")
    parser.add_argument("--batch-size", type=int, default=200)
    parser.add_argument("--stall-timeout", type=float, default=5.0)
    parser.add_argument("--no-chaos", action="store_true", help="skip the run that kills a worker")
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "results" / "fleet.json")
    parser.add_argument("--plot", type=Path, default=ROOT / "docs" / "performance-fleet.png")
    args = parser.parse_args()

    dataset = generate_dataset(args.outages, devices=args.sites * 2, sites=args.sites, seed=15)
    site_ids = list(dataset.sites)
    results = []
    with Sandbox(dataset, faults=[Latency(args.latency_ms)]) as sandbox:
        for count in [int(n) for n in args.workers.split(",")]:
            results.append(run_fleet(sandbox, site_ids, workers=count, args=args))
            _say(results[-1])
        if not args.no_chaos:
            results.append(run_fleet(sandbox, site_ids, workers=4, args=args, chaos=True))
            _say(results[-1])
    one = next((r for r in results if r["workers"] == 1 and not r["chaos"]), None)
    four = next((r for r in results if r["workers"] == 4 and not r["chaos"]), None)
    speedup = round(four["sites_per_s"] / one["sites_per_s"], 2) if one and four else None
    summary = {
        "meta": {
            "when": datetime.now(UTC).isoformat(timespec="seconds"),
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "load_1m_at_end": round(os.getloadavg()[0], 2),
            "sites": args.sites,
            "outages": args.outages,
            "latency_ms": args.latency_ms,
            "concurrency_per_worker": args.concurrency,
            "jobs_per_worker_at_once": 1,
            "batch_size": args.batch_size,
        },
        "runs": results,
        "speedup_4_over_1": speedup,
        "target_speedup_4_over_1": TARGET_SPEEDUP_4,
        "target_met": speedup is not None and speedup >= TARGET_SPEEDUP_4,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(summary, indent=2) + "\n")
    plot(results, args.plot)
    print(
        f"4 workers / 1 worker throughput: {speedup} (target >= {TARGET_SPEEDUP_4}); results in {args.json}"
    )


def _say(result: dict[str, Any]) -> None:
    kind = "chaos (1 of 4 killed)" if result["chaos"] else f"{result['workers']} worker(s)"
    print(
        f"{kind:<22} drain {result['drain_s']:>7.1f} s  {result['sites_per_s']:>7.1f} sites/s  "
        f"GET /outages {result['get_outages']:>4} (jobs {result['jobs']})  accepted POSTs "
        f"{result['posts_accepted']} (sites once {result['sites_posted_once']})  "
        f"reports {result['reports']}  jobs run twice {result['jobs_run_twice']}  "
        f"checks {'ok' if result['checks_ok'] else 'FAILED'}",
        flush=True,
    )


if __name__ == "__main__":
    main()
