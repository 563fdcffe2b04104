"""Safe runs with real `outagesync` processes: overlapping syncs, killed holders, signals, a lost database.

The sandbox serves a new version of its data on every GET /outages (`changing`), so the version each
accepted POST carried tells whether an older fetch ever overwrote a newer one.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from outagesync.sandbox import Latency, Sandbox
from tests.lock_holder import start_holder, stop_holder

SITE = "kingfisher"


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    """A sandbox of each test's own: these tests leave slow requests behind (killed clients, held
    POSTs), whose late answers must not land in another test's log."""
    with Sandbox() as own:
        yield own


@pytest.fixture
def env(sandbox: Sandbox, database_url: str, tmp_path: Path) -> dict[str, str]:
    """The processes' environment: the sandbox, a fresh database (SQLite, PostgreSQL), tiny backoffs."""
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith(("OUTAGESYNC_", "KRAKENFLEX_", "KRAKEN_"))
    }
    return {
        **clean,
        "KRAKENFLEX_API_URL": sandbox.url,
        "KRAKENFLEX_API_KEY": sandbox.api_key,
        "OUTAGESYNC_DATABASE_URL": database_url,
        "OUTAGESYNC_BACKOFF_INITIAL": "0.01",
        "OUTAGESYNC_BACKOFF_MAX": "0.05",
    }


def _start(env: dict[str, str], *args: str, **extra: str) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "outagesync", *args]
    return subprocess.Popen(  # noqa: S603 (this interpreter, our own module)
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**env, **extra}
    )


