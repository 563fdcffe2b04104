"""The job queue with real `outagesync worker` processes, real signals and a real PostgreSQL database (a
fresh one per test), against a sandbox of each test's own: drained jobs, one sync of a site at a time
across workers, schedules firing once per tick, a SIGKILLed worker's batch finished by another, a
graceful SIGTERM, the REST API's queued syncs, and exit 2 without PostgreSQL.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from sqlalchemy.engine import make_url

from outagesync.sandbox import FailFirst, Latency, Sandbox
from outagesync.sandbox.synthetic import generate_dataset

OUTAGESYNC = str(Path(sys.executable).parent / "outagesync")  # the installed command
SITES = [f"site-{n:02d}" for n in range(1, 21)]

pytestmark = pytest.mark.postgres


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    """20 synthetic sites; a sandbox of the test's own (killed workers leave requests behind)."""
    with Sandbox(generate_dataset(2000, devices=200, sites=20, seed=3)) as own:
        yield own


@pytest.fixture
def conninfo(postgres_url: str) -> str:
    return make_url(postgres_url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture
def env(sandbox: Sandbox, postgres_url: str) -> dict[str, str]:
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith(("OUTAGESYNC_", "KRAKENFLEX_", "KRAKEN_"))
    }
    return {
        **clean,
        "KRAKENFLEX_API_URL": sandbox.url,
        "KRAKENFLEX_API_KEY": sandbox.api_key,
        "OUTAGESYNC_DATABASE_URL": postgres_url,
        "OUTAGESYNC_BACKOFF_INITIAL": "0.01",
        "OUTAGESYNC_BACKOFF_MAX": "0.05",
        "OUTAGESYNC_STALL_TIMEOUT": "2",
        "OUTAGESYNC_JOB_BACKOFF": "0.1",
    }


class Workers:
    """`outagesync worker` processes of one test, stopped (SIGTERM, then SIGKILL) when it ends."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env, self.logs, self.started = env, logs, list[subprocess.Popen[bytes]]()

    def start(self, *args: str, **extra: str) -> subprocess.Popen[bytes]:
        with (self.logs / f"worker-{len(self.started)}.log").open("wb") as log:
            process = subprocess.Popen(  # noqa: S603 (the installed command)
                [OUTAGESYNC, "worker", *args], stdout=log, stderr=subprocess.STDOUT, env={**self.env, **extra}
            )
        self.started.append(process)
        return process

    def log(self, index: int) -> str:
        return (self.logs / f"worker-{index}.log").read_text()

    def stop_all(self) -> None:
        for process in self.started:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.started:
            try:
                process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture
def workers(env: dict[str, str], tmp_path: Path) -> Iterator[Workers]:
    started = Workers(env, tmp_path)
    yield started
    started.stop_all()


def cli(env: dict[str, str], *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 (the installed command)
        [OUTAGESYNC, *args], capture_output=True, text=True, env={**env, **extra}, timeout=120, check=False
    )


def query(conninfo: str, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(conninfo, autocommit=True) as connection:
        return connection.execute(sql, params).fetchall()


def wait_for(
    condition: Callable[[], bool], what: str, timeout_s: float = 45, state: Callable[[], object] = str
) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}: {state()}"
        time.sleep(0.05)


def job_states(conninfo: str, task: str = "outagesync.sync_batch") -> dict[int, str]:
    rows = query(conninfo, "SELECT id, status::text FROM procrastinate_jobs WHERE task_name = %s", task)
    return {int(row[0]): str(row[1]) for row in rows}


def all_done(conninfo: str, count: int) -> Callable[[], bool]:
    def done() -> bool:
        states = job_states(conninfo)
        return len(states) == count and set(states.values()) == {"succeeded"}

    return done


def site_reports(conninfo: str) -> list[tuple[str, str, str, datetime, datetime]]:
    rows = query(
        conninfo,
        "SELECT site_id, status, run_id, started_at, finished_at FROM site_reports "
        "ORDER BY site_id, started_at",
    )
    return [(str(r[0]), str(r[1]), str(r[2]), r[3], r[4]) for r in rows]


def _report_ids(conninfo: str, run_id: str) -> list[tuple[str, str]]:
    rows = query(conninfo, "SELECT site_id, id FROM site_reports WHERE run_id = %s ORDER BY site_id", run_id)
    return [(str(site), str(report)) for site, report in rows]


def requests(sandbox: Sandbox, method: str, prefix: str) -> list[str]:
    return [r.path for r in sandbox.requests if r.method == method and r.path.startswith(prefix)]


def test_enqueued_batches_are_drained_by_two_workers_with_one_get_outages_each(
    env: dict[str, str], workers: Workers, sandbox: Sandbox, conninfo: str
) -> None:
    run = cli(env, "enqueue", *SITES[:12], OUTAGESYNC_BATCH_SIZE="5")
    assert (run.returncode, run.stdout) == (0, "job 1: 5 sites\njob 2: 5 sites\njob 3: 2 sites\n")
    workers.start()
    workers.start()
    waited = cli(env, "enqueue", "site-13", "--wait")  # exits as `sync` does once the job has run
    assert waited.returncode == 0, waited.stderr
    assert re.fullmatch(r"job \d+: 1 site\n1 of 1 sites succeeded\n", waited.stdout)
    wait_for(all_done(conninfo, 4), "every job")
    reports = site_reports(conninfo)
    assert [(site, status) for site, status, *_ in reports] == [(s, "succeeded") for s in SITES[:13]]
    assert {run_id for _, _, run_id, *_ in reports[:12]} == {f"job-00000000000{n}" for n in (1, 2, 3)}
    assert len(requests(sandbox, "GET", "/outages")) == 4  # one per batch
    assert sorted(requests(sandbox, "POST", "/site-outages/")) == [f"/site-outages/{s}" for s in SITES[:13]]
    text = cli(env, "jobs", "show", "3").stdout.splitlines()
    assert text[0].startswith("job 3  succeeded  2 sites (site-11, site-12)  cli  queued ")
    assert text[1:] == [
        "  run job-000000000003; reports: outagesync reports list --run job-000000000003",
        *[f"  {site}: succeeded  report {rid}" for site, rid in _report_ids(conninfo, "job-000000000003")],
    ]
    shown = cli(env, "jobs", "show", "3", "--json")
    assert shown.returncode == 0, shown.stderr
    job = json.loads(shown.stdout)
    assert (job["state"], job["site_ids"], job["attempts"], job["run_id"]) == (
        "succeeded",
        SITES[10:12],
        1,
        "job-000000000003",
    )
    assert [(r["site_id"], r["status"]) for r in job["reports"]] == [(s, "succeeded") for s in SITES[10:12]]


def test_a_site_waiting_in_the_queue_is_not_queued_twice(env: dict[str, str]) -> None:
    first = cli(env, "enqueue", "site-01", "site-02")
    again = cli(env, "enqueue", "site-02", "site-03", "--json")
    assert (first.returncode, first.stdout) == (0, "job 1: 2 sites\n")
    assert (again.returncode, json.loads(again.stdout)) == (0, {"jobs": [{"id": 2, "site_ids": ["site-03"]}]})
    none = cli(env, "enqueue", "site-01")
    assert (none.returncode, none.stdout) == (
        0,
        "nothing queued: every site is already waiting in the queue\n",
    )
    listed = cli(env, "jobs", "list", "--json")
    assert [(j["id"], j["state"], j["site_ids"]) for j in json.loads(listed.stdout)["items"]] == [
        (2, "todo", ["site-03"]),
        (1, "todo", ["site-01", "site-02"]),
    ]
    table = cli(env, "jobs", "list")  # piped: tab-separated (docs/cli.md)
    assert [line.split("\t")[:5] for line in table.stdout.splitlines()] == [
        ["job", "state", "sites", "site ids", "trigger"],
        ["2", "todo", "1", "site-03", "cli"],
        ["1", "todo", "2", "site-01, site-02", "cli"],
    ]
    cancelled = cli(env, "jobs", "cancel", "2", "--json")
    assert (cancelled.returncode, json.loads(cancelled.stdout)["state"]) == (0, "cancelled")
    retried = cli(env, "jobs", "retry", "2", "--json")
    assert (retried.returncode, json.loads(retried.stdout)) == (
        0,
        {"jobs": [{"id": 3, "site_ids": ["site-03"]}]},
    )
    retried_text = cli(env, "jobs", "retry", "2")  # its site waits in job 3 already
    assert retried_text.stdout == "job 2: nothing queued, its sites are already waiting in the queue\n"
    bogus = cli(env, "jobs", "list", "--state", "lost")
    assert (bogus.returncode, bogus.stderr) == (
        2,
        "error: invalid state 'lost': use one of todo, doing, succeeded, failed, cancelled, aborted\n",
    )
    again = cli(env, "jobs", "cancel", "2")
    assert (again.returncode, again.stderr) == (
        2,
        "error: job 2 has already finished (cancelled): nothing to cancel\n",
    )


def test_a_transient_failure_is_retried_as_a_new_job_and_a_rejected_payload_is_not(
    env: dict[str, str], workers: Workers, sandbox: Sandbox, conninfo: str
) -> None:
    sandbox.set_faults(FailFirst(1, target="POST /site-outages/site-01"))  # one 500, then accepted
    late = cli(
        env, "sites", "add", "site-02", "--since", "2023-01-01T00:00:00Z"
    )  # a list the sandbox refuses
    assert late.returncode == 0, late.stderr
    workers.start(OUTAGESYNC_MAX_ATTEMPTS="1")  # no retry inside the client: the job retries
    run = cli(env, "enqueue", "site-01", "site-02", "--wait")
    assert (run.returncode, run.stdout) == (1, "job 1: 2 sites\n1 of 2 sites succeeded\n  site-02: failed\n")
    listed = json.loads(cli(env, "jobs", "list", "--json").stdout)["items"]
    assert [(j["site_ids"], j["attempt"], j["retry_of"], j["state"]) for j in listed] == [
        (["site-01"], 2, 1, "succeeded"),
        (["site-01", "site-02"], 1, None, "succeeded"),
    ]
    errors = query(conninfo, "SELECT site_id, error_code FROM site_reports ORDER BY site_id, started_at")
    assert errors == [
        ("site-01", "upstream-unavailable"),
        ("site-01", None),
        ("site-02", "upstream-rejected-payload"),
    ]


def test_two_workers_never_sync_one_site_at_once(
    env: dict[str, str], workers: Workers, sandbox: Sandbox, conninfo: str
) -> None:
    sandbox.set_faults(Latency(400, target="POST /site-outages"))
    assert cli(env, "enqueue", "site-05").stdout == "job 1: 1 site\n"
    workers.start()
    wait_for(lambda: job_states(conninfo).get(1) == "doing", "the first job to start")
    again = cli(env, "enqueue", "site-05").stdout  # running is not waiting: queued again
    assert re.fullmatch(r"job \d+: 1 site\n", again)
    workers.start()
    wait_for(all_done(conninfo, 2), "both jobs")
    (a, b) = [r for r in site_reports(conninfo) if r[0] == "site-05"]
    assert (a[1], b[1]) == ("succeeded", "succeeded")
    assert a[4] <= b[3]  # the second sync of the site began after the first had ended
    assert requests(sandbox, "POST", "/site-outages/") == ["/site-outages/site-05"] * 2


async def test_a_schedule_fires_once_per_tick_across_three_workers(
    env: dict[str, str], workers: Workers, sandbox: Sandbox, conninfo: str
) -> None:
    from procrastinate.periodic import PeriodicDeferrer

    from outagesync.adapters.queue.metrics import QueueMetrics
    from outagesync.adapters.queue.worker import build_app

    upgraded = cli(env, "db", "upgrade")
    assert upgraded.stdout.splitlines()[-1].startswith("job queue: procrastinate schema at 03."), (
        upgraded.stderr
    )
    for site in SITES[:4]:
        added = cli(env, "sites", "add", site, "--schedule", "0 0 1 1 *")  # each 1 January, 00:00 UTC
        assert added.returncode == 0, added.stderr
    refused = cli(env, "sites", "add", "site-20", "--schedule", "61 * * * *")
    assert (refused.returncode, refused.stderr) == (
        2,
        "error: invalid schedule '61 * * * *': use a 5-field cron expression in UTC, e.g. '*/15 * * * *' "
        "(every 15 minutes)\n",
    )
    for _ in range(3):
        workers.start()

    async def never(*_: Any) -> Any:
        raise AssertionError("the test process runs no job")

    app = build_app(conninfo, run_batch=never, scan=never, metrics=QueueMetrics(), max_attempts=1)

    async def tick(at: datetime) -> None:
        """What the periodic deferrer of each of three workers does at `at` (with an injected clock)."""
        for _ in range(3):
            deferrer = PeriodicDeferrer(app.periodic_registry)
            await deferrer.defer_jobs(deferrer.get_previous_tasks(at=at.timestamp()))

    def scans() -> list[tuple[int, str]]:
        """The scans of the ticks below: (tick, state)."""
        return [
            (int(row[0]), str(row[1]))
            for row in query(
                conninfo,
                "SELECT (args->>'timestamp')::bigint, status::text FROM procrastinate_jobs "
                "WHERE task_name = 'outagesync.scan_schedules' AND (args->>'timestamp')::bigint > %s "
                "ORDER BY 1",
                int(datetime(2030, 1, 1, tzinfo=UTC).timestamp()) - 1,
            )
        ]

    async with app.open_async():
        wait_for(lambda: bool(query(conninfo, "SELECT 1 FROM procrastinate_workers")), "a worker")
        await tick(datetime(2030, 1, 1, 0, 0, 30, tzinfo=UTC))
        await tick(datetime(2030, 1, 1, 0, 0, 50, tzinfo=UTC))  # the same tick again
        await tick(datetime(2030, 1, 1, 0, 1, 10, tzinfo=UTC))  # the next tick, the same due time
        minute = int(datetime(2030, 1, 1, tzinfo=UTC).timestamp())
        wait_for(
            lambda: scans() == [(minute, "succeeded"), (minute + 60, "succeeded")], "two scans", state=scans
        )
        wait_for(all_done(conninfo, 1), "the scheduled job")
        await tick(datetime(2033, 6, 1, 12, 0, 5, tzinfo=UTC))  # 2031..2033 missed: caught up once
        wait_for(all_done(conninfo, 2), "the catch-up job")
    reports = site_reports(conninfo)
    assert [(site, status) for site, status, *_ in reports] == [
        (s, "succeeded") for s in SITES[:4] for _ in "ab"
    ]
    triggers = query(conninfo, "SELECT DISTINCT trigger FROM runs")
    assert triggers == [("schedule",)]
    assert len(requests(sandbox, "POST", "/site-outages/")) == 8  # each site twice: once per due time


def test_a_killed_workers_batch_is_finished_by_another_and_nothing_stays_locked(
    env: dict[str, str], workers: Workers, sandbox: Sandbox, conninfo: str
) -> None:
    sandbox.set_faults(Latency(150))
    assert cli(env, "enqueue", *SITES[:12]).stdout == "job 1: 12 sites\n"
    first = workers.start(OUTAGESYNC_CONCURRENCY="2")
    wait_for(lambda: len(requests(sandbox, "POST", "/site-outages/")) >= 2, "the batch to be under way")
    first.send_signal(signal.SIGKILL)
    first.wait()
    workers.start(OUTAGESYNC_CONCURRENCY="4")
    wait_for(all_done(conninfo, 1), "the batch to be finished by the other worker")
    reports = site_reports(conninfo)
    # the second run of job 1 replaced the record the killed worker left `running`: one report per site
    assert [(site, status, run_id) for site, status, run_id, *_ in reports] == [
        (s, "succeeded", "job-000000000001") for s in SITES[:12]
    ]
    started = query(
        conninfo, "SELECT count(*) FROM procrastinate_events WHERE type = 'started' AND job_id = 1"
    )
    assert started == [(2,)]
    assert all(sandbox.accepted(site) is not None for site in SITES[:12])
    held = query(
        conninfo,
        "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
        "WHERE l.locktype = 'advisory' AND d.datname = current_database()",
    )
    assert held == [(0,)]
    assert "put back in the queue" in workers.log(1)


def test_sigterm_lets_the_running_batch_finish_then_the_worker_exits_0(
    env: dict[str, str], workers: Workers, sandbox: Sandbox, conninfo: str
) -> None:
    sandbox.set_faults(Latency(100))
    assert cli(env, "enqueue", *SITES[:6]).stdout == "job 1: 6 sites\n"
    port = _free_port()
    worker = workers.start("--metrics-port", str(port))
    wait_for(lambda: job_states(conninfo).get(1) == "doing", "the job to start")
    metrics = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    assert 'outagesync_queue_jobs{state="doing"} 1.0' in metrics.splitlines()
    assert "outagesync_queue_depth 0.0" in metrics.splitlines()
    assert "outagesync_queue_oldest_waiting_seconds 0.0" in metrics.splitlines()
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=40) == 0
    assert job_states(conninfo) == {1: "succeeded"}
    assert [status for _, status, *_ in site_reports(conninfo)] == ["succeeded"] * 6
    assert workers.log(0).splitlines()[-1] == "worker: stopped"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_sigterm_past_the_graceful_timeout_puts_the_job_back_for_another_worker(
    env: dict[str, str], workers: Workers, sandbox: Sandbox, conninfo: str
) -> None:
    sandbox.set_faults(Latency(300))
    assert cli(env, "enqueue", *SITES[:8]).stdout == "job 1: 8 sites\n"
    first = workers.start("--graceful-timeout", "0", OUTAGESYNC_CONCURRENCY="2")
    wait_for(lambda: len(requests(sandbox, "POST", "/site-outages/")) >= 1, "the batch to be posting")
    first.send_signal(signal.SIGTERM)
    assert first.wait(timeout=30) == 0
    assert job_states(conninfo) == {1: "todo"}  # released: back in the queue
    statuses = {status for _, status, *_ in site_reports(conninfo)}
    assert "interrupted" in statuses  # the stopped run's unfinished sites, recorded
    workers.start()
    wait_for(all_done(conninfo, 1), "another worker to run the job again")
    assert [(site, status) for site, status, *_ in site_reports(conninfo)] == [
        (s, "succeeded") for s in SITES[:8]
    ]


def test_the_rest_api_queues_syncs_and_shows_jobs(
    env: dict[str, str], workers: Workers, sandbox: Sandbox, postgres_url: str
) -> None:
    from tests.e2e.api_server import client, make_settings, serving

    settings = make_settings(sandbox, database_url=postgres_url, token=None).model_copy(
        update={"execution": "queue"}
    )
    with serving(settings) as server, client(server, None) as api:
        queued = api.post("/sites/site-07/sync")
        assert (queued.status_code, queued.headers["location"]) == (202, "/jobs/1")
        assert [(j["id"], j["state"], j["site_ids"]) for j in queued.json()["jobs"]] == [
            (1, "todo", ["site-07"])
        ]
        added = api.post("/sites", json={"site_id": "site-08", "schedule": " */15  * * * *"})
        assert (added.status_code, added.json()["schedule"]) == (201, "*/15 * * * *")
        assert api.post("/sites", json={"site_id": "site-09"}).json()["schedule"] is None
        bad = api.patch("/sites/site-09", json={"schedule": "every minute"})
        assert (bad.status_code, bad.json()["detail"]) == (
            422,
            "invalid schedule 'every minute': use a 5-field cron expression in UTC, e.g. '*/15 * * * *' "
            "(every 15 minutes)",
        )
        everything = api.post("/sync")
        assert (everything.status_code, everything.headers["location"]) == (202, "/jobs/2")
        page = api.get("/jobs", params={"limit": 1})
        assert [j["id"] for j in page.json()["items"]] == [2]
        assert (page.json()["next_cursor"], page.json()["next"]) == (2, "/jobs?limit=1&cursor=2")
        assert [j["id"] for j in api.get("/jobs", params={"cursor": 2}).json()["items"]] == [1]
        workers.start()
        wait_for(lambda: api.get("/jobs/2").json()["state"] == "succeeded", "the queued sync")
        job = api.get("/jobs/2").json()
        assert [(r["site_id"], r["status"]) for r in job["reports"]] == [
            ("site-08", "succeeded"),
            ("site-09", "succeeded"),
        ]
        assert api.get(job["reports"][0]["url"]).status_code == 200
        assert api.get("/jobs/99").status_code == 404
        # the query's options go with the job (a dry run here: nothing posted for site-10)
        flagged = api.post("/sites/site-10/sync", params={"dry_run": "true", "since": "2023-01-01T00:00:00Z"})
        (flagged_job,) = flagged.json()["jobs"]
        location = f"/jobs/{flagged_job['id']}"
        assert (flagged.status_code, flagged.headers["location"]) == (202, location)
        assert flagged_job["flags"] == {"dry_run": True, "since": "2023-01-01T00:00:00.000Z"}
        wait_for(lambda: api.get(location).json()["state"] == "succeeded", "the queued dry run")
        (outcome,) = api.get(location).json()["reports"]
        report = api.get(outcome["url"]).json()
        assert (report["site_id"], report["status"], report["since"]) == (
            "site-10",
            "dry_run",
            "2023-01-01T00:00:00.000Z",
        )
        assert not [r for r in sandbox.requests if r.method == "POST" and r.path.endswith("/site-10")]


@pytest.mark.parametrize("command", [["worker"], ["enqueue", "site-01"], ["jobs", "list"]])
def test_without_postgresql_the_queue_commands_exit_2_saying_how_to_set_it(
    command: list[str], tmp_path: Path
) -> None:
    sqlite = {"OUTAGESYNC_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}"}
    run = cli(dict(os.environ), *command, **sqlite)
    assert (run.returncode, run.stdout) == (2, "")
    assert run.stderr.startswith(
        "error: the job queue needs PostgreSQL (OUTAGESYNC_DATABASE_URL is a sqlite database): set "
        "OUTAGESYNC_DATABASE_URL=postgresql+psycopg://user:password@host:5432/db"
    )