def _run(env: dict[str, str], *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    process = _start(env, *args, **extra)
    stdout, stderr = process.communicate(timeout=120)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def _reports(env: dict[str, str], *filters: str) -> list[dict[str, Any]]:
    listed = _run(env, "reports", "list", "--json", "--limit", "500", *filters)
    assert listed.returncode == 0, listed.stderr
    items: list[dict[str, Any]] = json.loads(listed.stdout)["items"]
    return items


def _wait_for(condition: Any, what: str, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


@pytest.fixture
def serve(env: dict[str, str]) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """`outagesync serve` as a real process on a free port (its first stderr line gives the URL)."""
    process = _start(env, "serve", "--port", "0", "--graceful-timeout", "1")
    assert process.stderr is not None
    line = process.stderr.readline()
    match = re.search(r"http://127\.0\.0\.1:\d+", line)
    assert match, line
    try:
        yield process, match.group()
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=30)


def test_overlapping_syncs_never_leave_older_data(
    env: dict[str, str], sandbox: Sandbox, serve: tuple[subprocess.Popen[str], str]
) -> None:
    sandbox.changing = True
    sandbox.set_faults(Latency(30, target="POST /site-outages"))  # POSTs take a while: runs overlap
    _, url = serve
    outcomes: list[object] = []

    def rest_sync() -> None:
        outcomes.append(httpx.post(f"{url}/sites/{SITE}/sync", timeout=60).status_code)

    threads = [threading.Thread(target=rest_sync) for _ in range(4)]
    processes = [_start(env, "sync", SITE, "--json") for _ in range(4)]
    for thread in threads:
        thread.start()
    for process in processes:
        process.communicate(timeout=120)
        outcomes.append(process.returncode)
    for thread in threads:
        thread.join(timeout=120)
    assert outcomes.count(201) + outcomes.count(0) == 8, outcomes
    accepted = sandbox.accepted_versions(SITE)
    assert len(accepted) == 8
    # one sync at a time: each fetched after the previous POST settled, so versions only grow
    assert accepted == sorted(accepted), accepted
    assert len(set(accepted)) == 8


def test_a_sync_waits_for_the_site_says_so_then_fails_site_busy(
    env: dict[str, str], sandbox: Sandbox, database_url: str
) -> None:
    holder = start_holder(database_url, f"site:{SITE}", env)  # another sync holding the site
    try:
        second = _run(env, "sync", SITE, "norwich-pear-tree", "--json", OUTAGESYNC_LOCK_WAIT="0.5")
    finally:
        stop_holder(holder)
    assert second.returncode == 1, second.stderr
    assert second.stderr.splitlines() == [f"waiting for {SITE}: another sync of it is running (up to 0.5 s)"]
    sites = {s["site_id"]: s for s in json.loads(second.stdout)["sites"]}
    assert sites[SITE]["error"] == {
        "code": "site-busy",
        "message": f"{SITE}: another sync of this site held it for 0.5 s; try again later",
    }
    assert sites["norwich-pear-tree"]["status"] == "succeeded"  # the other sites go on
    assert [r.path for r in sandbox.requests if r.method == "POST"] == ["/site-outages/norwich-pear-tree"]


def test_a_sigkilled_holder_leaves_no_lock_and_its_run_reads_abandoned(
    env: dict[str, str], sandbox: Sandbox
) -> None:
    sandbox.set_faults(Latency(20_000, target=f"POST /site-outages/{SITE}"))
    killed = _start(env, "sync", SITE)
    _wait_for(
        lambda: any(r.path == f"/site-info/{SITE}" for r in sandbox.requests), "the sync to be under way"
    )
    killed.kill()  # SIGKILL: no handler runs, no report is written
    killed.communicate(timeout=30)
    (abandoned,) = _reports(env)
    assert (abandoned["status"], abandoned["run_status"]) == ("abandoned", "abandoned")
    sandbox.clear_faults()
    again = _run(env, "sync", SITE, "--json", OUTAGESYNC_LOCK_WAIT="5")
    assert again.returncode == 0, again.stderr
    assert "waiting for" not in again.stderr


@pytest.mark.parametrize(
    ("signum", "code", "said"),
    [
        (signal.SIGTERM, 143, "terminated (SIGTERM)"),
        (signal.SIGHUP, 129, "hung up (SIGHUP)"),
        (signal.SIGINT, 130, "interrupted"),
    ],
)
def test_a_signal_stores_the_unfinished_sites_as_interrupted(
    env: dict[str, str], sandbox: Sandbox, signum: int, code: int, said: str
) -> None:
    sandbox.set_faults(Latency(20_000, target=f"POST /site-outages/{SITE}"))
    process = _start(env, "sync", "norwich-pear-tree", SITE, "--json")
    _wait_for(lambda: sandbox.accepted("norwich-pear-tree") is not None, "norwich's POST to be accepted")
    _wait_for(lambda: any(r.path == f"/site-info/{SITE}" for r in sandbox.requests), "kingfisher's site info")
    # Not a timing check: a margin for the client to read the answer the sandbox has already sent for
    # norwich (its result is then final) while kingfisher's POST, held 20 s by the sandbox, is in flight.
    time.sleep(0.5)
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == code, stderr
    assert stderr.splitlines()[-1] == f"{said}: sites not finished are recorded as interrupted in the report"
    sites = {r["site_id"]: r for r in _reports(env)}
    assert sites["norwich-pear-tree"]["status"] == "succeeded"
    assert (sites[SITE]["status"], sites[SITE]["error"]) == (
        "interrupted",
        {
            "code": "interrupted",
            "message": "the run was interrupted while this site's POST was in flight: "
            "the upstream may have applied it",
        },
    )


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_serve_stopped_by_a_signal_stores_the_sync_it_cancels_and_answers_a_problem(
    env: dict[str, str], sandbox: Sandbox, serve: tuple[subprocess.Popen[str], str], signum: int
) -> None:
    sandbox.set_faults(Latency(20_000, target=f"POST /site-outages/{SITE}"))
    process, url = serve
    answers: list[httpx.Response | Exception] = []

    def call() -> None:
        try:
            answers.append(httpx.post(f"{url}/sites/{SITE}/sync", timeout=60))
        except httpx.HTTPError as exc:
            answers.append(exc)

    caller = threading.Thread(target=call)
    caller.start()
    _wait_for(lambda: any(r.path == f"/site-info/{SITE}" for r in sandbox.requests), "the site info")
    time.sleep(0.1)
    process.send_signal(signum)
    process.wait(timeout=30)
    caller.join(timeout=30)
    assert process.returncode == 0
    (answer,) = answers
    assert isinstance(answer, httpx.Response), answer
    assert (answer.status_code, answer.headers["content-type"]) == (503, "application/problem+json")
    assert answer.json()["type"] == "urn:outagesync:problem:interrupted"
    (report,) = _reports(env)
    assert (report["status"], report["error"]["code"]) == ("interrupted", "interrupted")


@pytest.mark.postgres
def test_the_outcome_of_a_run_whose_database_went_away_is_spooled_then_stored(
    env: dict[str, str], sandbox: Sandbox, postgres_url: str
) -> None:
    import sqlalchemy as sa

    env = {**env, "OUTAGESYNC_DATABASE_URL": postgres_url}
    name = sa.make_url(postgres_url).database
    admin = sa.create_engine(
        sa.make_url(postgres_url).set(database="postgres"),
        isolation_level="AUTOCOMMIT",
        poolclass=sa.pool.NullPool,
    )
    sandbox.set_faults(Latency(1_500, target=f"POST /site-outages/{SITE}"))
    process = _start(env, "sync", SITE, "--json")
    _wait_for(lambda: any(r.path == f"/site-info/{SITE}" for r in sandbox.requests), "the site info")
    with admin.connect() as connection:  # the database goes away while the POST is in flight
        connection.exec_driver_sql(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        connection.execute(
            sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name"),
            {"name": name},
        )
    try:
        stdout, stderr = process.communicate(timeout=60)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        admin.dispose()
    assert process.returncode == 1, stderr
    report = json.loads(stdout)
    assert (report["status"], report["report_stored"]) == ("succeeded", False)
    assert sandbox.accepted(SITE) is not None
    spool = re.search(r"the report is kept in (\S+\.jsonl)", report["storage_error"])
    assert spool, report["storage_error"]
    assert Path(spool.group(1)).exists()
    (stored,) = _reports(env)  # the next command that opens the database stores the spooled report
    assert (stored["run_id"], stored["status"]) == (report["run_id"], "succeeded")
    assert not Path(spool.group(1)).exists()
